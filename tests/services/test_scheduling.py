"""Timed packages through the public services, on every backend (memory, SQLite, PostgreSQL,
with and without a cache): slots, holds, assignment, buffers, limits, the lifecycle."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    Assignment,
    BookingStatus,
    CustomerDetails,
    Package,
    PackageSchedule,
    Resource,
    ResourceNeed,
    Tenant,
)
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import (
    BookingConflictError,
    HoldExpiredError,
    NotFoundError,
    TimeUnavailableError,
    ValidationError,
)
from booking_core.ports.payments import PaymentEventType
from booking_core.testing import ManualClock

from ._payments import fake
from .conftest import unique_slug

PARIS = ZoneInfo("Europe/Paris")
#: Monday 2030-06-17, two days after the test clock's Saturday 2030-06-15 09:00 UTC.
MONDAY = dt.date(2030, 6, 17)
WEEKDAYS_9_TO_17 = WorkingHours(
    weekly=tuple(WeeklyHours(day, dt.time(9), dt.time(17)) for day in range(5))
)
HOUR = dt.timedelta(hours=1)
MINUTES = dt.timedelta(minutes=1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Paris, as an aware datetime."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def person(n: int) -> CustomerDetails:
    return CustomerDetails(f"Customer {n}", f"c{n}@example.com")


@dataclass
class Studio:
    tenant: Tenant
    advisers: list[Resource]
    room: Resource
    package: Package


def make_studio(
    app: BookingApp,
    *,
    timing: SlotTiming | None = None,
    advisers: int = 1,
    need: ResourceNeed = ResourceNeed.ANY,
    assignment: Assignment = Assignment.LEAST_LOADED,
    capacity: int = 1,
) -> Studio:
    tenant = app.tenants.create(
        slug=unique_slug(),
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
    )
    people = [
        app.catalog.create_resource(
            tenant.id, name=f"Adviser {n}", kind="staff", capacity=capacity, hours=WEEKDAYS_9_TO_17
        )
        for n in range(advisers)
    ]
    room = app.catalog.create_resource(tenant.id, name="Room", kind="room", hours=WEEKDAYS_9_TO_17)
    ids = tuple(r.id for r in people) + ((room.id,) if need is ResourceNeed.ALL else ())
    package = app.catalog.create_package(
        tenant.id,
        slug="consult",
        name="Consultation",
        base_price=8_000,
        schedule=PackageSchedule(
            timing or SlotTiming(duration=HOUR),
            resource_ids=ids,
            need=need,
            assignment=assignment,
        ),
    )
    return Studio(tenant, people, room, package)


def hold(app: BookingApp, studio: Studio, start: dt.datetime, n: int = 0, **kwargs: object):  # type: ignore[no-untyped-def]
    return app.bookings.hold(
        studio.tenant.id, package_id=studio.package.id, start=start, customer=person(n), **kwargs
    )


def starts(app: BookingApp, studio: Studio, day: dt.date) -> list[dt.datetime]:
    found = app.availability.slots(
        studio.tenant.id, studio.package.id, at(day, 0), at(day + dt.timedelta(days=1), 0)
    )
    return [slot.start for slot in found]


def test_slots_follow_the_hours_grid_and_skip_taken_time(app: BookingApp) -> None:
    """A day of 09:00–17:00 hourly slots; a hold at 10:00 removes exactly the starts whose
    occupied interval (with a 15-minute buffer after) overlaps it."""
    studio = make_studio(
        app,
        timing=SlotTiming(duration=HOUR, buffer_after=15 * MINUTES, slot_interval=30 * MINUTES),
    )
    free = starts(app, studio, MONDAY)
    assert free[0] == at(MONDAY, 9)
    assert free[-1] == at(MONDAY, 16)
    assert len(free) == 15  # 09:00, 09:30 … 16:00
    booking = hold(app, studio, at(MONDAY, 10))
    assert booking.status is BookingStatus.PENDING
    assert booking.starts_at == at(MONDAY, 10)
    assert booking.ends_at == at(MONDAY, 11)
    assert booking.resource_ids == (studio.advisers[0].id,)
    assert booking.event_date == MONDAY
    after = starts(app, studio, MONDAY)
    # 09:00 would end 10:15 with its buffer; 09:30, 10:00, 10:30, 11:00 overlap 10:00–11:15.
    assert at(MONDAY, 9) not in after
    assert [s for s in free if s not in after] == [
        at(MONDAY, 9),
        at(MONDAY, 9, 30),
        at(MONDAY, 10),
        at(MONDAY, 10, 30),
        at(MONDAY, 11),
    ]
    assert at(MONDAY, 11, 30) in after
    with pytest.raises(BookingConflictError) as refused:
        hold(app, studio, at(MONDAY, 11), 1)
    assert refused.value.start == at(MONDAY, 11)


def test_a_timed_hold_refuses_times_outside_hours_notice_and_horizon(
    app: BookingApp, clock: ManualClock
) -> None:
    """Outside hours, off the grid, in the past, inside the notice and past the horizon each
    raise TimeUnavailableError with their reason, and nothing is written."""
    studio = make_studio(
        app,
        timing=SlotTiming(
            duration=HOUR, min_notice=dt.timedelta(days=3), horizon=dt.timedelta(days=30)
        ),
    )
    wednesday = MONDAY + dt.timedelta(days=2)
    reasons = {}
    for label, start in {
        "evening": at(wednesday, 17),
        "off-grid": at(wednesday, 9, 10),
        "saturday": at(wednesday + dt.timedelta(days=3), 10),
        "past": clock.now() - HOUR,
        "monday": at(MONDAY, 10),
        "far": at(wednesday + dt.timedelta(days=35), 10),
    }.items():
        with pytest.raises(TimeUnavailableError) as refused:
            hold(app, studio, start)
        reasons[label] = refused.value.reason
    assert reasons == {
        "evening": "outside_hours",
        "off-grid": "outside_hours",
        "saturday": "outside_hours",
        "past": "past",
        "monday": "too_soon",
        "far": "too_far",
    }
    assert hold(app, studio, at(wednesday, 16)).starts_at == at(wednesday, 16)
    with pytest.raises(ValidationError):
        hold(app, studio, dt.datetime(2030, 6, 19, 10))  # naive


def test_any_of_three_advisers_then_a_conflict(app: BookingApp) -> None:
    """Three holds at one start take the three advisers; the fourth names the start."""
    studio = make_studio(app, advisers=3)
    taken = [hold(app, studio, at(MONDAY, 14), n).resource_ids[0] for n in range(3)]
    assert sorted(taken) == sorted(r.id for r in studio.advisers)
    with pytest.raises(BookingConflictError) as refused:
        hold(app, studio, at(MONDAY, 14), 9)
    assert refused.value.start == at(MONDAY, 14)
    assert at(MONDAY, 14) not in starts(app, studio, MONDAY)


def test_least_loaded_and_round_robin_assignment(app: BookingApp) -> None:
    """Least loaded: the adviser with fewer bookings that day, ties by the package's order.
    Round robin: the k-th booking of the day goes to adviser k mod n."""
    studio = make_studio(app, advisers=2)
    first, second = studio.advisers
    assert hold(app, studio, at(MONDAY, 9)).resource_ids == (first.id,)
    assert hold(app, studio, at(MONDAY, 11)).resource_ids == (second.id,)
    assert hold(app, studio, at(MONDAY, 13)).resource_ids == (first.id,)
    named = hold(app, studio, at(MONDAY, 13), resource_id=second.id)
    assert named.resource_ids == (second.id,)
    with pytest.raises(BookingConflictError) as refused:
        hold(app, studio, at(MONDAY, 13), resource_id=second.id)
    assert refused.value.resource_id == second.id
    with pytest.raises(NotFoundError):
        hold(app, studio, at(MONDAY, 15), resource_id=uuid.uuid4())

    robin = make_studio(app, advisers=3, assignment=Assignment.ROUND_ROBIN)
    order = [hold(app, robin, at(MONDAY, 9 + n)).resource_ids[0] for n in range(4)]
    ids = [r.id for r in robin.advisers]
    assert order == [ids[0], ids[1], ids[2], ids[0]]


def test_all_of_takes_every_resource_or_none(app: BookingApp) -> None:
    """A package needing an adviser and the room books both; when the room is taken by
    another package's booking, it books neither."""
    studio = make_studio(app, need=ResourceNeed.ALL)
    booking = hold(app, studio, at(MONDAY, 10))
    assert set(booking.resource_ids) == {studio.advisers[0].id, studio.room.id}
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
    # the adviser stayed free: the failed all-of hold left no claim behind
    adviser_only = app.catalog.create_package(
        studio.tenant.id,
        slug="adviser",
        name="Call",
        base_price=1_000,
        schedule=PackageSchedule(SlotTiming(duration=HOUR), resource_ids=(studio.advisers[0].id,)),
    )
    call = app.bookings.hold(
        studio.tenant.id, package_id=adviser_only.id, start=at(MONDAY, 14), customer=person(7)
    )
    assert call.resource_ids == (studio.advisers[0].id,)
    with pytest.raises(ValidationError):
        hold(app, studio, at(MONDAY, 16), resource_id=studio.room.id)


