"""Busy time in: an ICS document read into the busy intervals of a window.

icalendar parses, x-wr-timezone moves Google's ``X-WR-TIMEZONE`` into the times, and
recurring-ical-events expands the recurrences (RRULE, RDATE, EXDATE, occurrences edited with
RECURRENCE-ID, RANGE=THISANDFUTURE). This module decides what counts as busy and bounds the
work; it parses nothing and expands nothing itself.

What is busy
    The occurrences of VEVENTs, except those that are ``TRANSP:TRANSPARENT`` or
    ``STATUS:CANCELLED`` (per occurrence: an edit can free one occurrence of a busy series, or
    book one of a free series). VTODOs and VJOURNALs never are: a to-do's DUE is a deadline,
    not time taken, and a journal entry takes none.

    A date occurrence (``VALUE=DATE``) blocks whole days in the resource's zone: from the local
    midnight that starts its first day to the one that starts the day after its last (23 or 25
    hours on a DST day). Floating times are that zone's wall-clock times (a wall time the clock
    skips is read with the offset before the jump). DURATION works like DTEND; with neither,
    RFC 5545 gives a date start one day and a date-time start no time at all, so no busy time.
    An end before its start is read as the stretch between the two, as recurring-ical-events
    reads it (Exchange writes such swapped events): busy, the safe side.

    The result is in UTC, clipped to the window ``[start, end)``, sorted, and the intervals
    that overlap or touch are merged.

Broken input
    A document larger than ``MAX_ICS_BYTES`` raises :class:`CalendarFeedError` with reason
    ``too_large``; one that is not an iCalendar document (no VCALENDAR, a line that is not a
    content line) raises it with ``parse``. One event that cannot be read (no or a bad DTSTART,
    a bad RRULE) is left out and its UID listed in :attr:`BusyTime.skipped`: one bad event of a
    feed of hundreds must not blind the whole calendar, and the host can log it. No other
    exception escapes.

Bounded work
    dateutil, under recurring-ical-events, walks each rule from its DTSTART, a step per period
    and one per instance it makes. So before expanding, each rule's walk up to the window's end
    is estimated from its FREQ, INTERVAL and BY parts, and the document's sum is held to
    ``MAX_ICS_RULE_STEPS``; the occurrences that land in the window are limited to
    ``MAX_ICS_OCCURRENCES``. Beyond a limit the import raises ``too_large``.

    Not bounded yet: a rule that never matches again (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``)
    makes dateutil walk on to the year 9999 looking for its next instance, seconds per rule
    (about 4 s for DAILY, 8 s for HOURLY), and dateutil checks UNTIL only on an instance, so
    an UNTIL does not stop it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any, Final

import icalendar
import x_wr_timezone  # type: ignore[import-untyped]
from recurring_ical_events import (  # type: ignore[import-untyped]
    CalendarQuery,
    ComponentsWithName,
    EventAdapter,
    Occurrence,
)

from booking_core.domain.schedule import Interval, merged
from booking_core.errors import CalendarFeedError, ValidationError
from booking_core.limits import MAX_ICS_BYTES, MAX_ICS_OCCURRENCES, MAX_ICS_RULE_STEPS

__all__ = ["BusyTime", "read_busy"]

_DAY: Final = dt.timedelta(days=1)
_MIDNIGHT: Final = dt.time(0)
#: How far past the window's end a rule's walk is estimated: a day covers every offset between
#: a date or floating time and UTC.
_CUT_AFTER: Final = _DAY
#: One period of each FREQ, and the most days one period spans (the days dateutil lays out).
_PERIODS: Final[dict[str, tuple[dt.timedelta, int]]] = {
    "SECONDLY": (dt.timedelta(seconds=1), 1),
    "MINUTELY": (dt.timedelta(minutes=1), 1),
    "HOURLY": (dt.timedelta(hours=1), 1),
    "DAILY": (_DAY, 1),
    "WEEKLY": (dt.timedelta(days=7), 7),
    "MONTHLY": (dt.timedelta(days=28), 31),
    "YEARLY": (dt.timedelta(days=365), 366),
}
#: The parts finer than a day that multiply the instances of each FREQ (coarser ones filter).
_TIME_PARTS: Final[dict[str, tuple[str, ...]]] = {
    "SECONDLY": (),
    "MINUTELY": ("BYSECOND",),
    "HOURLY": ("BYMINUTE", "BYSECOND"),
}
_ALL_TIME_PARTS: Final = ("BYHOUR", "BYMINUTE", "BYSECOND")


@dataclass(frozen=True, slots=True)
class BusyTime:
    """The busy intervals an ICS document gives a window, and the events left out.

    ``intervals`` are aware UTC, sorted, merged where they overlap or touch, inside the window.
    ``skipped`` lists, sorted, the UIDs of the events that could not be read (see the module's
    rules): busy time that may be missing, for the host to log.
    """

    intervals: tuple[Interval, ...]
    skipped: tuple[str, ...] = ()


def read_busy(
    document: bytes,
    *,
    start: dt.datetime,
    end: dt.datetime,
    zone: zoneinfo.ZoneInfo,
    feed: str,
) -> BusyTime:
    """Read ``document``, an iCalendar (RFC 5545) text, into its busy time in ``[start, end)``.

    Args:
        document: the bytes the host fetched.
        start: the window's start, aware.
        end: the window's end, aware, after ``start``.
        zone: the resource's zone: where all-day events and floating times are read.
        feed: the feed's name, for the error (never its URL, which may carry a secret).

    Raises:
        CalendarFeedError: ``too_large`` past a limit of :mod:`booking_core.limits`, ``parse``
            when the document is not iCalendar.
        ValidationError: a bad window or zone (the caller's mistake, not the feed's).
    """
    _check_window(start, end, zone)
    if not isinstance(document, bytes | bytearray):
        raise ValidationError("document", "must be bytes")
    if len(document) > MAX_ICS_BYTES:
        raise CalendarFeedError(feed, "too_large", f"more than {MAX_ICS_BYTES} bytes")
    calendar = _parse(bytes(document), feed)
    window = Interval(start.astimezone(dt.UTC), end.astimezone(dt.UTC))
    uids: dict[str, str] = {}  # series key -> UID, of every VEVENT
    skipped = _bound_rules(calendar, window, zone, feed, uids)
    try:
        query = _Query(calendar, components=[_EVENTS], skip_bad_series=True)
    except Exception as error:  # a calendar-level refusal, e.g. a CALSCALE other than GREGORIAN
        raise CalendarFeedError(feed, "parse", _describe(error)) from error
    read = {str(series.uid) for series in query.series}
    skipped.update(uid for key, uid in uids.items() if key not in read)
    # Local wall times of the window, so that date and floating series compare in ``zone``.
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    found: list[Interval] = []
    occurrences = 0
    for series in query.series:
        busy: list[Interval] = []
        try:
            for occurrence in series.between(local_start, local_end):
                occurrences += 1
                if occurrences > MAX_ICS_OCCURRENCES:
                    detail = f"more than {MAX_ICS_OCCURRENCES} occurrences in the window"
                    raise CalendarFeedError(feed, "too_large", detail)
                if not occurrence.free:
                    _add(busy, occurrence.start, occurrence.end, zone, window)
        except CalendarFeedError:
            raise
        except Exception:  # one series that dateutil or the library cannot expand
            skipped.add(uids.get(str(series.uid), ""))
            continue
        found.extend(busy)
    return BusyTime(tuple(merged(found)), tuple(sorted(skipped)))


# --- the window and the document ---------------------------------------------------------------


def _check_window(start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo) -> None:
    for field, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            raise ValidationError(field, "must be an aware datetime")
    if end <= start:
        raise ValidationError("end", "must be after start")
    if not isinstance(zone, zoneinfo.ZoneInfo):
        raise ValidationError("zone", "must be a zoneinfo.ZoneInfo")
    # A day either side of the window must stay a date in every zone.
    if start.astimezone(dt.UTC).year < 2 or end.astimezone(dt.UTC).year > 9998:
        raise ValidationError("start", "the window must lie within the years 2-9998")


def _parse(document: bytes, feed: str) -> icalendar.Calendar:
    """The document's VCALENDAR, with ``X-WR-TIMEZONE`` moved into its times."""
    try:
        parsed = icalendar.Calendar.from_ical(document)
        if not isinstance(parsed, icalendar.Calendar) or parsed.name != "VCALENDAR":
            raise ValueError("the document is not a VCALENDAR")
        standard = x_wr_timezone.to_standard(parsed)
    except Exception as error:  # icalendar raises what it meets: ValueError, KeyError, …
        raise CalendarFeedError(feed, "parse", _describe(error)) from error
    if not isinstance(standard, icalendar.Calendar):
        raise CalendarFeedError(feed, "parse", "x-wr-timezone returned no calendar")
    return standard


