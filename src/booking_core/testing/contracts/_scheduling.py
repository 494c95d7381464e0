"""Scheduling: resources, time off, timed packages and bookings, time claims that never overlap."""

from __future__ import annotations

import builtins
import datetime as dt
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import pytest

from booking_core.domain import lifecycle
from booking_core.domain.model import (
    Assignment,
    Booking,
    BookingStatus,
    ClaimSpan,
    HeldTime,
    OutboxEvent,
    Package,
    PackageSchedule,
    Resource,
    ResourceNeed,
    ResourceTimeOff,
    TimeClaim,
)
from booking_core.domain.schedule import (
    DateHours,
    Interval,
    RecurringHours,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
    epoch_micros,
)
from booking_core.errors import AlreadyExistsError, TransientStorageError
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.contracts._shop import (
    _MINUTE,
    DAY,
    HOLD,
    NOW,
    Shop,
    _customer,
    _UowBase,
)

_HOUR: Final = dt.timedelta(hours=1)
_NEXT_DAY: Final = DAY + dt.timedelta(days=1)


def _at(clock: str, day: dt.date = DAY) -> dt.datetime:
    """``"10:30"`` on ``day``, in UTC."""
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def _span(start: str, end: str, day: dt.date = DAY) -> Interval:
    """``_span("10:00", "11:00")``: that stretch of ``day`` (UTC)."""
    return Interval(_at(start, day), _at(end, day))


def _whole(day: dt.date = DAY) -> Interval:
    return Interval(_at("00:00", day), _at("00:00", day + dt.timedelta(days=1)))


def _resource(tenant_id: uuid.UUID, name: str, **changes: Any) -> Resource:
    return replace(Resource(uuid.uuid4(), tenant_id, name), **changes)


def _timed_package(
    tenant_id: uuid.UUID,
    slug: str,
    resources: Sequence[Resource],
    *,
    max_per_day: int | None = None,
    **timing: Any,
) -> Package:
    schedule = PackageSchedule(
        timing=SlotTiming(duration=_HOUR, max_per_day=max_per_day, **timing),
        resource_ids=tuple(r.id for r in resources),
    )
    return Package(uuid.uuid4(), tenant_id, slug, slug.title(), 9_000, schedule=schedule)


@dataclass(frozen=True, slots=True)
class Studio:
    """A committed shop with two resources and three timed packages.

    ``room`` has capacity 1 and ``hall`` capacity 3; ``massage`` is served in the room,
    ``yoga`` and ``pilates`` in the hall, ``yoga`` at most twice a day.
    """

    shop: Shop
    room: Resource
    hall: Resource
    massage: Package
    yoga: Package
    pilates: Package

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.shop.tenant_id

    def booking(
        self,
        package: Package,
        resources: Sequence[Resource],
        service: Interval,
        *,
        created_at: dt.datetime = NOW,
        ttl: dt.timedelta | None = HOLD,
    ) -> Booking:
        """A PENDING timed booking of ``package`` (not yet stored), over ``service``."""
        return replace(
            self.shop.booking(created_at=created_at, ttl=ttl),
            package_id=package.id,
            event_date=service.start.date(),
            starts_at=service.start,
            ends_at=service.end,
            resource_ids=tuple(r.id for r in resources),
        )


def _store_studio(factory: UnitOfWorkFactory, shop: Shop) -> Studio:
    tid = shop.tenant_id
    room = _resource(tid, "Room 1", kind="room")
    hall = _resource(tid, "Yoga hall", kind="room", capacity=3)
    massage = _timed_package(tid, "massage", [room], buffer_after=dt.timedelta(minutes=15))
    yoga = _timed_package(tid, "yoga", [hall], max_per_day=2)
    pilates = _timed_package(tid, "pilates", [hall])
    with factory() as uow:
        uow.resources.add(room)
        uow.resources.add(hall)
        for package in (massage, yoga, pilates):
            uow.packages.add(package)
        uow.commit()
    return Studio(shop, room, hall, massage, yoga, pilates)


