"""Money rules: commission, its refund share and tiered refunds, in integer cents."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.domain.money import commission_for, commission_refund, refund_for


def test_worked_examples_of_the_brief() -> None:
    """The brief's worked examples hold: 12 % of 2500.00 is 300.00, a 75 % refund returns 225.00 of
    it, commission rounds up, refunds round down and never exceed what was paid."""
    assert commission_for(250_000, Decimal(12)) == 30_000
    assert commission_refund(30_000, 187_500, 250_000) == 22_500
    assert commission_for(123_456, Decimal(12)) == 14_815
    assert commission_refund(14_815, 61_728, 123_456) == 7_408
    assert commission_refund(14_815, 0, 123_456) == 0
    assert commission_refund(14_815, -5, 123_456) == 0
    assert commission_refund(100, 10**9, 1_000) == 100  # capped
    assert refund_for(10_000, 50, 0) == 5_000
    assert refund_for(10_001, 50, 0) == 5_000  # rounds down: never refunds an unpaid fraction
    assert refund_for(10_000, 50, 6_000) == 0


@settings(max_examples=300)
@given(
    total=st.integers(1, 10**10),
    percent=st.integers(0, 5000).map(lambda c: Decimal(c) / 100),
    refund=st.integers(-10, 10**10),
    more=st.integers(0, 10**6),
)
def test_commission_refund_invariants(total: int, percent: Decimal, refund: int, more: int) -> None:
    """0 ≤ commission refund ≤ commission, monotone in the refund, 0 for refunds ≤ 0."""
    commission = commission_for(total, percent)
    refund = min(refund, total)
    back = commission_refund(commission, refund, total)
    assert 0 <= back <= commission
    assert commission_refund(commission, min(total, refund + more), total) >= back
    if refund <= 0:
        assert back == 0
    if refund == total:
        assert back == commission


@settings(max_examples=200)
@given(paid=st.integers(0, 10**9), percent=st.integers(0, 100), fee=st.integers(0, 10**6))
def test_refund_never_exceeds_payment(paid: int, percent: int, fee: int) -> None:
    """For any payment, percent and fee, the refund is between 0 and the payment and never decreases
    when the percent rises."""
    refund = refund_for(paid, percent, fee)
    assert 0 <= refund <= paid
    assert refund_for(paid, min(100, percent + 1), fee) >= refund


class TestMoney:
    """Commission is ceil(total × percent / 100), exact for decimal percents."""

    def test_examples_of_the_brief(self) -> None:
        """Commission is rounded up to the cent: 12 % of 250000 is 30000, of 123456 is 14815, 0.01 %
        of 1 is 1, and nothing of 0 is 0."""
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
