"""Working hours, recurrence rules and the slot grid (booking_core.domain.schedule).

Daylight saving has its own module (test_dst.py); here the zone is mostly UTC, so a wall time
and its instant read the same and the expected values are plain to check.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zoneinfo
from typing import Any

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from booking_core.domain import schedule
from booking_core.domain.schedule import (
    ZERO,
    DateHours,
    Interval,
    RecurringHours,
    SlotTiming,
    TimeOff,
    WeeklyHours,
    WorkingHours,
    is_slot_start,
    local_day_window,
    slot_starts,
)
from booking_core.errors import ValidationError

UTC = zoneinfo.ZoneInfo("UTC")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
T = dt.time
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An instant in UTC."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def midnight(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, T(0), dt.UTC)


def spans(intervals: list[Interval]) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(interval.start, interval.end) for interval in intervals]


def rule_dates(rule: str, starts_on: dt.date, first: dt.date, last: dt.date) -> list[dt.date]:
    """The dates from ``first`` to ``last`` a rule opens (09:00-10:00 in UTC, one per date)."""
    hours = WorkingHours(recurring=(RecurringHours(rule, starts_on, T(9), T(10)),))
    intervals = hours.open_intervals(UTC, midnight(first), midnight(last + DAY))
    return [i.start.date() for i in intervals if first <= i.start.date() <= last]


def every(start: dt.date, days: int, until: dt.date) -> list[dt.date]:
    """``start``, ``start + days``, … up to ``until``: the expected dates, by plain arithmetic."""
    out = []
    while start <= until:
        out.append(start)
        start += dt.timedelta(days=days)
    return out


# --- intervals ---------------------------------------------------------------------------------


def test_intervals_overlap_but_touching_ones_do_not() -> None:
    """[9, 10) and [10, 11) touch and do not overlap; [9, 10) and [9:59, 11) do."""
    nine_ten = Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 10))
    assert not nine_ten.overlaps(Interval(at(2026, 1, 5, 10), at(2026, 1, 5, 11)))
    assert not Interval(at(2026, 1, 5, 10), at(2026, 1, 5, 11)).overlaps(nine_ten)
    assert nine_ten.overlaps(Interval(at(2026, 1, 5, 9, 59), at(2026, 1, 5, 11)))
    assert nine_ten.overlaps(nine_ten)


def test_an_interval_contains_what_lies_inside_it_and_knows_its_duration() -> None:
    """Containment includes equal ends; the duration is end minus start."""
    day = Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 17))
    assert day.contains(day)
    assert day.contains(Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 10)))
    assert not day.contains(Interval(at(2026, 1, 5, 16), at(2026, 1, 5, 17, 1)))
    assert day.duration == 8 * HOUR
    assert sorted([day, Interval(at(2026, 1, 5, 8), at(2026, 1, 5, 9))])[0].start == at(
        2026, 1, 5, 8
    )


# --- weekly hours and date overrides ----------------------------------------------------------


def test_weekly_hours_open_on_their_weekday_in_the_zone() -> None:
    """Monday 09:00-17:00 in Berlin (UTC+1 in January) is 08:00Z-16:00Z each Monday; the other
    days are closed."""
    hours = WorkingHours(weekly=(WeeklyHours(MON, T(9), T(17)),))
    # 2026-01-05 is a Monday; with the day either side, the window covers Sunday to Sunday.
    opens = hours.open_intervals(BERLIN, at(2026, 1, 5), at(2026, 1, 10, 12))
    assert spans(opens) == [(at(2026, 1, 5, 8), at(2026, 1, 5, 16))]
    for interval in opens:
        assert interval.start.tzinfo is dt.UTC


def test_open_intervals_take_a_day_either_side_and_are_not_clipped() -> None:
    """The hours of the day before the window's and the day after are included, whole: the
    grid is anchored at the opening, so the caller clips the starts, not the hours."""
    hours = WorkingHours(weekly=tuple(WeeklyHours(day, T(9), T(17)) for day in range(7)))
    opens = hours.open_intervals(UTC, at(2026, 1, 7, 12), at(2026, 1, 7, 13))
    assert spans(opens) == [
        (at(2026, 1, 6, 9), at(2026, 1, 6, 17)),
        (at(2026, 1, 7, 9), at(2026, 1, 7, 17)),
        (at(2026, 1, 8, 9), at(2026, 1, 8, 17)),
    ]


def test_a_date_override_closes_the_date() -> None:
    """A DateHours without hours closes its date, whatever the week and the rules say."""
    hours = WorkingHours(
        weekly=tuple(WeeklyHours(day, T(9), T(17)) for day in range(7)),
        recurring=(RecurringHours("FREQ=DAILY", dt.date(2026, 1, 1), T(18), T(19)),),
        dates=(DateHours(dt.date(2026, 12, 25)),),
    )
    opens = hours.open_intervals(UTC, at(2026, 12, 25, 10), at(2026, 12, 25, 11))
    assert [i.start.date() for i in opens] == [dt.date(2026, 12, 24)] * 2 + [
        dt.date(2026, 12, 26)
    ] * 2


def test_a_date_override_replaces_the_hours_of_the_date() -> None:
    """A DateHours with hours gives the date exactly those hours (here two short spans)."""
    hours = WorkingHours(
        weekly=(WeeklyHours(THU, T(9), T(17)),),
        dates=(DateHours(dt.date(2026, 12, 24), ((T(8), T(10)), (T(11), T(12)))),),
    )
    opens = hours.open_intervals(UTC, at(2026, 12, 24), at(2026, 12, 24, 23))
    assert spans(opens) == [
        (at(2026, 12, 24, 8), at(2026, 12, 24, 10)),
        (at(2026, 12, 24, 11), at(2026, 12, 24, 12)),
    ]


def test_closing_at_midnight_runs_to_the_end_of_the_day() -> None:
    """closes 00:00 is the midnight that ends the day; 00:00-00:00 is the whole day."""
    evening = WorkingHours(weekly=(WeeklyHours(MON, T(18), T(0)),))
    assert spans(evening.open_intervals(UTC, at(2026, 1, 5), at(2026, 1, 6))) == [
        (at(2026, 1, 5, 18), at(2026, 1, 6))
    ]
    whole = WorkingHours(weekly=(WeeklyHours(MON, T(0), T(0)),))
    assert spans(whole.open_intervals(UTC, at(2026, 1, 5), at(2026, 1, 6))) == [
        (at(2026, 1, 5), at(2026, 1, 6))
    ]


def test_touching_and_overlapping_hours_merge() -> None:
    """09-12 and 12-15 touch and merge; 10-11 inside them vanishes; a whole Monday and Tuesday
    00:00-06:00 touch at midnight but stay two stretches (dates are never merged: each date's
    grid starts at its own opening). The result is sorted and disjoint."""
    hours = WorkingHours(
        weekly=(
            WeeklyHours(WED, T(12), T(15)),
            WeeklyHours(WED, T(9), T(12)),
            WeeklyHours(WED, T(10), T(11)),
            WeeklyHours(MON, T(0), T(0)),
            WeeklyHours(TUE, T(0), T(6)),
        )
    )
    # 2026-01-05 is a Monday.
    opens = hours.open_intervals(UTC, at(2026, 1, 5, 12), at(2026, 1, 6, 12))
    assert spans(opens) == [
        (at(2026, 1, 5), at(2026, 1, 6)),
        (at(2026, 1, 6), at(2026, 1, 6, 6)),
        (at(2026, 1, 7, 9), at(2026, 1, 7, 15)),
    ]


def test_weekly_and_recurring_hours_add_up() -> None:
    """A date a rule yields opens the rule's hours too, merged with the week's."""
    hours = WorkingHours(
        weekly=(WeeklyHours(TUE, T(9), T(12)),),
        recurring=(RecurringHours("FREQ=WEEKLY;BYDAY=TU", dt.date(2026, 1, 6), T(11), T(14)),),
    )
    opens = hours.open_intervals(UTC, at(2026, 1, 6, 10), at(2026, 1, 6, 11))
    assert spans(opens) == [(at(2026, 1, 6, 9), at(2026, 1, 6, 14))]


def test_open_intervals_refuse_naive_reversed_or_huge_windows() -> None:
    """start and end must be aware, end after start, and at most four years apart."""
    hours = WorkingHours(weekly=(WeeklyHours(MON, T(9), T(17)),))
    cases = [
        ("start", dt.datetime(2026, 1, 5), at(2026, 1, 6)),
        ("end", at(2026, 1, 5), dt.datetime(2026, 1, 6)),
        ("end", at(2026, 1, 5), at(2026, 1, 5)),
        ("end", at(2026, 1, 5), at(2026, 1, 5) + 1462 * DAY),
        ("start", dt.datetime(1, 1, 1, 5, tzinfo=dt.UTC), dt.datetime(1, 1, 2, tzinfo=dt.UTC)),
        ("end", at(9999, 12, 1), dt.datetime.max.replace(tzinfo=dt.UTC)),
    ]
    for field, start, end in cases:
        with pytest.raises(ValidationError) as error:
            hours.open_intervals(UTC, start, end)
        assert error.value.field == field


# --- recurrence rules --------------------------------------------------------------------------


def test_every_other_tuesday_from_its_first_tuesday() -> None:
    """INTERVAL=2 from Tuesday 2026-01-06: every 14 days from that date."""
    got = rule_dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        dt.date(2026, 1, 6),
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 30),
    )
    assert got == every(dt.date(2026, 1, 6), 14, dt.date(2026, 4, 30))


def test_every_other_tuesday_counts_weeks_from_the_start_week() -> None:
    """Starting Thursday 2026-01-08: that week's Tuesday is before the start, the next week is
    off, so the first date is Tuesday 2026-01-20, then every 14 days."""
    got = rule_dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    assert got == every(dt.date(2026, 1, 20), 14, dt.date(2026, 3, 31))


def test_a_window_long_after_the_start_keeps_the_rules_phase() -> None:
    """A window a year later lands on the same fortnightly grid as the first dates."""
    first, last = dt.date(2027, 1, 1), dt.date(2027, 2, 28)
    got = rule_dates("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", dt.date(2026, 1, 6), first, last)
    expected = [d for d in every(dt.date(2026, 1, 6), 14, last) if d >= first]
    assert got == expected
    assert got[0] == dt.date(2027, 1, 5)  # 364 days (26 fortnights) after 2026-01-06


def test_until_ends_the_rule_on_its_date() -> None:
    """Tuesdays and Thursdays of every other week from Monday 2026-01-05 until 2026-02-19:
    the UNTIL date itself is included, nothing after it."""
    got = rule_dates(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20260219",
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 30),
    )
    # Weeks of Jan 5, Jan 19, Feb 2, Feb 16; the week of Mar 2 is past UNTIL.
    assert got == [
        dt.date(2026, 1, 6),
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 20),
        dt.date(2026, 1, 22),
        dt.date(2026, 2, 3),
        dt.date(2026, 2, 5),
        dt.date(2026, 2, 17),
        dt.date(2026, 2, 19),
    ]


def test_count_ends_the_rule_after_that_many_dates() -> None:
    """COUNT=3 every other Tuesday from 2026-01-06: three dates, and none in a later window."""
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=3"
    got = rule_dates(rule, dt.date(2026, 1, 6), dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert got == [dt.date(2026, 1, 6), dt.date(2026, 1, 20), dt.date(2026, 2, 3)]
    assert rule_dates(rule, dt.date(2026, 1, 6), dt.date(2026, 1, 25), dt.date(2026, 2, 10)) == [
        dt.date(2026, 2, 3)
    ]
    assert rule_dates(rule, dt.date(2026, 1, 6), dt.date(2027, 1, 1), dt.date(2027, 3, 1)) == []


def test_monthly_and_yearly_rules() -> None:
    """The first Monday of each month; the last day of each month; a month-day taken from
    starts_on (the 31st skips shorter months, even in a window that starts in one); 29 February
    yearly only in leap years."""
    first, last = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
    assert rule_dates("FREQ=MONTHLY;BYDAY=1MO", dt.date(2026, 1, 1), first, last) == [
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 2),
        dt.date(2026, 3, 2),
        dt.date(2026, 4, 6),
        dt.date(2026, 5, 4),
        dt.date(2026, 6, 1),
    ]
    assert rule_dates(
        "FREQ=MONTHLY;BYMONTHDAY=-1", dt.date(2026, 1, 1), first, dt.date(2026, 3, 31)
    ) == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
    ]
    assert rule_dates("FREQ=MONTHLY", dt.date(2026, 1, 31), dt.date(2026, 4, 1), last) == [
        dt.date(2026, 5, 31)
    ]
    leap = rule_dates(
        "FREQ=YEARLY", dt.date(2024, 2, 29), dt.date(2025, 3, 1), dt.date(2028, 12, 31)
    )
    assert leap == [dt.date(2028, 2, 29)]


def test_month_days_count_from_the_end_too() -> None:
    """BYMONTHDAY=-1,-2 on a daily rule: the last two days of each month, February included."""
    got = rule_dates(
        "FREQ=DAILY;BYMONTHDAY=-1,-2",
        dt.date(2026, 1, 7),
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    assert got == [
        dt.date(2026, 1, 30),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 27),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 30),
        dt.date(2026, 3, 31),
    ]


def test_the_first_week_of_a_weekly_rule_starts_on_its_first_day() -> None:
    """BYSETPOS picks among the days of each week, and (as in dateutil) the first week only
    holds the days from starts_on: the first of Monday and Friday from Wednesday 2026-01-07 is
    that Friday, then each Monday."""
    got = rule_dates(
        "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1",
        dt.date(2026, 1, 7),
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 26),
    )
    assert got == [
        dt.date(2026, 1, 9),
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 19),
        dt.date(2026, 1, 26),
    ]


def test_lowercase_rules_are_accepted() -> None:
    """RRULE names are case-insensitive, as in dateutil."""
    assert rule_dates(
        "freq=weekly;byday=fr", dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 16)
    ) == [
        dt.date(2026, 1, 2),
        dt.date(2026, 1, 9),
        dt.date(2026, 1, 16),
    ]


def test_a_rule_from_1990_costs_only_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A never-ending daily rule from 1990 lays out 62 days by judging those days only (plus
    the day either side), not the 13,000 since 1990; a monthly one builds one dateutil rule per
    month of the window. The dates keep the rule's phase (every third day from 1990-01-01)."""
    judged: list[dt.date] = []
    day_matches = schedule._day_matches

    def counting(rule: Any, date: dt.date, weekdays: set[int]) -> bool:
        judged.append(date)
        return day_matches(rule, date, weekdays)

    monkeypatch.setattr(schedule, "_day_matches", counting)
    first, last = dt.date(2026, 3, 1), dt.date(2026, 5, 1)  # 62 days
    got = rule_dates("FREQ=DAILY", dt.date(1990, 1, 1), first, last)
    assert got == every(first, 1, last)
    assert len(judged) <= 65  # 2026-02-28 to 2026-05-03: the window and the days either side
    judged.clear()
    third = rule_dates("FREQ=DAILY;INTERVAL=3", dt.date(1990, 1, 1), first, last)
    assert third == [d for d in every(first, 1, last) if (d - dt.date(1990, 1, 1)).days % 3 == 0]
    assert len(judged) <= 22
    judged.clear()
    assert rule_dates("FREQ=DAILY", dt.date(1, 1, 1), first, last) == every(first, 1, last)
    assert len(judged) <= 65

    built: list[dt.date] = []
    period_rule = schedule._period_rule

    def building(rule: Any, start: dt.date) -> Any:
        built.append(start)
        return period_rule(rule, start)

    monkeypatch.setattr(schedule, "_period_rule", building)
    assert rule_dates("FREQ=MONTHLY;BYDAY=1MO", dt.date(1990, 1, 1), first, last) == [
        dt.date(2026, 3, 2),
        dt.date(2026, 4, 6),
    ]
    assert len(built) <= 4  # February (the day before) to May (the day after)


