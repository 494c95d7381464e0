"""Working hours and the slot grid of timed packages: pure rules, no I/O.

A resource is open by the week (:class:`WeeklyHours`), by an RFC 5545 rule
(:class:`RecurringHours`) and on dated exceptions (:class:`DateHours`), all in local wall-clock
time. :meth:`WorkingHours.open_intervals` turns them into UTC instants, and :func:`slot_starts`
lays the grid of a :class:`SlotTiming` over those. The rules below are product decisions; the
tests pin each of them.

Hours
    Times are whole minutes without tzinfo. ``closes`` is after ``opens``, or ``00:00``: the
    midnight that ends the day (``00:00``-``00:00`` is the whole day; hours past midnight are
    the next day's ``00:00``-``…``). A date's hours are its :class:`DateHours` override when there
    is one (no hours: closed), else the union of the weekly hours of its weekday and of every
    recurring rule that yields the date. At most 100 entries in each tuple, and no date is
    overridden twice. ``open_intervals(tz, start, end)`` lays out every local date from the day
    before ``start``'s to the day after ``end``'s, unclipped (the grid is anchored at each
    opening; callers clip the starts), for at most four years between years 2 and 9998.

Daylight saving
    A wall time the clock skips (a spring-forward gap, or a whole skipped day such as
    Pacific/Apia 2011-12-30) is the instant the clock jumps, so the hours of a skipped day are
    empty. A wall time that happens twice (the fall-back hour) opens at its first occurrence and
    closes at its second: 00:00-04:00 on London's fall-back day is five real hours. Intervals
    that end up empty are dropped; the rest are sorted and merged where they overlap or touch.

Recurrence
    A :class:`RecurringHours` rule is one RRULE value (no ``DTSTART``, ``RDATE``, ``EXRULE`` or
    line breaks; ``starts_on`` is its start) of at most 500 characters. FREQ is DAILY, WEEKLY,
    MONTHLY or YEARLY: finer ones would make an expansion grow with the minutes in it, and
    BYHOUR, BYMINUTE and BYSECOND are refused because ``opens`` and ``closes`` give the time of
    day. The parts follow RFC 5545's table (BYYEARDAY and BYWEEKNO only with YEARLY, BYMONTHDAY
    not with WEEKLY, ordinals like ``1MO`` only with MONTHLY and YEARLY, and at most ±5 where
    they count in a month); BYEASTER and X- parts are refused; WKST defaults to Monday.
    INTERVAL is 1-1000; COUNT is 1-1000 and must be reached within ten years of ``starts_on``
    (an UNTIL ends longer rules). dateutil's ``rrulestr`` must accept the rule, and the dates
    are dateutil's, down to its reading that a weekly rule's first week holds only the days
    from ``starts_on`` (BYSETPOS counts among those).

    The expansion costs the periods of the window asked, whatever the rule's age or
    sparseness. dateutil's ``between()`` would not: it walks from ``starts_on`` (13,000 days
    for a daily rule from 1990) and, for a rule that never matches
    (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``), on to the year 9999, seconds per call. So days
    and weeks are judged here, from the rule's phase at the window, and months and years are
    expanded by dateutil one period at a time.

Slots
    A slot starts every ``step`` of elapsed time from each opening (never wall-clock: a start
    the clock skips does not exist, and a repeated hour gives distinct instants); it fits when
    its service interval ends by the close. Buffers may lie outside the hours. The notice and
    the horizon are the service's to apply against its clock.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from dateutil.rrule import (
    DAILY,
    FR,
    MO,
    MONTHLY,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
)

from booking_core.errors import ValidationError

__all__ = [
    "MAX_OCCUPIED",
    "ZERO",
    "DateHours",
    "Interval",
    "RecurringHours",
    "RecurringTimeOff",
    "SlotTiming",
    "TimeOff",
    "WeeklyHours",
    "WorkingHours",
    "epoch_micros",
    "is_slot_start",
    "local_day_window",
    "merged",
    "months_between",
    "rule_dates",
    "slot_starts",
]

ZERO = dt.timedelta(0)

_MICROSECOND = dt.timedelta(microseconds=1)
_SECOND = dt.timedelta(seconds=1)
_MINUTE = dt.timedelta(minutes=1)
_DAY = dt.timedelta(days=1)
_MIDNIGHT = dt.time(0)

#: Entries in each tuple of :class:`WorkingHours` (and hours of one :class:`DateHours`).
_MAX_ENTRIES = 100
#: The longest stretch :meth:`WorkingHours.open_intervals` lays out (four years).
_MAX_SPAN = dt.timedelta(days=1461)
_MAX_DURATION = dt.timedelta(days=7)
_MAX_BUFFER = _DAY
_MAX_HORIZON = dt.timedelta(days=3 * 365 + 1)
_MAX_PER_DAY = 1000
#: The longest occupied interval a valid :class:`SlotTiming` makes (a week and a day of buffer
#: each side): a claim overlapping an instant started less than this before it, which lets a
#: read of claims bound its index range from below.
MAX_OCCUPIED = _MAX_DURATION + 2 * _MAX_BUFFER

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def months_between(window: Interval) -> list[tuple[int, int]]:
    """The UTC calendar months (year, month) ``window`` touches."""
    months = []
    year, month = window.start.year, window.start.month
    last = window.end - dt.timedelta(microseconds=1)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def epoch_micros(instant: dt.datetime) -> int:
    """An aware ``instant`` as whole microseconds since the Unix epoch.

    The slot search compares thousands of instants per call; integers compare several times
    faster than aware datetimes and cost nothing to read from the database.
    """
    return (instant - _EPOCH) // _MICROSECOND


# --- intervals ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open stretch ``[start, end)`` of aware instants (UTC when this module made it).

    Half-open, so back-to-back bookings touch without overlapping.
    """

    start: dt.datetime
    end: dt.datetime

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share an instant; touching ends do not."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` lies wholly inside this one."""
        return self.start <= other.start and other.end <= self.end

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


