"""A deterministic, in-process payment provider for tests, the demo and local development.

It implements :class:`~booking_core.ports.payments.PaymentProvider` with the same guarantees a
real adapter must give (idempotent creation and refunds, refunds bounded by what was paid,
signed webhooks verified over the raw bytes) so the services can be tested against it and then
run against Stripe or Adyen unchanged. It is a supported class, like ``httpx.MockTransport``,
not a test-only mock: nothing about it is random and it never touches the network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import threading
import types
import uuid
from collections.abc import Mapping
from typing import Any, Final

from booking_core.errors import PaymentError, ValidationError, WebhookVerificationError
from booking_core.ports.clock import Clock, SystemClock
from booking_core.ports.payments import (
    PaymentEvent,
    PaymentEventType,
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)
from booking_core.web import signing

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "SIGNATURE_HEADER",
    "FakePayment",
    "FakePaymentProvider",
    "FakeRefund",
]

SIGNATURE_HEADER: Final = "Fake-Signature"
# Real provider events are a few KiB; refusing larger bodies before the HMAC bounds the work an
# unauthenticated sender can cause.
MAX_WEBHOOK_BYTES: Final = 64 * 1024
# amounts end up in BIGINT columns
_MAX_AMOUNT: Final = 2**63 - 1
_MAX_ID_LENGTH: Final = 255
_CURRENCY = re.compile(r"[A-Za-z]{3}")
# printable ASCII without spaces: ids end up in URLs, logs and headers
_ID = re.compile(r"[\x21-\x7e]{1,255}")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_PAYMENT_STATUS: Final = {
    PaymentEventType.PAYMENT_SUCCEEDED: "succeeded",
    PaymentEventType.PAYMENT_FAILED: "failed",
    PaymentEventType.PAYMENT_EXPIRED: "expired",
}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


@dataclasses.dataclass(frozen=True, slots=True)
class FakePayment:
    """A payment as the fake provider recorded it.

    ``status`` is ``"pending"`` until a payment webhook for it is emitted with
    :meth:`FakePaymentProvider.make_webhook` (``"succeeded"``, ``"failed"``, ``"expired"``);
    ``refunded`` is the sum of its successful refunds.
    """

    payment_ref: str
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    amount: int
    currency: str
    application_fee: int
    description: str
    metadata: Mapping[str, str]
    idempotency_key: str
    session: PaymentSession
    status: str = "pending"
    refunded: int = 0

    @property
    def refundable(self) -> int:
        """What can still be refunded."""
        return self.amount - self.refunded


@dataclasses.dataclass(frozen=True, slots=True)
class FakeRefund:
    """A successful refund, as listed by :attr:`FakePaymentProvider.refunds`."""

    provider_refund_id: str
    payment_ref: str
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    amount: int
    currency: str
    reason: str
    idempotency_key: str


def _payment_fingerprint(request: PaymentRequest) -> tuple[object, ...]:
    # metadata is copied into a sorted tuple so a caller mutating its dict afterwards changes
    # neither the record nor the comparison of a replay
    return (
        request.tenant_id,
        request.booking_id,
        request.amount,
        request.currency,
        request.application_fee,
        request.description,
        tuple(sorted(request.metadata.items())),
    )


def _refund_fingerprint(request: RefundRequest) -> tuple[object, ...]:
    return (
        request.tenant_id,
        request.booking_id,
        request.payment_ref,
        request.amount,
        request.currency,
        request.reason,
    )


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise PaymentError("idempotency_key must be a non-empty string")
    if len(key) > _MAX_ID_LENGTH:
        raise PaymentError(f"idempotency_key longer than {_MAX_ID_LENGTH} characters")
    return key


def _check_amount(amount: object, what: str) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PaymentError(f"{what} must be an int in minor units")
    if amount <= 0 or amount > _MAX_AMOUNT:
        raise PaymentError(f"{what} must be > 0 and fit in 64 bits, got {amount}")
    return amount


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
        self._lock = threading.Lock()
        self._payments: dict[str, FakePayment] = {}
        self._payment_keys: dict[str, tuple[tuple[object, ...], str]] = {}
        self._refund_keys: dict[str, tuple[tuple[object, ...], RefundResult]] = {}
        self._refunds: list[FakeRefund] = []
        self._fail_next_refund: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def payments(self) -> dict[str, FakePayment]:
        """A snapshot of the recorded payments by ``payment_ref``."""
        with self._lock:
            return dict(self._payments)

    @property
    def refunds(self) -> list[FakeRefund]:
        """A snapshot of the successful refunds, oldest first (declined ones are not listed)."""
        with self._lock:
            return list(self._refunds)

    # -- payments -----------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentSession:
        """Record a pending payment and return its checkout session.

        ``payment_ref`` is ``"pay_" + sha256(idempotency_key)[:24]``, so a retried call finds the
        first payment and returns the identical session.

        Raises:
            PaymentError: the key was used for a different request, or the request is invalid
                (amount ≤ 0, currency not 3 letters, fee outside ``0..amount``, empty key).
        """
        key = _check_key(request.idempotency_key)
        _check_amount(request.amount, "amount")
        if not isinstance(request.currency, str) or not _CURRENCY.fullmatch(request.currency):
            raise PaymentError(f"currency must be 3 letters, got {request.currency!r}")
        fee = request.application_fee
        if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= request.amount:
            raise PaymentError(f"application_fee must be an int in 0..amount, got {fee!r}")
        fingerprint = _payment_fingerprint(request)
        with self._lock:
            known = self._payment_keys.get(key)
            if known is not None:
                first, payment_ref = known
                if first != fingerprint:
                    raise PaymentError(
                        f"idempotency key {key!r} was already used for a different payment"
                    )
                return self._payments[payment_ref].session
            payment_ref = f"pay_{_digest(key)}"
            session = PaymentSession(
                payment_ref=payment_ref,
                redirect_url=f"{self._base_url}/checkout/{payment_ref}",
                expires_at=self._clock.now() + self.session_ttl,
            )
            self._payments[payment_ref] = FakePayment(
                payment_ref=payment_ref,
                tenant_id=request.tenant_id,
                booking_id=request.booking_id,
                amount=request.amount,
                currency=request.currency.upper(),
                application_fee=fee,
                description=request.description,
                metadata=types.MappingProxyType(dict(request.metadata)),
                idempotency_key=key,
                session=session,
            )
            self._payment_keys[key] = (fingerprint, payment_ref)
            return session

    # -- refunds ------------------------------------------------------------------------------

    def fail_next_refund(self, reason: str = "declined by the fake provider") -> None:
        """Make the next new refund (not a replayed key) come back declined with ``reason``."""
        with self._lock:
            self._fail_next_refund = reason

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
        key = _check_key(request.idempotency_key)
        _check_amount(request.amount, "refund amount")
        fingerprint = _refund_fingerprint(request)
        with self._lock:
            known = self._refund_keys.get(key)
            if known is not None:
                first, result = known
                if first != fingerprint:
                    raise PaymentError(
                        f"idempotency key {key!r} was already used for a different refund"
                    )
                return result
            payment = self._payments.get(request.payment_ref)
            if payment is None:
                raise PaymentError(f"unknown payment {request.payment_ref!r}")
            if (request.tenant_id, request.booking_id) != (payment.tenant_id, payment.booking_id):
                raise PaymentError(
                    f"payment {payment.payment_ref} belongs to another tenant or booking"
                )
            if (
                not isinstance(request.currency, str)
                or request.currency.upper() != payment.currency
            ):
                raise PaymentError(
                    f"refund currency {request.currency!r} is not the payment's "
                    f"{payment.currency!r}"
                )
            if payment.status in {"failed", "expired"}:
                raise PaymentError(f"payment {payment.payment_ref} is {payment.status}")
            if request.amount > payment.refundable:
                raise PaymentError(
                    f"refund of {request.amount} exceeds the {payment.refundable} still "
                    f"refundable on {payment.payment_ref}"
                )
            refund_id = f"re_{_digest(key)}"
            if self._fail_next_refund is not None:
                result = RefundResult(
                    refund_id, succeeded=False, failure_reason=self._fail_next_refund
                )
                self._fail_next_refund = None
            else:
                result = RefundResult(refund_id, succeeded=True)
                self._payments[payment.payment_ref] = dataclasses.replace(
                    payment, refunded=payment.refunded + request.amount
                )
                self._refunds.append(
                    FakeRefund(
                        provider_refund_id=refund_id,
                        payment_ref=payment.payment_ref,
                        tenant_id=payment.tenant_id,
                        booking_id=payment.booking_id,
                        amount=request.amount,
                        currency=payment.currency,
                        reason=request.reason,
                        idempotency_key=key,
                    )
                )
            self._refund_keys[key] = (fingerprint, result)
            return result

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
            event_id = "evt_" + _digest(
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
        refund_key = self._refund_key(provider_refund_id)
        if refund_key is not None:
            data["refund_key"] = refund_key
        document = {"id": event_id, "type": kind.value, "created": created, "data": data}
        body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        status = _PAYMENT_STATUS.get(kind)
        with self._lock:
            payment = self._payments.get(payment_ref)
            if status is not None and payment is not None:
                self._payments[payment_ref] = dataclasses.replace(payment, status=status)
        return body, {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signing.sign(self._secret, body, timestamp=created),
        }

    def _refund_key(self, provider_refund_id: str | None) -> str | None:
        """The idempotency key of a refund this provider made (echoed in its events)."""
        with self._lock:
            for refund in self._refunds:
                if refund.provider_refund_id == provider_refund_id:
                    return refund.idempotency_key
        return None

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
        if not isinstance(raw_body, bytes | bytearray):
            raise WebhookVerificationError("webhook body must be the raw bytes")
        if len(raw_body) > MAX_WEBHOOK_BYTES:
            raise WebhookVerificationError(
                f"webhook body of {len(raw_body)} bytes exceeds {MAX_WEBHOOK_BYTES}"
            )
        header = signing.header_value(headers, SIGNATURE_HEADER)
        signing.verify(self._secret, bytes(raw_body), header, now=now)
        return _parse_event(bytes(raw_body))


def _reject_constant(token: str) -> Any:
    raise WebhookVerificationError(f"webhook body contains {token}, which is not JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # two parsers can disagree on which duplicate wins; refusing them removes the ambiguity
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise WebhookVerificationError(f"webhook body repeats the key {key!r}")
        document[key] = value
    return document


def _load(raw_body: bytes) -> dict[str, Any]:
    try:
        text = raw_body.decode("utf-8")
        document = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("webhook body is not UTF-8") from exc
    except RecursionError as exc:
        raise WebhookVerificationError("webhook body is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, and ints beyond the digit limit
        raise WebhookVerificationError(f"webhook body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise WebhookVerificationError("webhook body must be a JSON object")
    return document


def _field(document: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in document:
        raise WebhookVerificationError(f"webhook {where}{key} is missing")
    value = document[key]
    # bool is an int in Python but never a valid amount or timestamp
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WebhookVerificationError(f"webhook {where}{key} must be a {kind.__name__}")
    return value


def _identifier(document: Mapping[str, Any], key: str, where: str) -> str:
    value: str = _field(document, key, str, where)
    if not _ID.fullmatch(value):
        raise WebhookVerificationError(
            f"webhook {where}{key} must be 1-{_MAX_ID_LENGTH} printable ASCII characters"
        )
    return value


def _uuid(document: Mapping[str, Any], key: str) -> uuid.UUID:
    value: str = _field(document, key, str, "data.")
    # only the canonical form: uuid.UUID() would also take braces, "urn:uuid:" and no hyphens
    if not _CANONICAL_UUID.fullmatch(value.lower()):
        raise WebhookVerificationError(f"webhook data.{key} is not a UUID")
    return uuid.UUID(value)


def _parse_event(raw_body: bytes) -> PaymentEvent:
    document = _load(raw_body)
    event_id = _identifier(document, "id", "")
    type_name: str = _field(document, "type", str, "")
    try:
        kind = PaymentEventType(type_name)
    except ValueError:
        raise WebhookVerificationError(f"unknown webhook event type {type_name[:40]!r}") from None
    created: int = _field(document, "created", int, "")
    try:
        created_at = dt.datetime.fromtimestamp(created, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookVerificationError("webhook created is not a valid Unix time") from None
    data: dict[str, Any] = _field(document, "data", dict, "")
    amount: int = _field(data, "amount", int, "data.")
    if not 0 <= amount <= _MAX_AMOUNT:
        raise WebhookVerificationError("webhook data.amount must be between 0 and 2**63-1")
    currency: str = _field(data, "currency", str, "data.")
    if not _CURRENCY.fullmatch(currency):
        raise WebhookVerificationError("webhook data.currency must be 3 letters")
    refund_id = data.get("provider_refund_id")
    if refund_id is not None:
        refund_id = _identifier(data, "provider_refund_id", "data.")
    elif kind is PaymentEventType.REFUND_SUCCEEDED:
        raise WebhookVerificationError("refund webhook without data.provider_refund_id")
    refund_key = data.get("refund_key")
    if refund_key is not None:
        refund_key = _identifier(data, "refund_key", "data.")
    return PaymentEvent(
        event_id=event_id,
        type=kind,
        tenant_id=_uuid(data, "tenant_id"),
        booking_id=_uuid(data, "booking_id"),
        payment_ref=_identifier(data, "payment_ref", "data."),
        amount=amount,
        currency=currency.upper(),
        created_at=created_at,
        provider_refund_id=refund_id,
        refund_key=refund_key,
    )