def test_a_rule_that_never_matches_stays_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 February never comes: dateutil alone would walk every day to the year 9999 looking
    for it; here the window's days are judged and nothing opens."""
    judged: list[dt.date] = []
    day_matches = schedule._day_matches

    def counting(rule: Any, date: dt.date, weekdays: set[int]) -> bool:
        judged.append(date)
        return day_matches(rule, date, weekdays)

    monkeypatch.setattr(schedule, "_day_matches", counting)
    rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
    assert rule_dates(rule, dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 3, 3)) == []
    assert len(judged) <= 65
    for yearly in ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"):
        assert (
            rule_dates(yearly, dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 3, 3)) == []
        )


HOSTILE_RULES = [
    "FREQ=SECONDLY",
    "FREQ=MINUTELY;INTERVAL=1",
    "FREQ=HOURLY",
    "garbage",
    "",
    "FREQ=DAILY;",
    "FREQ=DAILY\nDTSTART:19970902T090000",
    "DTSTART:19970902T090000\nRRULE:FREQ=DAILY",
    "RRULE:FREQ=DAILY",
    "FREQ=DAILY;DTSTART=19970902",
    "FREQ=DAILY;RDATE=19970902",
    "FREQ=DAILY;EXRULE=FREQ",
    "FREQ=DAILY;BYMONTHDAY=" + "1," * 5000 + "1",  # 10,000 characters
    "F" * 10_000,
    "FREQ=DAILY;BYHOUR=9",
    "FREQ=DAILY;BYMINUTE=0",
    "FREQ=DAILY;BYSECOND=0",
    "FREQ=DAILY;BYEASTER=0",
    "FREQ=DAILY;X-NAME=1",
    "INTERVAL=2",
    "FREQ=DAILY;FREQ=WEEKLY",
    "FREQ=DAILY;INTERVAL=0",
    "FREQ=DAILY;INTERVAL=-1",
    "FREQ=DAILY;INTERVAL=1001",
    "FREQ=DAILY;INTERVAL=99999999999999999999",
    "FREQ=DAILY;INTERVAL=2,3",
    "FREQ=DAILY;COUNT=0",
    "FREQ=DAILY;COUNT=1001",
    "FREQ=DAILY;COUNT=5;UNTIL=20270101",
    "FREQ=DAILY;UNTIL=20270101T000000Z",
    "FREQ=DAILY;UNTIL=20271301",
    "FREQ=DAILY;UNTIL=2027-01-01",
    "FREQ=DAILY;UNTIL=20270101T250000",
    "FREQ=WEEKLY;BYMONTHDAY=1",
    "FREQ=DAILY;BYYEARDAY=1",
    "FREQ=MONTHLY;BYWEEKNO=1",
    "FREQ=DAILY;BYDAY=1MO",
    "FREQ=MONTHLY;BYDAY=6MO",
    "FREQ=MONTHLY;BYDAY=0MO",
    "FREQ=YEARLY;BYMONTH=12;BYDAY=53MO",
    "FREQ=YEARLY;BYWEEKNO=1;BYDAY=1MO",
    "FREQ=DAILY;BYDAY=XX",
    "FREQ=DAILY;BYMONTH=13",
    "FREQ=DAILY;BYMONTH=0",
    "FREQ=DAILY;BYMONTHDAY=32",
    "FREQ=DAILY;BYSETPOS=0",
    "FREQ=DAILY;BYSETPOS=367",
    "FREQ=DAILY;WKST=XX",
    "FREQ=DAILY;BYMONTH=",
    "FREQ=DAILY;BYMONTH=1,,2",
    "FREQ=DAILY;BYMONTH=١",  # an Arabic-Indic digit one
    "FREQ=DAILY;COUNT=5;BYMONTH=2;BYMONTHDAY=30",  # never reaches its COUNT
    "FREQ=YEARLY;INTERVAL=20;COUNT=2",  # its second date is 20 years on
]


