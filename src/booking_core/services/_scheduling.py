"""Timed packages: what a slot search and a timed hold are computed from, and which starts
are free.

The free-time rule here mirrors what the repositories enforce when a hold claims its time (a
lane of the resource free over the whole occupied interval, and the package's day limit), so
every start :func:`free_slots` offers can be held while nobody else takes it. It only *offers*:
a hold never trusts it, the claim in the database decides.
"""

from __future__ import annotations

import datetime as dt
import heapq
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain.model import (
    Assignment,
    ClaimSpan,
    HeldTime,
    Package,
    PackageSchedule,
    Resource,
    ResourceNeed,
    ResourceTimeOff,
    Slot,
    Tenant,
    TimeClaim,
    UnavailableReason,
)
from booking_core.domain.rules import free_places, local_today
from booking_core.domain.schedule import (
    ZERO,
    Interval,
    SlotTiming,
    WorkingHours,
    epoch_micros,
    is_slot_start,
    slot_starts,
)
from booking_core.errors import NotFoundError, TimeUnavailableError, ValidationError
from booking_core.limits import MAX_RESOURCES_PER_PACKAGE, MAX_SLOT_DAYS
from booking_core.ports.calendar import NOTHING_BUSY, BusyIntervals
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v

#: The longest range one slot search answers.
MAX_SLOT_RANGE = dt.timedelta(days=MAX_SLOT_DAYS)

_DAY = dt.timedelta(days=1)
_MICROSECOND = dt.timedelta(microseconds=1)
#: The years a timed start or a search may name: far from the ends of ``datetime``.
_FIRST_YEAR, _LAST_YEAR = 1900, 9000


def instant(value: Any, field: str) -> dt.datetime:
    """An aware datetime, as UTC; ValidationError for a naive one or anything else."""
    if not isinstance(value, dt.datetime):
        raise v.refuse(field, "an aware datetime", value)
    try:
        # a caller's tzinfo runs its own code here: whatever it raises is a bad value
        offset = value.utcoffset()
        utc = None if offset is None else value.astimezone(dt.UTC)
    except Exception as exc:  # any failure of a foreign tzinfo is bad input
        raise ValidationError(field, "is out of range or its time zone cannot be read") from exc
    if utc is None:
        raise ValidationError(field, "must be timezone-aware (a naive time is ambiguous)")
    if not _FIRST_YEAR <= utc.year <= _LAST_YEAR:  # room for buffers, days and windows around it
        raise ValidationError(field, f"must lie in the years {_FIRST_YEAR}-{_LAST_YEAR}")
    return utc


def search_window(start: Any, end: Any) -> Interval:
    """``[start, end)`` of a slot search: aware, ordered, at most :data:`MAX_SLOT_RANGE`."""
    first, last = instant(start, "start"), instant(end, "end")
    if last <= first:
        raise ValidationError("end", "must be after start")
    if last - first > MAX_SLOT_RANGE:
        raise ValidationError("end", f"a search covers at most {MAX_SLOT_RANGE.days} days")
    return Interval(first, last)


def schedule_of(value: Any) -> PackageSchedule | None:
    """A validated package schedule (None: a date package)."""
    if value is None:
        return None
    if not isinstance(value, PackageSchedule):
        raise v.refuse("schedule", "a PackageSchedule or None", value)
    if not isinstance(value.timing, SlotTiming):
        raise v.refuse("schedule.timing", "a SlotTiming", value.timing)
    value.timing.check()
    resource_ids = resource_ids_of(value.resource_ids, "schedule.resource_ids")
    if not resource_ids:
        raise ValidationError("schedule.resource_ids", "a timed package needs a resource")
    if len(set(resource_ids)) != len(resource_ids):
        raise ValidationError("schedule.resource_ids", "names a resource twice")
    try:
        need, assignment = ResourceNeed(value.need), Assignment(value.assignment)
    except ValueError as exc:
        raise ValidationError("schedule.need", "must be a ResourceNeed and an Assignment") from exc
    return PackageSchedule(value.timing, resource_ids, need, assignment)