def test_a_class_of_capacity_three(app: BookingApp) -> None:
    """Capacity 3: three holds at 18:00 succeed and the slot stays offered until the third."""
    studio = make_studio(app, capacity=3)
    for n in range(3):
        assert at(MONDAY, 16) in starts(app, studio, MONDAY)
        hold(app, studio, at(MONDAY, 16), n)
    assert at(MONDAY, 16) not in starts(app, studio, MONDAY)
    with pytest.raises(BookingConflictError):
        hold(app, studio, at(MONDAY, 16), 4)


def test_a_lapsed_hold_frees_its_time_before_any_sweep(app: BookingApp, clock: ManualClock) -> None:
    """Past its TTL a timed hold no longer blocks: slots offer the time, another hold takes
    it, the first cannot be confirmed, and the sweep marks it EXPIRED."""
    studio = make_studio(app)
    first = hold(app, studio, at(MONDAY, 10))
    clock.advance(dt.timedelta(minutes=16))
    assert at(MONDAY, 10) in starts(app, studio, MONDAY)
    second = hold(app, studio, at(MONDAY, 10), 1)
    assert second.resource_ids == first.resource_ids
    with pytest.raises(HoldExpiredError):
        app.bookings.confirm(studio.tenant.id, first.id, payment_ref="late")
    expired = app.bookings.expire_holds(tenant_id=studio.tenant.id)
    assert [b.id for b in expired] == [first.id]
    assert app.bookings.get(studio.tenant.id, second.id).status is BookingStatus.PENDING