@pytest.mark.parametrize("rule", HOSTILE_RULES, ids=lambda rule: repr(rule[:40]))
def test_hostile_rules_are_refused_with_their_field(rule: str) -> None:
    """A finer FREQ, garbage, an injected DTSTART, an endless or oversized rule, a time part,
    a part out of range or out of place: ValidationError on hours.recurring.<i>.rrule, from
    check() and from open_intervals alike."""
    hours = WorkingHours(
        recurring=(
            RecurringHours("FREQ=DAILY", dt.date(2026, 1, 1), T(9), T(10)),
            RecurringHours(rule, dt.date(2026, 1, 1), T(9), T(10)),
        )
    )
    with pytest.raises(ValidationError) as error:
        hours.check()
    assert error.value.field == "hours.recurring.1.rrule"
    with pytest.raises(ValidationError):
        hours.open_intervals(UTC, at(2026, 1, 5), at(2026, 1, 6))


def test_a_rule_that_is_not_a_string_is_refused() -> None:
    """An rrule that is not a str, or a starts_on that is a datetime, names its field."""
    for bad, field in (
        (RecurringHours(None, dt.date(2026, 1, 1), T(9), T(10)), "hours.recurring.0.rrule"),  # type: ignore[arg-type]
        (
            RecurringHours("FREQ=DAILY", dt.datetime(2026, 1, 1), T(9), T(10)),
            "hours.recurring.0.starts_on",
        ),
        (
            RecurringHours("FREQ=DAILY", dt.date(2026, 1, 1), T(10), T(9)),
            "hours.recurring.0.closes",
        ),
    ):
        with pytest.raises(ValidationError) as error:
            WorkingHours(recurring=(bad,)).check()
        assert error.value.field == field


DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def rules(draw: st.DrawFn) -> str:
    """RRULE values from the accepted grammar, in any part order."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]

    def listed(values: list[int], most: int = 3) -> str:
        return ",".join(
            map(
                str, draw(st.lists(st.sampled_from(values), min_size=1, max_size=most, unique=True))
            )
        )

    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if draw(st.booleans()):
        parts.append("BYMONTH=" + listed(list(range(1, 13))))
    if freq != "WEEKLY" and draw(st.booleans()):
        parts.append("BYMONTHDAY=" + listed([*range(1, 32), *range(-31, 0)]))
    weekno = False
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append("BYYEARDAY=" + listed([*range(1, 367), *range(-366, 0)]))
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append("BYWEEKNO=" + listed([*range(1, 54), *range(-53, 0)]))
        weekno = True
    if draw(st.booleans()):
        items = []
        for day in draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True)):
            if freq in ("MONTHLY", "YEARLY") and not weekno and draw(st.booleans()):
                limit = (
                    5 if freq == "MONTHLY" or any(p.startswith("BYMONTH=") for p in parts) else 53
                )
                items.append(f"{draw(st.sampled_from([1, -1])) * draw(st.integers(1, limit))}{day}")
            else:
                items.append(day)
        parts.append("BYDAY=" + ",".join(items))
    if draw(st.booleans()):
        parts.append("BYSETPOS=" + listed([*range(1, 8), *range(-7, 0)], 2))
    if draw(st.booleans()):
        parts.append("WKST=" + draw(st.sampled_from(DAYS)))
    end = draw(st.sampled_from(["", "COUNT", "UNTIL"]))
    if end == "COUNT":
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    elif end == "UNTIL":
        parts.append(
            "UNTIL=" + (dt.date(9975, 1, 1) + draw(st.integers(0, 8000)) * DAY).strftime("%Y%m%d")
        )
    return ";".join(draw(st.permutations(parts)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(rule="FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1", starts=2, offset=0, length=30)
@example(
    rule="FREQ=WEEKLY;WKST=SU;BYDAY=SU,SA;BYSETPOS=-1;INTERVAL=2", starts=5, offset=-3, length=60
)
@example(rule="FREQ=DAILY;BYMONTHDAY=-1,-3;INTERVAL=2", starts=0, offset=0, length=400)
@example(rule="FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=MO", starts=300, offset=-30, length=400)
@example(rule="FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=1;COUNT=7", starts=10, offset=100, length=200)
@given(
    rule=rules(),
    starts=st.integers(0, 5000),
    offset=st.integers(-30, 30) | st.integers(-30, 2000),
    length=st.integers(0, 400),
)
def test_rules_open_the_dates_dateutil_yields(
    rule: str, starts: int, offset: int, length: int
) -> None:
    """For any accepted rule and window, the dates opened are exactly dateutil's between() for
    the rule; a COUNT rule is refused exactly when dateutil finds fewer dates in ten years.

    Near the year 9999 on purpose: dateutil walks from DTSTART and, for a rule that never
    matches, on to the year 9999, so there its reference answer stays cheap."""
    starts_on = dt.date(9975, 1, 1) + starts * DAY
    first = starts_on + offset * DAY
    last = first + length * DAY
    assume(last <= dt.date(9997, 12, 30))
    reference = rrulestr(rule, dtstart=dt.datetime.combine(starts_on, T(0)))
    try:
        got = rule_dates(rule, starts_on, first, last)
    except ValidationError as error:
        refusal = error.message
    else:
        refusal = ""
    if refusal:
        assert "COUNT" in refusal, refusal
        count = int(rule.split("COUNT=")[1].split(";", maxsplit=1)[0])
        ten_years = reference.between(
            dt.datetime.combine(starts_on, T(0)),
            dt.datetime.combine(starts_on + 3653 * DAY, T(0)),
            inc=True,
        )
        assert len(ten_years) < count
        return
    expected = reference.between(
        dt.datetime.combine(first, T(0)), dt.datetime.combine(last, T(0)), inc=True
    )
    assert got == [moment.date() for moment in expected]


# --- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "hours"),
    [
        ("hours.weekly.0.weekday", WorkingHours(weekly=(WeeklyHours(7, T(9), T(17)),))),
        ("hours.weekly.0.weekday", WorkingHours(weekly=(WeeklyHours(-1, T(9), T(17)),))),
        ("hours.weekly.0.weekday", WorkingHours(weekly=(WeeklyHours(True, T(9), T(17)),))),
        ("hours.weekly.0.closes", WorkingHours(weekly=(WeeklyHours(0, T(17), T(9)),))),
        ("hours.weekly.0.closes", WorkingHours(weekly=(WeeklyHours(0, T(9), T(9)),))),
        (
            "hours.weekly.1.opens",
            WorkingHours(weekly=(WeeklyHours(0, T(9), T(17)), WeeklyHours(0, T(9, 0, 30), T(17)))),
        ),
        ("hours.weekly.0.closes", WorkingHours(weekly=(WeeklyHours(0, T(9), T(17, 0, 0, 1)),))),
        (
            "hours.weekly.0.opens",
            WorkingHours(weekly=(WeeklyHours(0, T(9, tzinfo=dt.UTC), T(17)),)),
        ),
        ("hours.weekly.0.opens", WorkingHours(weekly=(WeeklyHours(0, "09:00", T(17)),))),  # type: ignore[arg-type]
        (
            "hours.weekly",
            WorkingHours(weekly=tuple(WeeklyHours(0, T(9), T(17)) for _ in range(101))),
        ),
        ("hours.weekly", WorkingHours(weekly=[WeeklyHours(0, T(9), T(17))])),  # type: ignore[arg-type]
        ("hours.weekly.0", WorkingHours(weekly=((0, T(9), T(17)),))),  # type: ignore[arg-type]
        (
            "hours.recurring",
            WorkingHours(
                recurring=tuple(
                    RecurringHours("FREQ=DAILY", dt.date(2026, 1, 1), T(9), T(10))
                    for _ in range(101)
                )
            ),
        ),
        (
            "hours.dates.1.date",
            WorkingHours(
                dates=(DateHours(dt.date(2026, 12, 24)), DateHours(dt.date(2026, 12, 24)))
            ),
        ),
        ("hours.dates.0.date", WorkingHours(dates=(DateHours(dt.datetime(2026, 12, 24)),))),
        (
            "hours.dates.0.hours.1.closes",
            WorkingHours(
                dates=(DateHours(dt.date(2026, 12, 24), ((T(9), T(10)), (T(12), T(11)))),)
            ),
        ),
        (
            "hours.dates.0.hours.0",
            WorkingHours(dates=(DateHours(dt.date(2026, 12, 24), ((T(9), T(10), T(11)),)),)),
        ),  # type: ignore[arg-type]
        (
            "hours.dates.0.hours",
            WorkingHours(
                dates=(DateHours(dt.date(2026, 12, 24), tuple((T(9), T(10)) for _ in range(101))),)
            ),
        ),
        (
            "hours.dates",
            WorkingHours(dates=tuple(DateHours(dt.date(2026, 1, 1) + i * DAY) for i in range(101))),
        ),
    ],
)
def test_working_hours_name_the_entry_they_refuse(field: str, hours: WorkingHours) -> None:
    """check() raises ValidationError naming the field of the first broken rule: weekday out
    of 0-6 (or a bool), closes not after opens, seconds, tzinfo, a wrong type, more than 100
    entries, a date overridden twice."""
    with pytest.raises(ValidationError) as error:
        hours.check()
    assert error.value.field == field


def test_the_edges_of_working_hours_are_allowed() -> None:
    """The whole day, 23:59 to midnight, Sunday, 100 entries of each kind all pass."""
    WorkingHours(
        weekly=(
            WeeklyHours(0, T(0), T(0)),
            WeeklyHours(6, T(23, 59), T(0)),
            *(WeeklyHours(1, T(9), T(10)) for _ in range(98)),
        ),
        recurring=tuple(
            RecurringHours("FREQ=DAILY", dt.date(2026, 1, 1), T(9), T(10)) for _ in range(100)
        ),
        dates=tuple(DateHours(dt.date(2026, 1, 1) + i * DAY, ((T(0), T(0)),)) for i in range(100)),
    ).check()  # raises on a broken rule


@pytest.mark.parametrize(
    ("field", "timing"),
    [
        ("timing.duration", SlotTiming(ZERO)),
        ("timing.duration", SlotTiming(-HOUR)),
        ("timing.duration", SlotTiming(7 * DAY + MIN)),
        ("timing.duration", SlotTiming(dt.timedelta(minutes=30, seconds=30))),
        ("timing.duration", SlotTiming(30)),  # type: ignore[arg-type]
        ("timing.buffer_before", SlotTiming(HOUR, buffer_before=-MIN)),
        ("timing.buffer_before", SlotTiming(HOUR, buffer_before=DAY + MIN)),
        ("timing.buffer_before", SlotTiming(HOUR, buffer_before=dt.timedelta(seconds=30))),
        ("timing.buffer_after", SlotTiming(HOUR, buffer_after=-MIN)),
        ("timing.buffer_after", SlotTiming(HOUR, buffer_after=DAY + MIN)),
        ("timing.slot_interval", SlotTiming(HOUR, slot_interval=ZERO)),
        ("timing.slot_interval", SlotTiming(HOUR, slot_interval=-15 * MIN)),
        ("timing.slot_interval", SlotTiming(HOUR, slot_interval=dt.timedelta(seconds=90))),
        ("timing.min_notice", SlotTiming(HOUR, min_notice=-MIN)),
        ("timing.min_notice", SlotTiming(HOUR, min_notice=dt.timedelta(hours=1, seconds=1))),
        ("timing.horizon", SlotTiming(HOUR, horizon=ZERO)),
        ("timing.horizon", SlotTiming(HOUR, horizon=1097 * DAY)),
        ("timing.horizon", SlotTiming(HOUR, min_notice=3 * DAY, horizon=2 * DAY)),
        ("timing.max_per_day", SlotTiming(HOUR, max_per_day=0)),
        ("timing.max_per_day", SlotTiming(HOUR, max_per_day=1001)),
        ("timing.max_per_day", SlotTiming(HOUR, max_per_day=True)),
    ],
)
def test_slot_timing_names_the_rule_it_breaks(field: str, timing: SlotTiming) -> None:
    """check() raises ValidationError naming the field: a duration of 0 or over 7 days,
    buffers outside 0-1 day, a step of 0, seconds anywhere, a negative notice, a horizon of 0,
    over 3 years or shorter than the notice, a day limit outside 1-1000."""
    with pytest.raises(ValidationError) as error:
        timing.check()
    assert error.value.field == field


def test_the_edges_of_slot_timing_are_allowed_and_it_computes_its_intervals() -> None:
    """7 days, 1-day buffers, a 1-minute step and a 3-year horizon equal to the notice pass;
    step is the interval or else the duration; occupied adds the buffers, service does not."""
    SlotTiming(7 * DAY, DAY, DAY, MIN, 1096 * DAY, 1096 * DAY, 1000).check()
    SlotTiming(MIN, max_per_day=1).check()
    timing = SlotTiming(HOUR, buffer_before=15 * MIN, buffer_after=30 * MIN)
    assert timing.step == HOUR
    assert SlotTiming(HOUR, slot_interval=15 * MIN).step == 15 * MIN
    start = at(2026, 1, 5, 9)
    assert timing.occupied(start) == Interval(at(2026, 1, 5, 8, 45), at(2026, 1, 5, 10, 30))
    assert timing.service(start) == Interval(start, at(2026, 1, 5, 10))


def test_time_off_must_be_aware_and_forward() -> None:
    """A naive end or one not after the start is refused, naming the field."""
    TimeOff(at(2026, 1, 5), at(2026, 1, 6), "holiday").check()
    for field, off in (
        ("time_off.start", TimeOff(dt.datetime(2026, 1, 5), at(2026, 1, 6))),
        ("time_off.end", TimeOff(at(2026, 1, 5), dt.datetime(2026, 1, 6))),
        ("time_off.end", TimeOff(at(2026, 1, 5), at(2026, 1, 5))),
    ):
        with pytest.raises(ValidationError) as error:
            off.check()
        assert error.value.field == field


# --- slots -------------------------------------------------------------------------------------


def test_the_grid_is_anchored_at_the_opening() -> None:
    """Open 09:10-12:00 with 30-minute slots: starts at 09:10, 09:40, … 11:10; 11:40 would end
    at 12:10, after the close."""
    opens = [Interval(at(2026, 1, 5, 9, 10), at(2026, 1, 5, 12))]
    starts = slot_starts(opens, SlotTiming(30 * MIN), Interval(at(2026, 1, 5), at(2026, 1, 6)))
    assert starts == [at(2026, 1, 5, 9, 10) + k * 30 * MIN for k in range(5)]


def test_the_window_filters_the_grid_without_moving_it() -> None:
    """A window from 10:00 to 11:10 keeps 10:10 and 10:40: the grid stays on :10 and :40, and
    the window's end is excluded."""
    opens = [Interval(at(2026, 1, 5, 9, 10), at(2026, 1, 5, 12))]
    window = Interval(at(2026, 1, 5, 10), at(2026, 1, 5, 11, 10))
    assert slot_starts(opens, SlotTiming(30 * MIN), window) == [
        at(2026, 1, 5, 10, 10),
        at(2026, 1, 5, 10, 40),
    ]


