"""Dates are the tenant's local dates: today, notice and horizon follow its timezone."""

from __future__ import annotations

import datetime as dt

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingPolicy
from booking_core.testing import ManualClock

from .conftest import make_shop


def test_kiritimati_is_a_day_ahead_of_utc(app: BookingApp, clock: ManualClock) -> None:
    """At 2030-06-15 11:00 UTC it is already 06-16 01:00 in Pacific/Kiritimati (UTC+14)."""
    shop = make_shop(app, timezone="Pacific/Kiritimati")
    honolulu = make_shop(app, timezone="Pacific/Honolulu")  # UTC-10: still 06-15 01:00
    clock.set(dt.datetime(2030, 6, 15, 11, 0, tzinfo=dt.UTC))
    assert app.availability.check(shop.tenant.id, dt.date(2030, 6, 15)).reason == "past"
    assert app.availability.check(shop.tenant.id, dt.date(2030, 6, 16)).available
    assert app.availability.check(honolulu.tenant.id, dt.date(2030, 6, 15)).available
    assert app.availability.check(honolulu.tenant.id, dt.date(2030, 6, 14)).reason == "past"


def test_midnight_flips_today_in_tenant_time(app: BookingApp, clock: ManualClock) -> None:
    """One minute before local midnight the date is bookable; one minute after it is past."""
    shop = make_shop(app, timezone="Pacific/Kiritimati")
    day = dt.date(2030, 6, 20)
    clock.set(dt.datetime(2030, 6, 20, 9, 59, tzinfo=dt.UTC))  # 23:59 local
    assert app.availability.check(shop.tenant.id, day).available
    clock.advance(dt.timedelta(minutes=2))  # 00:01 local on the 21st
    assert app.availability.check(shop.tenant.id, day).reason == "past"


def test_min_notice_and_horizon_in_local_days(app: BookingApp, clock: ManualClock) -> None:
    """Minimum notice and booking horizon count days in the tenant's timezone: at 23:30 in Los
    Angeles, tomorrow is too soon, the day after is open, and day 11 is too far."""
    shop = make_shop(
        app,
        timezone="America/Los_Angeles",
        policy=BookingPolicy(min_notice_days=2, horizon_days=10),
    )
    clock.set(dt.datetime(2030, 6, 16, 6, 30, tzinfo=dt.UTC))  # 06-15 23:30 in Los Angeles
    check = app.availability.check
    tid = shop.tenant.id
    assert check(tid, dt.date(2030, 6, 16)).reason == "too_soon"
    assert check(tid, dt.date(2030, 6, 17)).available
    assert check(tid, dt.date(2030, 6, 25)).available
    assert check(tid, dt.date(2030, 6, 26)).reason == "too_far"


def test_dst_spring_forward_and_fall_back(app: BookingApp, clock: ManualClock) -> None:
    """Around Europe/Paris DST changes (2030-03-31, 2030-10-27) local dates stay exact."""
    shop = make_shop(app, timezone="Europe/Paris")
    tid = shop.tenant.id
    # 2030-03-30 23:30 UTC = 03-31 00:30 CET (before the 02:00 jump): the 30th is past.
    clock.set(dt.datetime(2030, 3, 30, 23, 30, tzinfo=dt.UTC))
    assert app.availability.check(tid, dt.date(2030, 3, 30)).reason == "past"
    assert app.availability.check(tid, dt.date(2030, 3, 31)).available
    # 2030-10-26 22:30 UTC = 10-27 00:30 CEST: the 26th is past although UTC says the 26th.
    clock.set(dt.datetime(2030, 10, 26, 22, 30, tzinfo=dt.UTC))
    assert app.availability.check(tid, dt.date(2030, 10, 26)).reason == "past"
    # the 25-hour day: at 10-27 22:30 UTC it is 23:30 CET on the 27th, still "today"
    clock.set(dt.datetime(2030, 10, 27, 22, 30, tzinfo=dt.UTC))
    assert app.availability.check(tid, dt.date(2030, 10, 27)).available
    clock.advance(dt.timedelta(hours=1))
    assert app.availability.check(tid, dt.date(2030, 10, 27)).reason == "past"


def test_hold_expiry_is_an_instant_not_a_local_time(app: BookingApp, clock: ManualClock) -> None:
    """A hold made just before a DST jump still lasts exactly its TTL."""
    shop = make_shop(app, timezone="Europe/Paris")
    clock.set(dt.datetime(2030, 3, 31, 0, 55, tzinfo=dt.UTC))  # 01:55 CET, jump at 01:00 UTC
    from booking_core.domain.model import CustomerDetails

    booking = app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=dt.date(2030, 5, 1),
        customer=CustomerDetails("D", "d@example.com"),
    )
    assert booking.expires_at is not None
    assert booking.expires_at - booking.created_at == dt.timedelta(minutes=15)
    assert booking.expires_at.tzinfo is not None
    assert booking.expires_at.utcoffset() == dt.timedelta(0)
