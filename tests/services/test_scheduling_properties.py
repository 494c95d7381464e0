"""Properties of time slots (Hypothesis), on memory and PostgreSQL (each with and without a
cache: with one, PostgreSQL places plain timed holds in one statement) and SQLite, over random
schedules: a tenant zone, one or two resources (capacity 1-3, their own zone or the tenant's)
with a few weekly intervals of working hours and perhaps a date override, time off, one or two
timed packages (15-120 minute services in 5-minute steps, buffers of 0-30 minutes, a slot
interval of 5-60 minutes, sometimes a day limit, a notice or a short horizon) that need any
one or all of their resources, in an ordinary week or one with a DST change.

- every start ``slots()`` offers can be held while nobody else takes it;
- a start on the grid inside the hours that ``slots()`` does not offer is refused (conflict, or
  time off), the converse;
- after any sequence of holds, confirms, cancels, reschedules, clock advances, sweeps and
  capacity raises, the live bookings of a resource never overlap past its capacity (buffers
  included), and each lies inside its resource's working hours, on the grid and clear of its
  time off.

``schedules()`` and the helpers here also drive the timed rules of the backend-comparing state
machine in ``test_properties.py``. ``BOOKING_CORE_LONG=1`` draws ten times the examples. The
two bugs found here (fixed) are pinned by plain tests at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from booking_core.adapters.cache import MemoryCache
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import (
    Assignment,
    Booking,
    BookingStatus,
    CustomerDetails,
    Package,
    PackageSchedule,
    Resource,
    ResourceNeed,
    Slot,
    Tenant,
)
from booking_core.domain.schedule import (
    DateHours,
    Interval,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
    is_slot_start,
    slot_starts,
)
from booking_core.errors import (
    BookingConflictError,
    HoldExpiredError,
    InvalidTransitionError,
    TimeUnavailableError,
)
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, unique_slug

LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"

MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
_WHOLE_DAY = 24 * 60
#: Zones of tenants and resources: ordinary, half-hour, a 30-minute DST shift, none.
ZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
#: Mondays of the searched week: an ordinary one, and weeks with a DST change (Lord Howe on
#: 2030-10-06, Europe on 2030-10-27 and 2031-03-30, New York on 2030-11-03).
WEEKS = (
    dt.date(2030, 6, 17),
    dt.date(2030, 9, 30),
    dt.date(2030, 10, 21),
    dt.date(2030, 10, 28),
    dt.date(2031, 3, 24),
)
LIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.FULFILLED)
#: What a racing-free operation may legitimately answer in a random sequence.
REFUSALS = (BookingConflictError, TimeUnavailableError, HoldExpiredError, InvalidTransitionError)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def customer(n: int = 0) -> CustomerDetails:
    return CustomerDetails(f"Guest {n}", f"g{n}@example.com")


# --- strategies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    hours: WorkingHours
    capacity: int
    timezone: str | None  # None: the tenant's


@dataclass(frozen=True, slots=True)
class PackageSpec:
    timing: SlotTiming
    resources: tuple[int, ...]  # indexes into ScheduleSpec.resources, in the package's order
    need: ResourceNeed
    assignment: Assignment = Assignment.LEAST_LOADED


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A random schedule: what :func:`build` creates for a fresh tenant."""

    timezone: str
    week: dt.date  # a Monday: the searched window is that local week of the tenant
    resources: tuple[ResourceSpec, ...]
    packages: tuple[PackageSpec, ...]
    #: time off: (resource index, minutes from the window's start, length in minutes)
    time_off: tuple[tuple[int, int, int], ...]