def test_a_window_long_after_the_opening_is_reached_by_arithmetic() -> None:
    """An interval open for a year with 5-minute slots, asked for its last hour: the 12 starts
    of that hour, on the grid of the opening."""
    opening = at(2026, 1, 1, 0, 3)
    opens = [Interval(opening, opening + 365 * DAY)]
    window = Interval(opening + 365 * DAY - HOUR - MIN, opening + 365 * DAY)
    starts = slot_starts(opens, SlotTiming(5 * MIN), window)
    assert starts == [opening + 365 * DAY - HOUR + k * 5 * MIN for k in range(12)]


def test_a_slot_must_end_by_the_close() -> None:
    """50-minute services every 30 minutes in 09:00-10:30: 09:00 and 09:30 fit, 10:00 does
    not; a service longer than the opening gives no start at all."""
    opens = [Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 10, 30))]
    window = Interval(at(2026, 1, 5), at(2026, 1, 6))
    timing = SlotTiming(50 * MIN, slot_interval=30 * MIN)
    assert slot_starts(opens, timing, window) == [at(2026, 1, 5, 9), at(2026, 1, 5, 9, 30)]
    assert slot_starts(opens, SlotTiming(2 * HOUR), window) == []


def test_buffers_may_lie_outside_the_hours() -> None:
    """A 09:00-10:00 opening takes a 60-minute service with 30-minute buffers either side."""
    opens = [Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 10))]
    timing = SlotTiming(HOUR, buffer_before=30 * MIN, buffer_after=30 * MIN)
    assert slot_starts(opens, timing, Interval(at(2026, 1, 5), at(2026, 1, 6))) == [
        at(2026, 1, 5, 9)
    ]
    assert is_slot_start(opens, timing, at(2026, 1, 5, 9))


