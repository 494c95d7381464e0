"""Availability: whether dates can be booked, which times are free, and blackout management.

A range is answered in a constant number of queries (tenant, venue, blackouts, claim counts)
plus one call of the calendar port, whatever its length. A slot search likewise: the package
and its resources (cached with the catalog), then one read of the claims and time off of every
resource and month the cache does not hold.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    BlackoutDate,
    ClaimSpan,
    DateAvailability,
    HeldSeat,
    Package,
    Resource,
    ResourceNeed,
    SlotList,
    Tenant,
)
from booking_core.domain.rules import (
    blackout_rule_dates,
    first_reason,
    local_today,
    policy_reason,
    pool_capacity,
)
from booking_core.domain.schedule import Interval, epoch_micros, months_between
from booking_core.errors import NotFoundError, TenantInactiveError
from booking_core.ports.cache import CachePort, GenerationToken
from booking_core.ports.calendar import NOTHING_BUSY, CalendarPort
from booking_core.ports.clock import Clock
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _codec
from booking_core.services import _validate as v
from booking_core.services._base import (
    CATALOG,
    CacheSettings,
    Service,
    availability_namespace,
    load_tenant,
    time_namespace,
    whole_tenant,
)
from booking_core.services._calendar import busy_time
from booking_core.services._scheduling import (
    TimeFacts,
    facts_window,
    free_slots,
    in_package_order,
    month_window,
    resource_ids_of,
    search_window,
    timed,
)

__all__ = ["AvailabilityService"]


def _setting(uow: UnitOfWork, tenant_id: uuid.UUID, package_id: uuid.UUID) -> ScheduleSetting:
    """The active tenant, its timed package and the package's active resources: three queries."""
    tenant = load_tenant(uow, tenant_id)
    package, schedule = timed(uow.packages.get(tenant_id, package_id), package_id)
    found = uow.resources.get_many(tenant_id, schedule.resource_ids)
    return ScheduleSetting(tenant, package, in_package_order(schedule, found))


def _time_of(
    uow: UnitOfWork, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
) -> TimeFacts:
    """Claims and time off of the resources over ``window``: two queries."""
    spans = uow.bookings.claim_spans(tenant_id, resource_ids, window)
    away = uow.time_off.overlapping(tenant_id, resource_ids, window)
    return TimeFacts({key: tuple(found) for key, found in spans.items()}, tuple(away))


def _setting_and_time(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    window: Interval,
    only: frozenset[uuid.UUID] | None,
) -> tuple[ScheduleSetting, TimeFacts]:
    """A slot search's reads in one transaction (no cache to split them by)."""
    setting = _setting(uow, tenant_id, package_id)
    schedule = setting.package.schedule
    ids = [r.id for r in _searched(setting, only)]
    if schedule is None or not ids:
        return setting, TimeFacts({}, ())
    return setting, _time_of(uow, tenant_id, ids, facts_window(schedule.timing, window))


def _searched(setting: ScheduleSetting, only: frozenset[uuid.UUID] | None) -> tuple[Resource, ...]:
    """The resources a search computes with: those ``only`` names, for a package that needs
    any one; every one it lists, for a package that needs all (a start is offered only when all
    are free, whatever the filter; one it needs inactive offers nothing)."""
    schedule = setting.package.schedule
    if schedule is not None and schedule.need is ResourceNeed.ALL:
        complete = len(setting.resources) == len(schedule.resource_ids)
        named = only is None or any(r.id in only for r in setting.resources)
        return setting.resources if complete and named else ()
    return tuple(r for r in setting.resources if only is None or r.id in only)


def _start_and_lane(span: ClaimSpan) -> tuple[int, int]:
    return span.start, span.lane


def _part_of(facts: TimeFacts, resource_id: uuid.UUID, window: Interval) -> TimeFacts:
    """The claims and time off of one resource overlapping ``window``."""
    low, high = epoch_micros(window.start), epoch_micros(window.end)
    spans = tuple(s for s in facts.spans.get(resource_id, ()) if s.start < high and s.end > low)
    return TimeFacts(
        {resource_id: spans} if spans else {},
        tuple(
            o
            for o in facts.time_off
            if o.resource_id == resource_id and o.interval.overlaps(window)
        ),
    )


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


@dataclass(frozen=True, slots=True)
class ScheduleSetting:
    """A timed package with its tenant and active resources (package order): cached with the
    catalog, whose edits drop it."""

    tenant: Tenant
    package: Package
    resources: tuple[Resource, ...]


def schedule_key(package_id: uuid.UUID) -> str:
    """The catalog cache key of a timed package's setting."""
    return f"schedule.{package_id.hex}"


def _resource_filter(value: object) -> frozenset[uuid.UUID] | None:
    return None if value is None else frozenset(resource_ids_of(value, "resource_ids"))


