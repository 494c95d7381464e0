"""The fake provider itself: the port's methods, wired to its ledger, signing and parser."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Final

from booking_core.adapters.payments.fake._parsing import parse_event
from booking_core.adapters.payments.fake._rules import digest
from booking_core.adapters.payments.fake._signing import sign_webhook, verified_body
from booking_core.adapters.payments.fake._state import FakePayment, FakeRefund, Ledger
from booking_core.errors import ValidationError
from booking_core.ports.clock import Clock, SystemClock
from booking_core.ports.payments import (
    PaymentEvent,
    PaymentEventType,
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)

__all__ = ["FakePaymentProvider"]

_PAYMENT_STATUS: Final = {
    PaymentEventType.PAYMENT_SUCCEEDED: "succeeded",
    PaymentEventType.PAYMENT_FAILED: "failed",
    PaymentEventType.PAYMENT_EXPIRED: "expired",
}


class FakePaymentProvider:
    """A deterministic :class:`~booking_core.ports.payments.PaymentProvider` with no network.

    Every id is derived from its input (``pay_``/``re_``/``evt_`` + 24 hex digits of a SHA-256),
    so a test or the demo gets the same ids on every run. Thread-safe: one lock guards the state.

    Idempotency follows what real providers do: the same key with the same request returns the
    first result (a session, or a refund result, even a failed one); the same key with a
    different request raises :class:`~booking_core.errors.PaymentError`. Keys are global to the
    provider (one merchant account), so callers should derive them from ids that are unique
    across tenants, such as the booking or refund id.

    Args:
        secret: the webhook signing secret (non-empty bytes).
        name: the provider name inbox entries are keyed by.
        clock: where "now" comes from (session expiry, default webhook timestamps).
        base_url: the checkout host of ``redirect_url``.

    Raises:
        ValidationError: an empty secret or an empty name.
    """

    #: How long a checkout session stays open (informational, like Stripe's ``expires_at``).
    session_ttl: dt.timedelta = dt.timedelta(minutes=30)

    def __init__(
        self,
        secret: bytes = b"fake-secret",
        *,
        name: str = "fake",
        clock: Clock | None = None,
        base_url: str = "https://pay.example.test",
    ) -> None:
        if not isinstance(secret, bytes) or not secret:
            raise ValidationError("secret", "must be non-empty bytes")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("name", "must be a non-empty string")
        self._secret = secret
        self._name = name
        self._clock: Clock = clock or SystemClock()
        self._base_url = base_url.rstrip("/")
        self._ledger = Ledger()

    @property
    def name(self) -> str:
        return self._name

    @property
    def payments(self) -> dict[str, FakePayment]:
        """A snapshot of the recorded payments by ``payment_ref``."""
        return self._ledger.payments()

    @property
    def refunds(self) -> list[FakeRefund]:
        """A snapshot of the successful refunds, oldest first (declined ones are not listed)."""
        return self._ledger.refunds()

    # -- payments -----------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentSession:
        """Record a pending payment and return its checkout session.

        ``payment_ref`` is ``"pay_" + sha256(idempotency_key)[:24]``, so a retried call finds the
        first payment and returns the identical session.

        Raises:
            PaymentError: the key was used for a different request, or the request is invalid
                (amount ≤ 0, currency not 3 letters, fee outside ``0..amount``, empty key).
        """
        return self._ledger.create_payment(request, self._open_session)

    def _open_session(self, payment_ref: str) -> PaymentSession:
        return PaymentSession(
            payment_ref=payment_ref,
            redirect_url=f"{self._base_url}/checkout/{payment_ref}",
            expires_at=self._clock.now() + self.session_ttl,
        )

    # -- refunds ------------------------------------------------------------------------------

    def fail_next_refund(self, reason: str = "declined by the fake provider") -> None:
        """Make the next new refund (not a replayed key) come back declined with ``reason``."""
        self._ledger.fail_next_refund(reason)

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a payment; a repeated key returns the first result.

        The refund id is ``"re_" + sha256(idempotency_key)[:24]``. The first result is kept even
        when it was a decline (as real providers do), so retrying a declined refund needs a new
        key; a decline refunds nothing and does not count against the payment.

        Raises:
            PaymentError: unknown payment, a tenant/booking/currency that is not the payment's,
                a failed or expired payment, an amount ≤ 0 or above what remains refundable, or
                the key reused for a different refund.
        """
        return self._ledger.refund(request)

    # -- webhooks -----------------------------------------------------------------------------

    def make_webhook(
        self,
        event_type: PaymentEventType,
        *,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        payment_ref: str,
        amount: int,
        currency: str,
        event_id: str | None = None,
        provider_refund_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Emit a signed webhook as the provider would send it: ``(raw body, headers)``.

        The body is compact JSON with sorted keys::

            {"created":<unix s>,"data":{"amount":…,"booking_id":…,"currency":…,
             "payment_ref":…,"provider_refund_id":…,"tenant_id":…},"id":"evt_…","type":"…"}

        A refund event for a refund made through :meth:`refund` also carries its idempotency key
        as ``data.refund_key``, as real providers echo a refund's metadata.

        Without ``event_id`` the id is derived from the event's content (type, tenant, booking,
        payment, refund), so emitting the same event twice yields the same id: that is what a
        provider redelivery looks like. Pass ``event_id`` for two distinct events with the same
        content. A payment event for a payment this provider created also moves its
        :attr:`FakePayment.status`. ``at`` (default: the clock) is both ``created`` and the
        signature timestamp, at whole-second precision.

        Raises:
            ValidationError: an unknown event type, a naive ``at``, or a refund event without
                ``provider_refund_id``.
        """
        try:
            kind = PaymentEventType(event_type)
        except ValueError:
            raise ValidationError("event_type", f"unknown event type {event_type!r}") from None
        if kind is PaymentEventType.REFUND_SUCCEEDED and not provider_refund_id:
            raise ValidationError("provider_refund_id", "a refund event needs the refund id")
        when = self._clock.now() if at is None else at
        if when.utcoffset() is None:
            raise ValidationError("at", "must be a timezone-aware datetime")
        created = int(when.timestamp())
        if event_id is None:
            event_id = "evt_" + digest(
                kind.value, str(tenant_id), str(booking_id), payment_ref, provider_refund_id or ""
            )
        data: dict[str, object] = {
            "tenant_id": str(tenant_id),
            "booking_id": str(booking_id),
            "payment_ref": payment_ref,
            "amount": amount,
            "currency": currency,
            "provider_refund_id": provider_refund_id,
        }
        refund_key = self._ledger.refund_key(provider_refund_id)
        if refund_key is not None:
            data["refund_key"] = refund_key
        document = {"id": event_id, "type": kind.value, "created": created, "data": data}
        body, headers = sign_webhook(self._secret, document, created=created)
        status = _PAYMENT_STATUS.get(kind)
        if status is not None:
            self._ledger.set_status(payment_ref, status)
        return body, headers

    def parse_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: dt.datetime
    ) -> PaymentEvent:
        """Verify a webhook's signature over the raw bytes and its timestamp, then parse it.

        The size limit is checked first and the signature before the JSON is touched, so an
        unauthenticated sender can only make us hash at most :data:`MAX_WEBHOOK_BYTES`. Parsing is
        strict (UTF-8, one JSON object, no duplicate keys or NaN, every field typed) because a
        valid signature proves who sent the bytes, not that they are well-formed.

        Raises:
            WebhookVerificationError: oversized body, missing/ambiguous/bad signature header,
                stale timestamp, or a body that is not a well-formed event of a known type.
            ValidationError: ``now`` is naive (a caller bug, not a bad request).
        """
        return parse_event(verified_body(self._secret, raw_body, headers, now=now))
