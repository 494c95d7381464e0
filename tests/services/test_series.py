"""Recurring series: held in one call, all-or-nothing or skipping conflicts, every occurrence
claimed under the database guarantee; one payment for the sum; cancel the series, one
occurrence or the following ones with per-occurrence refunds that never exceed the payment;
the outbox names the series. On every backend."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    PackageSchedule,
    RefundTier,
    SeriesCancelScope,
    SeriesConflicts,
)
from booking_core.domain.schedule import DateHours, SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import BookingConflictError, NotFoundError, ValidationError
from booking_core.ports.payments import PaymentEventType
from booking_core.services.series import SeriesCheckout

from ._payments import fake
from .conftest import unique_slug

PARIS = ZoneInfo("Europe/Paris")
HOUR = dt.timedelta(hours=1)
#: Tuesdays in October and November 2030; Paris leaves summer time on Sunday 27 October.
OCT_15 = dt.datetime(2030, 10, 15, 18, tzinfo=PARIS)
ANN = CustomerDetails("Ann", "ann@example.com")
BO = CustomerDetails("Bo", "bo@example.com")


@dataclass
class Studio:
    tenant: Any
    coach: Any
    package: Any


def _studio(app: BookingApp, *, closed: tuple[dt.date, ...] = ()) -> Studio:
    tenant = app.tenants.create(
        slug=unique_slug(),
        name="Yoga",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
        cancellation=CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 50))),
    )
    hours = WorkingHours(
        weekly=tuple(WeeklyHours(day, dt.time(9), dt.time(21)) for day in range(7)),
        dates=tuple(DateHours(day) for day in closed),
    )
    coach = app.catalog.create_resource(tenant.id, name="Coach", hours=hours)
    package = app.catalog.create_package(
        tenant.id,
        slug="class",
        name="Evening class",
        base_price=2_000,
        schedule=PackageSchedule(SlotTiming(duration=HOUR), resource_ids=(coach.id,)),
    )
    return Studio(tenant, coach, package)


def _series(app: BookingApp, studio: Studio, count: int = 4, **options: Any) -> Any:
    return app.series.hold(
        studio.tenant.id,
        package_id=studio.package.id,
        first=OCT_15,
        rule=f"FREQ=WEEKLY;COUNT={count}",
        customer=ANN,
        **options,
    )


def test_a_series_keeps_its_local_time_across_a_dst_change(app: BookingApp) -> None:
    """Every Tuesday 18:00 Paris for four weeks: four held occurrences of one series, each at
    18:00 local, so 16:00 UTC before the change of 27 October and 17:00 UTC after it."""
    studio = _studio(app)
    series = _series(app, studio)
    assert [b.starts_at.astimezone(PARIS).hour for b in series.bookings] == [18, 18, 18, 18]
    assert [b.starts_at.hour for b in series.bookings] == [16, 16, 17, 17]
    assert {b.series_id for b in series.bookings} == {series.series_id}
    assert {b.status for b in series.bookings} == {BookingStatus.PENDING}
    assert series.skipped == ()
    assert series.total == 4 * 2_000
    assert [b.id for b in app.series.get(studio.tenant.id, series.series_id)] == [
        b.id for b in series.bookings
    ]


def test_all_or_nothing_writes_nothing_when_one_occurrence_is_taken(app: BookingApp) -> None:
    """The third Tuesday is taken by a single booking: the series raises a conflict naming that
    start and holds none of the others (they stay free for anyone)."""
    studio = _studio(app)
    third = OCT_15 + dt.timedelta(weeks=2)
    app.bookings.hold(studio.tenant.id, package_id=studio.package.id, start=third, customer=BO)
    with pytest.raises(BookingConflictError) as refused:
        _series(app, studio)
    assert refused.value.start == third
    first_free = app.bookings.hold(
        studio.tenant.id, package_id=studio.package.id, start=OCT_15, customer=BO
    )
    assert first_free.series_id is None


def test_skip_conflicts_holds_the_rest_and_says_why(app: BookingApp) -> None:
    """Skipping conflicts: the taken third Tuesday is skipped as ``taken``, the closed fourth
    as ``outside_hours``; the first two are held."""
    fourth = (OCT_15 + dt.timedelta(weeks=3)).date()
    studio = _studio(app, closed=(fourth,))
    third = OCT_15 + dt.timedelta(weeks=2)
    app.bookings.hold(studio.tenant.id, package_id=studio.package.id, start=third, customer=BO)
    series = _series(app, studio, conflicts=SeriesConflicts.SKIP)
    assert [b.starts_at for b in series.bookings] == [OCT_15, OCT_15 + dt.timedelta(weeks=1)]
    assert [(s.start.astimezone(PARIS).date(), s.reason) for s in series.skipped] == [
        (third.date(), "taken"),
        (fourth, "outside_hours"),
    ]


def test_a_rule_must_end_and_stay_small(app: BookingApp) -> None:
    """A rule without COUNT or UNTIL, one yielding over 104 occurrences, a malformed one and a
    date package are typed errors naming the field; nothing is held."""
    studio = _studio(app)
    for rule in ("FREQ=WEEKLY", "FREQ=DAILY;COUNT=200", "FREQ=SOMETIMES;COUNT=2"):
        with pytest.raises(ValidationError) as refused:
            app.series.hold(
                studio.tenant.id,
                package_id=studio.package.id,
                first=OCT_15,
                rule=rule,
                customer=ANN,
            )
        assert refused.value.field == "rule"
    dated = app.catalog.create_package(studio.tenant.id, slug="day", name="Day", base_price=1)
    with pytest.raises(ValidationError):
        app.series.hold(
            studio.tenant.id,
            package_id=dated.id,
            first=OCT_15,
            rule="FREQ=DAILY;COUNT=2",
            customer=ANN,
        )
    with pytest.raises(NotFoundError):
        app.series.get(studio.tenant.id, uuid.uuid4())


def test_one_payment_confirms_every_occurrence_and_events_name_the_series(
    app: BookingApp,
) -> None:
    """confirm with the sum confirms all four, each recording its own total as its share; a
    wrong amount is refused first; each occurrence's events carry the series id."""
    studio = _studio(app)
    series = _series(app, studio)
    with pytest.raises(ValidationError) as wrong:
        app.series.confirm(studio.tenant.id, series.series_id, payment_ref="pay_1", amount_paid=1)
    assert wrong.value.field == "amount_paid"
    confirmed = app.series.confirm(studio.tenant.id, series.series_id, payment_ref="pay_1")
    assert [(b.status, b.amount_paid, b.payment_ref) for b in confirmed] == [
        (BookingStatus.CONFIRMED, 2_000, "pay_1")
    ] * 4
    again = app.series.confirm(studio.tenant.id, series.series_id, payment_ref="pay_1")
    assert [b.version for b in again] == [b.version for b in confirmed]  # a no-op retry
    seen: list[tuple[str, Any]] = []
    app.outbox.drain(lambda e: seen.append((e.type, e.payload.get("series_id"))))
    mine = [kind for kind, sid in seen if sid == str(series.series_id)]
    assert sorted(mine) == ["booking.confirmed"] * 4 + ["booking.held"] * 4


