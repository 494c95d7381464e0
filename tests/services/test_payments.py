"""Money and payments on every backend: refunds, reschedule, idempotency, checkout, webhooks."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    InboxState,
    RefundState,
    RefundTier,
)
from booking_core.domain.money import commission_for, commission_refund, refund_for
from booking_core.errors import (
    BookingConflictError,
    DateUnavailableError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotFoundError,
    PaymentError,
    StorageError,
    ValidationError,
    WebhookVerificationError,
)
from booking_core.ports.payments import PaymentEventType
from booking_core.testing import ManualClock

from .conftest import Shop, make_shop

EVENT = dt.date(2030, 9, 14)  # 91 days after the test clock's 2030-06-15
ANN = CustomerDetails("Ann", "ann@example.com")


def fake(app: BookingApp) -> FakePaymentProvider:
    assert isinstance(app.payments, FakePaymentProvider)
    return app.payments


def paid_booking(app: BookingApp, shop: Shop, date: dt.date = EVENT, email: str = "ann@x.io"):  # type: ignore[no-untyped-def]
    """Checkout and a signed payment.succeeded webhook: a CONFIRMED, paid booking."""
    checkout = app.bookings.checkout(
        shop.tenant.id,
        package_id=shop.package.id,
        date=date,
        customer=CustomerDetails("Payer", email),
    )
    body, headers = fake(app).make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=shop.tenant.id,
        booking_id=checkout.booking.id,
        payment_ref=checkout.session.payment_ref,
        amount=checkout.booking.total,
        currency=checkout.booking.currency,
    )
    receipt = app.webhooks.receive(shop.tenant.id, "fake", body, headers)
    assert receipt.outcome == "confirmed", receipt
    return app.bookings.get(shop.tenant.id, checkout.booking.id), checkout.session


def events_of(app: BookingApp, booking_id: uuid.UUID) -> list[str]:
    """Deliver (and acknowledge) every ready event; return the types of one booking's, in order."""
    seen: list[tuple[uuid.UUID, int, str]] = []
    app.outbox.drain(lambda e: seen.append((e.booking_id, e.sequence, e.type)))
    return [kind for b, _, kind in seen if b == booking_id]


def signed(
    app: BookingApp,
    shop: Shop,
    booking: Any,
    *,
    kind: PaymentEventType = PaymentEventType.PAYMENT_SUCCEEDED,
    payment_ref: str = "pay_x",
    amount: int | None = None,
    currency: str = "EUR",
    **extra: Any,
) -> tuple[bytes, dict[str, str]]:
    """A webhook signed by the fake provider for ``booking`` (the full amount by default)."""
    return fake(app).make_webhook(
        kind,
        tenant_id=shop.tenant.id,
        booking_id=booking if isinstance(booking, uuid.UUID) else booking.id,
        payment_ref=payment_ref,
        amount=booking.total if amount is None else amount,
        currency=currency,
        **extra,
    )


# --- money rules -------------------------------------------------------------------------------


def test_worked_examples_of_the_brief() -> None:
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
    refund = refund_for(paid, percent, fee)
    assert 0 <= refund <= paid
    assert refund_for(paid, min(100, percent + 1), fee) >= refund


# --- cancellation policy and refunds -----------------------------------------------------------


def test_cancellation_policy_validation(app: BookingApp, shop: Shop) -> None:
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


# --- reschedule --------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_and_frees_the_old_date(app: BookingApp, shop: Shop) -> None:
    booking, _ = paid_booking(app, shop)
    new_date = EVENT + dt.timedelta(days=7)
    moved = app.bookings.reschedule(shop.tenant.id, booking.id, new_date)
    assert (moved.event_date, moved.status) == (new_date, BookingStatus.CONFIRMED)
    assert app.availability.check(shop.tenant.id, EVENT).available
    assert app.availability.check(shop.tenant.id, new_date).reason == "booked"
    other = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    with pytest.raises(BookingConflictError):
        app.bookings.reschedule(shop.tenant.id, other.id, new_date)
    assert app.bookings.get(shop.tenant.id, other.id).event_date == EVENT  # nothing changed
    assert app.availability.check(shop.tenant.id, EVENT).reason == "booked"
    app.availability.add_blackout(shop.tenant.id, EVENT + dt.timedelta(days=1))
    with pytest.raises(DateUnavailableError):
        app.bookings.reschedule(shop.tenant.id, other.id, EVENT + dt.timedelta(days=1))
    with pytest.raises(DateUnavailableError):
        app.bookings.reschedule(shop.tenant.id, other.id, dt.date(2030, 6, 1))
    with pytest.raises(ValidationError):
        app.bookings.reschedule(shop.tenant.id, other.id, EVENT)
    assert "booking.rescheduled" in events_of(app, booking.id)