# --- working hours -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open every ``weekday`` (0 Monday … 6 Sunday) from ``opens`` to ``closes``, wall-clock.

    ``closes`` 00:00 is the midnight that ends the day, so an evening can run to the end.
    """

    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True, slots=True)
class RecurringHours:
    """Open on each date an RFC 5545 RRULE yields, from ``opens`` to ``closes``.

    For patterns a week cannot say: every other Tuesday, the first Monday of the month.
    ``rrule`` is the value only (``FREQ=WEEKLY;INTERVAL=2;BYDAY=TU``); ``starts_on`` is its
    DTSTART, a local date.
    """

    rrule: str
    starts_on: dt.date
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True, slots=True)
class DateHours:
    """One local date's own hours, replacing everything else that date; none means closed."""

    date: dt.date
    hours: tuple[tuple[dt.time, dt.time], ...] = ()


@dataclass(frozen=True, slots=True)
class RecurringTimeOff:
    """Away from ``starts`` to ``ends`` (local wall-clock times) on each date an RFC 5545 RRULE
    yields from ``starts_on``, except the dates in ``except_on``: a weekly team meeting, a
    lunch break, maintenance every first Monday. The rule may end (COUNT, UNTIL) or not: only
    the dates a question asks about are expanded."""

    rrule: str
    starts_on: dt.date
    starts: dt.time
    ends: dt.time
    except_on: tuple[dt.date, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TimeOff:
    """An aware stretch when the resource is away (holiday, sick leave, maintenance)."""

    start: dt.datetime
    end: dt.datetime
    reason: str = ""

    def check(self) -> None:
        """Raise ValidationError unless both ends are aware and ``end`` is after ``start``."""
        _check_instant("time_off.start", self.start)
        _check_instant("time_off.end", self.end)
        if self.end <= self.start:
            raise ValidationError("time_off.end", "must be after start")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When a resource is open, in its zone's wall-clock time (see the module's rules)."""

    weekly: tuple[WeeklyHours, ...] = ()
    recurring: tuple[RecurringHours, ...] = ()
    dates: tuple[DateHours, ...] = ()
    #: Recurring time off, taken out of whatever the other entries open (date overrides too).
    away: tuple[RecurringTimeOff, ...] = ()

    def check(self) -> None:
        """Raise ValidationError naming the first entry that breaks the module's rules.

        Weekdays 0-6; whole-minute naive times with ``closes`` after ``opens`` or 00:00; at most
        100 entries per tuple; no date overridden twice; every rule accepted (its field is
        ``hours.recurring.<i>.rrule``).
        """
        _check_count("hours.weekly", self.weekly)
        _check_count("hours.recurring", self.recurring)
        _check_count("hours.dates", self.dates)
        _check_count("hours.away", self.away)
        for index, away in enumerate(self.away):
            field = f"hours.away.{index}"
            if not isinstance(away, RecurringTimeOff):
                raise ValidationError(field, "must be a RecurringTimeOff")
            _compile(RecurringHours(away.rrule, away.starts_on, away.starts, away.ends), field)
            _check_hours(field, away.starts, away.ends)
            if not isinstance(away.except_on, tuple) or not all(
                _is_date(day) for day in away.except_on
            ):
                raise ValidationError(f"{field}.except_on", "must be a tuple of dates")
            _check_count(f"{field}.except_on", away.except_on)
            if not isinstance(away.reason, str) or len(away.reason) > 200:
                raise ValidationError(f"{field}.reason", "must be text of at most 200 characters")
        for index, weekly in enumerate(self.weekly):
            field = f"hours.weekly.{index}"
            if not isinstance(weekly, WeeklyHours):
                raise ValidationError(field, "must be a WeeklyHours")
            if not _is_int(weekly.weekday) or not 0 <= weekly.weekday <= 6:
                raise ValidationError(f"{field}.weekday", "must be 0 (Monday) to 6 (Sunday)")
            _check_hours(field, weekly.opens, weekly.closes)
        for index, recurring in enumerate(self.recurring):
            field = f"hours.recurring.{index}"
            if not isinstance(recurring, RecurringHours):
                raise ValidationError(field, "must be a RecurringHours")
            _compile(recurring, field)
            _check_hours(field, recurring.opens, recurring.closes)
        seen: set[dt.date] = set()
        for index, dated in enumerate(self.dates):
            field = f"hours.dates.{index}"
            if not isinstance(dated, DateHours):
                raise ValidationError(field, "must be a DateHours")
            if not _is_date(dated.date):
                raise ValidationError(f"{field}.date", "must be a date")
            if dated.date in seen:
                raise ValidationError(f"{field}.date", f"{dated.date} is overridden twice")
            seen.add(dated.date)
            _check_count(f"{field}.hours", dated.hours)
            for slot, pair in enumerate(dated.hours):
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise ValidationError(f"{field}.hours.{slot}", "must be (opens, closes)")
                _check_hours(f"{field}.hours.{slot}", pair[0], pair[1])

    def open_intervals(
        self, tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime
    ) -> list[Interval]:
        """The open stretches, in UTC, of every local date from the day before ``start``'s to
        the day after ``end``'s, sorted; a date's own stretches that overlap or touch are
        merged, stretches of different dates never are.

        So each local date's grid starts at its own opening and a slot never spans a local
        midnight: which starts a date offers never depends on the range a caller asked for
        (hours open round the clock would otherwise anchor the grid wherever a search began).

        Not clipped to ``[start, end)``: the slot grid is anchored at each opening, so callers
        need the whole of the stretches and clip the starts. ``start`` and ``end`` are aware,
        ``end`` after ``start`` and at most four years later. Checks the hours first.
        """
        _check_instant("start", start)
        _check_instant("end", end)
        if end <= start:
            raise ValidationError("end", "must be after start")
        if end - start > _MAX_SPAN:
            raise ValidationError("end", "must be at most four years after start")
        self.check()
        first, last = _local_dates(tz, start, end)
        first -= _DAY
        last += _DAY

        weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for item in self.weekly:
            weekly.setdefault(item.weekday, []).append((item.opens, item.closes))
        by_rule: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
        for index, recurring in enumerate(self.recurring):
            rule = _compile(recurring, f"hours.recurring.{index}")
            for date in _dates_between(rule, first, last):
                by_rule.setdefault(date, []).append((recurring.opens, recurring.closes))
        overrides = {item.date: item.hours for item in self.dates}
        away: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
        for index, off in enumerate(self.away):
            hours_of = RecurringHours(off.rrule, off.starts_on, off.starts, off.ends)
            rule = _compile(hours_of, f"hours.away.{index}")
            skipped = set(off.except_on)
            for date in _dates_between(rule, first, last):
                if date not in skipped:
                    away.setdefault(date, []).append((off.starts, off.ends))

        stretches: list[Interval] = []
        date = first
        while date <= last:
            if date in overrides:
                hours: Iterable[tuple[dt.time, dt.time]] = overrides[date]
            else:
                hours = (*weekly.get(date.weekday(), ()), *by_rule.get(date, ()))
            intervals = []
            for opens, closes in hours:
                interval = _open_interval(tz, date, opens, closes)
                if interval.start < interval.end:
                    intervals.append(interval)
            joined = merged(intervals)
            if date in away:
                gone = [_open_interval(tz, date, starts, ends) for starts, ends in away[date]]
                joined = _without(joined, gone)
            stretches.extend(joined)  # a later date's hours start no earlier
            date += _DAY
        return stretches

    def to_primitive(self) -> dict[str, object]:
        """The hours as JSON-able lists and dicts (times ``"HH:MM"``, dates ISO), for storage.

        Checks first: what cannot be read back is not written.
        """
        self.check()
        return {
            "weekly": [
                [item.weekday, _hhmm(item.opens), _hhmm(item.closes)] for item in self.weekly
            ],
            "recurring": [
                {
                    "rrule": item.rrule,
                    "starts_on": item.starts_on.isoformat(),
                    "opens": _hhmm(item.opens),
                    "closes": _hhmm(item.closes),
                }
                for item in self.recurring
            ],
            "dates": [
                {
                    "date": item.date.isoformat(),
                    "hours": [[_hhmm(opens), _hhmm(closes)] for opens, closes in item.hours],
                }
                for item in self.dates
            ],
            **({"away": [_away_primitive(item) for item in self.away]} if self.away else {}),
        }

    @classmethod
    def from_primitive(cls, data: object) -> WorkingHours:
        """The hours :meth:`to_primitive` wrote, checked.

        Anything else (another type, a missing or unknown key, a bool for an int, a time that
        is not ``"HH:MM"``) raises ValidationError naming where, never KeyError or TypeError.
        """
        away_entries: object = []
        if isinstance(data, dict) and "away" in data:  # written only when there is some
            data = dict(data)
            away_entries = data.pop("away")
        top = _mapping(data, "hours", ("weekly", "recurring", "dates"))
        weekly: list[WeeklyHours] = []
        for index, entry in enumerate(_sequence(top["weekly"], "hours.weekly")):
            field = f"hours.weekly.{index}"
            if not isinstance(entry, list | tuple) or len(entry) != 3:
                raise ValidationError(field, "must be [weekday, opens, closes]")
            weekday, opens, closes = entry
            if not _is_int(weekday):
                raise ValidationError(f"{field}.weekday", "must be an integer")
            weekly.append(
                WeeklyHours(
                    weekday,
                    _parse_time(opens, f"{field}.opens"),
                    _parse_time(closes, f"{field}.closes"),
                )
            )
        recurring: list[RecurringHours] = []
        for index, entry in enumerate(_sequence(top["recurring"], "hours.recurring")):
            field = f"hours.recurring.{index}"
            item = _mapping(entry, field, ("rrule", "starts_on", "opens", "closes"))
            if not isinstance(item["rrule"], str):
                raise ValidationError(f"{field}.rrule", "must be a string")
            recurring.append(
                RecurringHours(
                    item["rrule"],
                    _parse_date(item["starts_on"], f"{field}.starts_on"),
                    _parse_time(item["opens"], f"{field}.opens"),
                    _parse_time(item["closes"], f"{field}.closes"),
                )
            )
        dates: list[DateHours] = []
        for index, entry in enumerate(_sequence(top["dates"], "hours.dates")):
            field = f"hours.dates.{index}"
            item = _mapping(entry, field, ("date", "hours"))
            pairs: list[tuple[dt.time, dt.time]] = []
            for slot, pair in enumerate(_sequence(item["hours"], f"{field}.hours")):
                where = f"{field}.hours.{slot}"
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValidationError(where, "must be [opens, closes]")
                pairs.append(
                    (
                        _parse_time(pair[0], f"{where}.opens"),
                        _parse_time(pair[1], f"{where}.closes"),
                    )
                )
            dates.append(DateHours(_parse_date(item["date"], f"{field}.date"), tuple(pairs)))
        away = [
            _away_from_primitive(entry, f"hours.away.{index}")
            for index, entry in enumerate(_sequence(away_entries, "hours.away"))
        ]
        hours = cls(tuple(weekly), tuple(recurring), tuple(dates), tuple(away))
        hours.check()
        return hours


# --- slots -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotTiming:
    """How a timed package occupies time.

    Attributes:
        duration: the service itself.
        buffer_before: blocked before it (set-up, travel); may lie outside the hours.
        buffer_after: blocked after it (clean-up); may lie outside the hours.
        slot_interval: how often a slot starts; None starts one right after the other.
        min_notice: the earliest start is ``now + min_notice`` (the service applies it).
        horizon: the latest start is ``now + horizon`` (the service applies it).
        max_per_day: bookings of the package a resource takes per local day; None no limit.
    """

    duration: dt.timedelta
    buffer_before: dt.timedelta = ZERO
    buffer_after: dt.timedelta = ZERO
    slot_interval: dt.timedelta | None = None
    min_notice: dt.timedelta = ZERO
    horizon: dt.timedelta = dt.timedelta(days=365)
    max_per_day: int | None = None

    @property
    def step(self) -> dt.timedelta:
        """The time between two starts of the grid."""
        return self.duration if self.slot_interval is None else self.slot_interval

    def check(self) -> None:
        """Raise ValidationError naming the first rule this timing breaks.

        Duration over 0 and at most 7 days; buffers 0 to 1 day; a step over 0; all of these and
        the notice whole minutes (a grid in seconds is a typo); the notice not negative; the
        horizon over 0, at most 3 years and not shorter than the notice; a day limit of
        1-1000 or none.
        """
        _check_minutes("timing.duration", self.duration)
        if not ZERO < self.duration <= _MAX_DURATION:
            raise ValidationError("timing.duration", "must be more than 0 and at most 7 days")
        for name, value in (
            ("buffer_before", self.buffer_before),
            ("buffer_after", self.buffer_after),
        ):
            _check_minutes(f"timing.{name}", value)
            if not ZERO <= value <= _MAX_BUFFER:
                raise ValidationError(f"timing.{name}", "must be between 0 and 1 day")
        if self.slot_interval is not None:
            _check_minutes("timing.slot_interval", self.slot_interval)
            if self.slot_interval <= ZERO:
                raise ValidationError("timing.slot_interval", "must be more than 0")
        _check_minutes("timing.min_notice", self.min_notice)
        if self.min_notice < ZERO:
            raise ValidationError("timing.min_notice", "must not be negative")
        if not isinstance(self.horizon, dt.timedelta):
            raise ValidationError("timing.horizon", "must be a timedelta")
        if not ZERO < self.horizon <= _MAX_HORIZON:
            raise ValidationError("timing.horizon", "must be more than 0 and at most 3 years")
        if self.horizon < self.min_notice:
            raise ValidationError("timing.horizon", "must not be shorter than min_notice")
        if self.max_per_day is not None and (
            not _is_int(self.max_per_day) or not 1 <= self.max_per_day <= _MAX_PER_DAY
        ):
            raise ValidationError("timing.max_per_day", f"must be 1 to {_MAX_PER_DAY} or None")

    def occupied(self, start: dt.datetime) -> Interval:
        """What a booking starting at ``start`` blocks: the service and its buffers."""
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)

    def service(self, start: dt.datetime) -> Interval:
        """The service itself, which must lie inside the working hours."""
        return Interval(start, start + self.duration)


def slot_starts(
    open_intervals: Sequence[Interval], timing: SlotTiming, window: Interval
) -> list[dt.datetime]:
    """The starts of the grid inside ``window`` (``start <= s < end``), sorted, each once.

    Each open interval starts its own grid, every ``timing.step`` of elapsed time from its
    opening, and a start counts when its service ends by the close. The first start in the
    window is computed, not walked to, so the cost follows the starts returned.
    """
    timing.check()
    _check_instant("window.start", window.start)
    _check_instant("window.end", window.end)
    step, duration = timing.step, timing.duration
    starts: list[dt.datetime] = []
    for interval in open_intervals:
        lower = max(interval.start, window.start)
        start = interval.start - ((interval.start - lower) // step) * step  # first on-grid >= lower
        while start + duration <= interval.end and start < window.end:
            starts.append(start)
            start += step
    starts.sort()  # already sorted for disjoint sorted intervals: a linear pass
    return [s for i, s in enumerate(starts) if i == 0 or starts[i - 1] != s]


def is_slot_start(
    open_intervals: Sequence[Interval], timing: SlotTiming, start: dt.datetime
) -> bool:
    """Whether ``start`` is on the grid of some open interval and its service fits there."""
    timing.check()
    _check_instant("start", start)
    end = start + timing.duration
    return any(
        interval.start <= start
        and end <= interval.end
        and (start - interval.start) % timing.step == ZERO
        for interval in open_intervals
    )


def local_day_window(tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime) -> Interval:
    """The whole local days ``[start, end)`` touches, in UTC: from the midnight that begins
    ``start``'s day to the one that ends the day of ``end``'s last microsecond.

    For reading bookings by local day; the midnights follow the daylight-saving rules.
    """
    _check_instant("start", start)
    _check_instant("end", end)
    if end <= start:
        raise ValidationError("end", "must be after start")
    first, last = _local_dates(tz, start, end - _MICROSECOND)
    return Interval(
        _instant(tz, dt.datetime.combine(first, _MIDNIGHT), fold=0),
        _instant(tz, dt.datetime.combine(last + _DAY, _MIDNIGHT), fold=1),
    )


def _local_dates(
    tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime
) -> tuple[dt.date, dt.date]:
    """The local dates of ``start`` and ``end``, refused outside the years 2-9998 (a day
    either side of them and the zone's offset must still be dates and instants)."""
    try:
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    except OverflowError:
        first = last = dt.date.min
    if first.year < 2:
        raise ValidationError("start", "must be after the year 1")
    if last.year > 9998:
        raise ValidationError("end", "must be before the year 9999")
    return first, last


# --- wall clock to UTC -------------------------------------------------------------------------


def _without(stretches: list[Interval], gone: list[Interval]) -> list[Interval]:
    """``stretches`` (sorted, disjoint) less every interval of ``gone``: what is left opens
    again where a time off ends (the slot grid re-anchors there)."""
    left = stretches
    for cut in gone:
        pieces: list[Interval] = []
        for stretch in left:
            if not stretch.overlaps(cut):
                pieces.append(stretch)
                continue
            if stretch.start < cut.start:
                pieces.append(Interval(stretch.start, cut.start))
            if cut.end < stretch.end:
                pieces.append(Interval(cut.end, stretch.end))
        left = pieces
    return left


def _open_interval(
    tz: zoneinfo.ZoneInfo, date: dt.date, opens: dt.time, closes: dt.time
) -> Interval:
    """One day's hours in UTC: ``opens`` at its first occurrence, ``closes`` at its last."""
    closing_day = date + _DAY if closes == _MIDNIGHT else date
    return Interval(
        _instant(tz, dt.datetime.combine(date, opens), fold=0),
        _instant(tz, dt.datetime.combine(closing_day, closes), fold=1),
    )


def _instant(tz: zoneinfo.ZoneInfo, wall: dt.datetime, *, fold: int) -> dt.datetime:
    """The UTC instant of a naive local wall time.

    A wall time that happens twice is taken at its ``fold`` (0 first, 1 second); one the clock
    skips is the instant it jumps. A skipped time does not survive the trip to UTC and back.
    """
    first = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
    if first.astimezone(tz).replace(tzinfo=None) != wall:
        return _jump(tz, wall, first)
    if fold == 0:
        return first
    return wall.replace(tzinfo=tz, fold=1).astimezone(dt.UTC)


def _jump(tz: zoneinfo.ZoneInfo, wall: dt.datetime, after: dt.datetime) -> dt.datetime:
    """The instant the clock jumps over the skipped ``wall``: the first whose wall time is
    later.

    In a gap, fold 0 reads the wall time with the offset from before the jump (an instant at or
    after it) and fold 1 with the one from after (an instant before it); the jump lies between.
    Zone transitions fall on whole seconds, so halving to a second finds it exactly, in at most
    17 steps for a skipped day and 12 for an hour.
    """
    before = wall.replace(tzinfo=tz, fold=1).astimezone(dt.UTC)
    low, high = before, after  # wall time of low is earlier than ``wall``, of high later
    while high - low > _SECOND:
        middle = low + max((high - low) // _SECOND // 2, 1) * _SECOND  # always moves
        if middle.astimezone(tz).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return high


def merged(intervals: list[Interval]) -> list[Interval]:
    """``intervals`` sorted (in place), with the ones that overlap or touch joined."""
    intervals.sort()
    merged: list[Interval] = []
    for interval in intervals:
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


# --- recurrence rules --------------------------------------------------------------------------

_Freq = Literal[0, 1, 2, 3]
_FREQS: dict[str, _Freq] = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
_DAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DATEUTIL_DAYS = (MO, TU, WE, TH, FR, SA, SU)
_ANY: frozenset[int] = frozenset({DAILY, WEEKLY, MONTHLY, YEARLY})
#: Each part a rule may have, and the frequencies RFC 5545 allows it with.
_PARTS: dict[str, frozenset[int]] = {
    "FREQ": _ANY,
    "INTERVAL": _ANY,
    "COUNT": _ANY,
    "UNTIL": _ANY,
    "WKST": _ANY,
    "BYMONTH": _ANY,
    "BYMONTHDAY": frozenset({DAILY, MONTHLY, YEARLY}),
    "BYYEARDAY": frozenset({YEARLY}),
    "BYWEEKNO": frozenset({YEARLY}),
    "BYDAY": _ANY,
    "BYSETPOS": _ANY,
}
_MAX_RULE_LENGTH = 500
_MAX_INTERVAL = 1000
_MAX_COUNT = 1000
#: A COUNT rule must be done within this of ``starts_on`` (ten years).
_COUNT_SPAN = dt.timedelta(days=3653)
#: An interval that steps past the year 9999, so a dateutil rule stops after one period.
_ONE_PERIOD = {MONTHLY: 12 * 10_000, YEARLY: 10_000}
_RULE_TEXT = re.compile(r"[A-Za-z0-9=;,+-]*")
_UNSIGNED = re.compile(r"[0-9]{1,3}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,3}")
_BYDAY_ITEM = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"([0-9]{8})(?:T([0-9]{6}))?")


@dataclass(frozen=True, slots=True, eq=False)
class _Rule:
    """A parsed, accepted rule; ``counted`` holds every date of a COUNT rule."""

    freq: _Freq
    starts_on: dt.date
    interval: int = 1
    count: int | None = None
    until: dt.date | None = None
    wkst: int = 0
    bymonth: frozenset[int] = frozenset()
    bymonthday: frozenset[int] = frozenset()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    byday: tuple[tuple[int, int], ...] = ()  # (weekday, ordinal); ordinal 0: every such day
    bysetpos: tuple[int, ...] = ()
    counted: tuple[dt.date, ...] = ()


def rule_dates(
    rule: str, starts_on: dt.date, last: dt.date, *, field: str, first: dt.date | None = None
) -> list[dt.date]:
    """The local dates an RFC 5545 RRULE value yields from ``starts_on`` (its DTSTART) through
    ``last`` (from ``first`` only, when given), in order; ValidationError on ``field`` for a
    rule it refuses.

    The same parser and bounded expansion as :class:`RecurringHours` (only the periods up to
    ``last`` are visited), so no rule makes it search to the year 9999.
    """
    if not isinstance(rule, str):
        raise ValidationError(field, "must be a string")
    if len(rule) > _MAX_RULE_LENGTH:
        raise ValidationError(field, f"must be at most {_MAX_RULE_LENGTH} characters")
    compiled = _compiled(rule, starts_on)
    if isinstance(compiled, str):
        raise ValidationError(field, compiled)
    low = starts_on if first is None else max(first, starts_on)
    return list(_dates_between(compiled, low, last)) if low <= last else []


def _compile(hours: RecurringHours, field: str) -> _Rule:
    """The rule of ``hours``, or ValidationError on ``<field>.rrule`` / ``.starts_on``."""
    if not _is_date(hours.starts_on):
        raise ValidationError(f"{field}.starts_on", "must be a date")
    if not isinstance(hours.rrule, str):
        raise ValidationError(f"{field}.rrule", "must be a string")
    if len(hours.rrule) > _MAX_RULE_LENGTH:  # before the cache, which keeps what it is given
        raise ValidationError(f"{field}.rrule", f"must be at most {_MAX_RULE_LENGTH} characters")
    compiled = _compiled(hours.rrule, hours.starts_on)
    if isinstance(compiled, str):
        raise ValidationError(f"{field}.rrule", compiled)
    return compiled


@functools.lru_cache(maxsize=512)
def _compiled(text: str, starts_on: dt.date) -> _Rule | str:
    """The rule, or why it is refused (cached either way: a refused rule costs once)."""
    try:
        return _parse_rule(text, starts_on)
    except ValueError as error:
        return str(error)


def _parse_rule(text: str, starts_on: dt.date) -> _Rule:
    """Parse and accept one RRULE value; ValueError with the reason for the user otherwise."""
    freq, parts = _rule_parts(text)

    def numbers(name: str, high: int, *, signed: bool) -> tuple[int, ...]:
        return _numbers(name, parts.get(name), high, signed=signed)

    interval = numbers("INTERVAL", _MAX_INTERVAL, signed=False)
    count = numbers("COUNT", _MAX_COUNT, signed=False)
    if len(interval) > 1 or len(count) > 1:
        raise ValueError("INTERVAL and COUNT take one number")
    byweekno = numbers("BYWEEKNO", 53, signed=True)
    wkst = parts.get("WKST", "MO")
    if wkst not in _DAY_NAMES:
        raise ValueError("WKST must be one of MO, TU, WE, TH, FR, SA, SU")
    rule = _Rule(
        freq=freq,
        starts_on=starts_on,
        interval=interval[0] if interval else 1,
        count=count[0] if count else None,
        until=_until(parts.get("UNTIL")),
        wkst=_DAY_NAMES.index(wkst),
        bymonth=frozenset(numbers("BYMONTH", 12, signed=False)),
        bymonthday=frozenset(numbers("BYMONTHDAY", 31, signed=True)),
        byyearday=numbers("BYYEARDAY", 366, signed=True),
        byweekno=byweekno,
        byday=_byday(parts.get("BYDAY"), freq, by_month="BYMONTH" in parts, by_week=bool(byweekno)),
        bysetpos=numbers("BYSETPOS", 366, signed=True),
    )
    try:  # dateutil has the last word on what a rule is
        rrulestr(text, dtstart=dt.datetime.combine(starts_on, _MIDNIGHT))
    except Exception as error:  # whatever dateutil raises means "not a rule"
        raise ValueError(f"is not a valid RRULE ({type(error).__name__})") from None
    return rule if rule.count is None else _with_counted(rule)


def _rule_parts(text: str) -> tuple[_Freq, dict[str, str]]:
    """The frequency and the ``NAME=VALUE`` parts, each allowed, given once, with a value."""
    if len(text) > _MAX_RULE_LENGTH:
        raise ValueError(f"must be at most {_MAX_RULE_LENGTH} characters")
    if not _RULE_TEXT.fullmatch(text):
        raise ValueError(
            "must be one RRULE value: NAME=VALUE parts joined by ';', without DTSTART or "
            "line breaks (starts_on is the rule's start)"
        )
    parts: dict[str, str] = {}
    for part in text.upper().split(";"):
        name, _, value = part.partition("=")
        if name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise ValueError(f"{name} is refused: opens and closes give the time of day")
        if name not in _PARTS:
            raise ValueError(f"{name[:20] or 'an empty part'} is not a supported RRULE part")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        if not value:
            raise ValueError(f"{name} needs a value")
        parts[name] = value
    freq_name = parts.get("FREQ")
    if freq_name is None or freq_name not in _FREQS:
        raise ValueError("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    freq = _FREQS[freq_name]
    for name in parts:
        if freq not in _PARTS[name]:
            raise ValueError(f"{name} cannot be used with FREQ={freq_name} (RFC 5545)")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("COUNT and UNTIL cannot both be given")
    return freq, parts


def _numbers(name: str, value: str | None, high: int, *, signed: bool) -> tuple[int, ...]:
    """A part's comma-separated numbers, each 1 to ``high`` (or -1 to -``high``), sorted."""
    if value is None:
        return ()
    found: set[int] = set()
    for item in value.split(","):
        if (
            not (_SIGNED if signed else _UNSIGNED).fullmatch(item)
            or not 1 <= abs(int(item)) <= high
        ):
            sign = "±" if signed else ""
            raise ValueError(f"{name} must list numbers {sign}1 to {sign}{high}")
        found.add(int(item))
    return tuple(sorted(found))


def _byday(
    value: str | None, freq: _Freq, *, by_month: bool, by_week: bool
) -> tuple[tuple[int, int], ...]:
    """BYDAY as (weekday, ordinal) pairs. Ordinals only by month or year (RFC 5545), and at most
    ±5 where they count within a month (dateutil fails on a 6th Monday of a YEARLY BYMONTH)."""
    days: set[tuple[int, int]] = set()
    for item in value.split(",") if value is not None else ():
        match = _BYDAY_ITEM.fullmatch(item)
        if match is None:
            raise ValueError("BYDAY must list days like MO,TU or, by month or year, 1MO,-1FR")
        ordinal = int(match[1]) if match[1] else 0
        limit = 5 if freq == MONTHLY or by_month else 53
        if match[1] and not 1 <= abs(ordinal) <= limit:
            raise ValueError(f"BYDAY ordinals must be ±1 to ±{limit} here")
        if ordinal and (freq in (DAILY, WEEKLY) or by_week):
            raise ValueError("BYDAY ordinals (1MO) need FREQ=MONTHLY or YEARLY and no BYWEEKNO")
        days.add((_DAY_NAMES.index(match[2]), ordinal))
    return tuple(sorted(days))


def _until(value: str | None) -> dt.date | None:
    """UNTIL's date: the rule's dates are midnights, so a time on that date keeps the date."""
    if value is None:
        return None
    match = _UNTIL.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        if match[2]:
            dt.datetime.strptime(match[2], "%H%M%S")
        return dt.datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        raise ValueError("UNTIL must be a local date like 20270101 or 20270101T120000") from None


def _with_counted(rule: _Rule) -> _Rule:
    """A COUNT rule with all its dates, which must come within ten years of its start."""
    try:
        horizon = rule.starts_on + _COUNT_SPAN
    except OverflowError:
        horizon = dt.date.max
    counted: list[dt.date] = []
    for date in _occurrences(rule, rule.starts_on, horizon):
        counted.append(date)
        if len(counted) == rule.count:
            return replace(rule, counted=tuple(counted))
    raise ValueError(
        f"COUNT={rule.count} is not reached within ten years of starts_on: end it with UNTIL"
    )


def _dates_between(rule: _Rule, first: dt.date, last: dt.date) -> Iterable[dt.date]:
    """The dates the rule yields from ``first`` to ``last``, in order."""
    if rule.count is not None:
        low = bisect.bisect_left(rule.counted, first)
        return rule.counted[low : bisect.bisect_right(rule.counted, last)]
    low_date = max(first, rule.starts_on)
    high_date = last if rule.until is None else min(last, rule.until)
    return _occurrences(rule, low_date, high_date) if low_date <= high_date else ()


def _occurrences(rule: _Rule, low: dt.date, high: dt.date) -> Iterator[dt.date]:
    """The rule's dates from ``low`` (not before ``starts_on``) to ``high``, in order.

    The first period in reach is computed from ``starts_on`` (its phase under INTERVAL), and
    only the periods up to ``high`` are visited: the work follows ``high - low``, not the
    rule's age. Days and weeks are judged here, months and years by dateutil one period at a
    time (an INTERVAL past the year 9999 stops it after that period).
    """
    if rule.freq == DAILY:
        return _daily(rule, low, high)
    if rule.freq == WEEKLY:
        return _weekly(rule, low, high)
    return _by_period(rule, low, high)


def _daily(rule: _Rule, low: dt.date, high: dt.date) -> Iterator[dt.date]:
    start = rule.starts_on.toordinal()
    first = low.toordinal() + (start - low.toordinal()) % rule.interval
    weekdays = {day for day, _ in rule.byday}
    for ordinal in range(first, high.toordinal() + 1, rule.interval):
        date = dt.date.fromordinal(ordinal)
        if _day_matches(rule, date, weekdays):
            yield from _pick([date], rule.bysetpos)


def _weekly(rule: _Rule, low: dt.date, high: dt.date) -> Iterator[dt.date]:
    weekdays = {day for day, _ in rule.byday} or {rule.starts_on.weekday()}
    step = 7 * rule.interval
    first_week = _week_start(rule.starts_on, rule.wkst)
    week = _week_start(low, rule.wkst)
    week += (first_week - week) % step
    last_ordinal = dt.date.max.toordinal()
    for start in range(week, high.toordinal() + 1, step):
        # dateutil's first period runs from DTSTART, not from the start of its week
        days = [
            dt.date.fromordinal(ordinal)
            for ordinal in range(
                max(start, rule.starts_on.toordinal()), min(start + 7, last_ordinal + 1)
            )
        ]
        chosen = [date for date in days if _day_matches(rule, date, weekdays)]
        for date in _pick(chosen, rule.bysetpos):
            if low <= date <= high:
                yield date


def _week_start(date: dt.date, wkst: int) -> int:
    """The ordinal of the first day of ``date``'s week, weeks starting on ``wkst``."""
    return date.toordinal() - (date.weekday() - wkst) % 7


def _day_matches(rule: _Rule, date: dt.date, weekdays: set[int]) -> bool:
    """Whether a day passes BYMONTH, BYMONTHDAY and the weekdays, as dateutil's masks do."""
    if rule.bymonth and date.month not in rule.bymonth:
        return False
    if weekdays and date.weekday() not in weekdays:
        return False
    if rule.bymonthday:
        length = calendar.monthrange(date.year, date.month)[1]
        return date.day in rule.bymonthday or date.day - length - 1 in rule.bymonthday
    return True


def _pick(candidates: list[dt.date], positions: tuple[int, ...]) -> list[dt.date]:
    """BYSETPOS: the candidates at the given 1-based (or negative) positions, in order."""
    if not positions:
        return candidates
    size = len(candidates)
    picked = {candidates[p - 1 if p > 0 else p] for p in positions if -size <= p <= size}
    return sorted(picked)


def _by_period(rule: _Rule, low: dt.date, high: dt.date) -> Iterator[dt.date]:
    """MONTHLY and YEARLY: each period in phase, expanded by dateutil on its own."""
    if rule.freq == MONTHLY:

        def index(date: dt.date) -> int:
            return date.year * 12 + date.month - 1

        def begins(period: int) -> dt.date:
            return dt.date(period // 12, period % 12 + 1, 1)

    else:

        def index(date: dt.date) -> int:
            return date.year

        def begins(period: int) -> dt.date:
            return dt.date(period, 1, 1)

    first = index(low) + (index(rule.starts_on) - index(low)) % rule.interval
    for period in range(first, index(high) + 1, rule.interval):
        for moment in _period_rule(rule, max(begins(period), rule.starts_on)):
            date = moment.date()
            if low <= date <= high:
                yield date


def _period_rule(rule: _Rule, start: dt.date) -> rrule:
    """A dateutil rule for the one period that begins at ``start``.

    dateutil fills a rule without day parts from its DTSTART (the day of the month, and for
    YEARLY the month); they are pinned here to ``starts_on``, not to the period's start.
    """
    bymonth: tuple[int, ...] | None = tuple(sorted(rule.bymonth)) or None
    bymonthday: tuple[int, ...] | None = tuple(sorted(rule.bymonthday)) or None
    if not (rule.bymonthday or rule.byyearday or rule.byweekno or rule.byday):
        bymonthday = (rule.starts_on.day,)
        if rule.freq == YEARLY and not rule.bymonth:
            bymonth = (rule.starts_on.month,)
    weekdays = [
        _DATEUTIL_DAYS[day](ordinal) if ordinal else _DATEUTIL_DAYS[day]
        for day, ordinal in rule.byday
    ]
    return rrule(
        rule.freq,
        dtstart=dt.datetime.combine(start, _MIDNIGHT),
        interval=_ONE_PERIOD[rule.freq],
        wkst=rule.wkst,
        bymonth=bymonth,
        bymonthday=bymonthday,
        byyearday=rule.byyearday or None,
        byweekno=rule.byweekno or None,
        byweekday=weekdays or None,
        bysetpos=rule.bysetpos or None,
    )


# --- checks and parsing helpers ----------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _check_instant(field: str, value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError(field, "must be an aware datetime")


def _check_count(field: str, entries: object) -> None:
    if not isinstance(entries, tuple):
        raise ValidationError(field, "must be a tuple")
    if len(entries) > _MAX_ENTRIES:
        raise ValidationError(field, f"at most {_MAX_ENTRIES} entries")


def _check_time(field: str, value: object) -> dt.time:
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise ValidationError(field, "must be a time without tzinfo")
    if value.second or value.microsecond:
        raise ValidationError(field, "must be whole minutes")
    return value


def _check_hours(field: str, opens_value: object, closes_value: object) -> None:
    opens = _check_time(f"{field}.opens", opens_value)
    closes = _check_time(f"{field}.closes", closes_value)
    if closes != _MIDNIGHT and closes <= opens:
        raise ValidationError(
            f"{field}.closes", "must be after opens (00:00 is the midnight that ends the day)"
        )


def _check_minutes(field: str, value: object) -> None:
    if not isinstance(value, dt.timedelta):
        raise ValidationError(field, "must be a timedelta")
    if value % _MINUTE:
        raise ValidationError(field, "must be whole minutes")


def _hhmm(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_time(value: object, field: str) -> dt.time:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(field, 'must be a time "HH:MM"')
    return dt.time(int(match[1]), int(match[2]))


def _parse_date(value: object, field: str) -> dt.date:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(field, 'must be a date "YYYY-MM-DD"')


def _mapping(value: object, field: str, keys: tuple[str, ...]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValidationError(field, "must be an object")
    missing = [key for key in keys if key not in value]
    if missing:
        raise ValidationError(f"{field}.{missing[0]}", "is missing")
    if len(value) != len(keys):
        raise ValidationError(field, f"must have exactly the keys {', '.join(keys)}")
    return {key: value[key] for key in keys}


def _away_primitive(item: RecurringTimeOff) -> dict[str, object]:
    return {
        "rrule": item.rrule,
        "starts_on": item.starts_on.isoformat(),
        "starts": _hhmm(item.starts),
        "ends": _hhmm(item.ends),
        "except_on": [day.isoformat() for day in item.except_on],
        "reason": item.reason,
    }


def _away_from_primitive(entry: object, field: str) -> RecurringTimeOff:
    keys = ("rrule", "starts_on", "starts", "ends", "except_on", "reason")
    item = _mapping(entry, field, keys)
    if not isinstance(item["rrule"], str):
        raise ValidationError(f"{field}.rrule", "must be a string")
    if not isinstance(item["reason"], str):
        raise ValidationError(f"{field}.reason", "must be a string")
    return RecurringTimeOff(
        item["rrule"],
        _parse_date(item["starts_on"], f"{field}.starts_on"),
        _parse_time(item["starts"], f"{field}.starts"),
        _parse_time(item["ends"], f"{field}.ends"),
        tuple(
            _parse_date(day, f"{field}.except_on.{n}")
            for n, day in enumerate(_sequence(item["except_on"], f"{field}.except_on"))
        ),
        item["reason"],
    )


def _sequence(value: object, field: str) -> list[object] | tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list")
    if len(value) > _MAX_ENTRIES:
        raise ValidationError(field, f"at most {_MAX_ENTRIES} entries")
    return value
