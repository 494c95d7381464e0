"""The corpus' DST calendars read against occurrences computed independently (dateutil's rrule
over local wall times, localized with zoneinfo): a weekly evening in Berlin across the March
change (daylight_saving_time.ics) and a Chicago weekday series across the November change with
two EXDATEs (issue_48_dst.ics)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule

from booking_core.calendar import read_busy
from booking_core.domain.schedule import Interval

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")


def _occurrences(
    first: dt.datetime, length: dt.timedelta, zone: ZoneInfo, until: dt.datetime, **by: object
) -> list[Interval]:
    """Local wall times from dateutil, each made an aware instant in ``zone`` (UTC)."""
    walls = rrule(WEEKLY, dtstart=first, until=until, **by)  # type: ignore[arg-type]
    return [
        Interval(
            wall.replace(tzinfo=zone).astimezone(dt.UTC),
            (wall + length).replace(tzinfo=zone).astimezone(dt.UTC),
        )
        for wall in walls
    ]


def _covered(busy: tuple[Interval, ...], wanted: Interval) -> bool:
    return any(stretch.contains(wanted) for stretch in busy)


def test_a_weekly_berlin_evening_keeps_its_wall_time_across_the_march_change(
    corpora_dir: Path,
) -> None:
    """Every Wednesday 19:00-21:00 Berlin from 13 February 2019 is busy: 18:00 UTC in winter,
    17:00 UTC from 31 March (20 March at 18:00 UTC, 24 April at 17:00 UTC, as upstream says)."""
    document = (corpora_dir / "ics" / "daylight_saving_time.ics").read_bytes()
    start = dt.datetime(2019, 2, 11, tzinfo=dt.UTC)
    end = dt.datetime(2019, 5, 6, tzinfo=dt.UTC)
    busy = read_busy(document, start=start, end=end, zone=BERLIN, feed="corpus").intervals
    expected = _occurrences(
        dt.datetime(2019, 2, 13, 19),
        dt.timedelta(hours=2),
        BERLIN,
        dt.datetime(2019, 5, 5),
        byweekday=2,
    )
    assert len(expected) == 12
    missing = [wanted for wanted in expected if not _covered(busy, wanted)]
    assert missing == []
    march_20 = Interval(
        dt.datetime(2019, 3, 20, 18, tzinfo=dt.UTC), dt.datetime(2019, 3, 20, 20, tzinfo=dt.UTC)
    )
    april_24 = Interval(
        dt.datetime(2019, 4, 24, 17, tzinfo=dt.UTC), dt.datetime(2019, 4, 24, 19, tzinfo=dt.UTC)
    )
    assert march_20 in expected
    assert april_24 in expected


def test_a_chicago_weekday_series_crosses_november_and_skips_its_exdates(
    corpora_dir: Path,
) -> None:
    """c4p6@google.com, Mondays, Tuesdays, Thursdays and Fridays 08:15-08:30 Chicago from 16
    November 2020 (after the 1 November change): each occurrence is busy at 14:15 UTC, and the
    two EXDATEs (26 and 27 November) are free at that time."""
    document = (corpora_dir / "ics" / "issue_48_dst.ics").read_bytes()
    start = dt.datetime(2020, 11, 16, tzinfo=dt.UTC)
    end = dt.datetime(2020, 12, 5, tzinfo=dt.UTC)
    busy = read_busy(document, start=start, end=end, zone=CHICAGO, feed="corpus").intervals
    every = _occurrences(
        dt.datetime(2020, 11, 16, 8, 15),
        dt.timedelta(minutes=15),
        CHICAGO,
        dt.datetime(2020, 12, 4, 23),
        byweekday=(0, 1, 3, 4),
    )
    skipped = {dt.date(2020, 11, 26), dt.date(2020, 11, 27)}
    kept = [o for o in every if o.start.astimezone(CHICAGO).date() not in skipped]
    gone = [o for o in every if o.start.astimezone(CHICAGO).date() in skipped]
    assert [o.start.hour for o in kept] == [14] * len(kept)
    assert len(kept) == 10
    assert len(gone) == 2
    assert [o for o in kept if not _covered(busy, o)] == []
    assert [o for o in gone if any(stretch.overlaps(o) for stretch in busy)] == []