def test_overlapping_or_unsorted_intervals_give_each_start_once() -> None:
    """Intervals given out of order and overlapping on one grid still give sorted, unique
    starts."""
    opens = [
        Interval(at(2026, 1, 5, 10), at(2026, 1, 5, 12)),
        Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 11)),
    ]
    starts = slot_starts(opens, SlotTiming(HOUR), Interval(at(2026, 1, 5), at(2026, 1, 6)))
    assert starts == [at(2026, 1, 5, 9), at(2026, 1, 5, 10), at(2026, 1, 5, 11)]


def test_is_slot_start_on_and_off_the_grid() -> None:
    """On the grid and fitting: True. Off the grid by a minute, fitting only past the close,
    before the opening, or in a gap: False."""
    opens = [
        Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 12)),
        Interval(at(2026, 1, 5, 13, 15), at(2026, 1, 5, 15)),
    ]
    timing = SlotTiming(HOUR, slot_interval=30 * MIN)
    assert is_slot_start(opens, timing, at(2026, 1, 5, 9))
    assert is_slot_start(opens, timing, at(2026, 1, 5, 11))
    assert is_slot_start(opens, timing, at(2026, 1, 5, 13, 45))
    assert not is_slot_start(opens, timing, at(2026, 1, 5, 9, 1))
    assert not is_slot_start(opens, timing, at(2026, 1, 5, 11, 30))
    assert not is_slot_start(opens, timing, at(2026, 1, 5, 8, 30))
    assert not is_slot_start(opens, timing, at(2026, 1, 5, 12, 30))
    assert not is_slot_start(opens, timing, at(2026, 1, 5, 13, 30))
    assert not is_slot_start([], timing, at(2026, 1, 5, 9))
    with pytest.raises(ValidationError):
        is_slot_start(opens, timing, dt.datetime(2026, 1, 5, 9))