def test_reschedule_of_a_pending_hold_keeps_its_expiry(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    moved = app.bookings.reschedule(shop.tenant.id, hold.id, EVENT + dt.timedelta(days=2))
    assert moved.status is BookingStatus.PENDING
    clock.advance(dt.timedelta(minutes=15))
    assert app.availability.check(shop.tenant.id, EVENT + dt.timedelta(days=2)).available
    with pytest.raises(InvalidTransitionError):
        app.bookings.reschedule(shop.tenant.id, hold.id, EVENT + dt.timedelta(days=3))


def test_reschedule_race_one_winner(app: BookingApp) -> None:
    """8 bookings race to move onto one free date: exactly one moves, the rest keep theirs."""
    shop = make_shop(app)
    target = EVENT + dt.timedelta(days=30)
    bookings = [
        app.bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=EVENT + dt.timedelta(days=i),
            customer=CustomerDetails("R", f"r{i}@example.com"),
        )
        for i in range(8)
    ]
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def move(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = app.bookings.reschedule(shop.tenant.id, bookings[i].id, target)
        except BookingConflictError as error:
            results[i] = error

    threads = [threading.Thread(target=move, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(type(r).__name__ for r in results) == {"Booking": 1, "BookingConflictError": 7}
    on_target = app.bookings.list_for_dates(shop.tenant.id, target, target)
    assert len(on_target) == 1
    for i, result in enumerate(results):
        if isinstance(result, BookingConflictError):  # kept its own date, which still blocks
            kept = app.bookings.get(shop.tenant.id, bookings[i].id)
            assert kept.event_date == EVENT + dt.timedelta(days=i)
            assert not app.availability.check(shop.tenant.id, kept.event_date).available


# --- idempotency -------------------------------------------------------------------------------


def test_idempotent_hold_replays_and_detects_reuse(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    first = app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1")
    replay = app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1")
    assert replay.id == first.id
    assert len(app.bookings.list_for_dates(shop.tenant.id, EVENT, EVENT)) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        app.bookings.hold(
            shop.tenant.id,
            **{**args, "date": EVENT + dt.timedelta(days=1)},
            idempotency_key="req-1",
        )
    app.bookings.confirm(shop.tenant.id, first.id, payment_ref="p1")
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1").status is (
        BookingStatus.CONFIRMED
    )
    # another tenant may use the same key for its own request
    other = make_shop(app)
    mine = app.bookings.hold(
        other.tenant.id,
        package_id=other.package.id,
        date=EVENT,
        customer=ANN,
        idempotency_key="req-1",
    )
    assert mine.tenant_id == other.tenant.id
    # after 24 h the key is forgotten: the same key may serve a new request
    clock.advance(dt.timedelta(hours=24, seconds=1))
    again = app.bookings.hold(
        shop.tenant.id, **{**args, "date": EVENT + dt.timedelta(days=2)}, idempotency_key="req-1"
    )
    assert again.id != first.id
    with pytest.raises(ValidationError):
        app.bookings.hold(shop.tenant.id, **args, idempotency_key="")


def test_failed_request_does_not_burn_its_key(app: BookingApp, shop: Shop) -> None:
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    taken = app.bookings.hold(shop.tenant.id, **args)
    with pytest.raises(BookingConflictError):
        app.bookings.hold(shop.tenant.id, **args, idempotency_key="k")
    app.bookings.cancel(shop.tenant.id, taken.id)
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="k").status is (
        BookingStatus.PENDING
    )


def test_concurrent_requests_with_one_key_create_one_booking(app: BookingApp) -> None:
    shop = make_shop(app, policy=BookingPolicy(capacity_per_date=20))
    barrier = threading.Barrier(12)
    ids: list[Any] = []

    def request() -> None:
        barrier.wait(timeout=30)
        try:
            ids.append(
                app.bookings.hold(
                    shop.tenant.id,
                    package_id=shop.package.id,
                    date=EVENT,
                    customer=ANN,
                    idempotency_key="same",
                ).id
            )
        except Exception as error:
            ids.append(error)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(ids)) == 1, ids
    assert isinstance(ids[0], uuid.UUID)
    assert len(app.bookings.list_for_dates(shop.tenant.id, EVENT, EVENT)) == 1


# --- checkout and webhooks ---------------------------------------------------------------------


def test_checkout_then_webhook_confirms_and_redelivery_has_no_effect(
    app: BookingApp, shop: Shop
) -> None:
    checkout = app.bookings.checkout(
        shop.tenant.id,
        package_id=shop.package.id,
        date=EVENT,
        customer=ANN,
        add_ons={shop.album.id: 1},
        idempotency_key="co-1",
    )
    session = checkout.session
    assert session.redirect_url.endswith(session.payment_ref)
    payment = fake(app).payments[session.payment_ref]
    assert (payment.amount, payment.application_fee) == (254_500, checkout.booking.commission)
    replay = app.bookings.checkout(
        shop.tenant.id,
        package_id=shop.package.id,
        date=EVENT,
        customer=ANN,
        add_ons={shop.album.id: 1},
        idempotency_key="co-1",
    )
    assert (replay.booking.id, replay.session) == (checkout.booking.id, session)
    body, headers = signed(
        app,
        shop,
        checkout.booking,
        payment_ref=session.payment_ref,
        amount=254_500,
    )
    first = app.webhooks.receive(shop.tenant.id, "fake", body, headers)
    assert (first.state, first.duplicate, first.outcome) == (
        InboxState.PROCESSED,
        False,
        "confirmed",
    )
    booking = app.bookings.get(shop.tenant.id, checkout.booking.id)
    assert (booking.status, booking.amount_paid, booking.payment_ref) == (
        BookingStatus.CONFIRMED,
        254_500,
        session.payment_ref,
    )
    again = app.webhooks.receive(shop.tenant.id, "fake", body, headers)
    assert (again.duplicate, again.outcome) == (True, "confirmed")
    stored = app.webhooks.get(shop.tenant.id, "fake", first.event_id)
    assert stored.payload == body  # byte-identical
    assert events_of(app, booking.id) == ["booking.held", "booking.confirmed"]


def test_bad_webhooks_are_refused_and_write_nothing(app: BookingApp, shop: Shop) -> None:
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_x",
    )
    tampered = body.replace(b"250000", b"250001")
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, "fake", tampered, headers)
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, "fake", body, {})
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, "fake", b"x" * (300 * 1024), headers)
    other = make_shop(app)
    with pytest.raises(WebhookVerificationError):  # signed, but for another tenant
        app.webhooks.receive(other.tenant.id, "fake", body, headers)
    unknown_tenant = uuid.uuid4()
    foreign = fake(app).make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=unknown_tenant,
        booking_id=hold.id,
        payment_ref="pay_x",
        amount=1,
        currency="EUR",
    )
    with pytest.raises(NotFoundError):
        app.webhooks.receive(unknown_tenant, "fake", *foreign)
    with pytest.raises(ValidationError):
        app.webhooks.receive(shop.tenant.id, "stripe", body, headers)
    with pytest.raises(ValidationError):
        app.webhooks.receive(shop.tenant.id, "fake", body.decode(), headers)  # type: ignore[arg-type]
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING
    with pytest.raises(NotFoundError):
        app.webhooks.get(shop.tenant.id, "fake", "evt_missing")