def _time(minutes: int) -> dt.time:
    return dt.time(0) if minutes == _WHOLE_DAY else dt.time(minutes // 60, minutes % 60)


def _covers_a_whole_day(spans: Sequence[tuple[int, int]]) -> bool:
    reach = 0
    for lo, hi in sorted(spans):
        if lo > reach:
            return False
        reach = max(reach, hi)
    return reach >= _WHOLE_DAY


def _spans() -> st.SearchStrategy[tuple[int, int]]:
    """Opening and closing minutes of a day, on a 5-minute grid: opening by 22:00, open for
    30 minutes to 14 hours (mostly two hours or more), to midnight at the latest."""
    length = st.one_of(st.integers(6, 23), st.integers(24, 14 * 12), st.integers(24, 14 * 12))
    return st.tuples(st.integers(0, 22 * 12), length).map(
        lambda pair: (pair[0] * 5, min(pair[0] * 5 + pair[1] * 5, _WHOLE_DAY))
    )


@st.composite
def working_hours(draw: st.DrawFn, week: dt.date) -> WorkingHours:
    """A few weekly intervals: two to seven open weekdays, perhaps a second (overlapping or
    split) interval on some, perhaps open to or from midnight; and perhaps one date of the week
    overridden (closed, or other hours).

    No local day is open all 24 hours: a stretch open from one day through the whole next
    one meets a known bug (a start's grid is anchored differently by ``slots()`` and by
    ``hold``), pinned by ``test_round_the_clock_hours_offer_what_a_hold_accepts``.
    """
    days = draw(st.lists(st.integers(0, 6), min_size=2, max_size=7, unique=True))
    weekly = [(day, draw(_spans())) for day in days]
    weekly += draw(st.lists(st.tuples(st.sampled_from(days), _spans()), max_size=2))
    by_day: dict[int, list[tuple[int, int]]] = {}
    for day, span in weekly:
        by_day.setdefault(day, []).append(span)
    assume(not any(_covers_a_whole_day(spans) for spans in by_day.values()))
    dates: tuple[DateHours, ...] = ()
    if draw(st.booleans()):
        date = week + draw(st.integers(0, 6)) * DAY
        spans = draw(st.lists(_spans(), max_size=1))
        assume(not _covers_a_whole_day(spans))
        dates = (DateHours(date, tuple((_time(lo), _time(hi)) for lo, hi in spans)),)
    return WorkingHours(
        weekly=tuple(WeeklyHours(day, _time(lo), _time(hi)) for day, (lo, hi) in weekly),
        dates=dates,
    )


@st.composite
def slot_timings(draw: st.DrawFn, week: dt.date) -> SlotTiming:
    """Services of 15-120 minutes in 5-minute steps, buffers of 0-30 minutes, a slot interval
    of 5-60 minutes, sometimes a day limit; sometimes a notice or a horizon that ends inside
    the searched ``week``."""
    buffers = st.one_of(st.just(0), st.integers(0, 30))
    lead = (dt.datetime.combine(week, dt.time(0), dt.UTC) - START) // MINUTE
    notice = draw(st.sampled_from([0, 0, 0, 1])) * (lead + draw(st.integers(0, 72)) * 60)
    horizon = 365 * _WHOLE_DAY
    if draw(st.integers(0, 3)) == 0:
        horizon = max(notice + 60, lead + draw(st.integers(12, 120)) * 60)
    return SlotTiming(
        duration=draw(st.integers(3, 24)) * 5 * MINUTE,
        buffer_before=draw(buffers) * MINUTE,
        buffer_after=draw(buffers) * MINUTE,
        slot_interval=draw(st.integers(5, 60)) * MINUTE,
        min_notice=notice * MINUTE,
        horizon=horizon * MINUTE,
        max_per_day=draw(st.sampled_from([None, None, None, 1, 2, 3])),
    )


@st.composite
def schedules(
    draw: st.DrawFn, *, max_capacity: int = 3, max_resources: int = 2, time_off: bool = True
) -> ScheduleSpec:
    """A random :class:`ScheduleSpec` (see the module's docstring)."""
    week = draw(st.sampled_from(WEEKS))
    count = draw(st.integers(1, max_resources))
    resources = tuple(
        ResourceSpec(
            hours=draw(working_hours(week)),
            capacity=draw(st.integers(1, max_capacity)),
            timezone=draw(st.one_of(st.none(), st.sampled_from(ZONES))),
        )
        for _ in range(count)
    )
    indexes = list(range(count))
    packages = []
    for _ in range(draw(st.integers(1, 2))):
        chosen = draw(st.permutations(indexes))[: draw(st.integers(1, count))]
        packages.append(
            PackageSpec(
                timing=draw(slot_timings(week)),
                resources=tuple(chosen),
                need=draw(st.sampled_from(ResourceNeed)),
                assignment=draw(st.sampled_from(Assignment)),
            )
        )
    offs: tuple[tuple[int, int, int], ...] = ()
    if time_off:
        offs = tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.integers(0, count - 1),
                        st.integers(0, 7 * _WHOLE_DAY // 5).map(lambda m: m * 5),
                        st.integers(1, 8 * 12).map(lambda m: m * 5),
                    ),
                    max_size=2,
                )
            )
        )
    return ScheduleSpec(
        timezone=draw(st.sampled_from(ZONES)),
        week=week,
        resources=resources,
        packages=tuple(packages),
        time_off=offs,
    )


