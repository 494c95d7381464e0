"""Working hours across daylight-saving changes, with every expected instant worked out by hand.

The rules (booking_core.domain.schedule): a wall time the clock skips is the instant it jumps;
a wall time that happens twice opens at its first occurrence and closes at its second; slots
step in elapsed time from each opening. Each expected UTC instant is a literal, with the
offsets that make it in a comment. The transitions were read from zoneinfo (tzdata 2025):

    Europe/London        2026-03-29 01:00 GMT → 02:00 BST     2026-10-25 02:00 BST → 01:00 GMT
    Australia/Lord_Howe  2026-04-05 02:00 +11 → 01:30 +10:30  2026-10-04 02:00 +10:30 → 02:30 +11
    America/Santiago     2026-04-05 00:00 -03 → 04-04 23:00 -04  2026-09-06 00:00 -04 → 01:00 -03
    America/New_York     2026-03-08 02:00 EST → 03:00 EDT     2026-11-01 02:00 EDT → 01:00 EST
    Pacific/Apia         2011-12-29 24:00 -10 → 2011-12-31 00:00 +14 (2011-12-30 never happens)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from booking_core.domain.schedule import (
    DateHours,
    Interval,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
    is_slot_start,
    local_day_window,
    slot_starts,
)

LONDON = zoneinfo.ZoneInfo("Europe/London")
LORD_HOWE = zoneinfo.ZoneInfo("Australia/Lord_Howe")
SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
APIA = zoneinfo.ZoneInfo("Pacific/Apia")
T = dt.time
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def z(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An instant in UTC ("Z")."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def on(date: dt.date, opens: dt.time, closes: dt.time) -> WorkingHours:
    """Hours on that one date only (a date override), so each test sees a single interval."""
    return WorkingHours(dates=(DateHours(date, ((opens, closes),)),))


def day_of(tz: zoneinfo.ZoneInfo, hours: WorkingHours, date: dt.date) -> list[Interval]:
    """The open intervals around ``date``: the local day before, the day and the day after."""
    noon = dt.datetime.combine(date, T(12), tz)
    return hours.open_intervals(tz, noon, noon + MIN)


def walls(tz: zoneinfo.ZoneInfo, instants: list[dt.datetime]) -> list[tuple[int, int, int]]:
    """Local (hour, minute, fold) of each instant."""
    return [
        (x.astimezone(tz).hour, x.astimezone(tz).minute, x.astimezone(tz).fold) for x in instants
    ]


# --- Europe/London: an hour skipped, an hour repeated ------------------------------------------

SPRING = dt.date(2026, 3, 29)  # 01:00 GMT (UTC+0) → 02:00 BST (UTC+1) at 01:00Z
AUTUMN = dt.date(2026, 10, 25)  # 02:00 BST (UTC+1) → 01:00 GMT (UTC+0) at 01:00Z


def test_london_spring_forward_day_has_three_real_hours_in_00_to_04() -> None:
    """00:00-04:00 on 29 March: 00:00 GMT = 00:00Z, 04:00 BST = 03:00Z, three real hours."""
    assert day_of(LONDON, on(SPRING, T(0), T(4)), SPRING) == [
        Interval(z(2026, 3, 29, 0), z(2026, 3, 29, 3))
    ]


def test_london_hours_opening_in_the_gap_open_at_the_jump() -> None:
    """01:30 does not exist on 29 March: it opens at the jump, 01:00Z (02:00 BST); 03:00 BST is
    02:00Z. Hours 09:00-17:00 that day are BST: 08:00Z-16:00Z."""
    assert day_of(LONDON, on(SPRING, T(1, 30), T(3)), SPRING) == [
        Interval(z(2026, 3, 29, 1), z(2026, 3, 29, 2))
    ]
    assert day_of(LONDON, on(SPRING, T(9), T(17)), SPRING) == [
        Interval(z(2026, 3, 29, 8), z(2026, 3, 29, 16))
    ]


def test_london_hours_wholly_in_the_gap_are_empty() -> None:
    """01:15-01:45 on 29 March never happens: both ends are the jump, and no interval is left."""
    assert day_of(LONDON, on(SPRING, T(1, 15), T(1, 45)), SPRING) == []


def test_london_spring_slots_skip_the_missing_hour() -> None:
    """Hourly slots in 00:00-04:00 on 29 March start at 00:00Z, 01:00Z and 02:00Z, local 00:00
    GMT, 02:00 BST and 03:00 BST: none has a local time in 01:00-01:59."""
    opens = day_of(LONDON, on(SPRING, T(0), T(4)), SPRING)
    starts = slot_starts(opens, SlotTiming(HOUR), Interval(z(2026, 3, 28), z(2026, 3, 30)))
    assert starts == [z(2026, 3, 29, 0), z(2026, 3, 29, 1), z(2026, 3, 29, 2)]
    assert [hour for hour, _, _ in walls(LONDON, starts)] == [0, 2, 3]


def test_london_fall_back_day_has_five_real_hours_in_00_to_04() -> None:
    """00:00-04:00 on 25 October: 00:00 BST = 23:00Z the day before, 04:00 GMT = 04:00Z, five
    real hours."""
    assert day_of(LONDON, on(AUTUMN, T(0), T(4)), AUTUMN) == [
        Interval(z(2026, 10, 24, 23), z(2026, 10, 25, 4))
    ]


def test_london_repeated_hour_opens_first_and_closes_last() -> None:
    """01:00-02:00 on 25 October: 01:00 happens twice and opens at the first (BST, 00:00Z);
    02:00 happens once (GMT, 02:00Z): two real hours. 01:00-01:30 closes at the second 01:30
    (GMT, 01:30Z): an hour and a half."""
    assert day_of(LONDON, on(AUTUMN, T(1), T(2)), AUTUMN) == [
        Interval(z(2026, 10, 25, 0), z(2026, 10, 25, 2))
    ]
    assert day_of(LONDON, on(AUTUMN, T(1), T(1, 30)), AUTUMN) == [
        Interval(z(2026, 10, 25, 0), z(2026, 10, 25, 1, 30))
    ]


def test_london_repeated_hour_gives_distinct_slot_instants() -> None:
    """Half-hourly slots in 01:00-02:00 on 25 October: 00:00Z, 00:30Z, 01:00Z, 01:30Z, four
    distinct instants whose local times are 01:00 and 01:30 twice (BST, then GMT)."""
    opens = day_of(LONDON, on(AUTUMN, T(1), T(2)), AUTUMN)
    starts = slot_starts(opens, SlotTiming(30 * MIN), Interval(z(2026, 10, 24), z(2026, 10, 26)))
    assert starts == [
        z(2026, 10, 25, 0),
        z(2026, 10, 25, 0, 30),
        z(2026, 10, 25, 1),
        z(2026, 10, 25, 1, 30),
    ]
    assert len(set(starts)) == 4
    assert walls(LONDON, starts) == [(1, 0, 0), (1, 30, 0), (1, 0, 1), (1, 30, 1)]


def test_london_local_days_of_23_and_25_hours() -> None:
    """The local day of 29 March runs 00:00Z to 23:00Z (23 hours); 25 October runs from 23:00Z
    the day before to 00:00Z the day after (25 hours)."""
    spring = local_day_window(LONDON, z(2026, 3, 29, 12), z(2026, 3, 29, 13))
    assert spring == Interval(z(2026, 3, 29, 0), z(2026, 3, 29, 23))
    autumn = local_day_window(LONDON, z(2026, 10, 25, 12), z(2026, 10, 25, 13))
    assert autumn == Interval(z(2026, 10, 24, 23), z(2026, 10, 26, 0))
    assert (spring.duration, autumn.duration) == (23 * HOUR, 25 * HOUR)


# --- Australia/Lord_Howe: half-hour changes ----------------------------------------------------

HOWE_BACK = dt.date(2026, 4, 5)  # 02:00 +11 → 01:30 +10:30 at 2026-04-04 15:00Z
HOWE_FORWARD = dt.date(2026, 10, 4)  # 02:00 +10:30 → 02:30 +11 at 2026-10-03 15:30Z


def test_lord_howe_00_to_04_is_four_and_a_half_hours_in_april() -> None:
    """00:00-04:00 on 5 April: 00:00 +11 = 4 April 13:00Z, 04:00 +10:30 = 17:30Z."""
    assert day_of(LORD_HOWE, on(HOWE_BACK, T(0), T(4)), HOWE_BACK) == [
        Interval(z(2026, 4, 4, 13), z(2026, 4, 4, 17, 30))
    ]


def test_lord_howe_00_to_04_is_three_and_a_half_hours_in_october() -> None:
    """00:00-04:00 on 4 October: 00:00 +10:30 = 3 October 13:30Z, 04:00 +11 = 17:00Z."""
    opens = day_of(LORD_HOWE, on(HOWE_FORWARD, T(0), T(4)), HOWE_FORWARD)
    assert opens == [Interval(z(2026, 10, 3, 13, 30), z(2026, 10, 3, 17))]
    assert opens[0].duration == 3 * HOUR + 30 * MIN


def test_lord_howe_has_no_slot_in_its_half_hour_gap() -> None:
    """Half-hourly slots on 4 October: local 00:00, 00:30, 01:00, 01:30, then 02:30 (the jump,
    15:30Z), 03:00, 03:30; none in 02:00-02:29. Hours opening at 02:00 open at the jump."""
    opens = day_of(LORD_HOWE, on(HOWE_FORWARD, T(0), T(4)), HOWE_FORWARD)
    starts = slot_starts(opens, SlotTiming(30 * MIN), Interval(z(2026, 10, 3), z(2026, 10, 4)))
    assert starts == [z(2026, 10, 3, 13, 30) + k * 30 * MIN for k in range(7)]
    assert [(hour, minute) for hour, minute, _ in walls(LORD_HOWE, starts)] == [
        (0, 0),
        (0, 30),
        (1, 0),
        (1, 30),
        (2, 30),
        (3, 0),
        (3, 30),
    ]
    # 02:00-03:00: 02:00 does not exist → the jump, 15:30Z; 03:00 +11 = 16:00Z.
    assert day_of(LORD_HOWE, on(HOWE_FORWARD, T(2), T(3)), HOWE_FORWARD) == [
        Interval(z(2026, 10, 3, 15, 30), z(2026, 10, 3, 16))
    ]


# --- America/Santiago: changes at midnight ------------------------------------------------------

CHILE_FORWARD = dt.date(2026, 9, 6)  # 00:00 -04 → 01:00 -03 at 04:00Z: 00:00-00:59 never happens
CHILE_BACK_EVE = dt.date(2026, 4, 4)  # 24:00 -03 → 23:00 -04 at 5 April 03:00Z: 23:00-23:59 twice


def test_santiago_day_that_starts_at_one_opens_at_the_jump() -> None:
    """00:00-08:00 on 6 September: midnight does not exist, so it opens at the jump, 04:00Z
    (01:00 -03); 08:00 -03 = 11:00Z. The local day itself runs 04:00Z to 7 September 03:00Z."""
    assert day_of(SANTIAGO, on(CHILE_FORWARD, T(0), T(8)), CHILE_FORWARD) == [
        Interval(z(2026, 9, 6, 4), z(2026, 9, 6, 11))
    ]
    day = local_day_window(SANTIAGO, z(2026, 9, 6, 12), z(2026, 9, 6, 13))
    assert day == Interval(z(2026, 9, 6, 4), z(2026, 9, 7, 3))


def test_santiago_last_hour_of_the_eve_repeats() -> None:
    """On 4 April 23:00-24:00 happens twice: 23:00-00:00 opens at the first 23:00 (-03,
    5 April 02:00Z) and closes at midnight -04 (04:00Z); 22:00-23:30 closes at the second 23:30
    (-04, 03:30Z). That local day lasts 25 hours."""
    assert day_of(SANTIAGO, on(CHILE_BACK_EVE, T(23), T(0)), CHILE_BACK_EVE) == [
        Interval(z(2026, 4, 5, 2), z(2026, 4, 5, 4))
    ]
    assert day_of(SANTIAGO, on(CHILE_BACK_EVE, T(22), T(23, 30)), CHILE_BACK_EVE) == [
        Interval(z(2026, 4, 5, 1), z(2026, 4, 5, 3, 30))
    ]
    day = local_day_window(SANTIAGO, z(2026, 4, 4, 12), z(2026, 4, 4, 13))
    assert day == Interval(z(2026, 4, 4, 3), z(2026, 4, 5, 4))


# --- Pacific/Apia: a day that never happened --------------------------------------------------


def test_apia_has_no_hours_on_the_day_it_skipped() -> None:
    """Open 09:00-17:00 every day: 29 December 2011 (-10) is 19:00Z-03:00Z, 31 December (+14)
    is 30 December 19:00Z-31 December 03:00Z, and 30 December, which never happened, has none."""
    hours = WorkingHours(weekly=tuple(WeeklyHours(day, T(9), T(17)) for day in range(7)))
    opens = hours.open_intervals(APIA, z(2011, 12, 29, 12), z(2011, 12, 31, 6))
    local_dates = [interval.start.astimezone(APIA).date() for interval in opens]
    assert dt.date(2011, 12, 30) not in local_dates
    assert Interval(z(2011, 12, 29, 19), z(2011, 12, 30, 3)) in opens
    assert Interval(z(2011, 12, 30, 19), z(2011, 12, 31, 3)) in opens
    assert local_dates == [dt.date(2011, 12, d) for d in (28, 29, 31)] + [dt.date(2012, 1, 1)]


def test_apia_whole_days_around_the_skip_join_at_the_jump() -> None:
    """All-day hours: 29 December ends at its midnight, which is the jump (30 December 10:00Z),
    where 31 December begins: no gap, no 30 December. Each date keeps its own stretch (dates are
    never merged, so a date's slot grid never depends on the range searched)."""
    hours = WorkingHours(
        dates=tuple(DateHours(dt.date(2011, 12, d), ((T(0), T(0)),)) for d in (29, 30, 31))
    )
    # 29 December 23:00 -10 to 31 December 01:00 +14: the three dates and a day either side.
    opens = hours.open_intervals(APIA, z(2011, 12, 30, 9), z(2011, 12, 30, 11))
    # 29 December 00:00 -10 = 10:00Z; its midnight is the jump, 30 December 10:00Z, where 31
    # December 00:00 +14 begins; 1 January 00:00 +14 = 31 December 10:00Z.
    assert opens == [
        Interval(z(2011, 12, 29, 10), z(2011, 12, 30, 10)),
        Interval(z(2011, 12, 30, 10), z(2011, 12, 31, 10)),
    ]


# --- the same instants for everyone ------------------------------------------------------------


@pytest.mark.parametrize(
    "zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Australia/Lord_Howe"]
)
def test_a_customer_in_another_zone_sees_the_same_instants(zone: str) -> None:
    """London hours over the spring change, asked with a window written in another zone: the
    open intervals and slot starts are the very same UTC instants."""
    hours = WorkingHours(weekly=tuple(WeeklyHours(day, T(9), T(17)) for day in range(7)))
    start, end = z(2026, 3, 26), z(2026, 4, 2)
    timing = SlotTiming(45 * MIN, slot_interval=30 * MIN)
    expected = slot_starts(hours.open_intervals(LONDON, start, end), timing, Interval(start, end))
    other = zoneinfo.ZoneInfo(zone)
    local_start, local_end = start.astimezone(other), end.astimezone(other)
    opens = hours.open_intervals(LONDON, local_start, local_end)
    assert slot_starts(opens, timing, Interval(local_start, local_end)) == expected
    assert len(expected) == 7 * 15  # 09:00 to 16:00 every half hour, seven days
    assert all(is_slot_start(opens, timing, instant) for instant in expected)


