"""Payment webhooks on every backend: verified, applied exactly once, failed events retried."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingStatus,
    CustomerDetails,
    InboxState,
    RefundState,
)
from booking_core.errors import (
    NotFoundError,
    StorageError,
    ValidationError,
    WebhookVerificationError,
)
from booking_core.ports.payments import PaymentEventType
from booking_core.testing import ManualClock

from ._payments import ANN, EVENT, events_of, fake, paid_booking, signed
from .conftest import Shop, make_shop


def test_checkout_then_webhook_confirms_and_redelivery_has_no_effect(
    app: BookingApp, shop: Shop
) -> None:
    """Checkout creates a payment for the total with the commission as application fee and replays
    under its idempotency key; the signed payment webhook confirms the booking once, a redelivery
    is a duplicate, and the stored payload is byte-identical."""
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
    first = app.webhooks.receive(shop.tenant.id, body, headers)
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
    again = app.webhooks.receive(shop.tenant.id, body, headers)
    assert (again.duplicate, again.outcome) == (True, "confirmed")
    stored = app.webhooks.get(shop.tenant.id, first.event_id)
    assert stored.payload == body  # byte-identical
    assert events_of(app, booking.id) == ["booking.held", "booking.confirmed"]


def test_bad_webhooks_are_refused_and_write_nothing(app: BookingApp, shop: Shop) -> None:
    """Tampered, unsigned, oversized or other-tenant webhooks raise WebhookVerificationError, an
    unknown tenant NotFoundError, an unknown provider or text body ValidationError, and the
    booking stays PENDING."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_x",
    )
    tampered = body.replace(b"250000", b"250001")
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, tampered, headers)
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, body, {})
    with pytest.raises(WebhookVerificationError):
        app.webhooks.receive(shop.tenant.id, b"x" * (300 * 1024), headers)
    other = make_shop(app)
    with pytest.raises(WebhookVerificationError):  # signed, but for another tenant
        app.webhooks.receive(other.tenant.id, body, headers)
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
        app.webhooks.receive(unknown_tenant, *foreign)
    with pytest.raises(ValidationError):
        app.webhooks.receive(shop.tenant.id, body, headers, provider="stripe")
    with pytest.raises(ValidationError):
        app.webhooks.receive(shop.tenant.id, body.decode(), headers)  # type: ignore[arg-type]
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING
    with pytest.raises(NotFoundError):
        app.webhooks.get(shop.tenant.id, "evt_missing")


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
    broken = flaky(app, bookings__save=2)
    first = broken.webhooks.receive(shop.tenant.id, *webhook)
    assert (first.state, first.duplicate) == (InboxState.FAILED, False)
    assert "injected failure" in (first.error or "")
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING
    second = broken.webhooks.receive(shop.tenant.id, *webhook)  # the provider redelivers
    assert second.state is InboxState.FAILED
    stored = app.webhooks.get(shop.tenant.id, first.event_id)
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
    assert app.webhooks.receive(shop.tenant.id, *webhook).duplicate is True
    assert app.webhooks.retry_failed(tenant_id=shop.tenant.id) == []


def test_unprocessable_events_stay_failed_with_their_error(app: BookingApp, shop: Shop) -> None:
    """A verified event that cannot be applied (wrong amount, unknown booking) is stored FAILED with
    its error, and the booking is unchanged."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    wrong_amount = signed(
        app,
        shop,
        hold,
        payment_ref="pay_1",
        amount=1,
    )
    failed = app.webhooks.receive(shop.tenant.id, *wrong_amount)
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
    assert "NotFoundError" in (app.webhooks.receive(shop.tenant.id, *unknown).error or "")
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.PENDING


def test_state_change_and_its_event_commit_together(app: BookingApp, shop: Shop) -> None:
    """If storing a change with its outbox event fails (one repository call writes both), the
    state change is rolled back with it; a hold whose write fails leaves no booking and no
    event."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    with pytest.raises(StorageError):
        flaky(app, bookings__save=1).bookings.confirm(shop.tenant.id, hold.id, payment_ref="p")
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
    """Ten threads delivering the same webhook at once all get PROCESSED receipts, exactly one not a
    duplicate, and the booking is confirmed once."""
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
        receipts.append(app.webhooks.receive(shop.tenant.id, body, headers))

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
    """A payment arriving after its hold expired confirms the booking (outcome
    confirmed_after_expiry) when the date is still free."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    clock.advance(dt.timedelta(minutes=20))
    app.bookings.expire_holds()
    body, headers = signed(
        app,
        shop,
        hold,
        payment_ref="pay_late",
    )
    receipt = app.webhooks.receive(shop.tenant.id, body, headers)
    assert receipt.outcome == "confirmed_after_expiry"
    assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.CONFIRMED
    assert app.availability.check(shop.tenant.id, EVENT).reason == "booked"


def test_payment_after_expiry_refunds_if_the_date_is_taken(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """A payment arriving after its hold lapsed and the date was taken is refunded in full (outcome
    refunded_late_payment); the booking stays EXPIRED and the rival's hold is untouched."""
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
    receipt = app.webhooks.receive(shop.tenant.id, body, headers)
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
    """A payment.failed webhook cancels the checkout's hold (outcome hold_released) and frees its
    date."""
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
    assert app.webhooks.receive(shop.tenant.id, body, headers).outcome == "hold_released"
    assert app.bookings.get(shop.tenant.id, checkout.booking.id).status is BookingStatus.CANCELED
    assert app.availability.check(shop.tenant.id, EVENT).available


def test_refund_webhook_records_an_outside_refund_once(app: BookingApp, shop: Shop) -> None:
    """A refund made in the provider's dashboard is recorded once from its webhook, as a SUCCEEDED
    refund with the provider's id; the redelivery is a duplicate."""
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
    assert app.webhooks.receive(shop.tenant.id, *webhook).outcome == "refund_recorded"
    assert app.webhooks.receive(shop.tenant.id, *webhook).duplicate is True
    refunds = app.bookings.refunds(shop.tenant.id, booking.id)
    assert [(r.amount, r.state, r.provider_refund_id) for r in refunds] == [
        (20_000, RefundState.SUCCEEDED, "re_dashboard_1")
    ]
    assert app.bookings.get(shop.tenant.id, booking.id).amount_refunded == 20_000


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
    receipt = app.webhooks.receive(None, body, Headers(headers))
    assert receipt.outcome == "confirmed"
    with pytest.raises(ValidationError):
        app.webhooks.receive(None, body, [("a", "b")])  # type: ignore[arg-type]
