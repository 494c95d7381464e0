"""Time claims in SQL: lanes, buffers' overlaps, lapsed holds, day limits, and on PostgreSQL an
exclusion constraint that refuses an overlap whatever the code above it does.

Every test runs on SQLite (a temporary file) and PostgreSQL (a scratch database of this module,
dropped afterwards); PostgreSQL tests skip with a printed reason when
``BOOKING_CORE_TEST_POSTGRES_URL`` is unset, and fail under ``CI=true``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.exc import IntegrityError

from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory, make_engine
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.domain import lifecycle
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    Customer,
    HeldTime,
    OutboxEvent,
    Package,
    PackageSchedule,
    Resource,
    Tenant,
    TimeClaim,
)
from booking_core.domain.schedule import Interval, SlotTiming
from booking_core.errors import TransientStorageError
from tests.conftest import scratch_database

NOW: Final = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
HOLD: Final = dt.timedelta(minutes=15)
DAY: Final = dt.date(2030, 7, 20)
NEXT_DAY: Final = DAY + dt.timedelta(days=1)
WHOLE: Final = Interval(
    dt.datetime(2030, 7, 19, tzinfo=dt.UTC), dt.datetime(2030, 7, 23, tzinfo=dt.UTC)
)


def at(clock: str, day: dt.date = DAY) -> dt.datetime:
    """``"10:30"`` on ``day``, UTC."""
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def span(start: str, end: str, day: dt.date = DAY) -> Interval:
    return Interval(at(start, day), at(end, day))


# -- the databases -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_time_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SqlUnitOfWorkFactory]:
    path: Path = tmp_path_factory.mktemp("time-claims") / "claims.db"
    factory = SqlUnitOfWorkFactory(make_engine(f"sqlite:///{path}"))
    factory.create_schema()
    yield factory
    factory.dispose()


@pytest.fixture(scope="module")
def pg_time_factory(postgres_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    with scratch_database(postgres_url, "bc_time") as url:
        factory = SqlUnitOfWorkFactory(make_engine(url, pool_size=6))
        factory.create_schema()
        yield factory
        factory.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest) -> SqlUnitOfWorkFactory:
    name = "pg_time_factory" if request.param == "postgres" else "sqlite_time_factory"
    found: SqlUnitOfWorkFactory = request.getfixturevalue(name)
    return found


@pytest.fixture
def pg_factory(pg_time_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    return pg_time_factory


# -- a tenant with resources and timed packages ------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A committed tenant with a room (capacity 1), a hall (capacity 3) and two packages."""

    factory: SqlUnitOfWorkFactory
    tenant: Tenant
    room: Resource
    hall: Resource
    massage: Package
    yoga: Package

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    def claim(
        self,
        resource: Resource,
        occupied: Interval,
        *,
        package: Package | None = None,
        booking_id: uuid.UUID | None = None,
        now: dt.datetime = NOW,
        expires_at: dt.datetime | None = NOW + HOLD,
        day: dt.date | None = None,
        day_limit: int | None = None,
        capacity: int | None = None,
    ) -> bool:
        """One claim in its own committed transaction."""
        claim = TimeClaim(
            resource.id,
            occupied,
            resource.capacity if capacity is None else capacity,
            day or occupied.start.date(),
            day_limit,
        )
        with self.factory() as uow:
            won = uow.bookings.claim_time(
                self.tenant_id,
                booking_id or uuid.uuid4(),
                (package or self.massage).id,
                claim,
                now=now,
                expires_at=expires_at,
            )
            uow.commit()
        return won

    def held(self, *resources: Resource, window: Interval = WHOLE) -> list[HeldTime]:
        with self.factory(read_only=True) as uow:
            found = uow.bookings.held_time(
                self.tenant_id, [r.id for r in resources or (self.room, self.hall)], window
            )
        return sorted(found, key=lambda h: (h.occupied.start, h.lane, str(h.resource_id)))

    def booking(self, service: Interval, *resources: Resource) -> Booking:
        """A PENDING timed booking of the massage, not yet stored."""
        return Booking(
            id=uuid.uuid4(),
            tenant_id=self.tenant_id,
            package_id=self.massage.id,
            customer_id=uuid.uuid4(),
            event_date=service.start.date(),
            status=BookingStatus.PENDING,
            package_price=9_000,
            total=9_000,
            commission=900,
            currency="EUR",
            created_at=NOW,
            expires_at=NOW + HOLD,
            starts_at=service.start,
            ends_at=service.end,
            resource_ids=tuple(r.id for r in resources),
        )