# --- building a schedule and reading it back ------------------------------------------------


@dataclass
class Built:
    """What :func:`build` created: the tenant, its resources and packages, the searched week."""

    spec: ScheduleSpec
    tenant: Tenant
    resources: list[Resource]
    packages: list[Package]
    window: Interval
    time_off: list[tuple[uuid.UUID, Interval]]

    def timing(self, package_id: uuid.UUID) -> SlotTiming:
        for package in self.packages:
            if package.id == package_id and package.schedule is not None:
                return package.schedule.timing
        raise KeyError(package_id)

    def resource(self, resource_id: uuid.UUID) -> Resource:
        return next(r for r in self.resources if r.id == resource_id)

    def index(self, resource_id: uuid.UUID) -> int:
        return next(i for i, r in enumerate(self.resources) if r.id == resource_id)

    def package_resources(self, index: int) -> list[Resource]:
        return [self.resources[i] for i in self.spec.packages[index].resources]

    def zone_of(self, resource: Resource) -> ZoneInfo:
        return zone(resource.timezone or self.tenant.timezone)

    def dates(self) -> tuple[dt.date, dt.date]:
        """The tenant's dates a booking of the window can have (its start's, in its zone)."""
        return (self.spec.week - DAY, self.spec.week + 8 * DAY)


def build(app: BookingApp, spec: ScheduleSpec) -> Built:
    """Create ``spec`` for a fresh tenant through the catalog service."""
    tenant = app.tenants.create(
        slug=unique_slug("slots"),
        name="Slots",
        timezone=spec.timezone,
        currency="EUR",
        commission_percent=10,
    )
    resources = [
        app.catalog.create_resource(
            tenant.id,
            name=f"Resource {n}",
            kind="staff",
            timezone=each.timezone,
            capacity=each.capacity,
            hours=each.hours,
        )
        for n, each in enumerate(spec.resources)
    ]
    packages = [
        app.catalog.create_package(
            tenant.id,
            slug=f"p{n}",
            name=f"Package {n}",
            base_price=5_000,
            schedule=PackageSchedule(
                each.timing,
                resource_ids=tuple(resources[i].id for i in each.resources),
                need=each.need,
                assignment=each.assignment,
            ),
        )
        for n, each in enumerate(spec.packages)
    ]
    tz = zone(spec.timezone)
    window = Interval(
        dt.datetime.combine(spec.week, dt.time(0), tz).astimezone(dt.UTC),
        dt.datetime.combine(spec.week + 7 * DAY, dt.time(0), tz).astimezone(dt.UTC),
    )
    offs = []
    for index, offset, length in spec.time_off:
        start = window.start + offset * MINUTE
        away = Interval(start, start + length * MINUTE)
        app.catalog.add_time_off(tenant.id, resources[index].id, start=away.start, end=away.end)
        offs.append((resources[index].id, away))
    return Built(spec, tenant, resources, packages, window, offs)


def offered(app: BookingApp, built: Built, package: int) -> list[Slot]:
    """``slots()`` of a package over the week."""
    return app.availability.slots(
        built.tenant.id, built.packages[package].id, built.window.start, built.window.end
    )


def opens(built: Built, resource: Resource) -> list[Interval]:
    return resource.hours.open_intervals(
        built.zone_of(resource), built.window.start, built.window.end
    )


def away(built: Built, resource: Resource, service: Interval) -> bool:
    return any(rid == resource.id and off.overlaps(service) for rid, off in built.time_off)