def resource_ids_of(value: object, field: str) -> tuple[uuid.UUID, ...]:
    """A caller's resource ids (at most :data:`~booking_core.limits.MAX_RESOURCES_PER_PACKAGE`;
    an endless iterable is read only past that limit)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise v.refuse(field, "a sequence of resource ids", value)
    given = list(islice(value, MAX_RESOURCES_PER_PACKAGE + 1))
    if len(given) > MAX_RESOURCES_PER_PACKAGE:
        raise ValidationError(field, f"at most {MAX_RESOURCES_PER_PACKAGE} resources")
    return tuple(v.uuid_(each, f"{field}.{i}") for i, each in enumerate(given))


def hours_of(value: Any) -> WorkingHours:
    """Validated working hours: a WorkingHours, or its primitive (JSON) form."""
    hours = value if isinstance(value, WorkingHours) else WorkingHours.from_primitive(value)
    hours.check()
    return hours


def timed(package: Package | None, package_id: uuid.UUID) -> tuple[Package, PackageSchedule]:
    """An active timed package; NotFoundError, or ValidationError for a date package."""
    if package is None or not package.active:
        raise NotFoundError("package", package_id)
    if package.schedule is None:
        raise ValidationError("package_id", "is a date package: hold it with date=")
    return package, package.schedule


def in_package_order(
    schedule: PackageSchedule, resources: Iterable[Resource], *, only: uuid.UUID | None = None
) -> tuple[Resource, ...]:
    """The package's active resources in its order (ties of the assignment go by it)."""
    by_id = {resource.id: resource for resource in resources if resource.active}
    ordered = tuple(by_id[i] for i in schedule.resource_ids if i in by_id)
    if only is not None:
        ordered = tuple(resource for resource in ordered if resource.id == only)
    return ordered


@dataclass(frozen=True, slots=True)
class TimeFacts:
    """What decides which starts of some resources are free, apart from "now": their claims
    (as spans, per resource, in start order) and their time off. Lapsed claims are kept and
    judged at read time."""

    spans: dict[uuid.UUID, tuple[ClaimSpan, ...]]
    time_off: tuple[ResourceTimeOff, ...]


def facts_window(timing: SlotTiming, window: Interval) -> Interval:
    """The stretch whose claims and time off can touch a start in ``window``: the occupied
    intervals of its starts, and (for a day limit) every claim of the local days they fall on
    (a local day lasts up to 25 hours, and a claim's occupied interval starts up to a day of
    buffer before it: two days each side cover both)."""
    reach = ZERO if timing.max_per_day is None else 2 * _DAY
    return Interval(
        window.start - timing.buffer_before - reach,
        window.end + timing.duration + timing.buffer_after + reach,
    )


# The free-time sweep below works in epoch microseconds (see ClaimSpan): a month of starts
# for twenty resources is tens of thousands of comparisons, cheaper between integers.
_Range = tuple[int, int]


def _blocked(
    spans: Iterable[ClaimSpan], timing: SlotTiming, now: int
) -> list[tuple[int, int, int]]:
    """(after, before, lane): a live claim on ``lane`` blocks the starts strictly between."""
    reach_back = _micros(timing.duration + timing.buffer_after)
    reach_on = _micros(timing.buffer_before)
    ranges = [
        (span.start - reach_back, span.end + reach_on, span.lane)
        for span in spans
        if span.expires is None or span.expires > now
    ]
    ranges.sort()
    return ranges


def _busy(spans: Sequence[ClaimSpan], timing: SlotTiming, now: int) -> list[_Range]:
    """The sorted, disjoint ranges the live claims block (any lane), in one pass: the spans
    come in start order, so the ranges do too (the hot path of a search; no sort)."""
    reach_back = _micros(timing.duration + timing.buffer_after)
    reach_on = _micros(timing.buffer_before)
    busy: list[_Range] = []
    last_lo = last_hi = 0
    for start, end, _lane, _day, _package, expires in spans:
        if expires is not None and expires <= now:
            continue
        lo, hi = start - reach_back, end + reach_on
        if busy and lo < last_hi:
            if hi > last_hi:
                last_hi = hi
                busy[-1] = (last_lo, hi)
        else:
            last_lo, last_hi = lo, hi
            busy.append((lo, hi))
    return busy


def _micros(length: dt.timedelta) -> int:
    return length // _MICROSECOND


