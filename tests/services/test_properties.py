"""Property tests: a state machine drives the memory and SQLite backends in step.

After every step both backends must agree on every outcome and on the availability of every
date, and no date may ever hold more active bookings than its capacity.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingPolicy, BookingStatus, CustomerDetails
from booking_core.domain.money import commission_for
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, Shop, make_shop

DATES = [dt.date(2030, 6, 14) + dt.timedelta(days=i) for i in range(5)]  # one is in the past
_SQLITE_DIR = Path(tempfile.mkdtemp(prefix="bc-props-"))
_SQLITE_URL = f"sqlite:///{_SQLITE_DIR / 'props.db'}"
connect(_SQLITE_URL, create_schema=True).close()


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        result = call()
    except Exception as error:
        return ("error", type(error).__name__)
    return ("ok", result)


class TwoBackends(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    @initialize(capacity=st.integers(1, 3), ttl_minutes=st.sampled_from([5, 15, 60]))
    def setup(self, capacity: int, ttl_minutes: int) -> None:
        self.clock = ManualClock(START)
        self.capacity = capacity
        self.apps: list[BookingApp] = [
            in_memory_app(clock=self.clock),
            connect(_SQLITE_URL, clock=self.clock),
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
test_memory_and_sqlite_agree = TwoBackends.TestCase


class TestMoney:
    """Commission is ceil(total × percent / 100), exact for decimal percents."""

    def test_examples_of_the_brief(self) -> None:
        from decimal import Decimal

        assert commission_for(250_000, Decimal(12)) == 30_000
        assert commission_for(123_456, Decimal(12)) == 14_815
        assert commission_for(1, Decimal("0.01")) == 1
        assert commission_for(0, Decimal(50)) == 0


@settings(max_examples=300)
@given(total=st.integers(0, 10**12), cents=st.integers(0, 5000))
def test_commission_bounds(total: int, cents: int) -> None:
    """0 ≤ commission ≤ total, within one minor unit of the exact value, monotone in total."""
    from decimal import Decimal
    from fractions import Fraction

    percent = Decimal(cents) / 100
    commission = commission_for(total, percent)
    exact = Fraction(total) * Fraction(percent) / 100
    assert 0 <= commission <= total
    assert exact <= commission < exact + 1
    assert commission_for(total + 1, percent) >= commission