def _held_event(booking: Booking) -> OutboxEvent:
    return OutboxEvent(
        uuid.uuid4(), booking.tenant_id, booking.id, 1, "booking.held", {"step": "hold"}, NOW
    )


def _claim(resource: Resource, occupied: Interval, *, day_limit: int | None = None) -> TimeClaim:
    """A claim of ``occupied`` on ``resource`` (at its capacity), on the start's date."""
    return TimeClaim(resource.id, occupied, resource.capacity, occupied.start.date(), day_limit)


def _hold_time(
    factory: UnitOfWorkFactory,
    studio: Studio,
    resource: Resource,
    occupied: Interval,
    *,
    package: Package | None = None,
    service: Interval | None = None,
    day_limit: int | None = None,
    now: dt.datetime = NOW,
    ttl: dt.timedelta | None = HOLD,
) -> Booking | None:
    """A timed hold in its own transaction, as the service places one: claim the time, then
    insert the booking; committed when claimed, rolled back (None) when the time is taken."""
    package = package or studio.massage
    booking = studio.booking(package, [resource], service or occupied, created_at=now, ttl=ttl)
    claim = _claim(resource, occupied, day_limit=day_limit)
    with factory() as uow:
        bookings = uow.bookings
        if not bookings.claim_time(
            studio.tenant_id, booking.id, package.id, claim, now=now, expires_at=booking.expires_at
        ):
            return None
        customer = _customer(studio.tenant_id, created_at=now)
        placed = bookings.insert_hold(booking, customer, event=_held_event(booking))
        uow.commit()
    return placed


def _held(
    factory: UnitOfWorkFactory,
    studio: Studio,
    resources: Sequence[Resource],
    window: Interval | None = None,
) -> builtins.list[HeldTime]:
    """The claims of ``resources`` over ``window`` (the whole of DAY), in a stable order."""
    with factory(read_only=True) as uow:
        found = uow.bookings.held_time(
            studio.tenant_id, [r.id for r in resources], window or _whole()
        )
    return sorted(found, key=lambda h: (h.occupied.start, str(h.resource_id), h.lane))


def _spans(held: Sequence[HeldTime]) -> builtins.list[tuple[dt.datetime, dt.datetime]]:
    return [(h.occupied.start, h.occupied.end) for h in held]


