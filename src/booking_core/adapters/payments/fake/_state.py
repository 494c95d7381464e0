"""What the fake provider remembers: payments, refunds and idempotency keys, under one lock.

Idempotency follows what real providers do: the same key with the same request returns the
first result (a session, or a refund result, even a failed one); the same key with a different
request raises :class:`~booking_core.errors.PaymentError`.
"""

from __future__ import annotations

import dataclasses
import threading
import types
import uuid
from collections.abc import Callable, Mapping

from booking_core.adapters.payments.fake._rules import CURRENCY, MAX_AMOUNT, MAX_ID_LENGTH, digest
from booking_core.errors import PaymentError
from booking_core.ports.payments import (
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)

__all__ = ["FakePayment", "FakeRefund", "Ledger"]


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
    if len(key) > MAX_ID_LENGTH:
        raise PaymentError(f"idempotency_key longer than {MAX_ID_LENGTH} characters")
    return key


def _check_amount(amount: object, what: str) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PaymentError(f"{what} must be an int in minor units")
    if amount <= 0 or amount > MAX_AMOUNT:
        raise PaymentError(f"{what} must be > 0 and fit in 64 bits, got {amount}")
    return amount


def _check_payment(request: PaymentRequest) -> str:
    """The request's idempotency key, once the request is one a provider would accept."""
    key = _check_key(request.idempotency_key)
    _check_amount(request.amount, "amount")
    if not isinstance(request.currency, str) or not CURRENCY.fullmatch(request.currency):
        raise PaymentError(f"currency must be 3 letters, got {request.currency!r}")
    fee = request.application_fee
    if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= request.amount:
        raise PaymentError(f"application_fee must be an int in 0..amount, got {fee!r}")
    return key


def _check_refundable(request: RefundRequest, payment: FakePayment | None) -> FakePayment:
    """``payment``, once ``request`` may refund it."""
    if payment is None:
        raise PaymentError(f"unknown payment {request.payment_ref!r}")
    # a series' payment (its metadata names the series) pays several bookings of its tenant:
    # any of them may be refunded from it, within what is still refundable
    series = "series_id" in payment.metadata
    if request.tenant_id != payment.tenant_id or (
        request.booking_id != payment.booking_id and not series
    ):
        raise PaymentError(f"payment {payment.payment_ref} belongs to another tenant or booking")
    if not isinstance(request.currency, str) or request.currency.upper() != payment.currency:
        raise PaymentError(
            f"refund currency {request.currency!r} is not the payment's {payment.currency!r}"
        )
    if payment.status in {"failed", "expired"}:
        raise PaymentError(f"payment {payment.payment_ref} is {payment.status}")
    if request.amount > payment.refundable:
        raise PaymentError(
            f"refund of {request.amount} exceeds the {payment.refundable} still "
            f"refundable on {payment.payment_ref}"
        )
    return payment


class Ledger:
    """The fake provider's state. Thread-safe: one lock guards everything.

    Keys are global to the ledger (one merchant account), as they are at a real provider.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payments: dict[str, FakePayment] = {}
        self._payment_keys: dict[str, tuple[tuple[object, ...], str]] = {}
        self._refund_keys: dict[str, tuple[tuple[object, ...], RefundResult]] = {}
        self._refunds: list[FakeRefund] = []
        self._fail_next_refund: str | None = None

    def payments(self) -> dict[str, FakePayment]:
        with self._lock:
            return dict(self._payments)

    def refunds(self) -> list[FakeRefund]:
        with self._lock:
            return list(self._refunds)

    def create_payment(
        self, request: PaymentRequest, open_session: Callable[[str], PaymentSession]
    ) -> PaymentSession:
        """Record a pending payment ``"pay_" + digest(key)``; a replay returns its session.

        ``open_session`` makes the session of a new ``payment_ref``.
        """
        key = _check_payment(request)
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
            payment_ref = f"pay_{digest(key)}"
            session = open_session(payment_ref)
            self._payments[payment_ref] = FakePayment(
                payment_ref=payment_ref,
                tenant_id=request.tenant_id,
                booking_id=request.booking_id,
                amount=request.amount,
                currency=request.currency.upper(),
                application_fee=request.application_fee,
                description=request.description,
                metadata=types.MappingProxyType(dict(request.metadata)),
                idempotency_key=key,
                session=session,
            )
            self._payment_keys[key] = (fingerprint, payment_ref)
            return session

    def fail_next_refund(self, reason: str) -> None:
        with self._lock:
            self._fail_next_refund = reason

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund ``"re_" + digest(key)``; a replayed key returns the first result."""
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
            payment = _check_refundable(request, self._payments.get(request.payment_ref))
            refund_id = f"re_{digest(key)}"
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

    def set_status(self, payment_ref: str, status: str) -> None:
        """Move a payment this ledger knows to ``status`` (unknown refs are left alone)."""
        with self._lock:
            payment = self._payments.get(payment_ref)
            if payment is not None:
                self._payments[payment_ref] = dataclasses.replace(payment, status=status)

    def refund_key(self, provider_refund_id: str | None) -> str | None:
        """The idempotency key of a refund this ledger made (echoed in its events)."""
        with self._lock:
            for refund in self._refunds:
                if refund.provider_refund_id == provider_refund_id:
                    return refund.idempotency_key
        return None