class FlakyUnitOfWork:
    """Wraps a unit of work so that chosen repository methods fail a number of times."""

    def __init__(self, inner: Any, faults: dict[str, int]) -> None:
        self._inner = inner
        self._faults = faults

    def __enter__(self) -> FlakyUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        faults = self._faults
        if name not in {"bookings", "outbox"}:
            return target

        class Repo:
            def __getattr__(self, method: str) -> Any:
                real = getattr(target, method)
                key = f"{name}.{method}"
                if faults.get(key, 0) <= 0:
                    return real

                def fail(*args: Any, **kwargs: Any) -> Any:
                    faults[key] -= 1
                    raise StorageError(f"injected failure in {key}")

                return fail

        return Repo()


def flaky(app: BookingApp, **faults: int) -> BookingApp:
    """The same storage as ``app``, failing ``repo.method`` the given number of times."""
    budget = {key.replace("__", "."): count for key, count in faults.items()}
    inner = app.uow

    def factory(*, read_only: bool = False) -> Any:
        return FlakyUnitOfWork(inner(read_only=read_only), budget)

    return BookingApp(uow=factory, clock=app.clock, payments=app.payments)


def test_failed_event_is_processed_again_until_it_succeeds(app: BookingApp, shop: Shop) -> None:
    """A FAILED event keeps its error and attempts; redelivery and retry_failed reprocess it."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    webhook = signed(
        app,
        shop,
        hold,
        payment_ref="pay_f",
    )
    broken = flaky(app, bookings__transition=2)
    first = broken.webhooks.receive(shop.tenant.id, "fake", *webhook)
    assert (first.state, first.duplicate) == (InboxState.FAILED, False)
    assert "injected failure" in (first.error or "")
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING
    second = broken.webhooks.receive(shop.tenant.id, "fake", *webhook)  # the provider redelivers
    assert second.state is InboxState.FAILED
    stored = app.webhooks.get(shop.tenant.id, "fake", first.event_id)
    assert (stored.state, stored.attempts) == (InboxState.FAILED, 2)
    assert (
        app.webhooks.retry_failed(tenant_id=shop.tenant.id, max_attempts=2) == []
    )  # out of attempts at this bound
    recovered = broken.webhooks.retry_failed(
        tenant_id=shop.tenant.id, max_attempts=5
    )  # the fault has cleared
    assert [(r.event_id, r.state, r.outcome) for r in recovered] == [
        (first.event_id, InboxState.PROCESSED, "confirmed")
    ]
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.CONFIRMED
    assert app.webhooks.receive(shop.tenant.id, "fake", *webhook).duplicate is True
    assert app.webhooks.retry_failed(tenant_id=shop.tenant.id) == []


def test_unprocessable_events_stay_failed_with_their_error(app: BookingApp, shop: Shop) -> None:
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    wrong_amount = signed(
        app,
        shop,
        hold,
        payment_ref="pay_1",
        amount=1,
    )
    failed = app.webhooks.receive(shop.tenant.id, "fake", *wrong_amount)
    assert failed.state is InboxState.FAILED
    assert "costs 250000" in (failed.error or "")
    unknown = fake(app).make_webhook(
        PaymentEventType.PAYMENT_FAILED,
        tenant_id=shop.tenant.id,
        booking_id=uuid.uuid4(),
        payment_ref="pay_2",
        amount=0,
        currency="EUR",
    )
    assert "NotFoundError" in (app.webhooks.receive(shop.tenant.id, "fake", *unknown).error or "")
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING


def test_state_change_and_its_event_commit_together(app: BookingApp, shop: Shop) -> None:
    """If writing the outbox event fails, the state change is rolled back (and vice versa)."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    with pytest.raises(StorageError):
        flaky(app, outbox__add=1).bookings.confirm(shop.tenant.id, hold.id, payment_ref="p")
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING
    with pytest.raises(StorageError):
        flaky(app, bookings__place_hold=1).bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=EVENT + dt.timedelta(days=1),
            customer=ANN,
        )
    assert events_of(app, hold.id) == ["booking.held"]
    assert (
        app.bookings.list_for_dates(
            shop.tenant.id, EVENT + dt.timedelta(days=1), EVENT + dt.timedelta(days=1)
        )
        == []
    )
    app.bookings.confirm(shop.tenant.id, hold.id, payment_ref="p")
    assert events_of(app, hold.id) == ["booking.confirmed"]


