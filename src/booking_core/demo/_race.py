"""Sections 3 and 4: threads race for one date (exactly one wins); the winner pays, another
booking is cancelled and its date opens again."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from booking_core.bootstrap import BookingApp
from booking_core.demo._catalog import Shop
from booking_core.demo._format import day, format_money, format_table, short
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    CustomerDetails,
    DateAvailability,
    UnavailableReason,
)
from booking_core.errors import BookingConflictError, BookingCoreError, DateUnavailableError

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour

RACERS = 20
CONFLICT = "BookingConflictError"


@dataclass(frozen=True)
class Attempt:
    racer: int
    outcome: str
    booking: Booking | None = None
    error: BaseException | None = None


def race_threads(app: BookingApp, shop: Shop, date: dt.date) -> list[Attempt]:
    """RACERS threads wait on one barrier, then all try to hold ``date`` at once."""
    barrier = threading.Barrier(RACERS)
    results: list[Attempt] = []
    lock = threading.Lock()
    package = shop.packages["full-day"]
    shooter = shop.add_ons["second-shooter"]

    def racer(n: int) -> None:
        customer = CustomerDetails(f"Guest {n:02d}", f"guest{n:02d}@example.com")
        try:
            barrier.wait(timeout=30)
            booking = app.bookings.hold(
                shop.tenant.id,
                package_id=package.id,
                date=date,
                customer=customer,
                add_ons={shooter.id: 1},
            )
            attempt = Attempt(n, "won the hold", booking=booking)
        except DateUnavailableError as error:
            attempt = Attempt(n, f"DateUnavailableError ({error.reason})", error=error)
        except BookingConflictError as error:
            outcome = CONFLICT if error.date == date else "conflict naming another date"
            attempt = Attempt(n, outcome, error=error)
        except BookingCoreError as error:
            attempt = Attempt(n, type(error).__name__, error=error)
        except Exception as error:  # a raw driver error escaping would be a bug: show it
            attempt = Attempt(n, f"unexpected {type(error).__name__}", error=error)
        with lock:
            results.append(attempt)

    threads = [
        threading.Thread(target=racer, args=(n,), name=f"racer-{n}") for n in range(1, RACERS + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results, key=lambda a: a.racer)


def race(tour: Tour) -> Booking | None:
    """Section 3: RACERS threads hold one date at once; exactly one may win."""
    out, checks = tour.out, tour.checks
    began = time.perf_counter()
    attempts = race_threads(tour.app, tour.paris, tour.raced)
    elapsed = time.perf_counter() - began
    tally = Counter(a.outcome for a in attempts)
    out(format_table(["Outcome", "Count"], sorted(tally.items()), "lr"))
    out()
    winners = [(a.racer, a.booking) for a in attempts if a.booking is not None]
    conflicts = tally[CONFLICT]
    out(
        f"{len(attempts)} attempts in {elapsed:.2f} s: winners: {len(winners)}, "
        f"conflicts: {conflicts}"
    )
    checks.expect(len(attempts) == RACERS, f"all {RACERS} racers finished")
    checks.expect(len(winners) == 1, "exactly one racer won the hold")
    checks.expect(conflicts == RACERS - 1, f"{RACERS - 1} racers got BookingConflictError")
    if len(winners) != 1:
        return None
    racer, booking = winners[0]
    out()
    out(f"Winner: Guest {racer:02d}, holding the date until {booking.expires_at:%H:%M:%S} UTC.")
    out(f"Price snapshot: {_snapshot(booking)}")
    loser = next((a for a in attempts if a.error is not None), None)
    if loser is not None:
        error = f'{type(loser.error).__name__}("{loser.error}")'
        out(f"A loser, Guest {loser.racer:02d}, got {error}")
    return booking


def confirm_and_cancel(tour: Tour, winner: Booking, ines: Booking) -> Booking:
    """Section 4: the winner pays; Ines cancels and her date opens again."""
    app, out, checks = tour.app, tour.out, tour.checks
    t = tour.paris.tenant.id
    confirmed = app.bookings.confirm(t, winner.id, payment_ref="pay_demo_race_winner")
    checks.expect(confirmed.status is BookingStatus.CONFIRMED, "the winner is CONFIRMED")
    out("The race winner paid:")
    out()
    out(tour.bookings_table([confirmed]))
    out()

    def state(when: str) -> tuple[list[object], DateAvailability]:
        check = app.availability.check(t, tour.freed)
        booking = app.bookings.get(t, ines.id)
        verdict = "available" if check.available else f"unavailable ({check.reason})"
        return [when, day(tour.freed), booking.status.value, verdict], check

    before, before_check = state("before cancel")
    app.bookings.cancel(t, ines.id, reason="Customer changed plans")
    after, after_check = state("after cancel")
    out(f"Ines Dubois cancels her hold ({short(ines.id)}):")
    out()
    out(format_table(["When", "Date", "Booking status", "Date is"], [before, after]))
    out()
    out(f"Freed date {day(tour.freed)}: {after[-1]} again.")
    checks.expect(before_check.reason is UnavailableReason.BOOKED, "the held date was booked")
    checks.expect(after_check.available, "the canceled booking's date is available again")
    return confirmed


def _snapshot(booking: Booking) -> str:
    """``EUR 2,500.00 + Second shooter 1 x EUR 450.00 = EUR 2,950.00 (commission ...)``."""
    money = booking.currency
    parts = [format_money(booking.package_price, money)]
    parts += [
        f"{x.name} {x.quantity} x {format_money(x.unit_price, money)}" for x in booking.add_ons
    ]
    return (
        f"{' + '.join(parts)} = {format_money(booking.total, money)}, "
        f"platform commission {format_money(booking.commission, money)}"
    )