def test_slot_functions_check_the_timing() -> None:
    """A broken timing (a step of 0 would never end) is refused before any grid is laid."""
    opens = [Interval(at(2026, 1, 5, 9), at(2026, 1, 5, 12))]
    broken = SlotTiming(HOUR, slot_interval=ZERO)
    with pytest.raises(ValidationError) as error:
        slot_starts(opens, broken, Interval(at(2026, 1, 5), at(2026, 1, 6)))
    assert error.value.field == "timing.slot_interval"
    with pytest.raises(ValidationError):
        is_slot_start(opens, broken, at(2026, 1, 5, 9))


def test_local_day_window_covers_whole_local_days() -> None:
    """From 10:30 to 14:00 UTC on a Berlin winter day is that Berlin day, 23:00Z to 23:00Z; an
    end at the very midnight does not reach into the next day."""
    assert local_day_window(BERLIN, at(2026, 1, 5, 10, 30), at(2026, 1, 5, 14)) == Interval(
        at(2026, 1, 4, 23), at(2026, 1, 5, 23)
    )
    assert local_day_window(BERLIN, at(2026, 1, 5, 10, 30), at(2026, 1, 5, 23)) == Interval(
        at(2026, 1, 4, 23), at(2026, 1, 5, 23)
    )
    with pytest.raises(ValidationError):
        local_day_window(BERLIN, at(2026, 1, 5), at(2026, 1, 5))


# --- properties --------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
]


@st.composite
def weekly_hours(draw: st.DrawFn) -> WeeklyHours:
    opens = draw(st.integers(0, 24 * 60 - 1))
    closes = draw(st.integers(opens + 1, 24 * 60))
    return WeeklyHours(
        draw(st.integers(0, 6)),
        T(opens // 60, opens % 60),
        T(0) if closes == 24 * 60 else T(closes // 60, closes % 60),
    )


@settings(max_examples=200, deadline=None)
@given(
    weekly=st.lists(weekly_hours(), max_size=8),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)
    ),
    length=st.integers(1, 20 * 24 * 60).map(lambda minutes: minutes * MIN),
    duration=st.integers(1, 48).map(lambda n: n * 5 * MIN),
    interval=st.none() | st.integers(1, 24).map(lambda n: n * 5 * MIN),
)
def test_the_grid_holds_its_invariants(
    weekly: list[WeeklyHours],
    zone: str,
    start: dt.datetime,
    length: dt.timedelta,
    duration: dt.timedelta,
    interval: dt.timedelta | None,
) -> None:
    """For any weekly hours, zone and window: open intervals are UTC, non-empty, sorted and
    disjoint (not even touching); slot starts are sorted and unique, inside the window, on
    the grid of the one open interval that holds their whole service."""
    hours = WorkingHours(weekly=tuple(weekly))
    opens = hours.open_intervals(zoneinfo.ZoneInfo(zone), start, start + length)
    for interval_ in opens:
        assert interval_.start.tzinfo is dt.UTC
        assert interval_.start < interval_.end
    for before, after in itertools.pairwise(opens):
        assert before.end < after.start
    timing = SlotTiming(duration, slot_interval=interval)
    window = Interval(start, start + length)
    starts = slot_starts(opens, timing, window)
    assert all(a < b for a, b in itertools.pairwise(starts))
    for slot in starts:
        assert window.start <= slot < window.end
        holders = [i for i in opens if i.contains(timing.service(slot))]
        assert len(holders) == 1
        assert (slot - holders[0].start) % timing.step == ZERO
        assert is_slot_start(opens, timing, slot)


SAMPLE_RULES = [
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270101",
    "FREQ=MONTHLY;BYDAY=1MO",
    "FREQ=DAILY;COUNT=10",
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24",
]


def times() -> st.SearchStrategy[tuple[dt.time, dt.time]]:
    return weekly_hours().map(lambda weekly: (weekly.opens, weekly.closes))


@st.composite
def working_hours(draw: st.DrawFn) -> WorkingHours:
    weekly = tuple(draw(st.lists(weekly_hours(), max_size=6)))
    recurring = tuple(
        RecurringHours(rule, starts_on, *pair)
        for rule, starts_on, pair in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(SAMPLE_RULES),
                    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
                    times(),
                ),
                max_size=3,
            )
        )
    )
    dates = tuple(
        DateHours(date, tuple(draw(st.lists(times(), max_size=3))))
        for date in draw(
            st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), max_size=4, unique=True)
        )
    )
    return WorkingHours(weekly, recurring, dates)


@settings(max_examples=150, deadline=None)
@given(hours=working_hours())
def test_hours_survive_a_trip_through_json(hours: WorkingHours) -> None:
    """from_primitive(to_primitive(h)) == h, through json.dumps and json.loads."""
    primitive = json.loads(json.dumps(hours.to_primitive()))
    assert WorkingHours.from_primitive(primitive) == hours


def test_the_primitive_shape() -> None:
    """The stored form: weekly as [weekday, "HH:MM", "HH:MM"], rules and dates as objects."""
    hours = WorkingHours(
        weekly=(WeeklyHours(0, T(9), T(17)),),
        recurring=(
            RecurringHours("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", dt.date(2026, 1, 5), T(9), T(12)),
        ),
        dates=(
            DateHours(dt.date(2026, 12, 24), ((T(9), T(12)),)),
            DateHours(dt.date(2026, 12, 25)),
        ),
    )
    assert hours.to_primitive() == {
        "weekly": [[0, "09:00", "17:00"]],
        "recurring": [
            {
                "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
                "starts_on": "2026-01-05",
                "opens": "09:00",
                "closes": "12:00",
            }
        ],
        "dates": [
            {"date": "2026-12-24", "hours": [["09:00", "12:00"]]},
            {"date": "2026-12-25", "hours": []},
        ],
    }
    assert WorkingHours.from_primitive(hours.to_primitive()) == hours
    assert (
        WorkingHours.from_primitive({"weekly": [], "recurring": [], "dates": []}) == WorkingHours()
    )


