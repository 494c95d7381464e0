"""Recurring blackouts: a tenant's rules close their dates (less exceptions) for date packages
in every answer and every hold or reschedule, on every backend, the one-statement hold
included; a rule that never ends is expanded only over the dates asked; rules are checked."""

from __future__ import annotations

import datetime as dt

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import CustomerDetails, RecurringBlackout
from booking_core.errors import DateUnavailableError, ValidationError

from .conftest import Shop

SUNDAYS = RecurringBlackout(
    "FREQ=WEEKLY;BYDAY=SU", dt.date(2030, 1, 6), except_on=(dt.date(2030, 7, 7),), reason="closed"
)
ANN = CustomerDetails("Ann", "ann@example.com")


def test_a_weekly_rule_closes_its_dates_except_its_exceptions(app: BookingApp, shop: Shop) -> None:
    """Every Sunday of July 2030 reads ``blackout`` but 7 July (an exception); other days are
    untouched; a hold on a Sunday is refused with reason blackout, on 7 July it goes through."""
    tid = shop.tenant.id
    tenant = app.tenants.update_blackout_rules(tid, [SUNDAYS])
    assert tenant.blackout_rules == (SUNDAYS,)
    days = app.availability.calendar(tid, dt.date(2030, 7, 1), dt.date(2030, 7, 31))
    closed = sorted(d.date.day for d in days if d.reason == "blackout")
    assert closed == [14, 21, 28]
    with pytest.raises(DateUnavailableError) as refused:
        app.bookings.hold(tid, package_id=shop.package.id, date=dt.date(2030, 7, 14), customer=ANN)
    assert refused.value.reason == "blackout"
    held = app.bookings.hold(
        tid, package_id=shop.package.id, date=dt.date(2030, 7, 7), customer=ANN
    )
    assert held.event_date == dt.date(2030, 7, 7)


def test_a_reschedule_onto_a_closed_date_is_refused(app: BookingApp, shop: Shop) -> None:
    """A booking cannot move onto a Sunday the rule closes; it keeps its date."""
    tid = shop.tenant.id
    app.tenants.update_blackout_rules(tid, [SUNDAYS])
    held = app.bookings.hold(
        tid, package_id=shop.package.id, date=dt.date(2030, 7, 10), customer=ANN
    )
    with pytest.raises(DateUnavailableError) as refused:
        app.bookings.reschedule(tid, held.id, new_date=dt.date(2030, 7, 21))
    assert refused.value.reason == "blackout"
    assert app.bookings.get(tid, held.id).event_date == dt.date(2030, 7, 10)


def test_clearing_the_rules_reopens_and_counted_rules_end(app: BookingApp, shop: Shop) -> None:
    """A COUNT=2 rule closes two dates only; clearing the rules reopens every date."""
    tid = shop.tenant.id
    twice = RecurringBlackout("FREQ=MONTHLY;BYMONTHDAY=1;COUNT=2", dt.date(2030, 7, 1))
    app.tenants.update_blackout_rules(tid, [twice])
    days = app.availability.calendar(tid, dt.date(2030, 7, 1), dt.date(2030, 10, 1))
    assert [d.date for d in days if d.reason == "blackout"] == [
        dt.date(2030, 7, 1),
        dt.date(2030, 8, 1),
    ]
    app.tenants.update_blackout_rules(tid, [])
    days = app.availability.calendar(tid, dt.date(2030, 7, 1), dt.date(2030, 8, 1))
    assert [d.date for d in days if d.reason == "blackout"] == []


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([RecurringBlackout("FREQ=SOMETIMES", dt.date(2030, 1, 1))], "rules.0.rrule"),
        ([RecurringBlackout("FREQ=DAILY", "2030-01-01")], "rules.0.starts_on"),  # type: ignore[arg-type]
        ([RecurringBlackout("FREQ=DAILY", dt.date(2030, 1, 1), ("x",))], "rules.0.except_on.0"),  # type: ignore[arg-type]
        (["FREQ=DAILY"], "rules.0"),
        ([SUNDAYS] * 21, "rules"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    app: BookingApp, shop: Shop, rules: list[object], field: str
) -> None:
    """A refused rule, date, exception, entry or count raises ValidationError on its field and
    leaves the tenant's rules as they were."""
    with pytest.raises(ValidationError) as refused:
        app.tenants.update_blackout_rules(shop.tenant.id, rules)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert app.tenants.get(shop.tenant.id).blackout_rules == ()
