"""The payment-provider port: create a payment for a hold, refund it, verify its webhooks.

booking_core never talks to a provider directly; a host app passes an adapter (Stripe, Adyen,
...) that implements :class:`PaymentProvider`.
``booking_core.adapters.payments.FakePaymentProvider`` is a deterministic one for tests and the
demo.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

#: What an event id (a provider's webhook event, an outgoing notification) may look like: 1-255
#: printable ASCII characters, no spaces. Ids go into headers (where CR/LF would let a crafted id
#: inject headers), URLs, logs and 255-character key columns. Match with ``fullmatch``.
EVENT_ID_PATTERN: Final = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A payment for a held booking.

    ``application_fee`` is the platform commission (the provider routes it to the platform);
    ``idempotency_key`` makes a retried creation return the first payment.
    """

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    amount: int
    currency: str
    application_fee: int
    description: str
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentSession:
    """What a host app needs to send the customer to pay."""

    payment_ref: str
    redirect_url: str
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A (partial) refund of a captured payment; ``idempotency_key`` is the refund's id."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    payment_ref: str
    amount: int
    currency: str
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    provider_refund_id: str
    succeeded: bool
    failure_reason: str | None = None


class PaymentEventType(enum.StrEnum):
    """The webhook events booking_core acts on."""

    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_EXPIRED = "payment.expired"
    REFUND_SUCCEEDED = "refund.succeeded"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified, parsed provider webhook.

    ``event_id`` is the provider's id of the event (unique per provider), used to deduplicate
    redeliveries. ``amount`` is the amount paid (or refunded, for refund events).
    ``refund_key`` is the idempotency key of the refund request, when the provider echoes it.
    """

    event_id: str
    type: PaymentEventType
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    payment_ref: str
    amount: int
    currency: str
    created_at: dt.datetime
    provider_refund_id: str | None = None
    #: For a refund booking_core asked for: the idempotency key it was asked with, when the
    #: provider echoes it. It tells a refund event that arrives before booking_core recorded the
    #: provider's answer apart from a refund made elsewhere (which would count twice).
    refund_key: str | None = None


class PaymentProvider(Protocol):
    """A payment provider adapter. Methods raise ``booking_core.errors.PaymentError`` (and
    ``WebhookVerificationError`` for webhooks) on failure; nothing else escapes."""

    @property
    def name(self) -> str:
        """A short identifier ("stripe", "fake"): inbox entries are unique per provider."""
        ...

    def create_payment(self, request: PaymentRequest) -> PaymentSession:
        """Create (or, for a repeated idempotency key, return) the payment of a hold."""
        ...

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a payment (a repeated idempotency key does not refund twice).

        Return ``RefundResult(succeeded=False, failure_reason=…)`` for a definitive decline;
        raise ``PaymentError`` when the outcome is unknown (timeout, provider error): the refund
        then stays PENDING and is retried with the same idempotency key.
        """
        ...

    def parse_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: dt.datetime
    ) -> PaymentEvent:
        """Verify the signature over the raw bytes and the timestamp tolerance, then parse.

        Raises:
            WebhookVerificationError: bad or missing signature, stale timestamp, malformed body,
                or an event type this port does not know.
        """
        ...