def test_cancel_one_the_following_or_the_series_refunds_each_by_its_own_tier(
    app: BookingApp,
) -> None:
    """Paid 4 × 2,000: cancelling the second alone refunds it by its tier; cancelling from the
    third on cancels the third and fourth; cancelling the series then cancels the first only.
    Each refund follows its own date's tier (30+ days: 100 %, 7+: 50 %), and the refunds add
    up to no more than the payment."""
    studio = _studio(app)
    series = _series(app, studio)
    app.series.confirm(studio.tenant.id, series.series_id, payment_ref="pay_1")
    first, second, third, fourth = series.bookings
    app.clock.set(dt.datetime(2030, 10, 1, 9, tzinfo=dt.UTC))  # type: ignore[attr-defined]
    one = app.series.cancel(
        studio.tenant.id, series.series_id, scope=SeriesCancelScope.ONE, booking_id=second.id
    )
    following = app.series.cancel(
        studio.tenant.id, series.series_id, scope=SeriesCancelScope.FOLLOWING, booking_id=third.id
    )
    rest = app.series.cancel(studio.tenant.id, series.series_id)
    assert [c.booking.id for c in one] == [second.id]
    assert [c.booking.id for c in following] == [third.id, fourth.id]
    assert [c.booking.id for c in rest] == [first.id]
    # from 1 October: the 15th is 14 days away (50 %), the 22nd 21 (50 %), 29th 28 (50 %),
    # 5 November 35 (100 %)
    refunds = {c.booking.id: c.refund_amount for c in (*one, *following, *rest)}
    assert refunds == {first.id: 1_000, second.id: 1_000, third.id: 1_000, fourth.id: 2_000}
    assert sum(refunds.values()) <= series.total
    assert {b.status for b in app.series.get(studio.tenant.id, series.series_id)} == {
        BookingStatus.CANCELED
    }
    assert app.series.cancel(studio.tenant.id, series.series_id) == []  # nothing left


