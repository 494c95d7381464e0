"""Deciding and settling refunds.

A refund is decided inside the transaction that causes it (a cancellation, a manual refund, a
payment that arrived for a lost date): the booking's refunded total is raised with a
compare-and-swap that can never pass what was paid, and a PENDING :class:`Refund` is written
with an outbox event. The payment provider is called only after that commit, with the refund's
id as idempotency key, and the outcome is recorded in a second transaction. A crash in between,
or a call without a trustworthy answer, leaves a PENDING refund that
``bookings.retry_refunds()`` settles later with the same key, so the provider never refunds it
twice; a declined refund is FAILED (with the reason) and retried under a new key.

A booking's ``amount_refunded`` counts every refund decided (owed), whatever its execution state:
that is what keeps the owed total from ever exceeding the payment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

from booking_core.domain import lifecycle
from booking_core.domain.ids import new_id
from booking_core.domain.model import Booking, Refund, RefundState
from booking_core.errors import BookingCoreError, NotFoundError, PaymentError
from booking_core.ports.clock import Clock
from booking_core.ports.payments import PaymentProvider, RefundRequest, RefundResult
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _validate as v
from booking_core.services._base import Service
from booking_core.services._lifecycle import store

log = logging.getLogger("booking_core.refunds")

#: Longest provider text (a decline reason, a refund id) stored with a refund.
MAX_REASON_LENGTH = 1000


def decide_refund(
    uow: UnitOfWork,
    booking: Booking,
    amount: int,
    reason: str,
    now: dt.datetime,
    *,
    state: RefundState = RefundState.PENDING,
    provider_refund_id: str | None = None,
    refund_id: uuid.UUID | None = None,
) -> tuple[Booking, Refund]:
    """Count ``amount`` as refunded on ``booking`` (as read in ``uow``) and record the refund.

    The domain decides the amounts (:func:`booking_core.domain.lifecycle.refund`); the
    booking's compare-and-swap makes a racing refund run again on fresh totals. ``refund_id``,
    chosen before the transaction's first attempt, lets a retry find out whether an attempt
    whose COMMIT reply was lost recorded it.

    Raises:
        ValidationError: the amount is not positive or exceeds what remains refundable.
    """
    refund_id = refund_id or new_id()
    change = lifecycle.refund(
        booking,
        amount=amount,
        now=now,
        refund_id=refund_id,
        settled=state is RefundState.SUCCEEDED,
    )
    updated = store(uow, change, now=now)
    refund = Refund(
        id=refund_id,
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        amount=amount,
        commission_refund=updated.commission_refunded - booking.commission_refunded,
        reason=reason,
        state=state,
        created_at=now,
        updated_at=now,
        provider_refund_id=provider_refund_id,
    )
    uow.refunds.add(refund)
    return updated, refund


def _attempt_key(refund: Refund) -> str:
    """The provider idempotency key of the next attempt.

    The refund's id while no definitive answer came back (retrying cannot refund twice); after a
    decline (FAILED) a new key per attempt, because providers replay the recorded decline for a
    key they have seen.
    """
    if refund.state is RefundState.FAILED:
        return f"{refund.id}:{refund.attempts}"
    return str(refund.id)


def record_outcome(uow: UnitOfWork, settled: Refund, now: dt.datetime) -> None:
    """Store a refund that reached SUCCEEDED or FAILED, with its outbox event.

    The event is the booking's next version: a change like any other, so it serialises with
    the booking's other changes and takes the next sequence.
    """
    uow.refunds.update(settled)
    booking = uow.bookings.lock(settled.tenant_id, settled.booking_id)
    if booking is None:
        return
    change = lifecycle.note_refund_outcome(
        booking,
        refund_id=settled.id,
        amount=settled.amount,
        succeeded=settled.state is RefundState.SUCCEEDED,
        failure_reason=settled.failure_reason,
        now=now,
    )
    store(uow, change, now=now)


class RefundSettler(Service):
    """Asks the payment provider to execute PENDING/FAILED refunds and records the outcome."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, provider: PaymentProvider | None
    ) -> None:
        super().__init__(uow, clock)
        self._provider = provider

    def settle(self, refund: Refund, *, booking: Booking | None = None) -> Refund:
        """Execute one refund (idempotent: the refund id is the provider's idempotency key).

        ``booking`` (its payment reference and currency) saves a read when the caller has it.
        """
        if self._provider is None or refund.state is RefundState.SUCCEEDED:
            return refund

        def load(uow: UnitOfWork) -> Booking:
            booking = uow.bookings.get(refund.tenant_id, refund.booking_id)
            if booking is None:
                raise NotFoundError("booking", refund.booking_id)
            return booking

        if booking is None:
            booking = self._read(load)
        request = RefundRequest(
            tenant_id=refund.tenant_id,
            booking_id=refund.booking_id,
            payment_ref=booking.payment_ref or "",
            amount=refund.amount,
            currency=booking.currency,
            reason=refund.reason,
            idempotency_key=_attempt_key(refund),
        )
        try:
            result = self._provider.refund(request)
        except PaymentError as error:
            # No answer we can trust (a timeout, a refused call): the refund stays PENDING and
            # the next attempt reuses the same key, so it can never be executed twice.
            return self._record(refund, None, failure=str(error))
        return self._record(refund, result)

    def _record(
        self, refund: Refund, result: RefundResult | None, *, failure: str | None = None
    ) -> Refund:
        """Store the provider's answer to the attempt made from ``refund`` (as read before it).

        Idempotent, so safe after a lost COMMIT reply: a success is recorded once, and a decline
        or a missing answer only while the stored attempt count is still the one the attempt was
        made with (a second run, or a concurrent settler that recorded first, changes nothing).
        """

        def work(uow: UnitOfWork) -> Refund:
            now = self._clock.now()
            current = uow.refunds.lock(refund.tenant_id, refund.id)  # settlers of it queue here
            if current is None or current.state is RefundState.SUCCEEDED:
                return current or refund
            succeeded = result is not None and result.succeeded
            if not succeeded and current.attempts != refund.attempts:
                return current
            if result is None:
                settled = dataclasses.replace(
                    current,
                    failure_reason=storable(failure),
                    attempts=current.attempts + 1,
                    updated_at=now,
                )
                uow.refunds.update(settled)
                return settled
            settled = dataclasses.replace(
                current,
                state=RefundState.SUCCEEDED if result.succeeded else RefundState.FAILED,
                provider_refund_id=storable(result.provider_refund_id)
                or current.provider_refund_id,
                failure_reason=None if result.succeeded else storable(result.failure_reason),
                attempts=current.attempts + 1,
                updated_at=now,
            )
            record_outcome(uow, settled, now)
            return settled

        return self._write(work, idempotent=True)

    def retry(self, *, tenant_id: uuid.UUID | None, limit: int) -> list[Refund]:
        """Settle unsettled (PENDING or FAILED) refunds (one tenant's or all), oldest first.

        One refund that cannot be settled (its booking gone, a storage error) is logged and
        returned as it was; it never stops the others.
        """
        pending = self._read(lambda uow: uow.refunds.unsettled(tenant_id=tenant_id, limit=limit))
        return [self._settle_isolated(refund) for refund in pending]

    def _settle_isolated(self, refund: Refund) -> Refund:
        try:
            return self.settle(refund)
        except BookingCoreError as error:
            log.warning(
                "refund could not be settled",
                extra={"refund_id": str(refund.id), "error": f"{type(error).__name__}: {error}"},
            )
            return refund


def storable(text: str | None) -> str | None:
    """Text from the provider made storable by every backend (see ``_validate.storable``)."""
    return None if text is None else v.storable(text, max_length=MAX_REASON_LENGTH)