# --- America/New_York: counts over a change ----------------------------------------------------


def test_new_york_62_days_over_the_fall_back_have_one_extra_hour() -> None:
    """Open all day, hourly slots, the local days 1 October to 1 December 2026 (62 days): 62 ×
    24 = 1488 hours, plus the hour 1 November repeats = 1489 slots, one per UTC hour from
    04:00Z (midnight EDT) to 05:00Z (midnight EST) 62 days later."""
    hours = WorkingHours(weekly=tuple(WeeklyHours(day, T(0), T(0)) for day in range(7)))
    window = local_day_window(NEW_YORK, z(2026, 10, 1, 4), z(2026, 12, 2, 5))
    assert window == Interval(z(2026, 10, 1, 4), z(2026, 12, 2, 5))
    starts = slot_starts(
        hours.open_intervals(NEW_YORK, window.start, window.end), SlotTiming(HOUR), window
    )
    assert len(starts) == 1489
    assert starts[0] == z(2026, 10, 1, 4)
    assert starts[-1] == z(2026, 12, 2, 4)


def test_new_york_office_hours_keep_their_wall_clock_over_the_change() -> None:
    """Weekdays 09:00-17:00, hourly: the same 62 local days hold 44 weekdays (October 1-2, 5-9,
    12-16, 19-23, 26-30: 22; November 2-6, 9-13, 16-20, 23-27, 30: 21; December 1: 1), so 44 ×
    8 = 352 slots, each at a local 09:00 to 16:00 whether EDT or EST."""
    hours = WorkingHours(weekly=tuple(WeeklyHours(day, T(9), T(17)) for day in range(5)))
    window = local_day_window(NEW_YORK, z(2026, 10, 1, 4), z(2026, 12, 2, 5))
    starts = slot_starts(
        hours.open_intervals(NEW_YORK, window.start, window.end), SlotTiming(HOUR), window
    )
    assert len(starts) == 352
    assert {hour for hour, _, _ in walls(NEW_YORK, starts)} == set(range(9, 17))
    assert z(2026, 10, 30, 13) in starts  # Friday 09:00 EDT (UTC-4)
    assert z(2026, 11, 2, 14) in starts  # Monday 09:00 EST (UTC-5)