def test_confirm_cancel_and_reschedule_a_timed_booking(app: BookingApp) -> None:
    """Confirmed time stays taken; a reschedule moves it (the old start frees, a taken new
    start is refused with nothing changed); a cancel frees it."""
    studio = make_studio(app)
    booking = hold(app, studio, at(MONDAY, 10))
    confirmed = app.bookings.confirm(studio.tenant.id, booking.id, payment_ref="pay_1")
    assert confirmed.status is BookingStatus.CONFIRMED
    other = hold(app, studio, at(MONDAY, 14), 1)
    moved = app.bookings.reschedule(studio.tenant.id, booking.id, new_start=at(MONDAY, 12))
    assert (moved.starts_at, moved.ends_at) == (at(MONDAY, 12), at(MONDAY, 13))
    assert moved.status is BookingStatus.CONFIRMED
    free = starts(app, studio, MONDAY)
    assert at(MONDAY, 10) in free
    assert at(MONDAY, 12) not in free
    with pytest.raises(BookingConflictError):
        app.bookings.reschedule(studio.tenant.id, booking.id, new_start=at(MONDAY, 14))
    assert app.bookings.get(studio.tenant.id, booking.id).starts_at == at(MONDAY, 12)
    with pytest.raises(ValidationError):
        app.bookings.reschedule(studio.tenant.id, booking.id, new_date=MONDAY)
    app.bookings.cancel(studio.tenant.id, other.id)
    assert at(MONDAY, 14) in starts(app, studio, MONDAY)
    moved_again = app.bookings.reschedule(studio.tenant.id, booking.id, new_start=at(MONDAY, 14))
    assert moved_again.starts_at == at(MONDAY, 14)


def test_a_day_limit_per_resource(app: BookingApp) -> None:
    """max_per_day 2: the third hold of the package on one adviser's day is refused (and the
    day drops out of the slots); the next day is open."""
    studio = make_studio(app, timing=SlotTiming(duration=HOUR, max_per_day=2))
    hold(app, studio, at(MONDAY, 9))
    hold(app, studio, at(MONDAY, 13), 1)
    assert starts(app, studio, MONDAY) == []
    with pytest.raises(BookingConflictError):
        hold(app, studio, at(MONDAY, 15), 2)
    tuesday = MONDAY + dt.timedelta(days=1)
    assert hold(app, studio, at(tuesday, 9), 3).event_date == tuesday


def test_time_off_blocks_slots_and_holds(app: BookingApp) -> None:
    """Time off 12:00–14:00 removes the starts whose service would overlap it."""
    studio = make_studio(app)
    app.catalog.add_time_off(
        studio.tenant.id, studio.advisers[0].id, start=at(MONDAY, 12), end=at(MONDAY, 14)
    )
    free = starts(app, studio, MONDAY)
    assert free == [at(MONDAY, h) for h in (9, 10, 11, 14, 15, 16)]
    with pytest.raises(TimeUnavailableError) as refused:
        hold(app, studio, at(MONDAY, 12))
    assert refused.value.reason == "outside_hours"