def test_concurrent_deliveries_have_one_effect(app: BookingApp, shop: Shop) -> None:
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_c",
    )
    barrier = threading.Barrier(10)
    receipts: list[Any] = []

    def deliver() -> None:
        barrier.wait(timeout=30)
        receipts.append(app.webhooks.receive(shop.tenant.id, "fake", body, headers))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(r.duplicate for r in receipts) == {False: 1, True: 9}
    assert all(r.state is InboxState.PROCESSED for r in receipts)
    assert events_of(app, hold.id).count("booking.confirmed") == 1


def test_payment_after_expiry_confirms_if_the_date_is_free(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    clock.advance(dt.timedelta(minutes=20))
    app.bookings.expire_holds()
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_late",
    )
    receipt = app.webhooks.receive(shop.tenant.id, "fake", body, headers)
    assert receipt.outcome == "confirmed_after_expiry"
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.CONFIRMED
    assert app.availability.check(shop.tenant.id, EVENT).reason == "booked"


def test_payment_after_expiry_refunds_if_the_date_is_taken(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    first = app.bookings.checkout(
        shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN
    )
    clock.advance(dt.timedelta(minutes=20))
    rival = app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=EVENT,
        customer=CustomerDetails("Rival", "rival@example.com"),
    )
    body, headers = signed(
        app,
        shop,
        first.booking,
        payment_ref=first.session.payment_ref,
    )
    receipt = app.webhooks.receive(shop.tenant.id, "fake", body, headers)
    assert receipt.outcome == "refunded_late_payment"
    late = app.bookings.get(shop.tenant.id, first.booking.id)
    assert (late.status, late.amount_paid, late.amount_refunded) == (
        BookingStatus.EXPIRED,
        250_000,
        250_000,
    )
    refunds = app.bookings.refunds(shop.tenant.id, late.id)
    assert [(r.amount, r.state) for r in refunds] == [(250_000, RefundState.SUCCEEDED)]
    assert "taken" in refunds[0].reason
    assert app.bookings.get(shop.tenant.id, rival.id).status is BookingStatus.PENDING