def free_positions(
    resource: Resource,
    package: Package,
    timing: SlotTiming,
    starts: Sequence[int],
    *,
    local_days: Sequence[dt.date] | None,
    spans: Sequence[ClaimSpan],
    time_off: Iterable[Interval],
    now: int,
) -> list[int]:
    """The positions in ``starts`` (the sorted grid of the resource's hours in epoch
    microseconds, inside the notice and the horizon) the resource can take now: outside its
    ``time_off``, with a lane free over the occupied interval (given its claims' ``spans``) and
    the day limit not reached (``local_days``: each start's date in the resource's zone,
    given when the package has a day limit)."""
    duration = _micros(timing.duration)
    away = [(epoch_micros(off.start) - duration, epoch_micros(off.end)) for off in time_off]
    if resource.capacity == 1:
        # one lane: a start is free outside every blocked range (any lane blocks it, one
        # claimed before a capacity was lowered included)
        busy = _busy(spans, timing, now)
        free = _outside(starts, _merged([*busy, *away]) if away else busy)
    else:
        ranges = _blocked(spans, timing, now)
        free = _with_a_free_lane(starts, ranges, _merged(away), resource.capacity)
    full_days = _full_days(spans, package, timing, now)
    if full_days and local_days is not None:
        free = [at for at in free if local_days[at] not in full_days]
    return free


def _outside(starts: Sequence[int], blocked: Sequence[_Range]) -> list[int]:
    """The positions of the sorted ``starts`` strictly inside none of the sorted, disjoint
    ``blocked`` ranges (a bisection per range: claims are far fewer than starts)."""
    free: list[int] = []
    kept = 0  # the first position not yet judged
    for lo, hi in blocked:
        first = bisect_right(starts, lo, kept)
        if first >= len(starts):
            break
        free.extend(range(kept, first))
        kept = max(first, bisect_left(starts, hi, first))
    free.extend(range(kept, len(starts)))
    return free


def _with_a_free_lane(
    starts: Sequence[int],
    ranges: Sequence[tuple[int, int, int]],
    away: Sequence[_Range],
    capacity: int,
) -> list[int]:
    """The positions of the starts outside ``away`` with a lane free, sweeping the lanes'
    blocked ranges."""
    free: list[int] = []
    active: Counter[int] = Counter()
    ending: list[tuple[int, int]] = []
    next_range = 0
    for position in _outside(starts, away):
        start = starts[position]
        while next_range < len(ranges) and ranges[next_range][0] < start:
            _, until, lane = ranges[next_range]
            heapq.heappush(ending, (until, lane))
            active[lane] += 1
            next_range += 1
        while ending and ending[0][0] <= start:
            _, lane = heapq.heappop(ending)
            active[lane] -= 1
            if not active[lane]:
                del active[lane]
        if active and not free_places(active.keys(), capacity):
            continue
        free.append(position)
    return free


def _merged(ranges: Iterable[_Range]) -> list[_Range]:
    """Sorted, disjoint ranges covering the same instants."""
    merged: list[_Range] = []
    for lo, hi in sorted(ranges):
        if merged and lo < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _full_days(
    spans: Iterable[ClaimSpan], package: Package, timing: SlotTiming, now: int
) -> frozenset[dt.date]:
    """The resource's local days on which the package reached its day limit."""
    limit = timing.max_per_day
    if limit is None:
        return frozenset()
    per_day = Counter(
        span.day for span in spans if span.package_id == package.id and span.is_live(now)
    )
    return frozenset(day for day, count in per_day.items() if count >= limit)


