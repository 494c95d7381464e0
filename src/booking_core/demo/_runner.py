"""Runs the sections in order on a fresh SQLite file and prints the verdict."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp, connect
from booking_core.demo._availability import month
from booking_core.demo._catalog import open_shops, show_catalogs
from booking_core.demo._format import Checks, Out, day
from booking_core.demo._isolation import isolation
from booking_core.demo._outbox import drain_outbox
from booking_core.demo._payments import cancel_paid, checkout_and_pay
from booking_core.demo._race import RACERS, confirm_and_cancel, race
from booking_core.demo._scheduling import (
    INTERVAL_RACERS,
    dst_day,
    interval_race,
    open_studio,
    week_grid,
)
from booking_core.demo._tour import Tour
from booking_core.errors import BookingCoreError
from booking_core.ports.clock import SystemClock

__all__ = ["main"]

CACHE_URL = "memory://"


#: The calendar extra's packages: the calendars section runs only when all are installed.
CALENDAR_EXTRA = ("icalendar", "recurring_ical_events", "x_wr_timezone")


def _calendar_extra_installed() -> bool:
    """Whether the optional calendar extra is there; asked, not imported, so that a real import
    error in the section still fails the run instead of skipping it."""
    return all(importlib.util.find_spec(name) is not None for name in CALENDAR_EXTRA)


def _tour(
    app: BookingApp,
    out: Out,
    checks: Checks,
    provider: FakePaymentProvider,
    database_url: str,
) -> None:
    out.heading(1, "Two tenants, each with a small catalog")
    paris, brooklyn = open_shops(app)
    tour = Tour(app, out, checks, paris, brooklyn, provider)
    show_catalogs(app, out, [tour.paris, tour.brooklyn])

    out.heading(2, "A month of availability, with the reason each closed date is closed")
    ines = month(tour)

    out.heading(3, f"{RACERS} threads race to hold {day(tour.raced)} (capacity 1)")
    winner = race(tour)
    if winner is None:
        return

    out.heading(4, "Confirm the winner; cancel another booking: its date is free again")
    confirmed = confirm_and_cancel(tour, winner, ines)

    out.heading(5, "Tenant isolation: tenant B cannot see tenant A's booking")
    isolation(tour, confirmed)

    out.heading(6, "Payments: checkout, a signed webhook, the same webhook redelivered")
    made = checkout_and_pay(tour)

    out.heading(7, "Cancelling paid bookings: refunds by the tenant's policy")
    cancel_paid(tour, made)

    out.heading(8, "The outbox: events drained in order, one notification signed")
    drain_outbox(tour, made)

    out.heading(9, "Time slots: a London studio's week, built from availability.slots")
    studio = open_studio(app)
    tour.others.append(studio.tenant)
    week_grid(tour, studio)

    out.heading(10, "Daylight saving: a night crew's hours when London's clocks change")
    dst_day(tour, studio)

    out.heading(11, f"{INTERVAL_RACERS} threads hold overlapping intervals of one studio at once")
    interval_race(tour, studio)

    out.heading(12, "Calendars: a booking as ICS, a weekly meeting imported as busy time")
    if _calendar_extra_installed():
        from booking_core.demo._calendars import calendars  # noqa: PLC0415  # needs the extra

        calendars(tour, studio, database_url)
    else:
        out('Skipped: needs the calendar extra, pip install "booking-core-sdk[calendar]".')

    out.heading(13, "All bookings at the end")
    tour.summary()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m booking_core.demo",
        description="A tour of booking_core on SQLite: tenants, availability, a 20-thread "
        "race for one date, cancellation, tenant isolation, payments, refunds, the outbox, "
        "time slots (a week's grid, a DST night, a race on overlapping intervals), and "
        "calendars (a booking as ICS, busy time imported from an ICS feed).",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the SQLite database at this (new) path; default: a temporary file, removed",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    return parser.parse_args(argv)


def _run(db: Path, out: Out) -> Checks:
    checks = Checks()
    clock = SystemClock()
    provider = FakePaymentProvider(clock=clock)
    database_url = f"sqlite:///{db}"
    app = connect(
        database_url,
        cache_url=CACHE_URL,
        clock=clock,
        payments=provider,
        create_schema=True,
    )
    with app:
        out(
            f"booking_core demo: database {database_url}, cache {CACHE_URL}, "
            f"now {app.clock.now():%Y-%m-%d %H:%M:%S} UTC"
        )
        try:
            _tour(app, out, checks, provider, database_url)
        except BookingCoreError as error:
            checks.failures.append(f"unexpected {type(error).__name__}: {error}")
    return checks


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every demonstrated invariant held, 1 otherwise, 2 on bad usage."""
    args = _parse_args(argv)
    out = Out(sys.stdout, quiet=args.quiet)
    began = time.perf_counter()
    if args.db is not None:
        if args.db.exists():
            print(
                f"error: {args.db} already exists; the demo needs a fresh database file",
                file=sys.stderr,
            )
            return 2
        checks = _run(args.db, out)
    else:
        with tempfile.TemporaryDirectory(prefix="booking_core_demo_") as tmp:
            checks = _run(Path(tmp) / "demo.db", out)
    elapsed = time.perf_counter() - began
    out()
    if checks.failures:
        out.always(f"FAILED: {len(checks.failures)} check(s) failed ({elapsed:.1f} s):")
        for failure in checks.failures:
            out.always(f"  - {failure}")
        return 1
    out.always(f"OK: all {checks.passed} checks passed in {elapsed:.1f} s.")
    return 0
