"""The 81 real calendars of ``../shared/corpora/ics`` (recurring-ical-events' test suite) as
busy-time sources.

Every file imports over a window around its own events with nothing but CalendarFeedError
escaping; none is broken enough to raise it, and none has an event left out. The recurrence,
time-zone and DST calendars are checked against occurrences computed here, by hand or with
dateutil's rrule directly, never with recurring-ical-events.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import DAILY, WEEKLY, rrule

from booking_core.calendar._ics_in import BusyTime, read_busy
from booking_core.errors import CalendarFeedError

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "ics"
NAMES = sorted(p.stem for p in CORPUS.glob("*.ics"))
#: The files that raise CalendarFeedError: none. The broken ones are read event by event
#: (see test_the_broken_calendars_are_read_as_decided).
RAISING: frozenset[str] = frozenset()
_YEAR = re.compile(rb"^(?:DTSTART|DTEND|RDATE|RECURRENCE-ID)[^:\r\n]*:(\d{4})", re.MULTILINE)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def window_of(document: bytes) -> tuple[dt.datetime, dt.datetime]:
    """From January of the first year an event names to three years after the last."""
    events = b"".join(re.findall(rb"BEGIN:VEVENT.*?END:VEVENT", document, re.DOTALL))
    years = [int(y) for y in _YEAR.findall(events)] or [2020]
    return utc(min(years), 1, 1), utc(max(years) + 3, 1, 1)


def read(name: str, start: dt.datetime, end: dt.datetime, zone: ZoneInfo = BERLIN) -> BusyTime:
    return read_busy(
        (CORPUS / f"{name}.ics").read_bytes(), start=start, end=end, zone=zone, feed=name
    )


def pairs(
    name: str, start: dt.datetime, end: dt.datetime, zone: ZoneInfo = BERLIN
) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(i.start, i.end) for i in read(name, start, end, zone).intervals]


def test_the_corpus_is_there(corpora_dir: Path) -> None:
    """The corpus holds the 81 calendars its README lists."""
    assert (corpora_dir / "ics").resolve() == CORPUS.resolve()
    assert len(NAMES) == 81


@pytest.mark.parametrize("name", NAMES)
def test_every_calendar_imports_over_a_window_around_its_events(
    corpora_dir: Path, name: str
) -> None:
    """Each file gives sorted, merged busy time inside its window and leaves no event out, or
    raises CalendarFeedError exactly when it is listed in RAISING."""
    document = (corpora_dir / "ics" / f"{name}.ics").read_bytes()
    start, end = window_of(document)
    try:
        result = read_busy(document, start=start, end=end, zone=BERLIN, feed=name)
    except CalendarFeedError:
        assert name in RAISING
        return
    assert name not in RAISING
    assert result.skipped == ()
    spans = result.intervals
    assert all(start <= i.start < i.end <= end for i in spans)
    assert all(a.end < b.start for a, b in itertools.pairwise(spans))


def test_a_daily_count_series_matches_dateutil(corpora_dir: Path) -> None:
    """event_10_times: ten daily 07:45-10:00 Berlin occurrences from 2020-01-13."""
    first = dt.datetime(2020, 1, 13, 7, 45, tzinfo=BERLIN)
    want = [
        (s.astimezone(UTC), (s + dt.timedelta(hours=2, minutes=15)).astimezone(UTC))
        for s in rrule(DAILY, count=10, dtstart=first)
    ]
    assert pairs("event_10_times", utc(2020, 1, 1), utc(2020, 3, 1)) == want


@pytest.mark.parametrize(
    ("name", "removed"),
    [
        ("each_week_but_one_deleted", [dt.datetime(2019, 3, 11, 0, 30)]),
        (
            "each_week_but_two_deleted",
            [dt.datetime(2019, 3, 11, 0, 30), dt.datetime(2019, 3, 25, 0, 30)],
        ),
    ],
)
def test_exdates_remove_weeks_across_the_dst_change(
    corpora_dir: Path, name: str, removed: list[dt.datetime]
) -> None:
    """Eight weekly 00:30-01:00 Berlin occurrences from 2019-03-04 (across the 2019-03-31
    change: 23:30Z, then 22:30Z) minus the EXDATE'd ones."""
    starts = [
        s.replace(tzinfo=BERLIN)
        for s in rrule(WEEKLY, count=8, dtstart=dt.datetime(2019, 3, 4, 0, 30))
        if s not in removed
    ]
    want = [(s.astimezone(UTC), (s + dt.timedelta(minutes=30)).astimezone(UTC)) for s in starts]
    assert pairs(name, utc(2019, 3, 1), utc(2019, 6, 1)) == want
    assert want[-1][0] == utc(2019, 4, 21, 22, 30)