def free_slots(
    package: Package,
    resources: Sequence[Resource],
    *,
    tenant: Tenant,
    facts: TimeFacts,
    window: Interval,
    now: dt.datetime,
    tz: ZoneInfo | None = None,
    busy: BusyIntervals = NOTHING_BUSY,
) -> list[Slot]:
    """The bookable starts of ``window``, each with the resources that could take it (in the
    package's order; with :attr:`ResourceNeed.ALL`: only starts every resource can take).
    Stretches an external calendar marks ``busy`` count as the resource's time off.

    Linear in the claims, the time off and the (start, resource) pairs: the facts come split
    by resource, and resources sharing hours and a zone share one grid.
    """
    schedule = package.schedule
    if schedule is None or not resources:
        return []
    timing = schedule.timing
    earliest = max(window.start, now + timing.min_notice)
    latest = min(window.end, now + timing.horizon + _MICROSECOND)
    if latest <= earliest:
        return []
    away: dict[uuid.UUID, list[Interval]] = {
        resource.id: list(busy.intervals.get(resource.id, ())) for resource in resources
    }
    for off in facts.time_off:
        theirs = away.get(off.resource_id)
        if theirs is not None:
            theirs.append(off.interval)
    groups: dict[tuple[WorkingHours, str], list[Resource]] = {}
    for resource in resources:
        groups.setdefault((resource.hours, resource.zone(tenant)), []).append(resource)
    at = epoch_micros(now)
    takers: dict[dt.datetime, list[uuid.UUID]] = {}
    for (hours, name), members in groups.items():
        local = ZoneInfo(name)  # zoneinfo caches its zones
        opens = hours.open_intervals(local, window.start, window.end)
        starts = slot_starts(opens, timing, Interval(earliest, latest))
        if not starts:
            continue
        grid = [epoch_micros(start) for start in starts]
        days = None
        if timing.max_per_day is not None:
            days = [start.astimezone(local).date() for start in starts]
        who: list[list[uuid.UUID]] = [[] for _ in starts]
        for resource in members:
            for position in free_positions(
                resource,
                package,
                timing,
                grid,
                local_days=days,
                spans=facts.spans.get(resource.id, ()),
                time_off=away[resource.id],
                now=at,
            ):
                who[position].append(resource.id)
        for start, ids in zip(starts, who, strict=True):
            if ids:
                takers.setdefault(start, []).extend(ids)
    if len(groups) > 1:  # ids of several groups: back to the package's order
        rank = {resource.id: index for index, resource in enumerate(resources)}
        for ids in takers.values():
            ids.sort(key=rank.__getitem__)
    shown = tz or dt.UTC
    everyone = len(resources)
    duration = timing.duration
    return [
        Slot(start.astimezone(shown), (start + duration).astimezone(shown), tuple(ids))
        for start, ids in sorted(takers.items())
        if schedule.need is not ResourceNeed.ALL or len(ids) == everyone
    ]


def refuse_start(
    timing: SlotTiming,
    resources: Sequence[Resource],
    start: dt.datetime,
    *,
    tenant: Tenant,
    time_off: Iterable[ResourceTimeOff],
    now: dt.datetime,
    need_all: bool = False,
    busy: BusyIntervals = NOTHING_BUSY,
) -> tuple[Resource, ...]:
    """The resources whose hours, time off and external calendars (``busy``) allow ``start``;
    TimeUnavailableError naming why none does (past, too soon, too far, outside hours, or
    ``calendar`` when only the calendars stand in the way), or (``need_all``) why not all do:
    no resources at all are outside hours too."""
    date = local_today(start, tenant.timezone)
    if start < now:
        raise TimeUnavailableError(start, UnavailableReason.PAST.value, date=date)
    if start < now + timing.min_notice:
        raise TimeUnavailableError(start, UnavailableReason.TOO_SOON.value, date=date)
    if start > now + timing.horizon:
        raise TimeUnavailableError(start, UnavailableReason.TOO_FAR.value, date=date)
    service = timing.service(start)
    away = {off.resource_id for off in time_off if off.interval.overlaps(service)}
    open_ = tuple(
        resource
        for resource in resources
        if resource.id not in away
        and is_slot_start(
            resource.hours.open_intervals(ZoneInfo(resource.zone(tenant)), start, service.end),
            timing,
            start,
        )
    )
    fit = tuple(r for r in open_ if not _busy_over(busy, r.id, service))
    if not fit or (need_all and len(fit) != len(resources)):
        complete = bool(open_) and (not need_all or len(open_) == len(resources))
        reason = UnavailableReason.CALENDAR if complete else UnavailableReason.OUTSIDE_HOURS
        raise TimeUnavailableError(start, reason.value, date=date)
    return fit


def _busy_over(busy: BusyIntervals, resource_id: uuid.UUID, service: Interval) -> bool:
    """Whether an external calendar marks ``resource_id`` busy during ``service``."""
    return any(stretch.overlaps(service) for stretch in busy.intervals.get(resource_id, ()))


def assignment_order(
    schedule: PackageSchedule,
    candidates: Sequence[Resource],
    start: dt.datetime,
    *,
    held: Iterable[HeldTime],
    tenant: Tenant,
    package_id: uuid.UUID,
    now: dt.datetime,
) -> list[Resource]:
    """The order an unassigned hold tries ``candidates`` in (see :class:`Assignment`)."""
    if len(candidates) < 2:
        return list(candidates)
    days = {r.id: start.astimezone(ZoneInfo(r.zone(tenant))).date() for r in candidates}
    live = [claim for claim in held if claim.is_live(now) and days.get(claim.resource_id)]
    on_day = [claim for claim in live if claim.day == days[claim.resource_id]]
    if schedule.assignment is Assignment.ROUND_ROBIN:
        # the k-th booking of the day goes to the package's k-th resource (mod n), then on
        listed = schedule.resource_ids
        turn = sum(1 for claim in on_day if claim.package_id == package_id) % len(listed)
        by_id = {resource.id: resource for resource in candidates}
        rotated = [*listed[turn:], *listed[:turn]]
        return [by_id[each] for each in rotated if each in by_id]
    load = Counter(claim.resource_id for claim in on_day)
    rank = {resource.id: index for index, resource in enumerate(candidates)}
    return sorted(candidates, key=lambda r: (load[r.id], rank[r.id]))