def grid(built: Built, package: int, now: dt.datetime) -> dict[dt.datetime, list[Resource]]:
    """The starts of the week on the package's grid inside its resources' hours, within the
    notice and the horizon at ``now``; each with the resources whose grid has it (with
    :attr:`ResourceNeed.ALL`, only starts on every resource's grid)."""
    timing = built.timing(built.packages[package].id)
    earliest = max(built.window.start, now + timing.min_notice)
    latest = min(built.window.end, now + timing.horizon + dt.timedelta(microseconds=1))
    if latest <= earliest:
        return {}
    found: dict[dt.datetime, list[Resource]] = {}
    resources = built.package_resources(package)
    for resource in resources:
        for start in slot_starts(opens(built, resource), timing, Interval(earliest, latest)):
            found.setdefault(start, []).append(resource)
    if built.spec.packages[package].need is ResourceNeed.ALL:
        found = {s: rs for s, rs in found.items() if len(rs) == len(resources)}
    return dict(sorted(found.items()))


def live_bookings(app: BookingApp, built: Built) -> list[Booking]:
    """The tenant's live bookings of the week (lapsed holds are EXPIRED as of now)."""
    first, last = built.dates()
    listed = app.bookings.list_for_dates(built.tenant.id, first, last)
    return [b for b in listed if b.status in LIVE]


def max_overlap(intervals: Sequence[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most half-open intervals sharing one instant (a sweep: ends before starts)."""
    events = sorted([(lo, 1) for lo, _ in intervals] + [(hi, -1) for _, hi in intervals])
    running = most = 0
    for _, delta in events:
        running += delta
        most = max(most, running)
    return most


def broken(app: BookingApp, built: Built) -> list[str]:
    """What the live bookings break: capacity (buffers included), hours, grid, time off, the
    package's resources."""
    found = []
    live = live_bookings(app, built)
    for booking in live:
        timing = built.timing(booking.package_id)
        assert booking.starts_at is not None
        assert booking.ends_at is not None
        service = Interval(booking.starts_at, booking.ends_at)
        index = next(i for i, p in enumerate(built.packages) if p.id == booking.package_id)
        spec = built.spec.packages[index]
        allowed = {r.id for r in built.package_resources(index)}
        if service.duration != timing.duration:
            found.append(f"{booking.id}: lasts {service.duration}, not {timing.duration}")
        if not set(booking.resource_ids) <= allowed or (
            len(booking.resource_ids) != (len(allowed) if spec.need is ResourceNeed.ALL else 1)
        ):
            found.append(f"{booking.id}: resources {booking.resource_ids} of {allowed}")
        for resource_id in booking.resource_ids:
            resource = built.resource(resource_id)
            hours = opens(built, resource)
            if not any(interval.contains(service) for interval in hours):
                found.append(f"{booking.id} {service} outside the hours of {resource.name}")
            elif not is_slot_start(hours, timing, service.start):
                found.append(f"{booking.id} {service} off the grid of {resource.name}")
            if away(built, resource, service):
                found.append(f"{booking.id} {service} in the time off of {resource.name}")
    for resource in built.resources:
        spans = []
        for booking in live:
            if resource.id in booking.resource_ids:
                assert booking.starts_at is not None
                assert booking.ends_at is not None
                timing = built.timing(booking.package_id)
                spans.append(
                    (
                        booking.starts_at - timing.buffer_before,
                        booking.ends_at + timing.buffer_after,
                    )
                )
        if max_overlap(spans) > resource.capacity:
            found.append(
                f"{resource.name} (capacity {resource.capacity}): {max_overlap(spans)} live "
                f"bookings overlap: {sorted(spans)}"
            )
    return found


# --- existing bookings --------------------------------------------------------------------------


def existing_bookings() -> st.SearchStrategy[list[tuple[int, int, str]]]:
    """(package, which offered slot, what becomes of it): bookings made before a property
    looks, some lapsed by the clock, confirmed, cancelled or rescheduled."""
    fate = st.sampled_from(["pending", "confirmed", "lapsed", "canceled", "moved"])
    return st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 10**6), fate), min_size=1, max_size=6
    )


