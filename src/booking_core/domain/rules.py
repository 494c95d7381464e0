"""Pure availability rules: the tenant's local calendar and the booking policy.

Dates are the tenant's local calendar dates. "Today" is computed from an aware UTC instant in the
tenant's IANA timezone, so a tenant in Pacific/Kiritimati (UTC+14) is already on tomorrow while
UTC is still on today.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from zoneinfo import ZoneInfo

from booking_core.domain.model import BookingPolicy, Tenant, UnavailableReason, Venue
from booking_core.domain.schedule import rule_dates
from booking_core.errors import DateUnavailableError


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """The calendar date at instant ``now`` (aware) in ``timezone``."""
    return now.astimezone(ZoneInfo(timezone)).date()


def free_places(taken: Collection[int], limit: int, *, held: int | None = None) -> list[int]:
    """The places (seats of a date, lanes or day seats of a resource) a new claim may try,
    lowest first, given the live ones ``taken``; empty when none may be claimed.

    ``held`` live claims (``len(taken)`` unless some hold no numbered place) already fill the
    ``limit`` at or past it, however they are numbered. Places taken at or past the limit
    (claimed before it was lowered) take the top places of the range: a claim tries only
    ``range(limit - beyond)``, so racing claims meet on one place instead of overbooking (no
    new claim is made past the limit, so ``beyond`` can only shrink meanwhile).
    """
    if (len(taken) if held is None else held) >= limit:
        return []
    beyond = sum(1 for place in taken if place >= limit)
    return [place for place in range(limit - beyond) if place not in taken]


def policy_reason(
    date: dt.date, *, today: dt.date, policy: BookingPolicy
) -> UnavailableReason | None:
    """The policy reason ``date`` cannot be booked (past, too soon, too far), or None."""
    if date < today:
        return UnavailableReason.PAST
    if (date - today).days < policy.min_notice_days:
        return UnavailableReason.TOO_SOON
    if (date - today).days > policy.horizon_days:
        return UnavailableReason.TOO_FAR
    return None


def first_reason(
    *,
    blackout: bool,
    booked: bool,
    calendar_busy: bool,
    policy: UnavailableReason | None,
) -> UnavailableReason | None:
    """Combine the checks in the documented order: blackout, booked, calendar, then policy."""
    if blackout:
        return UnavailableReason.BLACKOUT
    if booked:
        return UnavailableReason.BOOKED
    if calendar_busy:
        return UnavailableReason.CALENDAR
    return policy


def pool_capacity(tenant: Tenant, venue: Venue | None, venue_id: uuid.UUID | None) -> int | None:
    """Seats per date of the pool a booking draws from (None: its venue is gone or inactive).

    The one capacity rule: the tenant's ``capacity_per_date`` without a venue, the venue's own
    capacity with one.
    """
    if venue_id is None:
        return tenant.policy.capacity_per_date
    if venue is None or not venue.active:
        return None
    return venue.capacity


def refuse_calendar_or_policy(
    tenant: Tenant, date: dt.date, *, now: dt.datetime, calendar_busy: bool
) -> None:
    """Raise DateUnavailableError for the calendar or a policy reason (past, too soon/far)."""
    if calendar_busy:
        raise DateUnavailableError(date, UnavailableReason.CALENDAR.value)
    reason = policy_reason(date, today=local_today(now, tenant.timezone), policy=tenant.policy)
    if reason is not None:
        raise DateUnavailableError(date, reason.value)


def blackout_rule_dates(tenant: Tenant, start: dt.date, end: dt.date) -> set[dt.date]:
    """The dates in ``[start, end]`` the tenant's recurring blackouts close (each rule
    expanded over that range only, its exceptions left out)."""
    closed: set[dt.date] = set()
    for index, blackout in enumerate(tenant.blackout_rules):
        field = f"blackout_rules.{index}.rrule"
        dates = rule_dates(blackout.rrule, blackout.starts_on, end, field=field, first=start)
        closed.update(date for date in dates if date not in blackout.except_on)
    return closed
