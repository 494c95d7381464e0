"""Property tests: a state machine drives the memory and SQLite backends in step.

After every step both backends must agree on every outcome and on the availability of every
date, and no date may ever hold more active bookings than its capacity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingPolicy, BookingStatus, CustomerDetails
from booking_core.domain.money import commission_for
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, Shop, make_shop

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

    @initialize(capacity=st.integers(1, 3), ttl_minutes=st.sampled_from([5, 15, 60]))
    def setup(self, capacity: int, ttl_minutes: int) -> None:
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


TwoBackends.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_memory_and_sqlite_agree = pytest.mark.usefixtures("sqlite_database")(TwoBackends.TestCase)