class SchedulingContract(_UowBase):
    """Scheduling: resources, time off, timed packages and bookings, time claims that never
    overlap (capacity lanes, buffers, day limits, lapsed holds, release and settle)."""

    @pytest.fixture
    def studio(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> Studio:
        return _store_studio(uow_factory, shop)

    @pytest.fixture
    def other_studio(self, uow_factory: UnitOfWorkFactory, other_shop: Shop) -> Studio:
        return _store_studio(uow_factory, other_shop)

    # -- resources ------------------------------------------------------------------------------

    def test_resources_round_trip(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A stored resource reads back equal (kind, zone, capacity, active, hours)."""
        tid = shop.tenant_id
        hours = WorkingHours(
            weekly=(
                WeeklyHours(0, dt.time(9), dt.time(12, 30)),
                WeeklyHours(0, dt.time(13, 30), dt.time(18)),
                WeeklyHours(5, dt.time(20), dt.time(0)),
            ),
            recurring=(
                RecurringHours("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", DAY, dt.time(10), dt.time(16)),
            ),
            dates=(
                DateHours(DAY, ()),
                DateHours(_NEXT_DAY, ((dt.time(8), dt.time(11)), (dt.time(14), dt.time(15)))),
            ),
        )
        adviser = _resource(
            tid, "Ada", kind="adviser", timezone="America/New_York", capacity=2, hours=hours
        )
        plain = _resource(tid, "Desk")
        with uow_factory() as uow:
            uow.resources.add(adviser)
            uow.resources.add(plain)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.resources.get(tid, adviser.id) == adviser
            assert uow.resources.get(tid, plain.id) == plain
            assert uow.resources.get(tid, uuid.uuid4()) is None

    def test_resources_get_many(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """get_many returns the tenant's resources among the ids; unknown ids and other
        tenants' resources are simply missing."""
        tid = studio.tenant_id
        asked = [studio.hall.id, uuid.uuid4(), other_studio.room.id, studio.room.id]
        with uow_factory(read_only=True) as uow:
            found = uow.resources.get_many(tid, asked)
            assert sorted(found, key=lambda r: r.name) == [studio.room, studio.hall]
            assert uow.resources.get_many(tid, [other_studio.hall.id]) == []
            assert uow.resources.get_many(tid, []) == []

    def test_resources_list_and_update(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """list() is by name, active_only hides inactive ones; update() stores every field."""
        tid = studio.tenant_id
        closed = replace(studio.room, name="Annex", active=False, capacity=2, kind="annex")
        with uow_factory() as uow:
            uow.resources.update(closed)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.resources.get(tid, studio.room.id) == closed
            assert uow.resources.list(tid, active_only=False) == [closed, studio.hall]
            assert uow.resources.list(tid, active_only=True) == [studio.hall]

    def test_resource_names_are_unique_per_tenant(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """A name the tenant already uses raises AlreadyExistsError (add and rename); another
        tenant may use it."""
        tid = studio.tenant_id
        with uow_factory() as uow, pytest.raises(AlreadyExistsError) as added:
            uow.resources.add(_resource(tid, "Room 1"))
        assert (added.value.entity, added.value.field) == ("resource", "name")
        with uow_factory() as uow, pytest.raises(AlreadyExistsError):
            uow.resources.update(replace(studio.hall, name="Room 1"))
        assert other_studio.room.name == studio.room.name  # stored by the fixture
        with uow_factory(read_only=True) as uow:
            assert uow.resources.list(tid, active_only=False) == [studio.room, studio.hall]

    def test_resources_are_tenant_scoped(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """A tenant never reads another tenant's resources."""
        with uow_factory(read_only=True) as uow:
            assert uow.resources.get(studio.tenant_id, other_studio.room.id) is None
            assert uow.resources.get(other_studio.tenant_id, studio.room.id) is None
            listed = uow.resources.list(other_studio.tenant_id, active_only=False)
            assert {r.id for r in listed} == {other_studio.room.id, other_studio.hall.id}

    # -- time off -------------------------------------------------------------------------------

    def test_time_off_overlapping_and_remove(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """overlapping() lists the asked resources' time off that overlaps the window
        (touching is not overlapping), by start; remove() says whether there was one."""
        tid = studio.tenant_id
        desk = _resource(tid, "Desk")

        def off(resource: Resource, span: Interval, reason: str = "") -> ResourceTimeOff:
            return ResourceTimeOff(uuid.uuid4(), tid, resource.id, span.start, span.end, reason)

        early = off(studio.room, _span("09:00", "10:00"), "dentist")
        late = off(studio.room, _span("12:00", "13:00"))
        middle = off(studio.hall, _span("10:30", "11:30"), "floor polish")
        tomorrow = off(studio.room, _span("09:00", "18:00", _NEXT_DAY))
        elsewhere = off(desk, _span("10:00", "11:00"))
        with uow_factory() as uow:
            uow.resources.add(desk)
            for entry in (late, tomorrow, middle, elsewhere, early):
                uow.time_off.add(entry)
            uow.commit()
        asked = [studio.room.id, studio.hall.id]
        with uow_factory() as uow:
            overlapping = uow.time_off.overlapping
            assert overlapping(tid, asked, _span("09:30", "12:30")) == [early, middle, late]
            assert overlapping(tid, asked, _span("10:00", "12:00")) == [middle]
            assert overlapping(tid, [desk.id], _whole()) == [elsewhere]
            assert overlapping(other_studio.tenant_id, asked, _whole()) == []
            assert uow.time_off.remove(other_studio.tenant_id, middle.id) is False
            assert uow.time_off.remove(tid, middle.id) is True
            assert uow.time_off.remove(tid, middle.id) is False
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.time_off.overlapping(tid, asked, _whole()) == [early, late]

    # -- timed packages and bookings ------------------------------------------------------------

    def test_timed_packages_round_trip(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A package's schedule (timing, ordered resources, need, assignment) is stored by
        add() and update(), and removed by an update to None."""
        tid = studio.tenant_id
        timing = SlotTiming(
            duration=dt.timedelta(minutes=90),
            buffer_before=dt.timedelta(minutes=10),
            buffer_after=dt.timedelta(minutes=20),
            slot_interval=dt.timedelta(minutes=30),
            min_notice=dt.timedelta(hours=12),
            horizon=dt.timedelta(days=60),
            max_per_day=4,
        )
        schedule = PackageSchedule(
            timing, (studio.hall.id, studio.room.id), ResourceNeed.ALL, Assignment.ROUND_ROBIN
        )
        consult = replace(studio.massage, id=uuid.uuid4(), slug="consult", schedule=schedule)
        with uow_factory() as uow:
            uow.packages.add(consult)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.packages.get(tid, consult.id) == consult
            assert uow.packages.get_by_slug(tid, "consult") == consult
            assert uow.packages.get(tid, studio.yoga.id) == studio.yoga
        changed = replace(
            consult,
            schedule=PackageSchedule(
                SlotTiming(duration=dt.timedelta(minutes=45)), (studio.room.id,)
            ),
        )
        with uow_factory() as uow:
            uow.packages.update(changed)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            stored = uow.packages.get(tid, consult.id)
            assert stored == changed
            assert stored is not None
            assert stored.schedule is not None
            assert (stored.schedule.need, stored.schedule.assignment) == (
                ResourceNeed.ANY,
                Assignment.LEAST_LOADED,
            )
        with uow_factory() as uow:
            uow.packages.update(replace(consult, schedule=None))
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.packages.get(tid, consult.id) == replace(consult, schedule=None)

    def test_insert_hold_stores_a_timed_booking_and_its_event(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """insert_hold stores the booking (start, end, resources) under the stored customer's
        id with its event (payload's customer_id added), reuses a customer by email, and claims
        no time."""
        tid = studio.tenant_id
        both = [studio.room, studio.hall]
        first = studio.booking(studio.massage, both, _span("10:00", "11:00"))
        second = studio.booking(studio.massage, both, _span("14:00", "15:00"))
        event = _held_event(first)
        with uow_factory() as uow:
            email = "timed@example.com"
            placed = uow.bookings.insert_hold(first, _customer(tid, email=email), event=event)
            again = uow.bookings.insert_hold(
                second, _customer(tid, email=email), event=_held_event(second)
            )
            uow.commit()
        with uow_factory(read_only=True) as uow:
            customer = uow.customers.find_by_email(tid, email)
            assert customer is not None
            assert placed == replace(first, customer_id=customer.id)
            assert again.customer_id == customer.id
            stored = uow.bookings.get(tid, first.id)
            assert stored == placed
            assert stored is not None
            assert (stored.starts_at, stored.ends_at) == (_at("10:00"), _at("11:00"))
            assert stored.resource_ids == (studio.room.id, studio.hall.id)
            assert stored.claim_count == 2
            events = uow.outbox.for_booking(tid, first.id)
            assert [(e.id, e.type, e.payload) for e in events] == [
                (event.id, "booking.held", {"step": "hold", "customer_id": str(customer.id)})
            ]
        assert _held(uow_factory, studio, both) == []

    # -- claims ---------------------------------------------------------------------------------

    def test_overlapping_intervals_that_differ_are_refused(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """On capacity 1, 10:00–11:00 blocks 10:30–11:30, 10:59–12:00 and 09:00–10:01 (a unique
        key on the start would not): the claim is a real overlap test."""
        room = studio.room
        first = _hold_time(uow_factory, studio, room, _span("10:00", "11:00"))
        assert first is not None
        for start, end in (("10:30", "11:30"), ("10:59", "12:00"), ("09:00", "10:01")):
            assert _hold_time(uow_factory, studio, room, _span(start, end)) is None
        held = _held(uow_factory, studio, [room])
        assert held == [
            HeldTime(
                room.id,
                first.id,
                studio.massage.id,
                0,
                _span("10:00", "11:00"),
                DAY,
                NOW + HOLD,
            )
        ]

    def test_touching_intervals_both_win(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """Intervals are half-open: 10:00–11:00, 11:00–12:00 and 09:00–10:00 all hold on
        capacity 1, on lane 0."""
        room = studio.room
        for start, end in (("10:00", "11:00"), ("11:00", "12:00"), ("09:00", "10:00")):
            assert _hold_time(uow_factory, studio, room, _span(start, end)) is not None
        held = _held(uow_factory, studio, [room])
        assert _spans(held) == [
            (_at("09:00"), _at("10:00")),
            (_at("10:00"), _at("11:00")),
            (_at("11:00"), _at("12:00")),
        ]
        assert [h.lane for h in held] == [0, 0, 0]

    def test_capacity_three_takes_three_lanes(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A resource of capacity 3 takes three overlapping claims, one per lane, and refuses
        a fourth; a freed lane is taken again (the lowest free one)."""
        hall, yoga = studio.hall, studio.pilates
        span = _span("18:00", "19:00")
        placed = [_hold_time(uow_factory, studio, hall, span, package=yoga) for _ in range(3)]
        assert all(booking is not None for booking in placed)
        assert _hold_time(uow_factory, studio, hall, _span("18:30", "19:30"), package=yoga) is None
        held = _held(uow_factory, studio, [hall])
        assert sorted(h.lane for h in held) == [0, 1, 2]
        middle = next(h for h in held if h.lane == 1)
        with uow_factory() as uow:
            assert uow.bookings.release_claims(studio.tenant_id, middle.booking_id) == 1
            uow.commit()
        assert _hold_time(uow_factory, studio, hall, span, package=yoga) is not None
        assert sorted(h.lane for h in _held(uow_factory, studio, [hall])) == [0, 1, 2]

    def test_an_overlap_made_by_a_buffer_is_refused(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """Claims cover the occupied interval: a 10:00–11:00 massage with 15 minutes of
        cleaning after it blocks an 11:00 start, and a before-buffer reaching back into it
        is refused too; past the buffer the next start holds."""
        room = studio.room
        assert studio.massage.schedule is not None
        massage = studio.massage.schedule.timing
        first = _hold_time(
            uow_factory,
            studio,
            room,
            massage.occupied(_at("10:00")),
            service=massage.service(_at("10:00")),
        )
        assert first is not None
        assert _hold_time(uow_factory, studio, room, _span("11:00", "12:00")) is None
        set_up = SlotTiming(duration=_HOUR, buffer_before=dt.timedelta(minutes=10))
        reaching_back = set_up.occupied(_at("11:20"))
        assert reaching_back == _span("11:10", "12:20")
        service = set_up.service(_at("11:20"))
        assert _hold_time(uow_factory, studio, room, reaching_back, service=service) is None
        after = _hold_time(uow_factory, studio, room, _span("11:15", "12:30"))
        assert after is not None
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(studio.tenant_id, first.id)
        assert stored is not None
        assert (stored.starts_at, stored.ends_at) == (_at("10:00"), _at("11:00"))
        assert _spans(_held(uow_factory, studio, [room])) == [
            (_at("10:00"), _at("11:15")),
            (_at("11:15"), _at("12:30")),
        ]

    def test_a_lapsed_claim_in_the_way_is_ended(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A claim whose hold lapsed (at its expiry, exclusive) no longer blocks: the next
        overlapping claim ends it and wins; before the lapse it is refused."""
        room = studio.room
        lapsed = _hold_time(uow_factory, studio, room, _span("10:00", "11:00"))
        assert lapsed is not None
        just_before = NOW + HOLD - _MINUTE
        assert (
            _hold_time(uow_factory, studio, room, _span("10:30", "11:30"), now=just_before) is None
        )
        later = NOW + HOLD
        taker = _hold_time(uow_factory, studio, room, _span("10:30", "11:30"), now=later)
        assert taker is not None
        held = _held(uow_factory, studio, [room])
        assert [(h.booking_id, h.expires_at, h.lane) for h in held] == [(taker.id, later + HOLD, 0)]
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(studio.tenant_id, lapsed.id) == 0
            assert uow.bookings.release_claims(studio.tenant_id, lapsed.id) == 0

    def test_held_time_lists_live_and_lapsed_claims_in_the_window(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """held_time lists the asked resources' claims overlapping the window, lapsed ones too
        (nothing ended them yet), never touching ones or other resources'."""
        room, hall = studio.room, studio.hall
        earlier = NOW - HOLD * 4
        lapsed = _hold_time(uow_factory, studio, room, _span("09:00", "10:00"), now=earlier)
        live = _hold_time(uow_factory, studio, room, _span("10:00", "11:00"))
        _hold_time(uow_factory, studio, hall, _span("10:00", "11:00"), package=studio.pilates)
        _hold_time(uow_factory, studio, room, _span("12:00", "13:00"))
        assert lapsed is not None
        assert live is not None
        held = _held(uow_factory, studio, [room], _span("09:30", "12:00"))
        assert [(h.booking_id, h.expires_at) for h in held] == [
            (lapsed.id, earlier + HOLD),
            (live.id, NOW + HOLD),
        ]
        assert [h.is_live(NOW) for h in held] == [False, True]
        assert len(_held(uow_factory, studio, [room, hall], _span("10:00", "10:01"))) == 2
        assert _held(uow_factory, studio, [room], _span("11:00", "12:00")) == []

    def test_claim_spans_are_the_held_time_in_epoch_microseconds(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """claim_spans answers what held_time lists (lapsed claims too), as integer spans
        grouped by resource in start order, exact to the microsecond; another tenant's read
        of the same resources finds nothing."""
        room, hall = studio.room, studio.hall
        odd = NOW - HOLD * 4 + dt.timedelta(microseconds=123_457)  # an expiry off the minute
        _hold_time(uow_factory, studio, room, _span("09:00", "10:00"), now=odd)
        _hold_time(uow_factory, studio, hall, _span("10:00", "11:00"), package=studio.pilates)
        _hold_time(uow_factory, studio, room, _span("10:00", "10:45"), ttl=None)
        _hold_time(uow_factory, studio, room, _span("12:00", "13:00"))
        window = _span("09:30", "12:00")
        with uow_factory() as uow:
            spans = uow.bookings.claim_spans(studio.tenant_id, [room.id, hall.id], window)
            held = uow.bookings.held_time(studio.tenant_id, [room.id, hall.id], window)
            foreign = uow.bookings.claim_spans(other_studio.tenant_id, [room.id], window)
        assert spans == ClaimSpan.by_resource(held)
        micros = 1_000_000
        nine = int(_at("09:00").timestamp()) * micros
        assert [(s.start - nine, s.end - nine, s.expires) for s in spans[room.id]] == [
            (0, 3600 * micros, int((odd + HOLD).timestamp()) * micros + 123_457),
            (3600 * micros, 6300 * micros, None),
        ]
        assert [s.package_id for s in spans[hall.id]] == [studio.pilates.id]
        assert [s.is_live(epoch_micros(NOW)) for s in spans[room.id]] == [False, True]
        assert foreign == {}

    def test_other_resources_and_tenants_never_block(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, other_studio: Studio
    ) -> None:
        """A live claim blocks only its own resource: the same time on another resource, or
        on another tenant's resource, is claimed."""
        span = _span("10:00", "11:00")
        assert _hold_time(uow_factory, studio, studio.room, span) is not None
        desk = _resource(studio.tenant_id, "Desk")
        with uow_factory() as uow:
            uow.resources.add(desk)
            uow.commit()
        assert _hold_time(uow_factory, studio, desk, span) is not None
        assert _hold_time(uow_factory, other_studio, other_studio.room, span) is not None
        assert len(_held(uow_factory, studio, [studio.room])) == 1
        assert len(_held(uow_factory, other_studio, [other_studio.room])) == 1
        assert _held(uow_factory, other_studio, [studio.room]) == []

    def test_a_day_limit_counts_one_package_on_one_day(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """With a day limit of 2, a third claim of the package on the resource that day is
        refused though the time is free; another package, or another day, still claims."""
        hall, yoga = studio.hall, studio.yoga

        def yoga_at(span: Interval) -> Booking | None:
            return _hold_time(uow_factory, studio, hall, span, package=yoga, day_limit=2)

        assert yoga_at(_span("08:00", "09:00")) is not None
        assert yoga_at(_span("12:00", "13:00")) is not None
        assert yoga_at(_span("18:00", "19:00")) is None
        assert yoga_at(_span("18:00", "19:00", _NEXT_DAY)) is not None
        pilates = _hold_time(
            uow_factory, studio, hall, _span("18:00", "19:00"), package=studio.pilates
        )
        assert pilates is not None
        held = _held(uow_factory, studio, [hall])
        assert [(h.package_id, h.day) for h in held] == [
            (yoga.id, DAY),
            (yoga.id, DAY),
            (studio.pilates.id, DAY),
        ]

    def test_a_lapsed_claim_frees_its_day_seat(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A lapsed claim counting towards the day limit (not overlapping) is ended by the next
        claim of the package that day, which takes its seat."""
        hall, yoga = studio.hall, studio.yoga
        first = _hold_time(
            uow_factory, studio, hall, _span("08:00", "09:00"), package=yoga, day_limit=1
        )
        assert first is not None
        later = NOW + HOLD
        again = _hold_time(
            uow_factory, studio, hall, _span("12:00", "13:00"), package=yoga, day_limit=1, now=later
        )
        assert again is not None
        assert [h.booking_id for h in _held(uow_factory, studio, [hall])] == [again.id]

    def test_a_refused_claim_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A refused claim returns False and leaves the claims as they were, even when the
        transaction goes on and commits."""
        room = studio.room
        assert _hold_time(uow_factory, studio, room, _span("10:00", "11:00")) is not None
        before = _held(uow_factory, studio, [room])
        refused = studio.booking(studio.massage, [room], _span("10:30", "11:30"))
        claim = _claim(room, _span("10:30", "11:30"))
        with uow_factory() as uow:
            taken = uow.bookings.claim_time(
                studio.tenant_id,
                refused.id,
                studio.massage.id,
                claim,
                now=NOW,
                expires_at=refused.expires_at,
            )
            assert taken is False
            uow.commit()
        assert _held(uow_factory, studio, [room]) == before
        with uow_factory() as uow:
            assert uow.bookings.release_claims(studio.tenant_id, refused.id) == 0

    def test_release_and_settle_cover_every_claim_of_a_booking(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """A booking of two resources holds two claims: settle_claims makes both permanent
        (a much later claim is still refused), release_claims frees both and counts them."""
        room, hall, tid = studio.room, studio.hall, studio.tenant_id
        span = _span("10:00", "11:00")
        both = studio.booking(studio.massage, [room, hall], span)
        with uow_factory() as uow:
            for resource in (room, hall):
                claim = _claim(resource, span)
                expires_at = both.expires_at
                assert uow.bookings.claim_time(
                    tid, both.id, both.package_id, claim, now=NOW, expires_at=expires_at
                )
            uow.bookings.insert_hold(both, _customer(tid), event=_held_event(both))
            uow.commit()
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(tid, both.id) == 2
            uow.commit()
        assert [h.expires_at for h in _held(uow_factory, studio, [room, hall])] == [None, None]
        far = NOW + dt.timedelta(days=30)
        assert _hold_time(uow_factory, studio, room, span, now=far) is None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(tid, both.id) == 2
            assert uow.bookings.release_claims(tid, both.id) == 0
            uow.commit()
        assert _held(uow_factory, studio, [room, hall]) == []
        assert _hold_time(uow_factory, studio, room, span, now=far) is not None

    def test_save_settles_and_releases_time_claims(
        self, uow_factory: UnitOfWorkFactory, studio: Studio
    ) -> None:
        """save() of a confirm settles the timed booking's claim and counts it; save() of a
        cancel frees it, and the time is claimable again."""
        room, tid = studio.room, studio.tenant_id
        held = _hold_time(uow_factory, studio, room, _span("10:00", "11:00"))
        assert held is not None
        confirm = lifecycle.confirm(held, payment_ref="pay_1", amount_paid=None, now=NOW)
        assert confirm is not None
        with uow_factory() as uow:
            assert uow.bookings.save(confirm) == 1
            uow.commit()
        assert [h.expires_at for h in _held(uow_factory, studio, [room])] == [None]
        cancel = lifecycle.cancel(confirm.after, reason="", now=NOW)
        assert cancel is not None
        with uow_factory() as uow:
            assert uow.bookings.save(cancel) == 1
            uow.commit()
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(tid, held.id)
        assert stored is not None
        assert (stored.status, stored.starts_at) == (BookingStatus.CANCELED, _at("10:00"))
        assert _held(uow_factory, studio, [room]) == []
        assert _hold_time(uow_factory, studio, room, _span("10:30", "11:30")) is not None

    def test_rollback_undoes_a_claim(self, uow_factory: UnitOfWorkFactory, studio: Studio) -> None:
        """A claim rolled back is gone, and so is its ending of a claim that had lapsed in the
        way (which still blocks a claim made before its expiry)."""
        room, tid = studio.room, studio.tenant_id
        lapsed = _hold_time(uow_factory, studio, room, _span("10:00", "11:00"))
        assert lapsed is not None
        before = _held(uow_factory, studio, [room])
        later = NOW + HOLD
        booking = studio.booking(studio.massage, [room], _span("10:30", "11:30"), created_at=later)
        with uow_factory() as uow:
            claim = _claim(room, _span("10:30", "11:30"))
            assert uow.bookings.claim_time(
                tid, booking.id, booking.package_id, claim, now=later, expires_at=booking.expires_at
            )
            assert [h.booking_id for h in uow.bookings.held_time(tid, [room.id], _whole())] == [
                booking.id
            ]
            uow.rollback()
        assert _held(uow_factory, studio, [room]) == before
        assert _hold_time(uow_factory, studio, room, _span("10:30", "11:30")) is None

    @pytest.mark.parametrize("capacity", [1, 3])
    def test_concurrent_time_claims_never_exceed_capacity(
        self, uow_factory: UnitOfWorkFactory, studio: Studio, capacity: int
    ) -> None:
        """Eight transactions in eight threads claim pairwise-overlapping, unequal intervals of
        one resource: exactly ``capacity`` win, on distinct lanes."""
        contenders = 8
        resource = studio.room if capacity == 1 else studio.hall
        package = studio.massage if capacity == 1 else studio.pilates
        assert resource.capacity == capacity
        barrier = threading.Barrier(contenders)
        results: list[Booking | None] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def contend(offset: int) -> None:
            start = _at("10:00") + offset * dt.timedelta(minutes=5)
            span = Interval(start, start + _HOUR)
            try:
                barrier.wait(timeout=10)
                for _attempt in range(20):  # TransientStorageError: retry, as services do
                    try:
                        placed = _hold_time(uow_factory, studio, resource, span, package=package)
                    except TransientStorageError:
                        continue
                    with lock:
                        results.append(placed)
                    return
            except BaseException as error:  # reported by the test thread below
                with lock:
                    errors.append(error)

        threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(results) == contenders
        winners = [placed for placed in results if placed is not None]
        assert len(winners) == capacity
        held = _held(uow_factory, studio, [resource])
        assert {h.booking_id for h in held} == {w.id for w in winners}
        assert sorted(h.lane for h in held) == list(range(capacity))
