"""Section 2: a month of availability, with the reason each closed date is closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from booking_core.bootstrap import BookingApp
from booking_core.demo._catalog import Shop
from booking_core.demo._format import Out, day, format_table
from booking_core.domain.model import Booking, CustomerDetails, DateAvailability, UnavailableReason

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour

#: One character per availability state, for the compact calendar.
MARKS: dict[UnavailableReason | None, str] = {
    None: ".",
    UnavailableReason.BLACKOUT: "X",
    UnavailableReason.BOOKED: "B",
    UnavailableReason.CALENDAR: "C",
    UnavailableReason.PAST: "-",
    UnavailableReason.TOO_SOON: "s",
    UnavailableReason.TOO_FAR: "f",
}


def _calendar_grid(days: Sequence[DateAvailability]) -> str:
    """Week rows, Monday first: each cell is the day of month and a one-character mark."""
    lines = ["Week of      Mo    Tu    We    Th    Fr    Sa    Su"]
    for week in range(0, len(days), 7):
        chunk = days[week : week + 7]
        cells = "".join(f"{d.date.day:>4} {MARKS[d.reason]}" for d in chunk)
        lines.append(f"{chunk[0].date:%Y-%m-%d}{cells}")
    legend = ", ".join(
        f"{mark} {'available' if reason is None else reason.value}"
        for reason, mark in MARKS.items()
    )
    lines.append(f"Legend: {legend}")
    return "\n".join(lines)


def _show_month(
    app: BookingApp,
    out: Out,
    shop: Shop,
    start: dt.date,
    end: dt.date,
    *,
    notes: dict[dt.date, str],
) -> list[DateAvailability]:
    days = app.availability.calendar(shop.tenant.id, start, end)
    out(f"{shop.tenant.name}, {day(start)} .. {day(end)} ({shop.tenant.timezone}):")
    out()
    out(_calendar_grid(days))
    out()
    closed = app.availability.unavailable_dates(shop.tenant.id, start, end)
    past = [d for d in closed if d.reason is UnavailableReason.PAST]
    rows: list[list[object]] = []
    if past:
        rows.append(
            [
                f"{day(past[0].date)} .. {day(past[-1].date)}",
                "past",
                f"{len(past)} days before local today",
            ]
        )
    rows += [
        [day(d.date), str(d.reason), notes.get(d.date, "")]
        for d in closed
        if d.reason is not UnavailableReason.PAST
    ]
    out(format_table(["Unavailable", "Reason", "Why"], rows))
    return days


def month(tour: Tour) -> Booking:
    """Section 2: a blackout and two bookings, then the month with its reasons."""
    app, out, shop = tour.app, tour.out, tour.paris
    t = shop.tenant.id
    app.availability.add_blackout(t, tour.blackout, reason="Studio holiday")
    camille = app.bookings.hold(
        t,
        package_id=shop.packages["half-day"].id,
        date=tour.booked,
        customer=CustomerDetails("Camille Martin", "camille@example.fr", "+33612345678"),
        add_ons={shop.add_ons["album"].id: 1, shop.add_ons["prints"].id: 4},
    )
    camille = app.bookings.confirm(t, camille.id, payment_ref="pay_demo_camille")
    ines = app.bookings.hold(
        t,
        package_id=shop.packages["elopement"].id,
        date=tour.freed,
        customer=CustomerDetails("Ines Dubois", "ines@example.fr"),
    )
    out("Set up: a blackout, one confirmed booking and one pending hold.")
    out()
    out(tour.bookings_table([camille, ines]))
    out()
    notice = shop.tenant.policy.min_notice_days
    notes = {
        tour.blackout: "blackout: Studio holiday",
        tour.booked: "Camille Martin (CONFIRMED)",
        tour.freed: "Ines Dubois (PENDING hold)",
    }
    notes |= {
        shop.today + dt.timedelta(days=n): f"inside the {notice}-day minimum notice"
        for n in range(notice)
    }
    days = _show_month(app, out, shop, tour.start, tour.end, notes=notes)
    seen = {d.reason for d in days}
    for reason in ("blackout", "booked", "past", "too_soon"):
        tour.checks.expect(UnavailableReason(reason) in seen, f"the month shows '{reason}'")
    tour.checks.expect(any(d.available for d in days), "the month has available dates")
    return ines