def test_x_wr_timezone_utc_events_keep_their_instants(corpora_dir: Path) -> None:
    """x_wr_timezone_simple_events_issue_59: two UTC events under X-WR-TIMEZONE New York stay
    at their instants."""
    got = pairs("x_wr_timezone_simple_events_issue_59", utc(2021, 12, 1), utc(2022, 1, 1))
    assert got == [
        (utc(2021, 12, 22, 17), utc(2021, 12, 22, 18)),
        (utc(2021, 12, 23, 2), utc(2021, 12, 23, 3)),
    ]


def test_x_wr_timezone_places_floating_times(corpora_dir: Path) -> None:
    """issue_86: a floating 21:00-22:45 under X-WR-TIMEZONE Europe/Brussels is 19:00Z-20:45Z
    (summer), whatever the resource's zone."""
    got = pairs(
        "issue_86_x_wr_timezone_without_time_zone_in_dt",
        utc(2021, 9, 1),
        utc(2021, 10, 1),
        ZoneInfo("America/New_York"),
    )
    assert got == [(utc(2021, 9, 16, 19), utc(2021, 9, 16, 20, 45))]


def test_duration_and_missing_ends(corpora_dir: Path) -> None:
    """duration: a date start with P3D blocks three Berlin days; a floating 10:00 with PT3H
    is three hours in Berlin; a floating start with no end takes no time."""
    got = pairs("duration", utc(2018, 1, 1), utc(2018, 2, 1))
    assert got == [
        (utc(2018, 1, 9, 23), utc(2018, 1, 12, 23)),
        (utc(2018, 1, 15, 9), utc(2018, 1, 15, 12)),
    ]


def test_an_event_with_no_dtend_takes_no_time(corpora_dir: Path) -> None:
    """discourse_no_dtend: the event with only a DTSTART adds nothing; the three with ends are
    busy as written (Berlin wall times)."""
    got = pairs("discourse_no_dtend", utc(2019, 1, 1), utc(2019, 6, 1))
    assert got == [
        (utc(2019, 2, 28, 14, 0, 14), utc(2019, 2, 28, 17, 30, 14)),
        (utc(2019, 3, 1, 17, 0, 35), utc(2019, 3, 1, 20, 0, 35)),
        (utc(2019, 5, 11, 11, 0, 21), utc(2019, 5, 11, 18, 0, 21)),
    ]


def test_the_broken_calendars_are_read_as_decided(corpora_dir: Path) -> None:
    """end_before_start_event (08:30 to 08:00 Berlin) is busy between the two, as
    recurring-ical-events swaps it; Germany_Holidays' empty ``RRULE:`` is no rule (and its
    events are transparent); issue_97_todo_nodtstart holds only a to-do: no busy time."""
    assert pairs("end_before_start_event", utc(2019, 3, 1), utc(2019, 4, 1)) == [
        (utc(2019, 3, 4, 7), utc(2019, 3, 4, 7, 30))
    ]
    holidays = read("Germany_Holidays", utc(2019, 1, 1), utc(2020, 1, 1))
    assert (holidays.intervals, holidays.skipped) == ((), ())
    assert pairs("issue_97_todo_nodtstart", utc(2000, 1, 1), utc(2030, 1, 1)) == []