def _package(tenant_id: uuid.UUID, slug: str, resource: Resource, **timing: Any) -> Package:
    schedule = PackageSchedule(
        timing=SlotTiming(duration=dt.timedelta(hours=1), **timing),
        resource_ids=(resource.id,),
    )
    return Package(uuid.uuid4(), tenant_id, f"{slug}-{uuid.uuid4().hex[:8]}", slug, 9_000,
                   schedule=schedule)  # fmt: skip


def make_place(factory: SqlUnitOfWorkFactory) -> Place:
    """A new tenant with its resources and packages, committed."""
    tenant = Tenant(
        id=uuid.uuid4(),
        slug=f"time-{uuid.uuid4().hex[:12]}",
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=Decimal("10"),
    )
    room = Resource(uuid.uuid4(), tenant.id, "Room", kind="room")
    hall = Resource(uuid.uuid4(), tenant.id, "Hall", kind="room", capacity=3)
    massage = _package(tenant.id, "massage", room, buffer_after=dt.timedelta(minutes=15))
    yoga = _package(tenant.id, "yoga", hall, max_per_day=2)
    with factory() as uow:
        uow.tenants.add(tenant)
        uow.resources.add(room)
        uow.resources.add(hall)
        uow.packages.add(massage)
        uow.packages.add(yoga)
        uow.commit()
    return Place(factory, tenant, room, hall, massage, yoga)


@pytest.fixture
def place(factory: SqlUnitOfWorkFactory) -> Place:
    return make_place(factory)


def _event(booking: Booking) -> OutboxEvent:
    return OutboxEvent(
        uuid.uuid4(), booking.tenant_id, booking.id, 1, "booking.held", {"step": "hold"}, NOW
    )


def _customer(tenant_id: uuid.UUID, email: str) -> Customer:
    return Customer(uuid.uuid4(), tenant_id, "Ann", email, None, NOW)


# -- overlap, touching, lanes ------------------------------------------------------------------


def test_overlapping_intervals_that_are_not_equal_are_refused(place: Place) -> None:
    """On capacity 1, 10:00–11:00 holds; 10:30–11:30, 10:59–12:00 and 09:00–10:01 are refused."""
    assert place.claim(place.room, span("10:00", "11:00")) is True
    for start, end in (("10:30", "11:30"), ("10:59", "12:00"), ("09:00", "10:01")):
        assert place.claim(place.room, span(start, end)) is False, (start, end)
    assert [(h.occupied, h.lane) for h in place.held(place.room)] == [(span("10:00", "11:00"), 0)]


def test_touching_intervals_are_both_accepted(place: Place) -> None:
    """Half-open intervals: 10:00–11:00, 11:00–12:00 and 09:00–10:00 all hold lane 0."""
    for start, end in (("10:00", "11:00"), ("11:00", "12:00"), ("09:00", "10:00")):
        assert place.claim(place.room, span(start, end)) is True, (start, end)
    held = place.held(place.room)
    assert [(h.occupied.start, h.occupied.end) for h in held] == [
        (at("09:00"), at("10:00")),
        (at("10:00"), at("11:00")),
        (at("11:00"), at("12:00")),
    ]
    assert {h.lane for h in held} == {0}