def _valid() -> dict[str, Any]:
    return {
        "weekly": [[0, "09:00", "17:00"]],
        "recurring": [
            {"rrule": "FREQ=DAILY", "starts_on": "2026-01-05", "opens": "09:00", "closes": "12:00"}
        ],
        "dates": [{"date": "2026-12-24", "hours": [["09:00", "12:00"]]}],
    }


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = _valid()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()

HOSTILE_SHAPES: list[tuple[str, object]] = [
    ("hours", None),
    ("hours", []),
    ("hours", "weekly"),
    ("hours", 7),
    ("hours.dates", {"weekly": [], "recurring": []}),
    ("hours", {**_valid(), "extra": []}),
    ("hours", {1: [], "weekly": [], "recurring": [], "dates": []}),
    ("hours.weekly", _with(("weekly",), None)),
    ("hours.weekly", _with(("weekly",), {"0": ["09:00", "17:00"]})),
    ("hours.weekly", _with(("weekly",), "09:00-17:00")),
    ("hours.weekly", _with(("weekly",), [[0, "09:00", "17:00"]] * 101)),
    ("hours.weekly.0", _with(("weekly", 0), "0 09:00 17:00")),
    ("hours.weekly.0", _with(("weekly", 0), [0, "09:00"])),
    ("hours.weekly.0", _with(("weekly", 0), [0, "09:00", "17:00", "x"])),
    ("hours.weekly.0.weekday", _with(("weekly", 0, 0), "0")),
    ("hours.weekly.0.weekday", _with(("weekly", 0, 0), True)),
    ("hours.weekly.0.weekday", _with(("weekly", 0, 0), 0.0)),
    ("hours.weekly.0.weekday", _with(("weekly", 0, 0), None)),
    ("hours.weekly.0.weekday", _with(("weekly", 0, 0), 7)),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "9:00")),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "09:60")),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "24:00")),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "09:00:00")),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "09:00 ")),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), "\uff10\uff19:00")),  # fullwidth digits
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), 900)),
    ("hours.weekly.0.opens", _with(("weekly", 0, 1), None)),
    ("hours.weekly.0.closes", _with(("weekly", 0, 2), "08:00")),
    ("hours.recurring", _with(("recurring",), {})),
    ("hours.recurring.0", _with(("recurring", 0), "FREQ=DAILY")),
    ("hours.recurring.0.rrule", _with(("recurring", 0, "rrule"), _DELETE)),
    ("hours.recurring.0", _with(("recurring", 0, "extra"), 1)),
    ("hours.recurring.0.rrule", _with(("recurring", 0, "rrule"), 5)),
    ("hours.recurring.0.rrule", _with(("recurring", 0, "rrule"), ["FREQ=DAILY"])),
    ("hours.recurring.0.rrule", _with(("recurring", 0, "rrule"), "FREQ=SECONDLY")),
    (
        "hours.recurring.0.rrule",
        _with(("recurring", 0, "rrule"), "FREQ=DAILY\nDTSTART:20200101T000000"),
    ),
    ("hours.recurring.0.starts_on", _with(("recurring", 0, "starts_on"), "2026-1-5")),
    ("hours.recurring.0.starts_on", _with(("recurring", 0, "starts_on"), "2026-02-30")),
    ("hours.recurring.0.starts_on", _with(("recurring", 0, "starts_on"), "20260105")),
    ("hours.recurring.0.starts_on", _with(("recurring", 0, "starts_on"), 20260105)),
    ("hours.recurring.0.starts_on", _with(("recurring", 0, "starts_on"), "2026-01-05T00:00")),
    ("hours.recurring.0.opens", _with(("recurring", 0, "opens"), _DELETE)),
    ("hours.dates", _with(("dates",), "2026-12-24")),
    ("hours.dates.0", _with(("dates", 0), ["2026-12-24", []])),
    ("hours.dates.0.hours", _with(("dates", 0, "hours"), _DELETE)),
    ("hours.dates.0.hours", _with(("dates", 0, "hours"), "09:00-12:00")),
    ("hours.dates.0.hours.0", _with(("dates", 0, "hours", 0), ["09:00"])),
    ("hours.dates.0.hours.0", _with(("dates", 0, "hours", 0), "09:00")),
    ("hours.dates.0.hours.0.closes", _with(("dates", 0, "hours", 0, 1), "")),
    ("hours.dates.0.date", _with(("dates", 0, "date"), None)),
    ("hours.dates.1.date", _with(("dates",), [{"date": "2026-12-24", "hours": []}] * 2)),
]


@pytest.mark.parametrize(
    ("field", "data"), HOSTILE_SHAPES, ids=[f"{i}-{f}" for i, (f, _) in enumerate(HOSTILE_SHAPES)]
)
def test_from_primitive_refuses_malformed_data_with_its_field(field: str, data: object) -> None:
    """A non-dict, a missing or unknown key, a wrong type, a bool for an int, a malformed time
    or date, an oversized list, a refused rule: ValidationError naming where, never KeyError
    or TypeError."""
    with pytest.raises(ValidationError) as error:
        WorkingHours.from_primitive(data)
    assert error.value.field == field


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
NEAR_VALID = st.fixed_dictionaries(
    {
        "weekly": st.lists(
            st.lists(JSON | st.sampled_from([0, 6, "09:00", "00:00", "17:00"]), max_size=4),
            max_size=3,
        ),
        "recurring": st.lists(
            st.fixed_dictionaries(
                {
                    "rrule": JSON | st.sampled_from(SAMPLE_RULES),
                    "starts_on": JSON | st.just("2026-01-05"),
                    "opens": JSON | st.just("09:00"),
                    "closes": JSON | st.just("10:00"),
                }
            ),
            max_size=2,
        ),
        "dates": st.lists(
            st.fixed_dictionaries(
                {
                    "date": JSON | st.just("2026-12-24"),
                    "hours": JSON | st.just([["09:00", "10:00"]]),
                }
            ),
            max_size=2,
        ),
    }
)


@settings(max_examples=300, deadline=None)
@given(data=JSON | NEAR_VALID)
def test_from_primitive_raises_nothing_but_validation_errors(data: object) -> None:
    """Any JSON value, or one shaped almost like hours, either reads as checked hours that
    write back the same, or raises ValidationError."""
    try:
        hours = WorkingHours.from_primitive(data)
    except ValidationError:
        return
    assert WorkingHours.from_primitive(hours.to_primitive()) == hours
