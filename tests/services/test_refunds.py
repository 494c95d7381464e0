"""Cancellation policies and refunds on every backend.

Tiers and fees, partial and concurrent refunds, provider refunds retried with their key.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingStatus,
    CancellationPolicy,
    RefundState,
    RefundTier,
)
from booking_core.domain.money import commission_refund
from booking_core.errors import ValidationError
from booking_core.testing import ManualClock

from ._payments import ANN, EVENT, events_of, fake, paid_booking
from .conftest import Shop, make_shop


def test_cancellation_policy_validation(app: BookingApp, shop: Shop) -> None:
    """Unordered tiers, tiers that refund more for later cancellations, percents above 100, negative
    days or fees and a list instead of a tuple are refused on a cancellation field; a valid
    policy is stored and read back."""
    tid = shop.tenant.id
    bad = [
        CancellationPolicy(tiers=(RefundTier(7, 50), RefundTier(30, 100))),  # not ordered
        CancellationPolicy(tiers=(RefundTier(30, 50), RefundTier(7, 100))),  # later refunds more
        CancellationPolicy(tiers=(RefundTier(30, 101),)),
        CancellationPolicy(tiers=(RefundTier(-1, 10),)),
        CancellationPolicy(fee=-1),
        CancellationPolicy(tiers=[RefundTier(30, 100)]),  # type: ignore[arg-type]
    ]
    for policy in bad:
        with pytest.raises(ValidationError) as caught:
            app.tenants.update_cancellation_policy(tid, policy)
        assert caught.value.field.startswith("cancellation"), policy
    good = CancellationPolicy(tiers=(RefundTier(60, 90), RefundTier(14, 25)), fee=1_000)
    assert app.tenants.update_cancellation_policy(tid, good).cancellation == good
    assert app.tenants.get(tid).cancellation == good


@pytest.mark.parametrize(
    ("days_before", "refund", "commission_back"),
    [
        (40, 250_000, 30_000),
        (30, 250_000, 30_000),
        (29, 125_000, 15_000),
        (7, 125_000, 15_000),
        (6, 0, 0),
    ],
)
def test_cancel_refunds_by_tier(
    app: BookingApp, clock: ManualClock, days_before: int, refund: int, commission_back: int
) -> None:
    """Default tiers: 100 % at ≥ 30 days, 50 % at ≥ 7, nothing later (commission 12 %)."""
    shop = make_shop(app)
    date = dt.date(2030, 6, 15) + dt.timedelta(days=days_before)
    booking, _ = paid_booking(app, shop, date)
    assert (booking.amount_paid, booking.commission) == (250_000, 30_000)
    cancellation = app.bookings.cancel(shop.tenant.id, booking.id, reason="plans changed")
    assert cancellation.booking.status is BookingStatus.CANCELED
    assert (cancellation.refund_amount, cancellation.commission_refund) == (refund, commission_back)
    assert app.availability.check(shop.tenant.id, date).available
    if refund:
        assert cancellation.refund is not None
        assert cancellation.refund.state is RefundState.SUCCEEDED
        assert [r.amount for r in fake(app).refunds] == [refund]
        assert cancellation.booking.amount_refunded == refund
        assert events_of(app, booking.id)[-3:] == [
            "booking.canceled",
            "refund.requested",
            "refund.succeeded",
        ]
    else:
        assert cancellation.refund is None
        assert fake(app).refunds == []
    again = app.bookings.cancel(shop.tenant.id, booking.id)
    assert (again.refund_amount, again.refund) == (0, None)  # no second refund
    assert len(fake(app).refunds) == (1 if refund else 0)


def test_cancel_fee_and_unpaid_hold(app: BookingApp) -> None:
    """Cancelling a paid booking refunds its tier's share minus the cancellation fee; cancelling an
    unpaid hold refunds nothing and creates no refund."""
    policy = CancellationPolicy(tiers=(RefundTier(0, 100),), fee=5_000)
    shop = make_shop(app)
    app.tenants.update_cancellation_policy(shop.tenant.id, policy)
    booking, _ = paid_booking(app, shop)
    assert app.bookings.cancel(shop.tenant.id, booking.id).refund_amount == 245_000
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    unpaid = app.bookings.cancel(shop.tenant.id, hold.id)
    assert (unpaid.refund_amount, unpaid.commission_refund, unpaid.refund) == (0, 0, None)


def test_partial_refunds_never_exceed_payment(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """Partial refunds succeed until the paid amount is used up and one more cent is refused on
    field amount; their commission refunds add up exactly to the formula on the whole amount;
    zero, negative and float amounts are refused."""
    booking, _ = paid_booking(app, shop)
    first = app.bookings.refund(shop.tenant.id, booking.id, amount=100_000, reason="album late")
    clock.advance(dt.timedelta(seconds=1))
    second = app.bookings.refund(shop.tenant.id, booking.id, amount=100_000)
    clock.advance(dt.timedelta(seconds=1))
    assert (first.state, second.state) == (RefundState.SUCCEEDED, RefundState.SUCCEEDED)
    with pytest.raises(ValidationError) as caught:
        app.bookings.refund(shop.tenant.id, booking.id, amount=50_001)
    assert caught.value.field == "amount"
    last = app.bookings.refund(shop.tenant.id, booking.id, amount=50_000)
    refunds = app.bookings.refunds(shop.tenant.id, booking.id)
    assert [r.amount for r in refunds] == [100_000, 100_000, 50_000]
    # the commission returned adds up to the formula on the whole refund, exactly
    assert sum(r.commission_refund for r in refunds) == commission_refund(30_000, 250_000, 250_000)
    assert last.commission_refund == 30_000 - first.commission_refund - second.commission_refund
    final = app.bookings.get(shop.tenant.id, booking.id)
    assert (final.amount_refunded, final.commission_refunded) == (250_000, 30_000)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValidationError):
            app.bookings.refund(shop.tenant.id, booking.id, amount=bad)  # type: ignore[arg-type]


def test_failed_provider_refund_is_retried(app: BookingApp, shop: Shop) -> None:
    """A refund the provider declines is stored FAILED with its reason and not paid; retry_refunds
    tries it again with a new key, it succeeds on the second attempt, and a further retry has
    nothing to do."""
    booking, _ = paid_booking(app, shop)
    fake(app).fail_next_refund("card expired")
    refund = app.bookings.refund(shop.tenant.id, booking.id, amount=1_000)
    assert (refund.state, refund.failure_reason) == (RefundState.FAILED, "card expired")
    assert fake(app).refunds == []
    # a decline is final for its idempotency key (providers replay it), so the retry uses a
    # new key: this time the provider accepts
    retried = app.bookings.retry_refunds(tenant_id=shop.tenant.id)
    assert [(r.id, r.state, r.attempts) for r in retried] == [(refund.id, RefundState.SUCCEEDED, 2)]
    assert [r.amount for r in fake(app).refunds] == [1_000]
    assert app.bookings.retry_refunds(tenant_id=shop.tenant.id) == []


def test_refund_without_an_answer_stays_pending_and_is_retried_with_its_key(
    app: BookingApp, shop: Shop
) -> None:
    """A provider error is no answer: the refund stays PENDING, owed, and is retried."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    app.bookings.confirm(shop.tenant.id, hold.id, payment_ref="pay_unknown_to_provider")
    cancellation = app.bookings.cancel(shop.tenant.id, hold.id)
    assert cancellation.refund is not None
    assert cancellation.refund.state is RefundState.PENDING
    assert "unknown payment" in (cancellation.refund.failure_reason or "")
    assert (cancellation.days_before, cancellation.refund_percent) == (91, 100)
    again = app.bookings.retry_refunds(tenant_id=shop.tenant.id)
    assert [(r.state, r.attempts) for r in again] == [(RefundState.PENDING, 2)]


def test_concurrent_refunds_never_exceed_payment(app: BookingApp, backend: str) -> None:
    """16 threads each refunding 40,000 of 250,000: at most 6 succeed, the total stays ≤ paid."""
    shop = make_shop(app)
    booking, _ = paid_booking(app, shop)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def refund() -> None:
        barrier.wait(timeout=30)
        try:
            app.bookings.refund(shop.tenant.id, booking.id, amount=40_000)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")

    threads = [threading.Thread(target=refund) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(outcomes) == {"ok": 6, "refused": 10}
    assert app.bookings.get(shop.tenant.id, booking.id).amount_refunded == 240_000
    assert sum(r.amount for r in fake(app).refunds) == 240_000