def test_failed_payment_releases_the_hold(app: BookingApp, shop: Shop) -> None:
    checkout = app.bookings.checkout(
        shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN
    )
    body, headers = signed(
        app,
        shop,
        checkout.booking,
        kind=PaymentEventType.PAYMENT_FAILED,
        payment_ref=checkout.session.payment_ref,
        amount=0,
    )
    assert app.webhooks.receive(shop.tenant.id, "fake", body, headers).outcome == "hold_released"
    assert app.bookings.get(shop.tenant.id, checkout.booking.id).status is BookingStatus.CANCELED
    assert app.availability.check(shop.tenant.id, EVENT).available


def test_refund_webhook_records_an_outside_refund_once(app: BookingApp, shop: Shop) -> None:
    booking, session = paid_booking(app, shop)
    webhook = signed(
        app,
        shop,
        booking,
        kind=PaymentEventType.REFUND_SUCCEEDED,
        payment_ref=session.payment_ref,
        amount=20_000,
        provider_refund_id="re_dashboard_1",
    )
    assert app.webhooks.receive(shop.tenant.id, "fake", *webhook).outcome == "refund_recorded"
    assert app.webhooks.receive(shop.tenant.id, "fake", *webhook).duplicate is True
    refunds = app.bookings.refunds(shop.tenant.id, booking.id)
    assert [(r.amount, r.state, r.provider_refund_id) for r in refunds] == [
        (20_000, RefundState.SUCCEEDED, "re_dashboard_1")
    ]
    assert app.bookings.get(shop.tenant.id, booking.id).amount_refunded == 20_000


def test_checkout_needs_a_provider_and_releases_on_failure(app: BookingApp, shop: Shop) -> None:
    class Refusing(FakePaymentProvider):
        def create_payment(self, request: Any) -> Any:
            raise PaymentError("provider down")

    refusing = BookingApp(
        uow=app.uow,
        clock=app.clock,
        payments=Refusing(clock=app.clock),  # same storage
    )
    with pytest.raises(PaymentError):
        refusing.bookings.checkout(
            shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN
        )
    assert app.availability.check(shop.tenant.id, EVENT).available
    bare = BookingApp(uow=app.uow, clock=app.clock)
    with pytest.raises(PaymentError):
        bare.bookings.checkout(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)


def test_webhook_without_tenant_takes_it_from_the_verified_event(
    app: BookingApp, shop: Shop
) -> None:
    """One webhook URL for all tenants; werkzeug-like header objects are accepted too."""

    class Headers:  # not a Mapping, like werkzeug's Headers
        def __init__(self, pairs: dict[str, str]) -> None:
            self._pairs = pairs

        def items(self) -> Any:
            return self._pairs.items()

    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_any",
    )
    receipt = app.webhooks.receive(None, "fake", body, Headers(headers))
    assert receipt.outcome == "confirmed"
    with pytest.raises(ValidationError):
        app.webhooks.receive(None, "fake", body, [("a", "b")])  # type: ignore[arg-type]


def test_expired_idempotency_keys_are_purged(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    first = app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me")
    clock.advance(dt.timedelta(hours=23))
    assert app.bookings.purge_idempotency_keys() >= 0
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me").id == first.id
    clock.advance(dt.timedelta(hours=2))
    assert app.bookings.purge_idempotency_keys() >= 1
    assert app.bookings.purge_idempotency_keys() == 0
    # the key is free again; the first hold lapsed long ago, so its date is free too
    fresh = app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me")
    assert fresh.id != first.id
