"""Availability reasons, their order, and range queries in constant queries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import event

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingPolicy, CustomerDetails, DateAvailability
from booking_core.errors import NotFoundError, ValidationError
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, Shop, make_shop


class BusyCalendar:
    def __init__(self, busy: set[dt.date]) -> None:
        self.busy = busy
        self.calls: list[tuple[uuid.UUID, dt.date, dt.date]] = []

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
        self.calls.append((tenant_id, start, end))
        return {d for d in self.busy if start <= d <= end}


def book(app: BookingApp, shop: Shop, date: dt.date, email: str = "a@example.com") -> Any:
    return app.bookings.hold(
        shop.tenant.id, package_id=shop.package.id, date=date, customer=CustomerDetails("A", email)
    )


def test_reasons_follow_the_documented_order(app: BookingApp) -> None:
    """blackout > booked > calendar > past/too_soon/too_far, one reason per date."""
    shop = make_shop(app, policy=BookingPolicy(min_notice_days=3, horizon_days=30))
    tid = shop.tenant.id
    d = dt.date(2030, 6, 20)
    book(app, shop, d)
    app.availability.add_blackout(tid, d, reason="closed")
    assert app.availability.check(tid, d).reason == "blackout"  # blackout beats booked
    app.availability.remove_blackout(tid, d)
    assert app.availability.check(tid, d).reason == "booked"
    assert app.availability.check(tid, dt.date(2030, 6, 14)).reason == "past"
    assert app.availability.check(tid, dt.date(2030, 6, 17)).reason == "too_soon"
    assert app.availability.check(tid, dt.date(2030, 6, 18)) == DateAvailability(
        dt.date(2030, 6, 18), True, None
    )
    assert app.availability.check(tid, dt.date(2030, 7, 16)).reason == "too_far"


def test_calendar_port_marks_busy_after_booked() -> None:
    """An external calendar's busy day reads 'calendar' unless blackout/booked come first;
    a range costs one calendar call."""
    calendar = BusyCalendar({dt.date(2030, 6, 21)})
    app = in_memory_app(clock=ManualClock(START), calendar=calendar)
    shop = make_shop(app)
    book(app, shop, dt.date(2030, 6, 22))
    calendar.busy.add(dt.date(2030, 6, 22))  # the calendar learns of it after the booking
    calendar.calls.clear()
    got = app.availability.unavailable_dates(
        shop.tenant.id, dt.date(2030, 6, 1), dt.date(2030, 6, 30)
    )
    reasons = {d.date.day: d.reason for d in got}
    assert reasons[21] == "calendar"
    assert reasons[22] == "booked"
    assert all(reasons[day] == "past" for day in range(1, 15))
    assert len(calendar.calls) == 1
    with pytest.raises(Exception, match="calendar"):
        book(app, shop, dt.date(2030, 6, 21), email="z@example.com")


def test_unavailable_dates_lists_only_closed_days(app: BookingApp, shop: Shop) -> None:
    """unavailable_dates lists only the closed days of the range with their reason (a booked day, a
    blackout), while calendar lists every day of the month, 29 of 31 available."""
    tid = shop.tenant.id
    book(app, shop, dt.date(2030, 7, 3))
    app.availability.add_blackout(tid, dt.date(2030, 7, 9))
    got = app.availability.unavailable_dates(tid, dt.date(2030, 7, 1), dt.date(2030, 7, 31))
    assert [(d.date.day, d.reason) for d in got] == [(3, "booked"), (9, "blackout")]
    month = app.availability.calendar(tid, dt.date(2030, 7, 1), dt.date(2030, 7, 31))
    assert len(month) == 31
    assert sum(d.available for d in month) == 29


def test_blackouts_are_idempotent_and_removable(app: BookingApp, shop: Shop) -> None:
    """Adding a blackout twice closes the date once; removing it returns True the first time, False
    the second, and the date is available again."""
    tid, d = shop.tenant.id, dt.date(2030, 8, 1)
    app.availability.add_blackout(tid, d, reason="a")
    app.availability.add_blackout(tid, d, reason="b")
    assert app.availability.check(tid, d).reason == "blackout"
    assert app.availability.remove_blackout(tid, d) is True
    assert app.availability.remove_blackout(tid, d) is False
    assert app.availability.check(tid, d).available


def test_bad_ranges_and_venues(app: BookingApp, shop: Shop) -> None:
    """A range that ends before it starts (field 'end'), a range of ten years or a date given as
    text raise ValidationError; an unknown venue raises NotFoundError."""
    tid = shop.tenant.id
    with pytest.raises(ValidationError) as caught:
        app.availability.unavailable_dates(tid, dt.date(2030, 7, 2), dt.date(2030, 7, 1))
    assert caught.value.field == "end"
    with pytest.raises(ValidationError):
        app.availability.unavailable_dates(tid, dt.date(2030, 1, 1), dt.date(2040, 1, 1))
    with pytest.raises(ValidationError):
        app.availability.check(tid, "2030-07-01")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        app.availability.check(tid, dt.date(2030, 7, 1), venue_id=uuid.uuid4())


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_range_query_count_is_constant(backend: str, request: pytest.FixtureRequest) -> None:
    """A day and a whole month cost the same number of statements."""
    fixture = "pg_database_url" if backend == "postgres" else "sqlite_file_url"
    with connect(request.getfixturevalue(fixture), clock=ManualClock(START)) as app:
        shop = make_shop(app)
        for day in (2, 5, 9):
            book(app, shop, dt.date(2030, 7, day), email=f"q{day}@example.com")
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        engine = app.uow.engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", count)
        try:
            app.availability.unavailable_dates(
                shop.tenant.id, dt.date(2030, 7, 1), dt.date(2030, 7, 1)
            )
            one_day = len(statements)
            statements.clear()
            app.availability.unavailable_dates(
                shop.tenant.id, dt.date(2030, 7, 1), dt.date(2030, 7, 31)
            )
            month = len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert one_day == month
        assert month <= 4  # tenant, blackouts, claim counts (+ BEGIN on SQLite)
