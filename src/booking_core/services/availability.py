"""Availability: whether dates can be booked, and blackout management.

A range is answered in a constant number of queries (tenant, venue, blackouts, claim counts)
plus one call of the calendar port, whatever its length.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    BlackoutDate,
    DateAvailability,
    HeldSeat,
    Tenant,
)
from booking_core.domain.rules import first_reason, local_today, policy_reason, pool_capacity
from booking_core.errors import NotFoundError
from booking_core.ports.cache import CachePort
from booking_core.ports.calendar import CalendarPort
from booking_core.ports.clock import Clock
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _validate as v
from booking_core.services._base import (
    CacheSettings,
    Service,
    availability_namespace,
    load_tenant,
    whole_tenant,
)

__all__ = ["AvailabilityService"]


def capacity_for(
    uow: UnitOfWork, tenant: Tenant, venue_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, int]:
    """(venue id, capacity) of the pool a booking draws from; the venue must be active."""
    venue = None if venue_id is None else uow.venues.get(tenant.id, v.uuid_(venue_id, "venue_id"))
    capacity = pool_capacity(tenant, venue, venue_id)
    if capacity is None:
        raise NotFoundError("venue", venue_id)
    return venue_id, capacity


@dataclass(frozen=True, slots=True)
class RangeFacts:
    """What availability of a date range depends on, apart from "now" and the calendar.

    Cached per month of a capacity pool: it changes only with writes (holds, confirmations,
    cancellations, blackouts, tenant or venue edits), never with time, because a lapsed seat is
    judged at read time from its ``expires_at``.
    """

    tenant: Tenant
    capacity: int
    blackouts: tuple[dt.date, ...]
    seats: tuple[HeldSeat, ...]


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar months covering ``[start, end]``, as (first day, last day)."""
    months = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        months.append((first, following - dt.timedelta(days=1)))
        first = following
    return months


class AvailabilityService(Service):
    """Answer availability questions and manage blackout dates."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendar: CalendarPort,
        *,
        cache: CachePort | None = None,
        cache_settings: CacheSettings | None = None,
    ) -> None:
        super().__init__(uow, clock, cache=cache, cache_settings=cache_settings)
        self._calendar = calendar

    def _load_facts(
        self, tenant_id: uuid.UUID, venue_id: uuid.UUID | None, start: dt.date, end: dt.date
    ) -> RangeFacts:
        def work(uow: UnitOfWork) -> RangeFacts:
            tenant = load_tenant(uow, tenant_id)
            venue, capacity = capacity_for(uow, tenant, venue_id)
            blackouts = tuple(b.date for b in uow.blackouts.list_between(tenant.id, start, end))
            seats = uow.bookings.held_seats(tenant.id, venue or TENANT_WIDE, start, end)
            return RangeFacts(tenant, capacity, blackouts, tuple(seats))

        return self._read(work)

    def _facts(
        self, tenant_id: uuid.UUID, venue_id: uuid.UUID | None, start: dt.date, end: dt.date
    ) -> list[RangeFacts]:
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        venue_id = v.optional_uuid(venue_id, "venue_id")
        if venue_id == TENANT_WIDE:  # no venue has it, and it names the tenant-wide cache entries
            raise NotFoundError("venue", venue_id)
        if self._cache is None:  # one read of exactly the range: a constant number of queries
            return [self._load_facts(tenant_id, venue_id, start, end)]
        resource = venue_id or TENANT_WIDE

        def month(first: dt.date, last: dt.date) -> RangeFacts:
            return self._cached(
                tenant_id,
                availability_namespace(resource, first),
                "facts",
                RangeFacts,
                lambda: self._load_facts(tenant_id, venue_id, first, last),
                ttl=self._cache_settings.availability_ttl,
            )

        return [month(first, last) for first, last in _months(start, end)]

    def _evaluate(
        self,
        tenant_id: uuid.UUID,
        start: dt.date,
        end: dt.date,
        venue_id: uuid.UUID | None,
    ) -> list[DateAvailability]:
        facts = self._facts(tenant_id, venue_id, start, end)
        now = self._clock.now()
        tenant, capacity = facts[0].tenant, facts[0].capacity
        blackouts = {day for part in facts for day in part.blackouts}
        live = Counter(seat.date for part in facts for seat in part.seats if seat.is_live(now))
        busy = self._calendar.busy_dates(tenant.id, start, end)
        today = local_today(now, tenant.timezone)
        result = []
        for offset in range((end - start).days + 1):
            date = start + dt.timedelta(days=offset)
            reason = first_reason(
                blackout=date in blackouts,
                booked=live[date] >= capacity,
                calendar_busy=date in busy,
                policy=policy_reason(date, today=today, policy=tenant.policy),
            )
            result.append(DateAvailability(date, reason is None, reason))
        return result

    def check(
        self, tenant_id: uuid.UUID, date: dt.date, *, venue_id: uuid.UUID | None = None
    ) -> DateAvailability:
        """Whether ``date`` (the tenant's local calendar) can be booked, with the first reason
        why not: blackout, booked, calendar, past, too_soon, too_far."""
        date = v.date_(date)
        return self._evaluate(tenant_id, date, date, venue_id)[0]

    def unavailable_dates(
        self,
        tenant_id: uuid.UUID,
        start: dt.date,
        end: dt.date,
        *,
        venue_id: uuid.UUID | None = None,
    ) -> list[DateAvailability]:
        """The dates in ``[start, end]`` that cannot be booked, each with its reason."""
        start, end = v.date_range(start, end)
        return [d for d in self._evaluate(tenant_id, start, end, venue_id) if not d.available]

    def calendar(
        self,
        tenant_id: uuid.UUID,
        start: dt.date,
        end: dt.date,
        *,
        venue_id: uuid.UUID | None = None,
    ) -> list[DateAvailability]:
        """Every date in ``[start, end]`` with its availability (for month views)."""
        start, end = v.date_range(start, end)
        return self._evaluate(tenant_id, start, end, venue_id)

    def add_blackout(
        self, tenant_id: uuid.UUID, date: dt.date, *, reason: str = ""
    ) -> BlackoutDate:
        """Close a date for new bookings (existing bookings stay). Idempotent."""
        blackout = BlackoutDate(
            v.uuid_(tenant_id, "tenant_id"), v.date_(date), v.text(reason, "reason", max_length=500)
        )

        def work(uow: UnitOfWork) -> BlackoutDate:
            load_tenant(uow, tenant_id)
            uow.blackouts.add(blackout)
            return blackout

        return self._write(work, invalidates=whole_tenant(blackout.tenant_id))

    def remove_blackout(self, tenant_id: uuid.UUID, date: dt.date) -> bool:
        """Reopen a date; returns whether it was closed."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        date = v.date_(date)

        def work(uow: UnitOfWork) -> bool:
            load_tenant(uow, tenant_id)
            return uow.blackouts.remove(tenant_id, date)

        return self._write(work, invalidates=whole_tenant(tenant_id))