def test_capacity_three_gives_three_lanes_then_refuses(place: Place) -> None:
    """Four pairwise-overlapping claims on a capacity-3 hall: three win, on lanes 0, 1, 2."""
    starts = ("10:00", "10:10", "10:20", "10:30")
    won = [place.claim(place.hall, span(s, "11:30"), package=place.yoga) for s in starts]
    assert won == [True, True, True, False]
    assert [h.lane for h in place.held(place.hall)] == [0, 1, 2]
    # all three lanes are busy until 11:30; from then on the hall is free again
    assert place.claim(place.hall, span("11:00", "12:00"), package=place.yoga) is False
    assert place.claim(place.hall, span("11:30", "12:30"), package=place.yoga) is True


def test_a_lowered_capacity_never_overbooks(place: Place) -> None:
    """Claims on lanes past a capacity since lowered take the top lanes: with lanes 0 and 1
    held and the capacity now 1, a claim overlapping only lane 1's claim is refused."""
    hall = place.hall
    assert place.claim(hall, span("10:00", "11:00"), capacity=2) is True  # lane 0
    assert place.claim(hall, span("10:30", "11:30"), capacity=2) is True  # lane 1
    assert [h.lane for h in place.held(hall)] == [0, 1]
    # 11:00–12:00 overlaps lane 1's 10:30–11:30 only: lane 0 looks free, but taking it would
    # put two live claims over 11:00–11:30 on a resource of capacity 1
    assert place.claim(hall, span("11:00", "12:00"), capacity=1) is False
    assert place.claim(hall, span("11:30", "12:30"), capacity=1) is True


# -- lapsed holds ------------------------------------------------------------------------------


def test_a_lapsed_claim_in_the_way_is_ended_and_taken_over(place: Place) -> None:
    """A hold lapsed at ``now`` no longer blocks: the new claim ends it (the row is gone) and
    takes its lane; a lapsed claim not in the way is left to the sweeper."""
    lapsed, aside = uuid.uuid4(), uuid.uuid4()
    assert place.claim(place.room, span("10:00", "11:00"), booking_id=lapsed) is True
    assert place.claim(place.room, span("14:00", "15:00"), booking_id=aside) is True
    before_expiry = NOW + HOLD - dt.timedelta(seconds=1)
    assert place.claim(place.room, span("10:30", "11:30"), now=before_expiry) is False
    later = NOW + HOLD
    winner = uuid.uuid4()
    assert place.claim(
        place.room, span("10:30", "11:30"), booking_id=winner, now=later,
        expires_at=later + HOLD,
    ) is True  # fmt: skip
    held = place.held(place.room)
    assert [(h.booking_id, h.occupied, h.lane) for h in held] == [
        (winner, span("10:30", "11:30"), 0),
        (aside, span("14:00", "15:00"), 0),
    ]


# -- day limits --------------------------------------------------------------------------------


def test_a_day_limit_of_two_refuses_the_third_claim_of_the_package_that_local_day(
    place: Place,
) -> None:
    """max_per_day 2: the package's third claim on its local day is refused (even at a free
    time), another package's claim that day passes, the next local day starts afresh."""
    hall, yoga, massage = place.hall, place.yoga, place.massage
    assert place.claim(hall, span("09:00", "10:00"), package=yoga, day_limit=2) is True
    assert place.claim(hall, span("12:00", "13:00"), package=yoga, day_limit=2) is True
    assert place.claim(hall, span("16:00", "17:00"), package=yoga, day_limit=2) is False
    assert place.claim(hall, span("16:00", "17:00"), package=massage) is True
    # 22:30 UTC on DAY is 00:30 on NEXT_DAY in the resource's zone (Paris): it counts there
    late = span("22:30", "23:30")
    assert place.claim(hall, late, package=yoga, day_limit=2, day=NEXT_DAY) is True
    assert place.claim(hall, span("09:00", "10:00", NEXT_DAY), package=yoga, day_limit=2) is True
    assert place.claim(hall, span("12:00", "13:00", NEXT_DAY), package=yoga, day_limit=2) is False
    c = t.time_claims.c
    with place.factory.engine.connect() as conn:
        rows = conn.execute(
            select(c.claim_day, c.day_seat, c.package_id)
            .where(c.tenant_id == place.tenant_id, c.resource_id == hall.id)
            .order_by(c.claim_day, c.day_seat)
        ).all()
    assert [(row.claim_day, row.day_seat) for row in rows if row.package_id == yoga.id] == [
        (DAY, 0),
        (DAY, 1),
        (NEXT_DAY, 0),
        (NEXT_DAY, 1),
    ]
    assert [row.day_seat for row in rows if row.package_id == massage.id] == [None]