def month_window(year: int, month: int) -> Interval:
    """The UTC month, widened by two days each side (buffers and local days reach over)."""
    first = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    following = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.UTC)
    return Interval(first - 2 * _DAY, following + 2 * _DAY)


def claim_for(
    uow: UnitOfWork,
    package: Package,
    candidates: Sequence[Resource],
    start: dt.datetime,
    *,
    tenant: Tenant,
    booking_id: uuid.UUID,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> tuple[uuid.UUID, ...] | None:
    """Claim the time of a booking starting at ``start``: one of ``candidates`` in order
    (a package that needs any), or all of them (one that needs all, claimed in id order so
    racing holds meet in the same order). The resources claimed, or None when it could not
    be done: then the booking holds no time claim at all (a partial all-of claim is freed).
    """
    schedule = package.schedule
    if schedule is None or not candidates:
        return None
    timing = schedule.timing
    occupied = timing.occupied(start)

    def claim(resource: Resource) -> bool:
        wanted = TimeClaim(
            resource.id,
            occupied,
            resource.capacity,
            local_today(start, resource.zone(tenant)),
            timing.max_per_day,
        )
        return uow.bookings.claim_time(
            tenant.id, booking_id, package.id, wanted, now=now, expires_at=expires_at
        )

    if schedule.need is ResourceNeed.ALL:
        for resource in sorted(candidates, key=lambda r: r.id):
            if not claim(resource):
                uow.bookings.release_claims(tenant.id, booking_id)
                return None
        return tuple(resource.id for resource in candidates)
    for resource in candidates:
        if claim(resource):
            return (resource.id,)
    return None


def candidates_for(
    uow: UnitOfWork,
    package: Package,
    start: dt.datetime,
    *,
    tenant: Tenant,
    now: dt.datetime,
    named: uuid.UUID | None = None,
    preferred: Sequence[uuid.UUID] = (),
    busy: BusyIntervals = NOTHING_BUSY,
) -> list[Resource]:
    """The resources a timed booking starting at ``start`` tries, in order.

    Raises TimeUnavailableError (past, too soon, too far, outside hours: of every resource,
    or of any for a package that needs all) and NotFoundError for a ``named`` resource the
    package does not list. ``preferred`` go first (a reschedule keeps its resource if it can).
    """
    schedule = package.schedule
    if schedule is None:
        raise ValidationError("package_id", "is a date package: hold it with date=")
    found = uow.resources.get_many(tenant.id, schedule.resource_ids)
    resources = in_package_order(schedule, found, only=named)
    if schedule.need is ResourceNeed.ALL and len(resources) != len(schedule.resource_ids):
        resources = ()  # one it needs is inactive (or gone): nothing can serve it
    if named is not None:
        if schedule.need is ResourceNeed.ALL:
            raise ValidationError("resource_id", "this package takes all of its resources")
        if not resources:
            raise NotFoundError("resource", named)
    timing = schedule.timing
    need_all = schedule.need is ResourceNeed.ALL
    service = timing.service(start)
    away = uow.time_off.overlapping(tenant.id, [r.id for r in resources], service)
    fit = refuse_start(
        timing,
        resources,
        start,
        tenant=tenant,
        time_off=away,
        now=now,
        need_all=need_all,
        busy=busy,
    )
    if need_all:
        return list(fit)
    if named is None and len(fit) > 1:
        reach = Interval(start - 2 * _DAY, start + 2 * _DAY)
        held = uow.bookings.held_time(tenant.id, [r.id for r in fit], reach)
        fit = tuple(
            assignment_order(
                schedule, fit, start, held=held, tenant=tenant, package_id=package.id, now=now
            )
        )
    first = [r for r in fit if r.id in preferred]
    return [*first, *(r for r in fit if r.id not in preferred)]