def test_slots_in_another_zone_are_the_same_instants(app: BookingApp) -> None:
    """A customer in New York sees the same instants, shown in their zone."""
    studio = make_studio(app)
    window = (at(MONDAY, 0), at(MONDAY + dt.timedelta(days=1), 0))
    paris = app.availability.slots(studio.tenant.id, studio.package.id, *window)
    york = app.availability.slots(
        studio.tenant.id, studio.package.id, *window, tz="America/New_York"
    )
    assert [s.start for s in paris] == [s.start for s in york]
    assert york[0].start.utcoffset() == dt.timedelta(hours=-4)
    assert york[0].start.hour == 3  # 09:00 in Paris


def test_timed_and_date_packages_refuse_each_others_arguments(app: BookingApp) -> None:
    """A timed package needs start=, a date package date=; both or neither is refused."""
    studio = make_studio(app)
    with pytest.raises(ValidationError):
        app.bookings.hold(
            studio.tenant.id, package_id=studio.package.id, date=MONDAY, customer=person(1)
        )
    with pytest.raises(ValidationError):
        app.bookings.hold(studio.tenant.id, package_id=studio.package.id, customer=person(1))
    with pytest.raises(ValidationError):
        app.availability.slots(
            studio.tenant.id,
            studio.package.id,
            at(MONDAY, 0),
            at(MONDAY, 0) + dt.timedelta(days=63),
        )


def test_idempotent_timed_hold_and_checkout_paid_by_webhook(app: BookingApp) -> None:
    """A replayed key returns the same timed booking; a timed checkout confirmed by the
    provider's webhook keeps its time for good."""
    studio = make_studio(app)
    first = hold(app, studio, at(MONDAY, 9), idempotency_key="k-1")
    again = hold(app, studio, at(MONDAY, 9), idempotency_key="k-1")
    assert again.id == first.id
    checkout = app.bookings.checkout(
        studio.tenant.id,
        package_id=studio.package.id,
        start=at(MONDAY, 15),
        customer=person(2),
    )
    body, headers = fake(app).make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=studio.tenant.id,
        booking_id=checkout.booking.id,
        payment_ref=checkout.session.payment_ref,
        amount=checkout.booking.total,
        currency=checkout.booking.currency,
    )
    assert app.webhooks.receive(studio.tenant.id, body, headers).outcome == "confirmed"
    paid = app.bookings.get(studio.tenant.id, checkout.booking.id)
    assert paid.status is BookingStatus.CONFIRMED
    assert paid.starts_at == at(MONDAY, 15)
    cancellation = app.bookings.cancel(studio.tenant.id, paid.id)
    assert cancellation.days_before == 2  # counted to the start's date in Paris
    assert at(MONDAY, 15) in starts(app, studio, MONDAY)


def test_a_late_payment_keeps_its_time_only_while_it_is_free_and_ahead(
    app: BookingApp, clock: ManualClock
) -> None:
    """Paid after its hold lapsed: a timed booking is confirmed if its time is still free and
    ahead; once its start has passed (or the resource is away) the payment is refunded."""

    def pay(checkout: object) -> str:
        booking, session = checkout.booking, checkout.session  # type: ignore[attr-defined]
        body, headers = fake(app).make_webhook(
            PaymentEventType.PAYMENT_SUCCEEDED,
            tenant_id=studio.tenant.id,
            booking_id=booking.id,
            payment_ref=session.payment_ref,
            amount=booking.total,
            currency=booking.currency,
        )
        return app.webhooks.receive(studio.tenant.id, body, headers).outcome

    studio = make_studio(app)
    kept = app.bookings.checkout(
        studio.tenant.id, package_id=studio.package.id, start=at(MONDAY, 15), customer=person(1)
    )
    away = app.bookings.checkout(
        studio.tenant.id, package_id=studio.package.id, start=at(MONDAY, 9), customer=person(2)
    )
    late = app.bookings.checkout(
        studio.tenant.id, package_id=studio.package.id, start=at(MONDAY, 11), customer=person(3)
    )
    clock.advance(dt.timedelta(minutes=20))  # every hold lapsed
    assert pay(kept) == "confirmed_after_expiry"
    app.catalog.add_time_off(
        studio.tenant.id, studio.advisers[0].id, start=at(MONDAY, 9), end=at(MONDAY, 10)
    )
    assert pay(away) == "refunded_late_payment"
    clock.set(at(MONDAY, 12).astimezone(dt.UTC))  # the 11:00 booking's time has begun
    assert pay(late) == "refunded_late_payment"
    assert app.bookings.get(studio.tenant.id, kept.booking.id).status is BookingStatus.CONFIRMED