def make_existing(
    app: BookingApp, clock: ManualClock, built: Built, plan: list[tuple[int, int, str]]
) -> None:
    """Hold offered slots per ``plan``; lapsed ones first, then the clock moves 20 minutes
    (past the 15-minute hold TTL) and the others are held and confirmed, cancelled or moved."""
    count = len(built.packages)
    for lapsed in (True, False):
        for n, (package, pick, fate) in enumerate(plan):
            if (fate == "lapsed") != lapsed:
                continue
            slots = offered(app, built, package % count)
            if not slots:
                continue
            tenant = built.tenant.id
            booking = app.bookings.hold(
                tenant,
                package_id=built.packages[package % count].id,
                start=slots[pick % len(slots)].start,
                customer=customer(n),
            )
            if fate == "confirmed":
                app.bookings.confirm(tenant, booking.id, payment_ref=f"pay-{n}")
            elif fate == "canceled":
                app.bookings.cancel(tenant, booking.id)
            elif fate == "moved":
                again = [
                    s for s in offered(app, built, package % count) if s.start != booking.starts_at
                ]
                if again:
                    target = again[(pick // 7) % len(again)].start
                    app.bookings.reschedule(tenant, booking.id, new_start=target)
        if lapsed:
            clock.advance(20 * MINUTE)


# --- backends -------------------------------------------------------------------------------------


BACKENDS = [
    "memory",
    "memory+cache",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    # with a cache, a plain timed hold on PostgreSQL is one statement from cached terms
    pytest.param("postgres+cache", marks=pytest.mark.postgres),
]


@dataclass
class Backend:
    app: BookingApp
    clock: ManualClock


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, Backend]]:
    """One app per backend, made on first use and shared by every example (each example makes
    a fresh tenant and resets the clock)."""
    made: dict[str, Backend] = {}
    yield made
    for each in made.values():
        each.app.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, backends: dict[str, Backend]) -> Backend:
    """The module's app of the parametrized backend (each example sets its clock)."""
    name = str(request.param)
    if name not in backends:
        clock = ManualClock(START)
        if name == "memory":
            app = in_memory_app(clock=clock)
        elif name == "memory+cache":
            app = in_memory_app(clock=clock, cache=MemoryCache())
        elif name == "sqlite":
            app = connect(str(request.getfixturevalue("sqlite_file_url")), clock=clock)
        else:
            app = connect(
                str(request.getfixturevalue("pg_database_url")),
                clock=clock,
                cache_url="memory://" if name.endswith("+cache") else None,
            )
        backends[name] = Backend(app, clock)
    return backends[name]


def _settings(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples * (10 if LONG else 1),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,  # it only hands out a module-scoped app
        ],
    )


# --- the properties ----------------------------------------------------------------------------


@_settings(30)
@given(
    spec=schedules(),
    plan=existing_bookings(),
    picks=st.lists(st.tuples(st.integers(0, 10**6), st.booleans()), min_size=3, max_size=8),
)
def test_every_offered_slot_can_be_held(
    backend: Backend,
    spec: ScheduleSpec,
    plan: list[tuple[int, int, str]],
    picks: list[tuple[int, bool]],
) -> None:
    """Holding offered slots one by one (re-reading the slots between holds, sometimes naming
    one of the slot's resources) always succeeds, at that start, on the slot's resources."""
    app, clock = backend.app, backend.clock
    clock.set(START)
    built = build(app, spec)
    make_existing(app, clock, built, plan)
    held = 0
    for n, (pick, name) in enumerate(picks):
        package = n % len(built.packages)
        slots = offered(app, built, package)
        if not slots:
            continue
        slot = slots[pick % len(slots)]
        named = None
        if name and spec.packages[package].need is ResourceNeed.ANY:
            named = slot.resource_ids[pick % len(slot.resource_ids)]
        booking = app.bookings.hold(
            built.tenant.id,
            package_id=built.packages[package].id,
            start=slot.start,
            customer=customer(100 + n),
            resource_id=named,
        )
        assert booking.starts_at == slot.start
        assert set(booking.resource_ids) <= set(slot.resource_ids)
        if named is not None:
            assert booking.resource_ids == (named,)
        held += 1
    event(f"offered slots held: {min(held, 5)}{'+' if held >= 5 else ''}")
    assert broken(app, built) == []