def _checkout_with_its_payment(
    app: BookingApp, studio: Studio
) -> tuple[SeriesCheckout, bytes, dict[str, str]]:
    """A weekly series of three checked out, and the provider's payment.succeeded webhook
    (body and headers) for its one payment, not yet delivered."""
    checkout = app.series.checkout(
        studio.tenant.id,
        package_id=studio.package.id,
        first=OCT_15,
        rule="FREQ=WEEKLY;COUNT=3",
        customer=ANN,
    )
    body, headers = fake(app).make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=studio.tenant.id,
        booking_id=checkout.series.bookings[0].id,
        payment_ref=checkout.session.payment_ref,
        amount=checkout.series.total,
        currency="EUR",
    )
    return checkout, body, headers


def test_a_checkout_pays_the_series_and_its_webhook_confirms_every_occurrence(
    app: BookingApp,
) -> None:
    """series.checkout creates one payment for the sum; the provider's payment.succeeded for it
    confirms all occurrences, each with its share; a replay of the webhook changes nothing."""
    studio = _studio(app)
    checkout, body, headers = _checkout_with_its_payment(app, studio)
    receipt = app.webhooks.receive(studio.tenant.id, body, headers)
    assert receipt.outcome == "series_confirmed"
    occurrences = app.series.get(studio.tenant.id, checkout.series.series_id)
    assert [(b.status, b.amount_paid) for b in occurrences] == [
        (BookingStatus.CONFIRMED, 2_000)
    ] * 3
    replay = app.webhooks.receive(studio.tenant.id, body, headers)
    assert (replay.duplicate, replay.outcome) == (True, "series_confirmed")
    assert [b.version for b in app.series.get(studio.tenant.id, checkout.series.series_id)] == [
        b.version for b in occurrences
    ]


def test_refunds_of_a_provider_paid_series_run_and_never_exceed_its_payment(
    app: BookingApp,
) -> None:
    """A series paid through the provider and then cancelled: every occurrence's refund is
    executed against the one payment, and the provider has refunded no more than it took."""
    studio = _studio(app)
    checkout, body, headers = _checkout_with_its_payment(app, studio)
    app.webhooks.receive(studio.tenant.id, body, headers)
    cancelled = app.series.cancel(studio.tenant.id, checkout.series.series_id)
    assert [c.refund.state.value for c in cancelled if c.refund] == ["SUCCEEDED"] * 3
    paid_back = [
        r.amount for r in fake(app).refunds if r.payment_ref == checkout.session.payment_ref
    ]
    assert sum(paid_back) == sum(c.refund_amount for c in cancelled) <= checkout.series.total