def test_a_lapsed_claim_frees_its_day_seat(place: Place) -> None:
    """A lapsed hold's day seat is ended by the next claim of the package that day, even when
    its time is not in the way."""
    hall, yoga = place.hall, place.yoga
    assert place.claim(hall, span("09:00", "10:00"), package=yoga, day_limit=2) is True
    assert place.claim(
        hall, span("11:00", "12:00"), package=yoga, day_limit=2, expires_at=None
    ) is True  # fmt: skip
    later = NOW + HOLD
    assert place.claim(hall, span("15:00", "16:00"), package=yoga, day_limit=2, now=later) is True
    assert [h.occupied.start for h in place.held(hall)] == [at("11:00"), at("15:00")]


# -- held_time, release, settle, save ----------------------------------------------------------


def test_held_time_returns_what_was_claimed(place: Place) -> None:
    """held_time gives every claim of the asked resources whose interval overlaps the window
    (half-open: one ending at its start is left out), with its booking, package, lane, local
    day and expiry, as aware UTC."""
    room, hall = place.room, place.hall
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert place.claim(room, span("08:00", "09:00"), booking_id=first)
    assert place.claim(room, span("10:00", "11:15"), booking_id=second, expires_at=None)
    assert place.claim(hall, span("10:30", "11:30"), booking_id=third, package=place.yoga,
                       day=NEXT_DAY)  # fmt: skip
    window = span("09:00", "12:00")
    held = place.held(room, hall, window=window)
    assert held == [
        HeldTime(room.id, second, place.massage.id, 0, span("10:00", "11:15"), DAY, None),
        HeldTime(hall.id, third, place.yoga.id, 0, span("10:30", "11:30"), NEXT_DAY, NOW + HOLD),
    ]
    assert all(h.occupied.start.tzinfo is dt.UTC for h in held)
    assert place.held(room, window=span("12:00", "13:00")) == []
    with place.factory(read_only=True) as uow:
        assert uow.bookings.held_time(place.tenant_id, [], window) == []
        assert uow.bookings.held_time(uuid.uuid4(), [room.id], window) == []


def test_release_and_settle_count_time_claims(place: Place) -> None:
    """A booking of the room and the hall: settle_claims makes both claims permanent and counts
    2, release_claims frees both and counts 2, then 0."""
    room, hall, tid = place.room, place.hall, place.tenant_id
    booking = place.booking(span("10:00", "11:00"), room, hall)
    assert place.claim(room, span("10:00", "11:15"), booking_id=booking.id)
    assert place.claim(hall, span("10:00", "11:15"), booking_id=booking.id)
    with place.factory() as uow:
        assert uow.bookings.settle_claims(tid, booking.id) == 2
        uow.commit()
    assert [h.expires_at for h in place.held(room, hall)] == [None, None]
    with place.factory() as uow:
        assert uow.bookings.release_claims(tid, booking.id) == 2
        assert uow.bookings.release_claims(tid, booking.id) == 0
        uow.commit()
    assert place.held(room, hall) == []