@_settings(30)
@given(spec=schedules(), plan=existing_bookings(), data=st.data())
def test_starts_not_offered_are_refused(
    backend: Backend, spec: ScheduleSpec, plan: list[tuple[int, int, str]], data: st.DataObject
) -> None:
    """A start on a package's grid inside its resources' hours that ``slots()`` does not offer
    is refused: BookingConflictError, or TimeUnavailableError when time off covers it on every
    resource that could serve it; nothing is written."""
    app, clock = backend.app, backend.clock
    clock.set(START)
    built = build(app, spec)
    make_existing(app, clock, built, plan)
    before = sorted((b.id, b.starts_at) for b in live_bookings(app, built))
    tried = 0
    for package in range(len(built.packages)):
        taken = {slot.start for slot in offered(app, built, package)}
        refused = [(s, rs) for s, rs in grid(built, package, clock.now()).items() if s not in taken]
        if not refused:
            continue
        chosen = data.draw(
            st.lists(
                st.sampled_from(refused), min_size=1, max_size=6, unique_by=lambda pair: pair[0]
            ),
            label=f"refused starts of package {package}",
        )
        timing = built.timing(built.packages[package].id)
        need = spec.packages[package].need
        for start, resources in chosen:
            tried += 1
            here = [r for r in resources if not away(built, r, timing.service(start))]
            in_time_off = len(here) < len(resources) if need is ResourceNeed.ALL else not here
            expected = TimeUnavailableError if in_time_off else BookingConflictError
            with pytest.raises(expected):
                app.bookings.hold(
                    built.tenant.id,
                    package_id=built.packages[package].id,
                    start=start,
                    customer=customer(7),
                )
    event(f"refused starts tried: {min(tried, 5)}{'+' if tried >= 5 else ''}")
    assert sorted((b.id, b.starts_at) for b in live_bookings(app, built)) == before


