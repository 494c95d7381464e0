"""The payment webhook inbox: verify, record once, process exactly once, recover from failure.

``receive`` verifies the provider's signature over the raw bytes, records the event once per
(tenant, provider, event id) with the raw payload byte-identical, then processes it in a
transaction that locks the inbox row: the effect (confirming a booking, releasing a hold,
recording a refund) and the PROCESSED mark commit together, so concurrent deliveries of one
event have exactly one effect. An event whose processing fails is marked FAILED with its error
and is processed again on redelivery or by :meth:`WebhookService.retry_failed` — unlike a
PROCESSED one, which is acknowledged without effect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from booking_core.domain import lifecycle
from booking_core.domain.ids import new_id
from booking_core.domain.lifecycle import BookingChange
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    InboxEvent,
    InboxState,
    Refund,
    RefundState,
)
from booking_core.domain.rules import pool_capacity
from booking_core.domain.schedule import Interval
from booking_core.errors import (
    AlreadyExistsError,
    BookingCoreError,
    HoldExpiredError,
    NotFoundError,
    PaymentError,
    TransientStorageError,
    ValidationError,
    WebhookVerificationError,
)
from booking_core.limits import MAX_ATTEMPTS, MAX_BATCH
from booking_core.ports.cache import CachePort
from booking_core.ports.clock import Clock
from booking_core.ports.payments import PaymentEvent, PaymentEventType, PaymentProvider
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _validate as v
from booking_core.services._base import (
    CacheSettings,
    Invalidation,
    Service,
    load_tenant,
    months_of,
)
from booking_core.services._lifecycle import reclaim, store
from booking_core.services._refunds import RefundSettler, decide_refund, record_outcome
from booking_core.services._scheduling import claim_for
from booking_core.web.signing import HeaderLines

__all__ = ["MAX_BODY_BYTES", "MAX_ERROR_LENGTH", "WebhookReceipt", "WebhookService"]

log = logging.getLogger("booking_core.webhooks")

MAX_BODY_BYTES = 256 * 1024
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    """What happened to a delivered webhook.

    ``duplicate`` is True when the event had already been processed (acknowledged without
    effect). ``state`` FAILED means the effect could not be applied; the event will be
    processed again on redelivery or by ``retry_failed``. Answer the provider 2xx unless you
    want it to redeliver a FAILED event.
    """

    event_id: str
    event_type: str
    state: InboxState
    duplicate: bool
    outcome: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Effect:
    """What applying an event did: its outcome, refunds to execute, cache entries to drop."""

    outcome: str
    refunds: tuple[Refund, ...] = ()
    invalidations: tuple[Invalidation, ...] = ()


@dataclass(frozen=True, slots=True)
class _Processed:
    """The result of one processing transaction (no effect: the event was a duplicate)."""

    receipt: WebhookReceipt
    effect: _Effect = _Effect("")


class WebhookService(Service):
    """Receives payment-provider webhooks into the inbox and applies them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        payments: PaymentProvider | None,
        *,
        cache: CachePort | None = None,
        cache_settings: CacheSettings | None = None,
    ) -> None:
        super().__init__(uow, clock, cache=cache, cache_settings=cache_settings)
        self._payments = payments
        self._refunds = RefundSettler(uow, clock, payments)

    def receive(
        self,
        tenant_id: uuid.UUID | None,
        raw_body: bytes,
        headers: Mapping[str, str],
        *,
        provider: str | None = None,
    ) -> WebhookReceipt:
        """Verify, record and process one delivery of the configured provider's webhook.

        ``tenant_id`` None takes the tenant from the verified event (for a single webhook URL
        shared by all tenants); with a tenant id, an event of another tenant is refused.
        ``headers`` may be any mapping-like object with ``items()`` (werkzeug's ``Headers``
        included). ``provider``, when given (a route's ``/webhooks/{provider}`` segment, say),
        must name the configured provider; leave it out to mean that one.

        Raises:
            ValidationError: not bytes, an unknown provider, or a malformed tenant id.
            WebhookVerificationError: bad signature, stale timestamp, malformed or oversized
                body, or an event of another tenant. Nothing is written.
            NotFoundError / TenantInactiveError: unknown or deactivated tenant.
        """
        expected = v.optional_uuid(tenant_id, "tenant_id")
        payments = self._provider(provider)
        if not isinstance(raw_body, bytes):
            raise ValidationError("raw_body", "must be the raw request body as bytes")
        if len(raw_body) > MAX_BODY_BYTES:
            raise WebhookVerificationError(f"body larger than {MAX_BODY_BYTES} bytes")
        items = getattr(headers, "items", None)
        if not callable(items):
            raise ValidationError("headers", "must be a mapping of header names to values")
        # every line kept: a dict would let a repeated signature header's last copy win
        plain_headers = HeaderLines((str(name), str(value)) for name, value in items())
        now = self._clock.now()
        event = payments.parse_webhook(raw_body, plain_headers, now=now)
        if expected is not None and event.tenant_id != expected:
            raise WebhookVerificationError("the event belongs to another tenant")
        tenant_id = event.tenant_id

        def record(uow: UnitOfWork) -> None:
            load_tenant(uow, tenant_id)
            uow.inbox.record(
                InboxEvent(
                    tenant_id=tenant_id,
                    provider=payments.name,
                    event_id=event.event_id,
                    event_type=event.type.value,
                    payload=raw_body,
                    state=InboxState.PENDING,
                    received_at=now,
                    details=msgspec.to_builtins(event),
                )
            )

        self._write(record, idempotent=True)  # recording an event twice stores it once
        return self._process(tenant_id, payments.name, event)

    def retry_failed(
        self,
        *,
        tenant_id: uuid.UUID | None = None,
        max_attempts: int = 5,
        limit: int = 100,
    ) -> list[WebhookReceipt]:
        """Process FAILED events again (of one tenant, or all) with < ``max_attempts`` attempts."""
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        max_attempts = v.integer(max_attempts, "max_attempts", minimum=1, maximum=MAX_ATTEMPTS)
        limit = v.integer(limit, "limit", minimum=1, maximum=MAX_BATCH)
        failed = self._read(
            lambda uow: uow.inbox.failed(tenant_id=tenant, max_attempts=max_attempts, limit=limit)
        )
        receipts = []
        for stored in failed:
            event = msgspec.convert(stored.details, PaymentEvent)
            receipts.append(self._process(stored.tenant_id, stored.provider, event))
        return receipts

    def get(self, tenant_id: uuid.UUID, event_id: str) -> InboxEvent:
        """The configured provider's stored inbox entry (raw payload byte-identical to what
        was received)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        name = self._provider(None).name
        event_id = v.identifier(event_id, "event_id", max_length=255)

        def work(uow: UnitOfWork) -> InboxEvent:
            load_tenant(uow, tenant_id, require_active=False)
            found = uow.inbox.lock(tenant_id, name, event_id)
            if found is None:
                raise NotFoundError("webhook_event", event_id)
            return found

        return self._read(work)

    def _provider(self, name: object) -> PaymentProvider:
        """The configured provider; ``name`` (None: that one) must name it."""
        if self._payments is None:
            raise PaymentError("no payment provider is configured")
        if name is None:
            return self._payments
        # a str first: comparing an arbitrary object may run its own __eq__
        if v.identifier(name, "provider", max_length=50) != self._payments.name:
            raise ValidationError("provider", f"unknown payment provider {name!r}")
        return self._payments

    # --- processing ------------------------------------------------------------------------

    def _process(self, tenant_id: uuid.UUID, provider: str, event: PaymentEvent) -> WebhookReceipt:
        # Chosen before the first attempt: a retry after a lost COMMIT reply finds the refund
        # that attempt decided (and settles it) instead of deciding another.
        refund_id = new_id()

        def work(uow: UnitOfWork) -> _Processed:
            stored = uow.inbox.lock(tenant_id, provider, event.event_id)
            if stored is None:
                raise NotFoundError("webhook_event", event.event_id)
            if stored.state is InboxState.PROCESSED:
                return _Processed(_receipt(stored, duplicate=True))
            now = self._clock.now()
            effect = self._apply(uow, event, now, refund_id=refund_id)
            done = dataclasses.replace(
                stored,
                state=InboxState.PROCESSED,
                attempts=stored.attempts + 1,
                processed_at=now,
                outcome=effect.outcome,
                last_error=None,
            )
            uow.inbox.update(done)
            return _Processed(_receipt(done, duplicate=False), effect)

        def landed(uow: UnitOfWork) -> _Processed | None:
            stored = uow.inbox.lock(tenant_id, provider, event.event_id)
            if stored is None or stored.state is not InboxState.PROCESSED:
                return None
            refund = uow.refunds.get(tenant_id, refund_id)
            booking = uow.bookings.get(tenant_id, event.booking_id)
            effect = _Effect(
                stored.outcome or "",
                refunds=() if refund is None else (refund,),
                invalidations=() if booking is None else tuple(months_of(booking)),
            )
            return _Processed(_receipt(stored, duplicate=False), effect)

        try:
            processed = self._write(
                work, invalidates=lambda done: done.effect.invalidations, landed=landed
            )
        except BookingCoreError as error:
            return self._fail(tenant_id, provider, event, error)
        for refund in processed.effect.refunds:
            self._refunds.settle(refund)
        return processed.receipt

    def _fail(
        self, tenant_id: uuid.UUID, provider: str, event: PaymentEvent, error: Exception
    ) -> WebhookReceipt:
        message = v.storable(f"{type(error).__name__}: {error}", max_length=MAX_ERROR_LENGTH)
        log.warning(
            "payment webhook failed",
            extra={"event_id": event.event_id, "tenant_id": str(tenant_id), "error": message},
        )

        def work(uow: UnitOfWork) -> WebhookReceipt:
            stored = uow.inbox.lock(tenant_id, provider, event.event_id)
            if stored is None:
                raise NotFoundError("webhook_event", event.event_id)
            if stored.state is InboxState.PROCESSED:  # a concurrent delivery succeeded
                return _receipt(stored, duplicate=True)
            failed = dataclasses.replace(
                stored, state=InboxState.FAILED, attempts=stored.attempts + 1, last_error=message
            )
            uow.inbox.update(failed)
            return _receipt(failed, duplicate=False)

        # Rerun after a lost COMMIT reply, it marks the event FAILED again: only the attempt
        # counter may count that delivery twice.
        return self._write(work, idempotent=True)

    def _apply(
        self, uow: UnitOfWork, event: PaymentEvent, now: dt.datetime, *, refund_id: uuid.UUID
    ) -> _Effect:
        load_tenant(uow, event.tenant_id)
        # A payment changes the booking: it waits for the booking's other changes. A refund
        # locks its refund first and the booking after (as the refund settler does), so it
        # only reads the booking here.
        refund_event = event.type is PaymentEventType.REFUND_SUCCEEDED
        read = uow.bookings.get if refund_event else uow.bookings.lock
        booking = read(event.tenant_id, event.booking_id)
        if booking is None:
            raise NotFoundError("booking", event.booking_id)
        if event.type is PaymentEventType.PAYMENT_SUCCEEDED:
            return self._paid(uow, booking, event, now, refund_id=refund_id)
        if event.type in (PaymentEventType.PAYMENT_FAILED, PaymentEventType.PAYMENT_EXPIRED):
            return self._payment_lost(uow, booking, event, now)
        return self._refunded(uow, booking, event, now, refund_id=refund_id)

    def _paid(
        self,
        uow: UnitOfWork,
        booking: Booking,
        event: PaymentEvent,
        now: dt.datetime,
        *,
        refund_id: uuid.UUID,
    ) -> _Effect:
        # Money effects are keyed on the payment, not only on the event id: providers report
        # one payment more than once, under new event ids.
        if booking.payment_ref is not None:
            if booking.payment_ref != event.payment_ref:
                raise PaymentError(
                    f"booking {booking.id} was already paid by {booking.payment_ref}"
                )
            if booking.status in (BookingStatus.CONFIRMED, BookingStatus.FULFILLED):
                return _Effect("already_confirmed")
            return _Effect("payment_already_recorded")
        if booking.series_id is not None:
            return self._series_paid(uow, booking.series_id, event, now, refund_id=refund_id)
        if event.currency != booking.currency or event.amount != booking.total:
            raise PaymentError(
                f"paid {event.amount} {event.currency}, booking costs "
                f"{booking.total} {booking.currency}"
            )
        if booking.status is BookingStatus.PENDING and not booking.is_lapsed(now):
            change = lifecycle.confirm(
                booking, payment_ref=event.payment_ref, amount_paid=event.amount, now=now
            )
            assert change is not None  # a PENDING hold paid by no payment yet
            try:
                confirmed = store(uow, change, now=now)
            except HoldExpiredError as lost:
                raise PaymentError("the hold changed while confirming; retry") from lost
            return _Effect("confirmed", invalidations=tuple(months_of(confirmed)))
        kept = self._keep_date(uow, booking, event, now)
        if kept is not None:
            return kept
        return self._refund_late_payment(uow, booking, event, now, refund_id=refund_id)

    @staticmethod
    def _series_paid(
        uow: UnitOfWork,
        series_id: uuid.UUID,
        event: PaymentEvent,
        now: dt.datetime,
        *,
        refund_id: uuid.UUID,
    ) -> _Effect:
        """One payment for a whole series (``SeriesService.checkout``): every occurrence still
        held is confirmed with its own total as its share; an occurrence that lapsed or was
        cancelled meanwhile records its share only to refund it. The shares add up to the
        payment, so the series' refunds can never exceed it."""
        found = uow.bookings.list_series(event.tenant_id, series_id)
        occurrences = [uow.bookings.lock(event.tenant_id, b.id) or b for b in found]
        if any(b.payment_ref is not None for b in occurrences):
            return _Effect("payment_already_recorded")
        owed = sum(b.total for b in occurrences)
        currencies = {b.currency for b in occurrences}
        if currencies != {event.currency} or event.amount != owed:
            raise PaymentError(
                f"paid {event.amount} {event.currency}, series costs {owed} {min(currencies)}"
            )
        refunds: list[Refund] = []
        stale: list[Invalidation] = []
        for booking in occurrences:
            if booking.status is BookingStatus.PENDING and not booking.is_lapsed(now):
                change = lifecycle.confirm(
                    booking, payment_ref=event.payment_ref, amount_paid=booking.total, now=now
                )
                assert change is not None  # a PENDING hold paid by no payment yet
                try:
                    stale.extend(months_of(store(uow, change, now=now)))
                except HoldExpiredError as lost:
                    raise PaymentError("a hold changed while confirming; retry") from lost
                continue
            refunded = WebhookService._refund_late_payment(
                uow,
                booking,
                event,
                now,
                refund_id=uuid.uuid5(refund_id, str(booking.id)),
                amount=booking.total,
            )
            refunds.extend(refunded.refunds)
            stale.extend(refunded.invalidations)
        outcome = "series_confirmed" if not refunds else "series_confirmed_in_part"
        return _Effect(outcome, refunds=tuple(refunds), invalidations=tuple(stale))

    @staticmethod
    def _keep_date(
        uow: UnitOfWork, booking: Booking, event: PaymentEvent, now: dt.datetime
    ) -> _Effect | None:
        """Paid after the hold lapsed: confirm it if its date still has a free seat.

        The seat is claimed again before the booking is stored, so a full date leaves the
        booking unchanged for :meth:`_refund_late_payment`, in the same transaction.
        """
        change = lifecycle.confirm_late(
            booking, payment_ref=event.payment_ref, amount_paid=event.amount, now=now
        )
        if change is None:
            return None
        if booking.is_timed:
            return _keep_time(uow, change, now)
        context = uow.bookings.hold_context(
            booking.tenant_id, booking.package_id, booking.venue_id, booking.event_date, now
        )
        capacity = (
            None
            if context is None
            else pool_capacity(context.tenant, context.venue, booking.venue_id)
        )
        if not capacity:
            return None
        confirmed = reclaim(uow, change, now=now, capacity=capacity)
        if confirmed is None:
            return None
        return _Effect("confirmed_after_expiry", invalidations=tuple(months_of(confirmed)))

    @staticmethod
    def _refund_late_payment(
        uow: UnitOfWork,
        booking: Booking,
        event: PaymentEvent,
        now: dt.datetime,
        *,
        refund_id: uuid.UUID,
        amount: int | None = None,
    ) -> _Effect:
        """The date is gone, or the booking was cancelled: keep the money only to refund it
        (``amount``: the booking's share of a payment for several, else the whole event's)."""
        paid = event.amount if amount is None else amount
        change = lifecycle.record_late_payment(
            booking, payment_ref=event.payment_ref, amount_paid=paid, now=now
        )
        recorded = store(uow, change, now=now)
        why = lifecycle.late_payment_reason(change)
        _, refund = decide_refund(uow, recorded, paid, why, now, refund_id=refund_id)
        return _Effect(
            "refunded_late_payment", refunds=(refund,), invalidations=tuple(months_of(recorded))
        )

    def _payment_lost(
        self, uow: UnitOfWork, booking: Booking, event: PaymentEvent, now: dt.datetime
    ) -> _Effect:
        change = lifecycle.release_unpaid(booking, reason=event.type.value, now=now)
        if change is None:
            return _Effect("ignored")
        released = store(uow, change, now=now)
        return _Effect("hold_released", invalidations=tuple(months_of(released)))

    def _refunded(
        self,
        uow: UnitOfWork,
        booking: Booking,
        event: PaymentEvent,
        now: dt.datetime,
        *,
        refund_id: uuid.UUID,
    ) -> _Effect:
        provider_id = event.provider_refund_id
        if not provider_id:
            raise PaymentError("refund event without a refund id")
        found = uow.refunds.find_by_provider_id(booking.tenant_id, provider_id) or _our_refund(
            uow, booking, event.refund_key
        )
        # locked, then read again: a settler recording the same refund queues with us
        known = None if found is None else uow.refunds.lock(found.tenant_id, found.id)
        if known is not None:
            if known.state is RefundState.SUCCEEDED:
                return _Effect("refund_already_recorded")
            settled = dataclasses.replace(
                known,
                state=RefundState.SUCCEEDED,
                provider_refund_id=provider_id,
                updated_at=now,
                failure_reason=None,
            )
            record_outcome(uow, settled, now)
            return _Effect("refund_recorded")
        # A refund made outside booking_core (e.g. the provider's dashboard).
        try:
            decide_refund(
                uow,
                booking,
                event.amount,
                "refunded at the payment provider",
                now,
                state=RefundState.SUCCEEDED,
                provider_refund_id=provider_id,
                refund_id=refund_id,
            )
        except AlreadyExistsError as error:
            # Another report of this refund was recorded while we looked (the provider id is a
            # unique key): run again, and find it recorded.
            raise TransientStorageError("the refund was recorded concurrently") from error
        return _Effect("refund_recorded")