def _zone_of(value: object) -> ZoneInfo | None:
    """The zone slots are shown in, always one of ours: a ZoneInfo is looked up again by its
    key (a subclass's own code never runs)."""
    if value is None:
        return None
    if isinstance(value, ZoneInfo):
        value = value.key
    return ZoneInfo(v.timezone(value, "tz"))


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
        blackouts |= blackout_rule_dates(tenant, start, end)
        live = Counter(seat.date for part in facts for seat in part.seats if seat.is_live(now))
        busy = self._calendar.busy_dates(tenant.id, start, end)
        unreadable = bool(getattr(busy, "unreadable", False))
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
            result.append(DateAvailability(date, reason is None, reason, unreadable))
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

    # --- time ------------------------------------------------------------------------------

    def slots(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        start: dt.datetime,
        end: dt.datetime,
        *,
        resource_ids: Iterable[uuid.UUID] | None = None,
        tz: str | ZoneInfo | None = None,
    ) -> SlotList:
        """The bookable starts of a timed package in ``[start, end)`` (aware, ≤ 62 days).

        Each :class:`~booking_core.domain.model.Slot` names the resources that could take it
        (all of them for a package that needs all). A start is offered when it lies on the
        package's grid inside a resource's working hours, clear of its time off, past the
        notice and within the horizon, with the resource free over the occupied interval
        (buffers included) and the package's day limit not reached. Lapsed holds free their
        time at once. ``resource_ids`` narrows the search; ``tz`` only changes the zone the
        returned datetimes are shown in (the instants are the same).

        Busy time from the external calendar port counts as time off; the answer is a
        :class:`~booking_core.domain.model.SlotList` whose ``unreadable_calendars`` names the
        resources whose calendar could not be read (never an exception).

        Raises:
            ValidationError: malformed input, a naive datetime, a range over 62 days, or a
                date package.
            NotFoundError: no such active package of this tenant.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        window = search_window(start, end)
        only = _resource_filter(resource_ids)
        shown = _zone_of(tz)
        if self._cache is None:  # one read: five queries, whatever the range
            setting, facts = self._read(
                lambda uow: _setting_and_time(uow, tenant_id, package_id, window, only)
            )
        else:
            setting = self._schedule_setting(tenant_id, package_id)
            schedule = setting.package.schedule
            ids = [r.id for r in _searched(setting, only)]
            if schedule is None or not ids:
                return SlotList()
            facts = self._time_facts(tenant_id, ids, facts_window(schedule.timing, window))
        resources = _searched(setting, only)
        schedule = setting.package.schedule
        busy = NOTHING_BUSY
        if schedule is not None and resources:
            reach = facts_window(schedule.timing, window)
            busy = busy_time(self._calendar, tenant_id, [r.id for r in resources], reach)
        found = free_slots(
            setting.package,
            resources,
            tenant=setting.tenant,
            facts=facts,
            window=window,
            now=self._clock.now(),
            tz=shown,
            busy=busy,
        )
        return SlotList(found, unreadable_calendars=busy.unreadable)

    def _schedule_setting(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> ScheduleSetting:
        def load() -> ScheduleSetting:
            return self._read(lambda uow: _setting(uow, tenant_id, package_id))

        setting: ScheduleSetting = self._cached(
            tenant_id,
            CATALOG,
            schedule_key(package_id),
            ScheduleSetting,
            load,
            ttl=self._cache_settings.catalog_ttl,
        )
        if not setting.tenant.active:
            raise TenantInactiveError(tenant_id)
        return setting

    def _load_time(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> TimeFacts:
        """Claims and time off of the resources over ``window``: two queries."""
        return self._read(lambda uow: _time_of(uow, tenant_id, resource_ids, window))

    def _time_facts(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> TimeFacts:
        """:meth:`_load_time` through the cache, per resource and UTC month: the entries the
        cache misses are read together, in one read, whatever their number."""
        cache = self._cache
        if cache is None:
            return self._load_time(tenant_id, resource_ids, window)
        decode = _codec.decoder(TimeFacts)
        months = months_between(window)
        found: list[TimeFacts] = []
        missing: list[tuple[uuid.UUID, int, int, GenerationToken]] = []
        for resource_id in resource_ids:
            for year, month in months:
                namespace = time_namespace(resource_id, year, month)
                lookup = cache.get(tenant_id, namespace, "time")
                if lookup.hit:
                    try:
                        found.append(decode(lookup.value))
                        continue
                    except (TypeError, ValueError, KeyError):
                        pass  # an entry of an older shape: reload it
                missing.append((resource_id, year, month, lookup.token))
        if missing:
            first = min(month_window(y, m).start for _, y, m, _ in missing)
            last = max(month_window(y, m).end for _, y, m, _ in missing)
            ids = sorted({resource_id for resource_id, *_ in missing})
            loaded = self._load_time(tenant_id, ids, Interval(first, last))
            for resource_id, year, month, token in missing:
                part = _part_of(loaded, resource_id, month_window(year, month))
                found.append(part)
                if token.known:
                    cache.set(
                        tenant_id,
                        time_namespace(resource_id, year, month),
                        "time",
                        _codec.encode(part),
                        ttl=self._cache_settings.availability_ttl,
                        token=token,
                    )
        # a claim reaching over a month's end is in both months' entries: once per resource
        # (two live claims never share a lane at an instant, so equal spans are one claim)
        spans: dict[uuid.UUID, set[ClaimSpan]] = {}
        for part in found:
            for resource_id, theirs in part.spans.items():
                spans.setdefault(resource_id, set()).update(theirs)
        away = {off.id: off for part in found for off in part.time_off}
        return TimeFacts(
            {key: tuple(sorted(unique, key=_start_and_lane)) for key, unique in spans.items()},
            tuple(away.values()),
        )

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