def test_insert_hold_then_save_confirm_reschedule_cancel(place: Place) -> None:
    """insert_hold stores the timed booking and its event under a returning customer's id;
    save() settles its time claims (counted), moves it to other resources, and frees them."""
    room, hall, tid = place.room, place.hall, place.tenant_id
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    with place.factory() as uow:
        uow.customers.upsert_by_email(_customer(tid, email))
        uow.commit()
    with place.factory(read_only=True) as uow:
        known = uow.customers.find_by_email(tid, email)
    assert known is not None
    booking = place.booking(span("10:00", "11:00"), room)
    assert place.claim(room, span("10:00", "11:15"), booking_id=booking.id)
    with place.factory() as uow:
        placed = uow.bookings.insert_hold(booking, _customer(tid, email), event=_event(booking))
        uow.commit()
    assert placed == replace(booking, customer_id=known.id)
    with place.factory(read_only=True) as uow:
        stored = uow.bookings.get(tid, booking.id)
    with place.factory.engine.connect() as conn:
        events = conn.execute(
            select(t.outbox.c.payload).where(
                t.outbox.c.tenant_id == tid, t.outbox.c.booking_id == booking.id
            )
        ).all()
    assert stored == placed
    assert [row.payload for row in events] == [{"step": "hold", "customer_id": str(known.id)}]

    confirm = lifecycle.confirm(stored, payment_ref="pay_1", amount_paid=None, now=NOW)
    assert confirm is not None
    with place.factory() as uow:
        assert uow.bookings.save(confirm) == 1
        uow.commit()
    assert [h.expires_at for h in place.held(room)] == [None]

    later = span("14:00", "15:00")
    move = lifecycle.reschedule(
        confirm.after, DAY, now=NOW, starts_at=later.start, ends_at=later.end,
        resource_ids=(hall.id,),
    )  # fmt: skip
    with place.factory() as uow:
        assert uow.bookings.save(move) == 0
        uow.commit()
    with place.factory(read_only=True) as uow:
        moved = uow.bookings.get(tid, booking.id)
    assert moved is not None
    assert (moved.starts_at, moved.ends_at, moved.resource_ids) == (
        later.start,
        later.end,
        (hall.id,),
    )

    cancel = lifecycle.cancel(moved, reason="", now=NOW)
    assert cancel is not None
    with place.factory() as uow:
        assert uow.bookings.save(cancel) == 1  # the room's claim, settled above
        uow.commit()
    assert place.held(room, hall) == []


def test_a_date_booking_reads_back_without_time(place: Place) -> None:
    """A booking without a time stores NULL start, end and resources, and reads back as a date
    booking (resource_ids empty)."""
    booking = replace(place.booking(span("10:00", "11:00")), starts_at=None, ends_at=None)
    with place.factory() as uow:
        uow.bookings.insert_hold(booking, _customer(place.tenant_id, "d@example.com"),
                                 event=_event(booking))  # fmt: skip
        uow.commit()
    c = t.bookings.c
    with place.factory(read_only=True) as uow:
        stored = uow.bookings.get(place.tenant_id, booking.id)
    with place.factory.engine.connect() as conn:
        raw = conn.execute(
            select(c.starts_at, c.ends_at, c.resource_ids).where(
                c.tenant_id == place.tenant_id, c.id == booking.id
            )
        ).one()
    assert stored is not None
    assert (stored.starts_at, stored.ends_at, stored.resource_ids) == (None, None, ())
    assert tuple(raw) == (None, None, None)


# -- PostgreSQL: the database enforces it ------------------------------------------------------


def _raw_claim(place: Place, resource: Resource, occupied: Interval, lane: int) -> dict[str, Any]:
    return {
        "tenant_id": place.tenant_id,
        "booking_id": uuid.uuid4(),
        "resource_id": resource.id,
        "package_id": place.massage.id,
        "lane": lane,
        "starts_at": occupied.start,
        "ends_at": occupied.end,
        "claim_day": occupied.start.date(),
        "day_seat": None,
        "expires_at": None,
    }


