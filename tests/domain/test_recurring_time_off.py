"""Recurring time off: a rule's dates (less its exceptions) take their hours out of whatever
the working hours open; never-ending rules are expanded only over the window asked; stored and
read back; through a slot search and a hold."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from booking_core.domain.model import CustomerDetails, PackageSchedule
from booking_core.domain.schedule import (
    DateHours,
    Interval,
    RecurringTimeOff,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
)
from booking_core.errors import TimeUnavailableError, ValidationError
from booking_core.testing import ManualClock, in_memory_app

PARIS = ZoneInfo("Europe/Paris")
LUNCH = RecurringTimeOff(
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    dt.date(2030, 1, 1),
    dt.time(12),
    dt.time(13),
    except_on=(dt.date(2030, 6, 19),),
    reason="lunch",
)
HOURS = WorkingHours(
    weekly=tuple(WeeklyHours(d, dt.time(9), dt.time(17)) for d in range(7)), away=(LUNCH,)
)


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def _day(hours: WorkingHours, day: dt.date) -> list[tuple[int, int]]:
    """The day's open stretches as local (start hour, end hour)."""
    found = hours.open_intervals(PARIS, _local(day, 0), _local(day, 23))
    return [
        (i.start.astimezone(PARIS).hour, i.end.astimezone(PARIS).hour)
        for i in found
        if i.start.astimezone(PARIS).date() == day
    ]


def test_a_weekday_lunch_break_splits_the_day_except_on_its_exceptions() -> None:
    """Tuesday 18 June: 09-12 and 13-17; Wednesday 19 June is an exception: 09-17; Saturday
    (not in the rule) stays 09-17."""
    assert _day(HOURS, dt.date(2030, 6, 18)) == [(9, 12), (13, 17)]
    assert _day(HOURS, dt.date(2030, 6, 19)) == [(9, 17)]
    assert _day(HOURS, dt.date(2030, 6, 22)) == [(9, 17)]


def test_time_off_is_taken_out_of_a_date_override_and_across_dst() -> None:
    """A date's own hours lose the time off too; on the spring-forward Monday (31 March 2030)
    the break is still 12-13 local."""
    special = WorkingHours(
        weekly=HOURS.weekly,
        dates=(DateHours(dt.date(2030, 6, 17), ((dt.time(10), dt.time(14)),)),),
        away=(LUNCH,),
    )
    assert _day(special, dt.date(2030, 6, 17)) == [(10, 12), (13, 14)]
    assert _day(HOURS, dt.date(2030, 3, 31)) == [(9, 17)]  # a Sunday: no break
    assert _day(HOURS, dt.date(2030, 4, 1)) == [(9, 12), (13, 17)]


def test_a_never_ending_rule_is_expanded_only_over_the_window() -> None:
    """A rule with neither COUNT nor UNTIL answers a week sixty years on, with the same break,
    and the work is a week's (no walk from its start)."""
    far = dt.date(2090, 6, 20)  # a Tuesday
    assert _day(HOURS, far) == [(9, 12), (13, 17)]
    stretches = HOURS.open_intervals(PARIS, _local(far, 0), _local(far + dt.timedelta(days=7), 0))
    assert len(stretches) == 2 * 7 + 4  # every day plus the neighbours the method adds


def test_time_off_round_trips_and_old_hours_still_read() -> None:
    """to_primitive/from_primitive keep the time off; hours stored before it existed (no
    ``away`` key) read as before; a bad entry is a typed error naming its field."""
    again = WorkingHours.from_primitive(HOURS.to_primitive())
    assert again == HOURS
    plain = WorkingHours(weekly=HOURS.weekly)
    assert "away" not in plain.to_primitive()
    assert WorkingHours.from_primitive(plain.to_primitive()) == plain
    broken = HOURS.to_primitive()
    broken["away"][0]["except_on"] = ["not a date"]  # type: ignore[index]
    with pytest.raises(ValidationError) as bad:
        WorkingHours.from_primitive(broken)
    assert bad.value.field == "hours.away.0.except_on.0"
    wrong = WorkingHours(
        away=(RecurringTimeOff("FREQ=NEVER", dt.date(2030, 1, 1), dt.time(12), dt.time(13)),)
    )
    with pytest.raises(ValidationError) as rule:
        wrong.check()
    assert rule.value.field == "hours.away.0.rrule"


def test_a_slot_search_and_a_hold_respect_recurring_time_off() -> None:
    """The lunch hour is never offered and a hold at 12:00 is refused as outside hours; on the
    exception date 12:00 is offered and can be held."""
    app = in_memory_app(clock=ManualClock(dt.datetime(2030, 6, 15, 9, tzinfo=dt.UTC)))
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:8]}", name="S", timezone="Europe/Paris", currency="EUR"
    )
    coach = app.catalog.create_resource(tenant.id, name="Coach", hours=HOURS)
    package = app.catalog.create_package(
        tenant.id,
        slug="c",
        name="C",
        base_price=100,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(hours=1)), resource_ids=(coach.id,)
        ),
    )
    tuesday, wednesday = dt.date(2030, 6, 18), dt.date(2030, 6, 19)
    found = app.availability.slots(
        tenant.id, package.id, _local(tuesday, 0), _local(wednesday + dt.timedelta(days=1), 0)
    )
    hours = [(s.start.astimezone(PARIS).date(), s.start.astimezone(PARIS).hour) for s in found]
    assert (tuesday, 12) not in hours
    assert (tuesday, 13) in hours
    assert (wednesday, 12) in hours
    ann = CustomerDetails("Ann", "ann@example.com")
    with pytest.raises(TimeUnavailableError) as refused:
        app.bookings.hold(tenant.id, package_id=package.id, start=_local(tuesday, 12), customer=ann)
    assert refused.value.reason == "outside_hours"
    held = app.bookings.hold(
        tenant.id, package_id=package.id, start=_local(wednesday, 12), customer=ann
    )
    assert held.starts_at == _local(wednesday, 12)
    assert Interval(held.starts_at, held.ends_at).duration == dt.timedelta(hours=1)
