"""Property tests: a state machine drives the memory and SQLite backends in step.

After every step both backends must agree on every outcome and on the availability of every
date, and no date may ever hold more active bookings than its capacity.

Each run also gets a random timed schedule (``schedules()`` of ``test_scheduling_properties``:
resources with working hours, time off, one or two timed packages) on both backends, and timed
holds (of offered starts or of any start on the grid), confirms, cancels, reschedules and sweeps
run on both: they must give the same outcomes, the same slots and the same live bookings (the
same starts on the same resources), and no resource may ever hold overlapping live bookings
past its capacity, buffers included.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingPolicy, BookingStatus, CustomerDetails
from booking_core.domain.money import commission_for
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, Shop, make_shop
from .test_scheduling_properties import (
    Built,
    ScheduleSpec,
    broken,
    build,
    grid,
    live_bookings,
    offered,
    schedules,
)

DATES = [dt.date(2030, 6, 14) + dt.timedelta(days=i) for i in range(5)]  # one is in the past


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One SQLite file with the schema for every run of the state machine, made on first use."""
    url = f"sqlite:///{tmp_path_factory.mktemp('props') / 'props.db'}"
    connect(url, create_schema=True).close()
    TwoBackends.sqlite_url = url
    yield
    del TwoBackends.sqlite_url


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        result = call()
    except Exception as error:
        return ("error", type(error).__name__)
    return ("ok", result)


