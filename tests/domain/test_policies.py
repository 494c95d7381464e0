"""Booking and cancellation policies check their own rules."""

from __future__ import annotations

import datetime as dt

import pytest

from booking_core.domain.model import BookingPolicy, CancellationPolicy, RefundTier
from booking_core.errors import ValidationError


@pytest.mark.parametrize(
    ("field", "policy"),
    [
        ("policy.capacity_per_date", BookingPolicy(capacity_per_date=0)),
        ("policy.min_notice_days", BookingPolicy(min_notice_days=-1)),
        ("policy.hold_ttl", BookingPolicy(hold_ttl=dt.timedelta(seconds=59))),
        ("policy.hold_ttl", BookingPolicy(hold_ttl=dt.timedelta(days=7, seconds=1))),
        ("policy.horizon_days", BookingPolicy(min_notice_days=5, horizon_days=4)),
    ],
)
def test_a_booking_policy_names_the_rule_it_breaks(field: str, policy: BookingPolicy) -> None:
    """check() raises ValidationError naming the field of the first broken rule."""
    with pytest.raises(ValidationError) as error:
        policy.check()
    assert error.value.field == field


def test_the_edges_of_a_booking_policy_are_allowed() -> None:
    """One seat, a 1-minute or 7-day hold and a horizon equal to the notice all pass."""
    for policy in (
        BookingPolicy(capacity_per_date=1, hold_ttl=dt.timedelta(minutes=1)),
        BookingPolicy(hold_ttl=dt.timedelta(days=7), min_notice_days=3, horizon_days=3),
    ):
        policy.check()  # raises on a broken rule
        assert policy.capacity_per_date >= 1


@pytest.mark.parametrize(
    ("field", "policy"),
    [
        ("cancellation.fee", CancellationPolicy(fee=-1)),
        ("cancellation.tiers.0.days_before", CancellationPolicy(tiers=(RefundTier(-1, 10),))),
        ("cancellation.tiers.0.percent", CancellationPolicy(tiers=(RefundTier(30, 101),))),
        ("cancellation.tiers.1", CancellationPolicy(tiers=(RefundTier(7, 50), RefundTier(30, 10)))),
        (
            "cancellation.tiers.1",
            CancellationPolicy(tiers=(RefundTier(30, 50), RefundTier(7, 100))),
        ),
        ("cancellation.tiers.1", CancellationPolicy(tiers=(RefundTier(7, 50), RefundTier(7, 40)))),
    ],
)
def test_a_cancellation_policy_names_the_rule_it_breaks(
    field: str, policy: CancellationPolicy
) -> None:
    """Tiers out of order, a later tier refunding more, a percent past 100 or a negative fee
    or day count: check() raises ValidationError naming the field."""
    with pytest.raises(ValidationError) as error:
        policy.check()
    assert error.value.field == field


def test_ordered_tiers_pass_and_refund_by_the_first_tier_met() -> None:
    """Well-ordered tiers pass check(), and refund_percent takes the first tier met."""
    policy = CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 50), RefundTier(0, 0)))
    policy.check()  # raises on a broken rule
    assert [policy.refund_percent(d) for d in (45, 30, 29, 7, 6, 0)] == [100, 100, 50, 50, 0, 0]
