"""Recurring bookings: a series of timed occurrences held in one call and one transaction.

Every occurrence is a booking of its own with the series' id: its time is claimed exactly as a
single hold's is (the database refuses an overlap), and it moves through confirm, cancel and
the outbox like any booking. A series is held all-or-nothing (the first occurrence that cannot
be held rolls the whole transaction back) or skipping conflicts (the result lists what was
skipped and why). One payment pays the series; each occurrence records its own share, so its
refund on cancellation (by its own date's tier) never exceeds that share, and the refunds of a
series never exceed its payment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from booking_core.domain import lifecycle
from booking_core.domain.ids import new_id
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    Cancellation,
    CustomerDetails,
    SeriesCancelScope,
    SeriesConflicts,
    SeriesHold,
    SkippedOccurrence,
)
from booking_core.domain.rules import local_today
from booking_core.domain.schedule import rule_dates
from booking_core.errors import (
    BookingConflictError,
    HoldExpiredError,
    NotFoundError,
    PaymentError,
    TimeUnavailableError,
    ValidationError,
)
from booking_core.limits import MAX_SERIES_OCCURRENCES
from booking_core.ports.cache import CachePort
from booking_core.ports.clock import Clock
from booking_core.ports.payments import PaymentProvider, PaymentRequest, PaymentSession
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _validate as v
from booking_core.services._base import (
    CacheSettings,
    Invalidation,
    Service,
    load_tenant,
    months_of,
)
from booking_core.services._hold_request import HoldRequest, hold_time
from booking_core.services._lifecycle import store
from booking_core.services._scheduling import candidates_for, instant, timed
from booking_core.services.bookings import BookingService, _hold_input

__all__ = ["SeriesCheckout", "SeriesService"]

_EVENT_IDS = uuid.UUID("6f0d8a52-54a5-4b7e-9a57-3f3c2e0f6a11")


@dataclass(frozen=True, slots=True)
class SeriesCheckout:
    """A held series with the one payment that pays it: send the customer to
    ``session.redirect_url``."""

    series: SeriesHold
    session: PaymentSession


def _occurrence_event_id(base: uuid.UUID, booking_id: uuid.UUID) -> uuid.UUID:
    """The id of an occurrence's event in one series-wide change, chosen before the first
    attempt (derived, so a retry writes the same ids and a lost reply can be recognised)."""
    return uuid.uuid5(_EVENT_IDS, f"{base}:{booking_id}")


class SeriesService(Service):
    """Hold, pay, confirm and cancel recurring series of timed bookings."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        bookings: BookingService,
        *,
        payments: PaymentProvider | None = None,
        cache: CachePort | None = None,
        cache_settings: CacheSettings | None = None,
    ) -> None:
        super().__init__(uow, clock, cache=cache, cache_settings=cache_settings)
        self._bookings = bookings
        self._payments = payments

    # --- holding -----------------------------------------------------------------------------

    def hold(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        first: dt.datetime,
        rule: str,
        customer: CustomerDetails,
        resource_id: uuid.UUID | None = None,
        conflicts: SeriesConflicts = SeriesConflicts.ALL_OR_NOTHING,
    ) -> SeriesHold:
        """Hold the occurrences of a timed package that ``rule`` (an RFC 5545 RRULE value with
        COUNT or UNTIL, e.g. ``FREQ=WEEKLY;COUNT=10``) yields from ``first``, in one
        transaction.

        Occurrences keep ``first``'s wall-clock time in the tenant's zone across DST changes
        ("every Tuesday 18:00" stays 18:00). Each is claimed as a single hold is (the database
        refuses an overlap), with ``resource_id`` or an assigned resource. With
        :attr:`SeriesConflicts.ALL_OR_NOTHING` the first occurrence that cannot be held
        raises its error and nothing is written; with :attr:`SeriesConflicts.SKIP` it is
        listed in ``skipped`` with the reason. At most ``MAX_SERIES_OCCURRENCES``.

        Raises:
            ValidationError: malformed input, a rule without COUNT or UNTIL, too many
                occurrences, a date package.
            NotFoundError: no such tenant, package or resource.
            BookingConflictError / TimeUnavailableError: all-or-nothing, an occurrence that
                cannot be held (naming its start).
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        resource_id = v.optional_uuid(resource_id, "resource_id")
        first = instant(first, "first")
        if not isinstance(conflicts, SeriesConflicts):
            raise ValidationError("conflicts", "must be a SeriesConflicts")
        if not isinstance(rule, str) or not any(
            part.split("=", 1)[0].strip().upper() in ("COUNT", "UNTIL") for part in rule.split(";")
        ):
            raise ValidationError("rule", "must end: give COUNT or UNTIL")
        details, _, _ = _hold_input(customer, None, None)
        series_id = new_id()
        customer_id = new_id()
        ids = tuple(new_id() for _ in range(MAX_SERIES_OCCURRENCES))
        events = tuple(new_id() for _ in range(MAX_SERIES_OCCURRENCES))
        starts = tuple(self._starts(tenant_id, first, rule))
        # the same question a single hold asks, over the whole series (BookingService's)
        busy = self._bookings._calendar_busy(tenant_id, package_id, starts[0], starts[-1])

        def work(uow: UnitOfWork) -> SeriesHold:
            now = self._clock.now()
            tenant = load_tenant(uow, tenant_id)
            package, _ = timed(uow.packages.get(tenant_id, package_id), package_id)
            held: list[Booking] = []
            skipped: list[SkippedOccurrence] = []
            for index, start in enumerate(starts):
                request = HoldRequest(
                    tenant_id=tenant_id,
                    package_id=package_id,
                    venue_id=None,
                    date=start.date(),
                    customer=details,
                    quantities={},
                    key=None,
                    fingerprint="",
                    calendar_busy=False,
                    booking_id=ids[index],
                    customer_id=customer_id,
                    event_id=events[index],
                )
                try:
                    candidates = candidates_for(
                        uow, package, start, tenant=tenant, now=now, named=resource_id, busy=busy
                    )
                except TimeUnavailableError as refused:
                    if conflicts is SeriesConflicts.ALL_OR_NOTHING:
                        raise
                    skipped.append(SkippedOccurrence(start, refused.reason))
                    continue
                placed = hold_time(
                    uow,
                    request,
                    package,
                    candidates,
                    start,
                    tenant=tenant,
                    now=now,
                    series_id=series_id,
                )
                if placed is None:
                    if conflicts is SeriesConflicts.ALL_OR_NOTHING:
                        date = local_today(start, tenant.timezone)
                        raise BookingConflictError(date, start=start, resource_id=resource_id)
                    skipped.append(SkippedOccurrence(start, "taken"))
                    continue
                held.append(placed)
            return SeriesHold(series_id, tuple(held), tuple(skipped))

        def landed(uow: UnitOfWork) -> SeriesHold | None:
            found = uow.bookings.list_series(tenant_id, series_id)
            if not found:
                return None
            held_starts = {b.starts_at for b in found}
            lost = tuple(SkippedOccurrence(s, "not_held") for s in starts if s not in held_starts)
            return SeriesHold(series_id, tuple(found), lost)

        return self._write(work, invalidates=_months_of_all, landed=landed)

    def _starts(self, tenant_id: uuid.UUID, first: dt.datetime, rule: str) -> list[dt.datetime]:
        """The occurrences' starts: the rule's local dates at ``first``'s local wall time (a
        time a DST gap skips moves past the gap, as zoneinfo resolves it), as UTC."""
        tenant = self._read(lambda uow: load_tenant(uow, tenant_id))
        zone = ZoneInfo(tenant.timezone)
        local = first.astimezone(zone)
        last = local.date() + dt.timedelta(days=3 * 366)
        dates = rule_dates(rule, local.date(), last, field="rule")
        if len(dates) > MAX_SERIES_OCCURRENCES:
            limit = MAX_SERIES_OCCURRENCES
            raise ValidationError("rule", f"yields more than {limit} occurrences in three years")
        if not dates:
            raise ValidationError("rule", "yields no occurrence")
        wall = local.time().replace(tzinfo=None)
        return [dt.datetime.combine(day, wall, zone).astimezone(dt.UTC) for day in dates]

    def checkout(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        first: dt.datetime,
        rule: str,
        customer: CustomerDetails,
        resource_id: uuid.UUID | None = None,
        conflicts: SeriesConflicts = SeriesConflicts.ALL_OR_NOTHING,
    ) -> SeriesCheckout:
        """:meth:`hold` the series, then create one payment for the sum of its occurrences
        (its platform fee the sum of their commissions). The payment's webhook confirms every
        occurrence (see ``WebhookService``). If the provider refuses, the series is cancelled
        and PaymentError raised.

        Raises:
            PaymentError: no provider, it refused, or nothing was held to pay for.
        """
        provider = self._payments
        if provider is None:
            raise PaymentError("no payment provider is configured")
        series = self.hold(
            tenant_id,
            package_id=package_id,
            first=first,
            rule=rule,
            customer=customer,
            resource_id=resource_id,
            conflicts=conflicts,
        )
        if not series.bookings:
            raise PaymentError("no occurrence of the series could be held: nothing to pay")
        lead = series.bookings[0]
        request = PaymentRequest(
            tenant_id=lead.tenant_id,
            booking_id=lead.id,
            amount=series.total,
            currency=lead.currency,
            application_fee=sum(b.commission for b in series.bookings),
            description=f"Series {series.series_id} ({len(series.bookings)} bookings)",
            idempotency_key=f"checkout-series:{series.series_id}",
            metadata={"tenant_id": str(lead.tenant_id), "series_id": str(series.series_id)},
        )
        try:
            session = provider.create_payment(request)
        except PaymentError:
            self.cancel(tenant_id, series.series_id, reason="payment could not be created")
            raise
        return SeriesCheckout(series, session)

    # --- after the hold ----------------------------------------------------------------------

    def get(self, tenant_id: uuid.UUID, series_id: uuid.UUID) -> list[Booking]:
        """The occurrences of a series, by start, as of now.

        Raises:
            NotFoundError: no such series of this tenant.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        series_id = v.uuid_(series_id, "series_id")
        found = self._read(lambda uow: uow.bookings.list_series(tenant_id, series_id))
        if not found:
            raise NotFoundError("series", series_id)
        now = self._clock.now()
        return [booking.as_of(now) for booking in found]

    def confirm(
        self,
        tenant_id: uuid.UUID,
        series_id: uuid.UUID,
        *,
        payment_ref: str,
        amount_paid: int | None = None,
    ) -> list[Booking]:
        """Confirm every held occurrence with one payment, in one transaction: each records
        its own total as its share. ``amount_paid`` (default: the sum) must equal the sum of
        the held occurrences. Occurrences already confirmed by this payment are left as they
        are (a retry is a no-op); cancelled ones are not paid for.

        Raises:
            HoldExpiredError: an occurrence's hold lapsed first (nothing is confirmed).
            ValidationError: ``amount_paid`` is not the sum of the held occurrences.
            InvalidTransitionError: an occurrence was confirmed by another payment.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        series_id = v.uuid_(series_id, "series_id")
        ref = v.name(payment_ref, "payment_ref")
        paid = None if amount_paid is None else v.money(amount_paid, "amount_paid")
        base = new_id()

        def work(uow: UnitOfWork) -> list[Booking]:
            now = self._clock.now()
            load_tenant(uow, tenant_id)
            found = uow.bookings.list_series(tenant_id, series_id)
            if not found:
                raise NotFoundError("series", series_id)
            locked = [uow.bookings.lock(tenant_id, b.id) or b for b in found]
            due = [b for b in locked if b.status is BookingStatus.PENDING]
            if paid is not None and paid != sum(b.total for b in due):
                total = sum(b.total for b in due)
                raise ValidationError("amount_paid", f"must be the held occurrences' {total}")
            result = []
            for booking in locked:
                if booking.status in (BookingStatus.CANCELED, BookingStatus.EXPIRED):
                    result.append(booking)
                    continue
                if booking.is_lapsed(now):
                    raise HoldExpiredError(booking.id, BookingStatus.EXPIRED.value, "CONFIRMED")
                change = lifecycle.confirm(
                    booking,
                    payment_ref=ref,
                    amount_paid=booking.total,
                    now=now,
                    event_id=_occurrence_event_id(base, booking.id),
                )
                result.append(booking if change is None else store(uow, change, now=now))
            return result

        def landed(uow: UnitOfWork) -> list[Booking] | None:
            found = uow.bookings.list_series(tenant_id, series_id)
            marks = [uow.outbox.get(tenant_id, _occurrence_event_id(base, b.id)) for b in found]
            return found if any(mark is not None for mark in marks) else None

        return self._write(work, invalidates=_months_of_all, landed=landed)

    def cancel(
        self,
        tenant_id: uuid.UUID,
        series_id: uuid.UUID,
        *,
        scope: SeriesCancelScope = SeriesCancelScope.SERIES,
        booking_id: uuid.UUID | None = None,
        reason: str = "",
    ) -> list[Cancellation]:
        """Cancel the whole series, one occurrence (``booking_id``) or that occurrence and
        every later one. Each occurrence is cancelled as a single booking is: refunded by the
        tenant's policy from its own date's tier, up to the share of the payment it recorded.
        Occurrences already cancelled or lapsed are left out; calling again finishes a cancel
        that stopped part way (each occurrence's cancel is idempotent).

        Raises:
            ValidationError: ``ONE``/``FOLLOWING`` without ``booking_id``, or a bad scope.
            NotFoundError: no such series, or ``booking_id`` is not one of its occurrences.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        series_id = v.uuid_(series_id, "series_id")
        booking_id = v.optional_uuid(booking_id, "booking_id")
        if not isinstance(scope, SeriesCancelScope):
            raise ValidationError("scope", "must be a SeriesCancelScope")
        if scope is not SeriesCancelScope.SERIES and booking_id is None:
            raise ValidationError("booking_id", f"names the occurrence a {scope.value} cancel")
        occurrences = self.get(tenant_id, series_id)
        chosen = occurrences
        if booking_id is not None and scope is not SeriesCancelScope.SERIES:
            position = next((i for i, b in enumerate(occurrences) if b.id == booking_id), None)
            if position is None:
                raise NotFoundError("booking", booking_id)
            if scope is SeriesCancelScope.ONE:
                chosen = occurrences[position : position + 1]
            else:
                chosen = occurrences[position:]
        live = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        return [
            self._bookings.cancel(tenant_id, booking.id, reason=reason)
            for booking in chosen
            if booking.status in live
        ]


def _months_of_all(found: SeriesHold | Iterable[Booking]) -> list[Invalidation]:
    bookings = found.bookings if isinstance(found, SeriesHold) else found
    stale: dict[Invalidation, None] = {}
    for booking in bookings:
        stale.update(dict.fromkeys(months_of(booking)))
    return list(stale)