def _our_refund(uow: UnitOfWork, booking: Booking, refund_key: str | None) -> Refund | None:
    """The refund booking_core asked for under ``refund_key`` (its id, or ``id:attempt``).

    A provider may report a refund before booking_core recorded the provider's answer to the
    request; without this, that report would look like a refund made elsewhere and count twice.
    """
    if not refund_key:
        return None
    try:
        refund_id = uuid.UUID(refund_key.split(":", 1)[0])
    except ValueError:
        return None
    refund = uow.refunds.get(booking.tenant_id, refund_id)
    return refund if refund is not None and refund.booking_id == booking.id else None


def _receipt(stored: InboxEvent, *, duplicate: bool) -> WebhookReceipt:
    return WebhookReceipt(
        event_id=stored.event_id,
        event_type=stored.event_type,
        state=stored.state,
        duplicate=duplicate,
        outcome=stored.outcome,
        error=stored.last_error,
    )


def _keep_time(uow: UnitOfWork, change: BookingChange, now: dt.datetime) -> _Effect | None:
    """A late payment of a timed hold keeps its time if every resource it had is still free
    (the same resources: the customer was told who serves them)."""
    booking = change.after
    tenant = uow.tenants.get(booking.tenant_id)
    package = uow.packages.get(booking.tenant_id, booking.package_id)
    if tenant is None or package is None or package.schedule is None or booking.starts_at is None:
        return None
    start = booking.starts_at
    if start <= now or booking.ends_at is None:
        return None  # its time has begun: the payment is refunded, never kept for the past
    away = uow.time_off.overlapping(
        booking.tenant_id, booking.resource_ids, Interval(start, booking.ends_at)
    )
    if away:
        return None  # a resource is away since the hold lapsed
    resources = [
        resource
        for resource in uow.resources.get_many(booking.tenant_id, booking.resource_ids)
        if resource.active
    ]
    if len(resources) != len(booking.resource_ids):
        return None

    def claim(after: Booking) -> bool:
        taken = claim_for(
            uow,
            package,
            resources,
            start,
            tenant=tenant,
            booking_id=after.id,
            now=now,
            expires_at=None,
        )
        return taken is not None

    confirmed = reclaim(uow, change, now=now, capacity=0, claim=claim)
    if confirmed is None:
        return None
    return _Effect("confirmed_after_expiry", invalidations=tuple(months_of(confirmed)))