OPERATIONS = st.one_of(
    st.tuples(st.just("hold"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("hold-any-start"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("confirm"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("reschedule"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("reschedule-any-start"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("advance"), st.integers(1, 30), st.booleans()),
    st.tuples(st.just("raise-capacity"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("sweep"), st.just(0), st.booleans()),
)


@_settings(30)
@given(spec=schedules(), operations=st.lists(OPERATIONS, min_size=4, max_size=16))
def test_random_operations_never_overbook(
    backend: Backend, spec: ScheduleSpec, operations: list[tuple[str, int, bool]]
) -> None:
    """After every one of a random sequence of holds (offered starts, or any start on the
    grid), confirms, cancels, reschedules, clock advances, expiry sweeps and capacity raises,
    no resource holds
    more overlapping live bookings than its capacity (buffers included), every booking lies
    inside its resource's hours, on the grid, clear of time off; an offered start is always
    held, and a live booking always moves to an offered start."""
    app, clock = backend.app, backend.clock
    clock.set(START)
    built = build(app, spec)
    tenant = built.tenant.id
    made: list[uuid.UUID] = []
    for step, (op, pick, flag) in enumerate(operations):
        package = int(flag) % len(built.packages)
        package_id = built.packages[package].id
        try:
            if op == "hold":
                slots = offered(app, built, package)
                if slots:
                    start = slots[pick % len(slots)].start
                    held = app.bookings.hold(
                        tenant, package_id=package_id, start=start, customer=customer(step)
                    )
                    made.append(held.id)
            elif op == "hold-any-start":
                starts = list(grid(built, package, clock.now()))
                if starts:
                    start = starts[pick % len(starts)]
                    try:
                        held = app.bookings.hold(
                            tenant, package_id=package_id, start=start, customer=customer(step)
                        )
                    except (BookingConflictError, TimeUnavailableError):
                        pass
                    else:
                        made.append(held.id)
            elif op in ("confirm", "cancel", "reschedule", "reschedule-any-start") and made:
                booking = app.bookings.get(tenant, made[pick % len(made)])
                if op == "confirm":
                    app.bookings.confirm(tenant, booking.id, payment_ref=f"pay-{step}")
                elif op == "cancel":
                    app.bookings.cancel(tenant, booking.id)
                else:
                    index = next(
                        i for i, p in enumerate(built.packages) if p.id == booking.package_id
                    )
                    if op == "reschedule":
                        starts = [slot.start for slot in offered(app, built, index)]
                    else:
                        starts = list(grid(built, index, clock.now()))
                    starts = [start for start in starts if start != booking.starts_at]
                    if starts:
                        target = starts[(pick // 3) % len(starts)]
                        try:
                            moved = app.bookings.reschedule(tenant, booking.id, new_start=target)
                        except InvalidTransitionError:
                            assert booking.status not in (
                                BookingStatus.PENDING,
                                BookingStatus.CONFIRMED,
                            )
                        except (BookingConflictError, TimeUnavailableError):
                            if op == "reschedule":
                                raise
                        else:
                            assert moved.starts_at == target
            elif op == "advance":
                clock.advance(pick * MINUTE)
            elif op == "raise-capacity":  # lowering it: see test_a_lowered_capacity_...
                index = pick % len(built.resources)
                built.resources[index] = app.catalog.update_resource(
                    tenant, built.resources[index].id, capacity=built.resources[index].capacity + 1
                )
            elif op == "sweep":
                app.bookings.expire_holds(tenant_id=tenant)
        except (HoldExpiredError, InvalidTransitionError):
            pass
        assert broken(app, built) == [], (step, op)
    live = len(live_bookings(app, built))
    event(f"live bookings at the end: {min(live, 5)}{'+' if live >= 5 else ''}")


# --- two bugs this suite found (fixed): pinned as plain tests -----------------------------------


def test_round_the_clock_hours_offer_what_a_hold_accepts() -> None:
    """A resource open all day every day with a 7-minute grid: a start that slots() offers
    for the week is accepted by hold, and a one-day search offers the same starts."""
    app = in_memory_app(clock=ManualClock(START))
    tenant = app.tenants.create(
        slug=unique_slug(), name="Open", timezone="UTC", currency="EUR", commission_percent=10
    )
    always = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(0), dt.time(0)) for d in range(7)))
    resource = app.catalog.create_resource(tenant.id, name="Kiosk", hours=always)
    package = app.catalog.create_package(
        tenant.id,
        slug="session",
        name="Session",
        base_price=1_000,
        schedule=PackageSchedule(
            SlotTiming(duration=15 * MINUTE, slot_interval=7 * MINUTE),
            resource_ids=(resource.id,),
        ),
    )
    monday = dt.datetime(2030, 6, 17, tzinfo=dt.UTC)
    wednesday = monday + 2 * DAY
    week = app.availability.slots(tenant.id, package.id, monday, monday + 7 * DAY)
    in_week = [s.start for s in week if wednesday <= s.start < wednesday + DAY]
    one_day = [
        s.start for s in app.availability.slots(tenant.id, package.id, wednesday, wednesday + DAY)
    ]
    booking = app.bookings.hold(
        tenant.id, package_id=package.id, start=in_week[0], customer=customer()
    )
    assert booking.starts_at == in_week[0]
    assert in_week == one_day


def test_a_lowered_capacity_is_never_exceeded(backend: Backend) -> None:
    """Capacity 3, three holds at 10:00 (lanes 0-2), the first cancelled, the capacity
    lowered to 2: two live bookings fill 10:00, so it is not offered and a hold is refused."""
    app, clock = backend.app, backend.clock
    clock.set(START)
    tenant = app.tenants.create(
        slug=unique_slug(), name="Class", timezone="UTC", currency="EUR", commission_percent=10
    )
    weekdays = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(9), dt.time(17)) for d in range(5)))
    room = app.catalog.create_resource(tenant.id, name="Room", capacity=3, hours=weekdays)
    package = app.catalog.create_package(
        tenant.id,
        slug="class",
        name="Class",
        base_price=1_000,
        schedule=PackageSchedule(SlotTiming(duration=60 * MINUTE), resource_ids=(room.id,)),
    )
    ten = dt.datetime(2030, 6, 17, 10, tzinfo=dt.UTC)
    first, *_ = [
        app.bookings.hold(tenant.id, package_id=package.id, start=ten, customer=customer(n))
        for n in range(3)
    ]
    app.bookings.cancel(tenant.id, first.id)
    app.catalog.update_resource(tenant.id, room.id, capacity=2)
    slots = app.availability.slots(tenant.id, package.id, ten, ten + 60 * MINUTE)
    assert [slot.start for slot in slots] == []
    with pytest.raises(BookingConflictError):
        app.bookings.hold(tenant.id, package_id=package.id, start=ten, customer=customer(9))
