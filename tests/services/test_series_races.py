"""Two recurring series that overlap on one occurrence, held at the same moment by two
processes, on PostgreSQL and SQLite, round after round: all-or-nothing leaves exactly one of
them; skip-conflicts leaves every occurrence with exactly one owner (the loser skips the shared
one as ``taken``). The database is read afterwards: no two live claims of the coach overlap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from booking_core.bootstrap import connect
from booking_core.domain.model import PackageSchedule, SeriesConflicts
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.testing import ManualClock

from ._series_race_worker import SeriesAttempt, SeriesRacers
from .conftest import START, unique_slug

PARIS = ZoneInfo("Europe/Paris")
ROUNDS = 6
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(9), dt.time(21)) for d in range(7)))


@pytest.fixture(scope="module")
def racers() -> Iterator[SeriesRacers]:
    started = SeriesRacers(2)
    yield started
    started.close()


def _url(backend: str, request: pytest.FixtureRequest) -> str:
    fixture = "pg_database_url" if backend == "postgres" else "sqlite_file_url"
    return str(request.getfixturevalue(fixture))


@pytest.mark.parametrize("conflicts", list(SeriesConflicts))
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_overlapping_series_race(
    backend: str,
    conflicts: SeriesConflicts,
    racers: SeriesRacers,
    request: pytest.FixtureRequest,
) -> None:
    """Series A (four Tuesdays from week 0) and B (four Tuesdays from week 3) share week 3's
    18:00: all-or-nothing, exactly one series is held and the other holds nothing; skipping,
    the seven distinct starts have one owner each. Every round, no two live claims overlap."""
    url = _url(backend, request)
    with connect(url, clock=ManualClock(START)) as app:
        for number in range(ROUNDS):
            tenant = app.tenants.create(
                slug=unique_slug("series"), name="Race", timezone="Europe/Paris", currency="EUR"
            )
            coach = app.catalog.create_resource(tenant.id, name="Coach", hours=HOURS)
            package = app.catalog.create_package(
                tenant.id,
                slug="class",
                name="Class",
                base_price=1_000,
                schedule=PackageSchedule(
                    SlotTiming(duration=dt.timedelta(hours=1)), resource_ids=(coach.id,)
                ),
            )
            week0 = dt.datetime(2030, 7, 2, 18, tzinfo=PARIS) + dt.timedelta(weeks=8 * number)
            week3 = week0 + dt.timedelta(weeks=3)
            attempts = [
                SeriesAttempt(
                    url,
                    START,
                    tenant.id,
                    package.id,
                    first,
                    "FREQ=WEEKLY;COUNT=4",
                    conflicts,
                    email,
                )
                for first, email in ((week0, "a@example.com"), (week3, "b@example.com"))
            ]
            outcomes = racers.race(attempts)
            assert not [o.label for o in outcomes if o.label.startswith("error")], outcomes
            held = [o for o in outcomes if o.label == "held"]
            if conflicts is SeriesConflicts.ALL_OR_NOTHING:
                assert sorted(o.label for o in outcomes) == ["conflict", "held"], outcomes
                assert len(held[0].starts) == 4
            else:
                assert [o.label for o in outcomes] == ["held", "held"], outcomes
                owned = [start for o in held for start in o.starts]
                assert len(owned) == len(set(owned)) == 7
                assert [reason for o in held for _, reason in o.skipped] == ["taken"]
                assert week3.astimezone(dt.UTC) in owned
            stored = app.bookings.list_for_dates(
                tenant.id, week0.date(), week3.date() + dt.timedelta(weeks=4)
            )
            expected = 4 if conflicts is SeriesConflicts.ALL_OR_NOTHING else 7
            assert len(stored) == expected
            assert {b.series_id for b in stored} == {o.series_id for o in held}
            _assert_no_overlap(url, coach.id)


def _assert_no_overlap(url: str, resource_id: object) -> None:
    """No two claims of the resource overlap (read straight from the table)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT starts_at, ends_at FROM bc_time_claims WHERE resource_id = :r"
                    " ORDER BY starts_at"
                ),
                {"r": resource_id if url.startswith("postgresql") else resource_id.hex},  # type: ignore[attr-defined]
            ).all()
    finally:
        engine.dispose()
    spans = [(str(a), str(b)) for a, b in rows]
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), spans
