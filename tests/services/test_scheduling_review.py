"""Adversarial review of time-slot scheduling: each test pins a bug the review proved (fixed)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import PackageSchedule, ResourceNeed
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import BookingConflictError, NotFoundError, TimeUnavailableError

from .conftest import unique_slug
from .test_scheduling import HOUR, MONDAY, at, hold, make_studio, person, starts

PARIS = ZoneInfo("Europe/Paris")
ROUND_THE_CLOCK = WorkingHours(
    weekly=tuple(WeeklyHours(day, dt.time(0), dt.time(0)) for day in range(7))
)
UNCACHED = ("memory", "sqlite", "postgres")


def test_day_limit_on_a_25_hour_day_is_seen_by_slots(app: BookingApp, backend: str) -> None:
    """On the fall-back day, a start 24.5h after the day's only allowed booking is not offered."""
    if backend not in UNCACHED:
        pytest.skip("the cached path reads whole months (+-2 days) and sees the claim")
    tenant = app.tenants.create(
        slug=unique_slug(),
        name="T",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
    )
    desk = app.catalog.create_resource(tenant.id, name="Desk", hours=ROUND_THE_CLOCK)
    package = app.catalog.create_package(
        tenant.id,
        slug="call",
        name="Call",
        base_price=1_000,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(minutes=15), max_per_day=1), resource_ids=(desk.id,)
        ),
    )
    fall_back = dt.date(2030, 10, 27)  # Paris: 25 hours long
    first = dt.datetime(2030, 10, 27, 0, 0, tzinfo=PARIS)
    app.bookings.hold(tenant.id, package_id=package.id, start=first, customer=person(1))
    late = dt.datetime(2030, 10, 27, 23, 30, tzinfo=PARIS)
    assert late.astimezone(PARIS).date() == fall_back
    offered = app.availability.slots(tenant.id, package.id, late, late + dt.timedelta(minutes=15))
    with pytest.raises(BookingConflictError):  # the day is full: the hold proves it
        app.bookings.hold(tenant.id, package_id=package.id, start=late, customer=person(2))
    assert offered == []


def test_an_all_of_package_with_an_inactive_resource_books_nothing(app: BookingApp) -> None:
    """Adviser and room needed, room deactivated: no slot is offered and no hold takes the
    adviser alone."""
    studio = make_studio(app, need=ResourceNeed.ALL)
    app.catalog.deactivate_resource(studio.tenant.id, studio.room.id)
    slots = app.availability.slots(
        studio.tenant.id, studio.package.id, at(MONDAY, 0), at(MONDAY + dt.timedelta(days=1), 0)
    )
    offered = [s.resource_ids for s in slots]
    with pytest.raises((TimeUnavailableError, NotFoundError, BookingConflictError)):
        hold(app, studio, at(MONDAY, 10))  # today: booked on the adviser alone
    assert offered == []


def test_an_all_of_slot_search_narrowed_to_one_resource_offers_only_holdable_starts(
    app: BookingApp,
) -> None:
    """With the room taken at 14:00, narrowing an adviser-and-room search to the adviser does
    not offer 14:00, which no hold can take."""
    studio = make_studio(app, need=ResourceNeed.ALL)
    room_only = app.catalog.create_package(
        studio.tenant.id,
        slug="room",
        name="Room hire",
        base_price=1_000,
        schedule=PackageSchedule(SlotTiming(duration=HOUR), resource_ids=(studio.room.id,)),
    )
    app.bookings.hold(
        studio.tenant.id, package_id=room_only.id, start=at(MONDAY, 14), customer=person(5)
    )
    with pytest.raises(BookingConflictError):
        hold(app, studio, at(MONDAY, 14), 6)
    narrowed = app.availability.slots(
        studio.tenant.id,
        studio.package.id,
        at(MONDAY, 0),
        at(MONDAY + dt.timedelta(days=1), 0),
        resource_ids=[studio.advisers[0].id],
    )
    assert at(MONDAY, 14) not in [slot.start for slot in narrowed]


def test_a_day_limit_added_later_counts_the_bookings_already_made(app: BookingApp) -> None:
    """Two bookings, then max_per_day=2: slots show the day full and a third hold is refused."""
    studio = make_studio(app)
    hold(app, studio, at(MONDAY, 9))
    hold(app, studio, at(MONDAY, 11), 1)
    limited = PackageSchedule(
        SlotTiming(duration=HOUR, max_per_day=2), resource_ids=(studio.advisers[0].id,)
    )
    app.catalog.update_package(studio.tenant.id, studio.package.id, schedule=limited)
    assert starts(app, studio, MONDAY) == []  # slots count every live booking of the day
    with pytest.raises(BookingConflictError):
        hold(app, studio, at(MONDAY, 13), 2)