class TwoBackends(RuleBasedStateMachine):
    #: set by the ``sqlite_database`` fixture: importing this module does no I/O
    sqlite_url: str

    bookings = Bundle("bookings")
    timed_bookings = Bundle("timed_bookings")

    @initialize(
        capacity=st.integers(1, 3),
        ttl_minutes=st.sampled_from([5, 15, 60]),
        schedule=schedules(),
    )
    def setup(self, capacity: int, ttl_minutes: int, schedule: ScheduleSpec) -> None:
        self.clock = ManualClock(START)
        self.capacity = capacity
        self.apps: list[BookingApp] = [
            in_memory_app(clock=self.clock),
            connect(self.sqlite_url, clock=self.clock),
        ]
        policy = BookingPolicy(
            capacity_per_date=capacity, hold_ttl=dt.timedelta(minutes=ttl_minutes)
        )
        self.shops: list[Shop] = [make_shop(app, policy=policy) for app in self.apps]
        self.timed: list[Built] = [build(app, schedule) for app in self.apps]

    def teardown(self) -> None:
        for app in getattr(self, "apps", []):
            app.close()

    def _both(self, act: Any) -> list[tuple[str, Any]]:
        outcomes = [
            _outcome(lambda a=app, s=shop: act(a, s))
            for app, shop in zip(self.apps, self.shops, strict=True)
        ]
        kinds = [(kind, value if kind == "error" else "ok") for kind, value in outcomes]
        assert kinds[0] == kinds[1], kinds
        return outcomes

    @rule(
        target=bookings, date=st.sampled_from(DATES), who=st.integers(0, 5), album=st.integers(0, 3)
    )
    def hold(self, date: dt.date, who: int, album: int) -> Any:
        outcomes = self._both(
            lambda app, shop: app.bookings.hold(
                shop.tenant.id,
                package_id=shop.package.id,
                date=date,
                customer=CustomerDetails(f"Guest {who}", f"g{who}@example.com"),
                add_ons={shop.album.id: album} if album else None,
            )
        )
        if outcomes[0][0] == "ok":
            memory, sql = (o[1] for o in outcomes)
            assert memory.total == sql.total == 250_000 + 4_500 * album
            assert memory.commission == commission_for(
                memory.total, self.shops[0].tenant.commission_percent
            )
            return (memory.id, sql.id)
        return None

    @rule(pair=bookings)
    def confirm(self, pair: Any) -> None:
        if pair is not None:
            self._both(
                lambda app, shop: app.bookings.confirm(
                    shop.tenant.id, pair[self.apps.index(app)], payment_ref="pay"
                )
            )

    @rule(pair=bookings)
    def cancel(self, pair: Any) -> None:
        if pair is not None:
            self._both(
                lambda app, shop: app.bookings.cancel(shop.tenant.id, pair[self.apps.index(app)])
            )

    @rule(minutes=st.integers(1, 30))
    def tick(self, minutes: int) -> None:
        self.clock.advance(dt.timedelta(minutes=minutes))

    @rule()
    def sweep(self) -> None:
        swept = self._both(lambda app, shop: app.bookings.expire_holds(tenant_id=shop.tenant.id))
        assert len(swept[0][1]) == len(swept[1][1])

    # --- timed bookings -------------------------------------------------------------------

    def _built(self, app: BookingApp) -> Built:
        return self.timed[self.apps.index(app)]

    def _starts(self, package: int, pick: int, offered_only: bool) -> dt.datetime | None:
        """A start of the package (as the memory backend sees it): an offered one, or any on
        the grid inside the hours (which may be taken)."""
        built = self.timed[0]
        if offered_only:
            starts = [slot.start for slot in offered(self.apps[0], built, package)]
        else:
            starts = list(grid(built, package, self.clock.now()))
        return starts[pick % len(starts)] if starts else None

    def _same_timed(self, outcomes: list[tuple[str, Any]]) -> None:
        """Successful timed outcomes agree: start, end, status, total, resources (by index)."""
        if outcomes[0][0] != "ok":
            return
        seen = []
        for (_, booking), built in zip(outcomes, self.timed, strict=True):
            resources = tuple(built.index(r) for r in booking.resource_ids)
            seen.append(
                (booking.starts_at, booking.ends_at, booking.status, booking.total, resources)
            )
        assert seen[0] == seen[1], seen

    @rule(
        target=timed_bookings,
        package=st.integers(0, 1),
        pick=st.integers(0, 10**6),
        offered_only=st.booleans(),
        who=st.integers(0, 5),
    )
    def hold_time(self, package: int, pick: int, offered_only: bool, who: int) -> Any:
        index = package % len(self.timed[0].packages)
        start = self._starts(index, pick, offered_only)
        if start is None:
            return None
        outcomes = self._both(
            lambda app, _shop: app.bookings.hold(
                self._built(app).tenant.id,
                package_id=self._built(app).packages[index].id,
                start=start,
                customer=CustomerDetails(f"Guest {who}", f"g{who}@example.com"),
            )
        )
        answer = outcomes[0][1] if outcomes[0][0] == "error" else "ok"
        event(f"timed hold of {'an offered' if offered_only else 'any'} start: {answer}")
        if offered_only:
            assert outcomes[0][0] == "ok", outcomes  # an offered start can be held
        self._same_timed(outcomes)
        if outcomes[0][0] == "ok":
            return (outcomes[0][1].id, outcomes[1][1].id)
        return None

    @rule(pair=timed_bookings)
    def confirm_time(self, pair: Any) -> None:
        if pair is not None:
            outcomes = self._both(
                lambda app, _shop: app.bookings.confirm(
                    self._built(app).tenant.id, pair[self.apps.index(app)], payment_ref="pay"
                )
            )
            self._same_timed(outcomes)

    @rule(pair=timed_bookings)
    def cancel_time(self, pair: Any) -> None:
        if pair is not None:
            self._both(
                lambda app, _shop: app.bookings.cancel(
                    self._built(app).tenant.id, pair[self.apps.index(app)]
                )
            )

    @rule(pair=timed_bookings, pick=st.integers(0, 10**6), offered_only=st.booleans())
    def reschedule_time(self, pair: Any, pick: int, offered_only: bool) -> None:
        if pair is None:
            return
        built = self.timed[0]
        booking = self.apps[0].bookings.get(built.tenant.id, pair[0])
        index = next(i for i, p in enumerate(built.packages) if p.id == booking.package_id)
        start = self._starts(index, pick, offered_only)
        if start is None:
            return
        outcomes = self._both(
            lambda app, _shop: app.bookings.reschedule(
                self._built(app).tenant.id, pair[self.apps.index(app)], new_start=start
            )
        )
        event(f"timed reschedule: {outcomes[0][1] if outcomes[0][0] == 'error' else 'ok'}")
        self._same_timed(outcomes)

    @rule()
    def sweep_time(self) -> None:
        swept = self._both(
            lambda app, _shop: app.bookings.expire_holds(tenant_id=self._built(app).tenant.id)
        )
        assert len(swept[0][1]) == len(swept[1][1])

    @invariant()
    def same_slots_and_never_overlapping(self) -> None:
        if not hasattr(self, "timed"):
            return
        slots, live = [], []
        for app, built in zip(self.apps, self.timed, strict=True):
            slots.append(
                [
                    [
                        (s.start, s.end, tuple(built.index(r) for r in s.resource_ids))
                        for s in offered(app, built, package)
                    ]
                    for package in range(len(built.packages))
                ]
            )
            live.append(
                sorted(
                    (
                        b.starts_at,
                        b.status,
                        [p.id for p in built.packages].index(b.package_id),
                        tuple(built.index(r) for r in b.resource_ids),
                    )
                    for b in live_bookings(app, built)
                )
            )
            assert broken(app, built) == []
        assert slots[0] == slots[1]
        assert live[0] == live[1]

    @invariant()
    def same_availability_and_never_over_capacity(self) -> None:
        if not hasattr(self, "apps"):
            return
        views = []
        for app, shop in zip(self.apps, self.shops, strict=True):
            month = app.availability.calendar(shop.tenant.id, DATES[0], DATES[-1])
            views.append([(d.date, d.available, d.reason) for d in month])
            for booking_date in DATES:
                active = [
                    b
                    for b in app.bookings.list_for_dates(shop.tenant.id, booking_date, booking_date)
                    if b.status in {BookingStatus.PENDING, BookingStatus.CONFIRMED}
                ]
                assert len(active) <= self.capacity
        assert views[0] == views[1]


LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"

TwoBackends.TestCase.settings = settings(
    max_examples=250 if LONG else 25,
    stateful_step_count=40 if LONG else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_memory_and_sqlite_agree = pytest.mark.usefixtures("sqlite_database")(TwoBackends.TestCase)