@pytest.mark.postgres
def test_the_exclusion_constraint_refuses_a_direct_conflicting_insert(
    pg_factory: SqlUnitOfWorkFactory,
) -> None:
    """Plain INSERTs, no repository: an overlapping row on the same resource and lane fails
    with an IntegrityError naming the exclusion constraint; another lane, a touching interval
    or another resource is accepted."""
    place = make_place(pg_factory)
    engine: Engine = pg_factory.engine
    room, hall = place.room, place.hall
    with engine.begin() as conn:
        conn.execute(insert(t.time_claims), _raw_claim(place, room, span("10:00", "11:00"), 0))
    with pytest.raises(IntegrityError) as refused, engine.begin() as conn:
        conn.execute(insert(t.time_claims), _raw_claim(place, room, span("10:30", "11:30"), 0))
    assert refused.value.orig is not None
    assert refused.value.orig.diag.constraint_name == t.TIME_CLAIMS_NO_OVERLAP  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(insert(t.time_claims), _raw_claim(place, room, span("10:30", "11:30"), 1))
        conn.execute(insert(t.time_claims), _raw_claim(place, room, span("11:00", "12:00"), 0))
        conn.execute(insert(t.time_claims), _raw_claim(place, hall, span("10:30", "11:30"), 0))
    assert len(place.held(room, hall)) == 4


@pytest.mark.postgres
def test_a_claim_on_postgresql_is_one_statement(pg_factory: SqlUnitOfWorkFactory) -> None:
    """claim_time sends one statement on PostgreSQL, whatever the capacity: the end of lapsed
    claims in the way, the pick and the insert, in that order (the insert reads the deletion)."""
    place = make_place(pg_factory)
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(pg_factory.engine, "before_cursor_execute", count)
    try:
        for resource, occupied in ((place.room, span("10:00", "11:00")),
                                   (place.hall, span("10:00", "11:00"))):  # fmt: skip
            with place.factory() as uow:
                sent.clear()
                assert uow.bookings.claim_time(
                    place.tenant_id, uuid.uuid4(), place.massage.id,
                    TimeClaim(resource.id, occupied, resource.capacity, DAY),
                    now=NOW, expires_at=None,
                )  # fmt: skip
                assert [statement.split()[0] for statement in sent] == ["WITH"]
                assert sent[0].index("DELETE FROM bc_time_claims") < sent[0].index("INSERT")
    finally:
        event.remove(pg_factory.engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_connections_racing_for_overlapping_time_have_one_winner(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Two threads, each with its own connection and transaction, claim overlapping unequal
    intervals of a capacity-1 resource at once: exactly one wins, 20 rounds in a row."""
    name = "pg_time_factory" if backend == "postgres" else "sqlite_time_factory"
    factory: SqlUnitOfWorkFactory = request.getfixturevalue(name)
    place = make_place(factory)
    for round_ in range(20):
        day = DAY + dt.timedelta(days=round_)
        results = _race(place, span("10:00", "11:00", day), span("10:30", "11:30", day))
        assert sorted(results) == [False, True], round_
        day_window = Interval(at("00:00", day), at("00:00", day + dt.timedelta(days=1)))
        assert len(place.held(place.room, window=day_window)) == 1, round_


def _race(place: Place, *spans: Interval) -> list[bool]:
    """Each of ``spans`` claimed on the room by its own thread, all released at once; what
    each claim returned (a transient error is retried, as the services do)."""
    barrier = threading.Barrier(len(spans))
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def contend(occupied: Interval) -> None:
        try:
            barrier.wait(timeout=10)
            for _attempt in range(10):
                try:
                    won = _claim_slowly(place, occupied)
                except TransientStorageError:
                    continue
                with lock:
                    results.append(won)
                return
        except BaseException as error:  # reported by the test thread
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=contend, args=(s,)) for s in spans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == len(spans)
    return results


def _claim_slowly(place: Place, occupied: Interval) -> bool:
    """A claim whose transaction stays open a moment after claiming, so a rival's insert
    meets it uncommitted (and waits on it)."""
    with place.factory() as uow:
        won = uow.bookings.claim_time(
            place.tenant_id, uuid.uuid4(), place.massage.id,
            TimeClaim(place.room.id, occupied, 1, occupied.start.date()),
            now=NOW, expires_at=NOW + HOLD,
        )  # fmt: skip
        time.sleep(0.01)
        uow.commit()
    return won