def _describe(error: BaseException) -> str:
    """A short detail for the error: the type and the first 200 characters of the message."""
    return f"{type(error).__name__}: {str(error)[:200]}"


def _key(event: icalendar.cal.Component) -> str:
    """The series key recurring-ical-events gives an event: its UID, or its object's id."""
    return str(event.get("UID", str(id(event))))


def _uid(event: icalendar.cal.Component) -> str:
    """What :attr:`BusyTime.skipped` names an event by: its UID, empty when it has none."""
    return str(event.get("UID", ""))


# --- what recurring-ical-events hands back ----------------------------------------------------


def _is_free(component: icalendar.cal.Component) -> bool:
    transp = str(component.get("TRANSP", "")).strip().upper()
    status = str(component.get("STATUS", "")).strip().upper()
    return transp == "TRANSPARENT" or status == "CANCELLED"


class _EventAdapter(EventAdapter):  # type: ignore[misc]
    """An event that knows, once per component, whether it is free time."""

    def __init__(self, component: icalendar.cal.Component) -> None:
        super().__init__(component)
        self.free = _is_free(component)


class _Occurrence(Occurrence):  # type: ignore[misc]
    """An occurrence that carries its component's ``free``, so that mapping it needs no copy
    of the component (``as_component`` copies one per occurrence)."""

    def __init__(self, adapter: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(adapter, *args, **kwargs)
        self.free: bool = getattr(adapter, "free", False)


class _Query(CalendarQuery):  # type: ignore[misc]
    """Skips any series that cannot be built (no DTSTART, a bad value), not only the errors
    recurring-ical-events lists; the caller reports what went missing."""

    suppressed_errors = [Exception]


_EVENTS: Final = ComponentsWithName("VEVENT", adapter=_EventAdapter, occurrence=_Occurrence)


def _add(
    busy: list[Interval],
    start: object,
    end: object,
    zone: zoneinfo.ZoneInfo,
    window: Interval,
) -> None:
    """Append the occurrence ``start``-``end`` as UTC, clipped to ``window``, when not empty."""
    first, last = _instant(start, zone), _instant(end, zone)
    if last < first:
        first, last = last, first
    first, last = max(first, window.start), min(last, window.end)
    if first < last:
        busy.append(Interval(first, last))


def _instant(value: object, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A date as the local midnight that starts it, a floating time as wall time in ``zone``,
    an aware time as itself; in UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, _MIDNIGHT, tzinfo=zone).astimezone(dt.UTC)
    raise TypeError(f"not a date or time: {value!r}")


# --- bounding the rules ------------------------------------------------------------------------


def _bound_rules(
    calendar: icalendar.Calendar,
    window: Interval,
    zone: zoneinfo.ZoneInfo,
    feed: str,
    uids: dict[str, str],
) -> set[str]:
    """Estimate every VEVENT's rules (see the module's rules); remove the events whose
    rules cannot be judged and return their UIDs. Raises ``too_large`` past the step budget.

    Fills ``uids`` on the way (one walk of the document, not two).
    """
    skipped: set[str] = set()
    steps = 0
    for event in calendar.walk("VEVENT"):
        uids[_key(event)] = _uid(event)
        if "RRULE" not in event:
            continue
        try:
            rules: Any = event["RRULE"]
            start: object = _value(event["DTSTART"])
            for rule in rules if isinstance(rules, list) else [rules]:
                if isinstance(rule, icalendar.vRecur) and not rule:
                    continue  # ``RRULE:`` with no value: no rule, as recurring-ical-events reads it
                steps += _steps(rule, start, window, zone)
                if steps > MAX_ICS_RULE_STEPS:
                    detail = f"its recurrence rules need more than {MAX_ICS_RULE_STEPS} steps"
                    raise CalendarFeedError(feed, "too_large", detail)
        except CalendarFeedError:
            raise
        except Exception:  # a rule or start we cannot judge: the event is left out
            skipped.add(_uid(event))
            event.pop("RRULE", None)
            event.pop("DTSTART", None)  # and so recurring-ical-events skips it too
    return skipped


def _value(prop: Any) -> object:
    """A date or time property's value (``.dt``); AttributeError when it is not one."""
    return prop.dt


def _steps(rule: Any, start: object, window: Interval, zone: zoneinfo.ZoneInfo) -> int:
    """An upper bound on dateutil's steps for ``rule`` from ``start`` to the window's end.

    Periods from DTSTART to the cut, times the instances one period can make: the days it
    spans when a BY part picks days, times the product of the time parts finer than FREQ.
    Raises ValueError on a FREQ, INTERVAL or part that is not one.
    """
    if not isinstance(rule, icalendar.vRecur):
        raise TypeError("RRULE is not a recurrence rule")
    freq = _one(rule, "FREQ")
    if freq not in _PERIODS:
        raise ValueError(f"unknown FREQ {freq!r}")
    interval = int(_one(rule, "INTERVAL", "1"))
    if interval < 1:
        raise ValueError("INTERVAL must be positive")
    period, days = _PERIODS[freq]
    span = window.end + _CUT_AFTER - _instant(start, zone)
    periods = max(span, dt.timedelta(0)) // (period * interval) + 1
    times = 1
    for part in _TIME_PARTS.get(freq, _ALL_TIME_PARTS):
        times *= max(len(rule.get(part, ())), 1)
    picks_days = any(part in rule for part in ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"))
    return periods * (days if picks_days else 1) * times


def _one(rule: icalendar.vRecur, part: str, default: str | None = None) -> str:
    values = rule.get(part)
    if not values:
        if default is None:
            raise ValueError(f"no {part}")
        return default
    if len(values) != 1:
        raise ValueError(f"more than one {part}")
    return str(values[0]).upper()
