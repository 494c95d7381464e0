"""A guided tour of booking_core on the embedded default: a SQLite file, no server needed.

Run it with ``python -m booking_core.demo``. It builds two tenants with a catalog, shows a month of
availability with the reason each closed date is closed, races 20 threads for one date (exactly one
wins), confirms the winner, cancels another booking to free its date, and shows that one tenant can
never see another tenant's bookings.

Every claim the output makes is also checked; the exit status is 0 only when all checks pass.

Args (command line):
    --db PATH   keep the SQLite database at PATH (it must not exist yet); by default a fresh file
                in a temporary directory is used and removed at the end, so reruns are clean.
    --quiet     print only the final verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import (
    AddOn,
    Booking,
    BookingPolicy,
    BookingStatus,
    CustomerDetails,
    DateAvailability,
    Package,
    Tenant,
    UnavailableReason,
    Venue,
)
from booking_core.domain.rules import local_today
from booking_core.errors import (
    BookingConflictError,
    BookingCoreError,
    DateUnavailableError,
    NotFoundError,
)
from booking_core.ports.clock import SystemClock

__all__ = ["format_money", "format_table", "main"]

RACERS = 20
_CONFLICT = "BookingConflictError"
CACHE_URL = "memory://"

#: ISO 4217 currencies whose minor unit is not a hundredth.
_MINOR_DIGITS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "VND": 0}

#: One character per availability state, for the compact calendar.
_MARKS: dict[UnavailableReason | None, str] = {
    None: ".",
    UnavailableReason.BLACKOUT: "X",
    UnavailableReason.BOOKED: "B",
    UnavailableReason.CALENDAR: "C",
    UnavailableReason.PAST: "-",
    UnavailableReason.TOO_SOON: "s",
    UnavailableReason.TOO_FAR: "f",
}


# --- formatting --------------------------------------------------------------------------------


def format_money(minor: int, currency: str) -> str:
    """``250000, "EUR"`` -> ``"EUR 2,500.00"``: integer minor units, never floats."""
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**digits)
    fraction = f".{rest:0{digits}d}" if digits else ""
    return f"{currency} {sign}{major:,}{fraction}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """An aligned text table; ``align`` has one ``l``/``r`` per column (default: left)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    spec = align.ljust(len(headers), "l")

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if a == "r" else cell.ljust(w)
            for cell, w, a in zip(row, widths, spec, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _short(value: uuid.UUID) -> str:
    return str(value)[:8]


def _day(date: dt.date) -> str:
    return date.strftime("%a %Y-%m-%d")


class _Out:
    """Prints the tour unless quiet; the verdict is always printed."""

    def __init__(self, stream: TextIO, *, quiet: bool) -> None:
        self._stream = stream
        self._quiet = quiet

    def __call__(self, text: str = "") -> None:
        if not self._quiet:
            print(text, file=self._stream)

    def heading(self, number: int, title: str) -> None:
        self()
        self(f"== {number}. {title} ".ljust(78, "="))
        self()

    def always(self, text: str) -> None:
        print(text, file=self._stream)


@dataclass
class _Checks:
    """The invariants the demo demonstrates; any failure makes the exit status non-zero."""

    failures: list[str] = field(default_factory=list)
    passed: int = 0

    def expect(self, condition: bool, what: str) -> bool:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition


# --- the tenants and their catalogs ------------------------------------------------------------


@dataclass(frozen=True)
class _Shop:
    tenant: Tenant
    packages: dict[str, Package]
    add_ons: dict[str, AddOn]
    venue: Venue
    today: dt.date


def _photographer(app: BookingApp) -> _Shop:
    tenant = app.tenants.create(
        slug="atelier-lumiere",
        name="Atelier Lumiere",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=12,
        policy=BookingPolicy(min_notice_days=3, horizon_days=365),
    )
    t = tenant.id
    weddings = app.catalog.create_segment(t, slug="weddings", name="Weddings", sort_order=1)
    elopements = app.catalog.create_segment(t, slug="elopements", name="Elopements", sort_order=2)
    packages = {
        "full-day": app.catalog.create_package(
            t, slug="full-day", name="Full day", base_price=250_000, segment_id=weddings.id
        ),
        "half-day": app.catalog.create_package(
            t, slug="half-day", name="Half day", base_price=140_000, segment_id=weddings.id
        ),
        "elopement": app.catalog.create_package(
            t, slug="elopement", name="Elopement", base_price=90_000, segment_id=elopements.id
        ),
    }
    add_ons = {
        "second-shooter": app.catalog.create_add_on(
            t, slug="second-shooter", name="Second shooter", price=45_000
        ),
        "album": app.catalog.create_add_on(
            t, slug="album", name="Linen album", price=30_000, segment_id=weddings.id
        ),
        "prints": app.catalog.create_add_on(t, slug="prints", name="Fine-art print", price=4_500),
    }
    for package, offered in [
        ("full-day", ["second-shooter", "album", "prints"]),
        ("half-day", ["album", "prints"]),
        ("elopement", ["prints"]),
    ]:
        for add_on in offered:
            app.catalog.offer_add_on(t, packages[package].id, add_ons[add_on].id)
    venue = app.catalog.create_venue(
        t, name="Chateau de Vaux", city="Maincy", country="FR", capacity=1
    )
    return _Shop(tenant, packages, add_ons, venue, local_today(app.clock.now(), tenant.timezone))


def _studio(app: BookingApp) -> _Shop:
    tenant = app.tenants.create(
        slug="brooklyn-light",
        name="Brooklyn Light Studio",
        timezone="America/New_York",
        currency="USD",
        commission_percent="7.5",
        policy=BookingPolicy(min_notice_days=1, horizon_days=180),
    )
    t = tenant.id
    portraits = app.catalog.create_segment(t, slug="portraits", name="Portraits", sort_order=1)
    events = app.catalog.create_segment(t, slug="events", name="Events", sort_order=2)
    packages = {
        "headshots": app.catalog.create_package(
            t, slug="headshots", name="Headshots", base_price=35_000, segment_id=portraits.id
        ),
        "family": app.catalog.create_package(
            t, slug="family", name="Family session", base_price=52_500, segment_id=portraits.id
        ),
        "event": app.catalog.create_package(
            t, slug="event", name="Event coverage", base_price=120_000, segment_id=events.id
        ),
    }
    add_ons = {
        "retouch": app.catalog.create_add_on(
            t, slug="retouch", name="Extra retouched photo", price=2_500
        ),
        "rush": app.catalog.create_add_on(t, slug="rush", name="48h delivery", price=10_000),
    }
    for package, offered in [
        ("headshots", ["retouch", "rush"]),
        ("family", ["retouch"]),
        ("event", ["rush"]),
    ]:
        for add_on in offered:
            app.catalog.offer_add_on(t, packages[package].id, add_ons[add_on].id)
    venue = app.catalog.create_venue(
        t, name="Studio 4B", address="55 Water St", city="Brooklyn", country="US", capacity=1
    )
    return _Shop(tenant, packages, add_ons, venue, local_today(app.clock.now(), tenant.timezone))


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _show_catalogs(app: BookingApp, out: _Out, shops: Sequence[_Shop]) -> None:
    out(
        format_table(
            ["Tenant", "Name", "Timezone", "Currency", "Commission", "Min notice", "Local today"],
            [
                [
                    s.tenant.slug,
                    s.tenant.name,
                    s.tenant.timezone,
                    s.tenant.currency,
                    f"{s.tenant.commission_percent}%",
                    _days(s.tenant.policy.min_notice_days),
                    _day(s.today),
                ]
                for s in shops
            ],
            "llllrrl",
        )
    )
    out()
    packages: list[list[object]] = []
    add_ons: list[list[object]] = []
    for shop in shops:
        t = shop.tenant
        segments = app.catalog.list_segments(t.id)
        for segment in segments:
            for package in app.catalog.list_packages(t.id, segment.slug):
                details = app.catalog.get_package(t.id, package.slug)
                offered = ", ".join(a.slug for a in details.add_ons)
                price = format_money(package.base_price, t.currency)
                packages.append([t.slug, segment.name, package.name, price, offered])
        names = {s.id: s.name for s in segments}
        for add_on in app.catalog.list_add_ons(t.id):
            where = "any" if add_on.segment_id is None else names[add_on.segment_id]
            price = format_money(add_on.price, t.currency)
            add_ons.append([t.slug, add_on.slug, add_on.name, price, where])
    out(
        format_table(
            ["Tenant", "Segment", "Package", "Price", "Add-ons offered"], packages, "lllrl"
        )
    )
    out()
    out(format_table(["Tenant", "Add-on", "Name", "Price", "Segment"], add_ons, "lllrl"))
    out()
    venues = [(s.tenant.slug, v) for s in shops for v in app.catalog.list_venues(s.tenant.id)]
    out(
        format_table(
            ["Tenant", "Venue", "City", "Country", "Capacity/day"],
            [[slug, v.name, v.city, v.country, v.capacity] for slug, v in venues],
            "llllr",
        )
    )


# --- availability ------------------------------------------------------------------------------


def _calendar_grid(days: Sequence[DateAvailability]) -> str:
    """Week rows, Monday first: each cell is the day of month and a one-character mark."""
    lines = ["Week of      Mo    Tu    We    Th    Fr    Sa    Su"]
    for week in range(0, len(days), 7):
        chunk = days[week : week + 7]
        cells = "".join(f"{d.date.day:>4} {_MARKS[d.reason]}" for d in chunk)
        lines.append(f"{chunk[0].date:%Y-%m-%d}{cells}")
    legend = ", ".join(
        f"{mark} {'available' if reason is None else reason.value}"
        for reason, mark in _MARKS.items()
    )
    lines.append(f"Legend: {legend}")
    return "\n".join(lines)


def _show_month(
    app: BookingApp,
    out: _Out,
    shop: _Shop,
    start: dt.date,
    end: dt.date,
    *,
    notes: dict[dt.date, str],
) -> list[DateAvailability]:
    days = app.availability.calendar(shop.tenant.id, start, end)
    out(f"{shop.tenant.name}, {_day(start)} .. {_day(end)} ({shop.tenant.timezone}):")
    out()
    out(_calendar_grid(days))
    out()
    closed = app.availability.unavailable_dates(shop.tenant.id, start, end)
    past = [d for d in closed if d.reason is UnavailableReason.PAST]
    rows: list[list[object]] = []
    if past:
        rows.append(
            [
                f"{_day(past[0].date)} .. {_day(past[-1].date)}",
                "past",
                f"{len(past)} days before local today",
            ]
        )
    rows += [
        [_day(d.date), str(d.reason), notes.get(d.date, "")]
        for d in closed
        if d.reason is not UnavailableReason.PAST
    ]
    out(format_table(["Unavailable", "Reason", "Why"], rows))
    return days


# --- the race ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    racer: int
    outcome: str
    booking: Booking | None = None
    error: BaseException | None = None


def _race(app: BookingApp, shop: _Shop, date: dt.date) -> list[_Attempt]:
    """RACERS threads wait on one barrier, then all try to hold ``date`` at once."""
    barrier = threading.Barrier(RACERS)
    results: list[_Attempt] = []
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
            attempt = _Attempt(n, "won the hold", booking=booking)
        except DateUnavailableError as error:
            attempt = _Attempt(n, f"DateUnavailableError ({error.reason})", error=error)
        except BookingConflictError as error:
            outcome = _CONFLICT if error.date == date else "conflict naming another date"
            attempt = _Attempt(n, outcome, error=error)
        except BookingCoreError as error:
            attempt = _Attempt(n, type(error).__name__, error=error)
        except Exception as error:  # a raw driver error escaping would be a bug: show it
            attempt = _Attempt(n, f"unexpected {type(error).__name__}", error=error)
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


# --- the tour ----------------------------------------------------------------------------------

_BOOKING_HEADERS = ["Booking", "Event date", "Customer", "Status", "Total", "Commission"]
_BOOKING_ALIGN = "llllrr"


@dataclass
class _Tour:
    """The demo's sections, in order, sharing the app, the output and the checks."""

    app: BookingApp
    out: _Out
    checks: _Checks
    paris: _Shop
    brooklyn: _Shop
    start: dt.date = field(init=False)
    end: dt.date = field(init=False)
    blackout: dt.date = field(init=False)
    booked: dt.date = field(init=False)
    freed: dt.date = field(init=False)
    raced: dt.date = field(init=False)

    def __post_init__(self) -> None:
        today = self.paris.today
        self.start = today - dt.timedelta(days=7 + today.weekday())  # Monday of last week
        self.end = self.start + dt.timedelta(days=34)
        self.booked = today + dt.timedelta(days=9)
        self.blackout = today + dt.timedelta(days=12)
        self.freed = today + dt.timedelta(days=16)
        self.raced = today + dt.timedelta(days=20)

    def bookings_table(self, bookings: Sequence[Booking]) -> str:
        rows = []
        for booking in bookings:
            customer = self.app.customers.get(booking.tenant_id, booking.customer_id)
            rows.append(
                [
                    _short(booking.id),
                    _day(booking.event_date),
                    customer.name,
                    booking.status.value,
                    format_money(booking.total, booking.currency),
                    format_money(booking.commission, booking.currency),
                ]
            )
        return format_table(_BOOKING_HEADERS, rows, _BOOKING_ALIGN)

    def month(self) -> Booking:
        """Section 2: a blackout and two bookings, then the month with its reasons."""
        app, out, shop = self.app, self.out, self.paris
        t = shop.tenant.id
        app.availability.add_blackout(t, self.blackout, reason="Studio holiday")
        camille = app.bookings.hold(
            t,
            package_id=shop.packages["half-day"].id,
            date=self.booked,
            customer=CustomerDetails("Camille Martin", "camille@example.fr", "+33612345678"),
            add_ons={shop.add_ons["album"].id: 1, shop.add_ons["prints"].id: 4},
        )
        camille = app.bookings.confirm(t, camille.id, payment_ref="pay_demo_camille")
        ines = app.bookings.hold(
            t,
            package_id=shop.packages["elopement"].id,
            date=self.freed,
            customer=CustomerDetails("Ines Dubois", "ines@example.fr"),
        )
        out("Set up: a blackout, one confirmed booking and one pending hold.")
        out()
        out(self.bookings_table([camille, ines]))
        out()
        notice = shop.tenant.policy.min_notice_days
        notes = {
            self.blackout: "blackout: Studio holiday",
            self.booked: "Camille Martin (CONFIRMED)",
            self.freed: "Ines Dubois (PENDING hold)",
        }
        notes |= {
            shop.today + dt.timedelta(days=n): f"inside the {notice}-day minimum notice"
            for n in range(notice)
        }
        days = _show_month(app, out, shop, self.start, self.end, notes=notes)
        seen = {d.reason for d in days}
        for reason in ("blackout", "booked", "past", "too_soon"):
            self.checks.expect(UnavailableReason(reason) in seen, f"the month shows '{reason}'")
        self.checks.expect(any(d.available for d in days), "the month has available dates")
        return ines

    def race(self) -> Booking | None:
        """Section 3: RACERS threads hold one date at once; exactly one may win."""
        out, checks = self.out, self.checks
        began = time.perf_counter()
        attempts = _race(self.app, self.paris, self.raced)
        elapsed = time.perf_counter() - began
        tally = Counter(a.outcome for a in attempts)
        out(format_table(["Outcome", "Count"], sorted(tally.items()), "lr"))
        out()
        winners = [(a.racer, a.booking) for a in attempts if a.booking is not None]
        conflicts = tally[_CONFLICT]
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

    def confirm_and_cancel(self, winner: Booking, ines: Booking) -> Booking:
        """Section 4: the winner pays; Ines cancels and her date opens again."""
        app, out, checks = self.app, self.out, self.checks
        t = self.paris.tenant.id
        confirmed = app.bookings.confirm(t, winner.id, payment_ref="pay_demo_race_winner")
        checks.expect(confirmed.status is BookingStatus.CONFIRMED, "the winner is CONFIRMED")
        out("The race winner paid:")
        out()
        out(self.bookings_table([confirmed]))
        out()

        def state(when: str) -> tuple[list[object], DateAvailability]:
            check = app.availability.check(t, self.freed)
            booking = app.bookings.get(t, ines.id)
            verdict = "available" if check.available else f"unavailable ({check.reason})"
            return [when, _day(self.freed), booking.status.value, verdict], check

        before, before_check = state("before cancel")
        app.bookings.cancel(t, ines.id, reason="Customer changed plans")
        after, after_check = state("after cancel")
        out(f"Ines Dubois cancels her hold ({_short(ines.id)}):")
        out()
        out(format_table(["When", "Date", "Booking status", "Date is"], [before, after]))
        out()
        out(f"Freed date {_day(self.freed)}: {after[-1]} again.")
        checks.expect(before_check.reason is UnavailableReason.BOOKED, "the held date was booked")
        checks.expect(after_check.available, "the canceled booking's date is available again")
        return confirmed

    def isolation(self, booking_a: Booking) -> None:
        """Section 5: tenant B cannot read, list or be blocked by tenant A's booking."""
        app, out, checks, shop = self.app, self.out, self.checks, self.brooklyn
        a, b = self.paris.tenant.id, shop.tenant.id
        own = app.bookings.hold(
            b,
            package_id=shop.packages["family"].id,
            date=shop.today + dt.timedelta(days=5),
            customer=CustomerDetails("Jordan Lee", "jordan@example.com", "+12125550123"),
            add_ons={shop.add_ons["retouch"].id: 3},
            venue_id=shop.venue.id,
        )
        try:
            app.bookings.get(b, booking_a.id)
        except NotFoundError as error:
            lookup, hidden = f"NotFoundError ({error.entity} not found)", True
        else:
            lookup, hidden = "FOUND: tenant data leaked", False
        listed = app.bookings.list_for_dates(b, self.start, self.end)
        leaked = [x for x in listed if x.tenant_id != b or x.id == booking_a.id]
        b_check = app.availability.check(b, booking_a.event_date)
        call = f"bookings.get({_short(booking_a.id)})"
        rows = [
            ["A atelier-lumiere", call, app.bookings.get(a, booking_a.id).status.value],
            ["B brooklyn-light", call, lookup],
            [
                "B brooklyn-light",
                f"bookings.list_for_dates({self.start} .. {self.end})",
                f"{len(listed)} booking, {len(leaked)} of tenant A",
            ],
            [
                "B brooklyn-light",
                f"availability.check({booking_a.event_date})",
                "available" if b_check.available else f"unavailable ({b_check.reason})",
            ],
        ]
        out(format_table(["As tenant", "Call", "Result"], rows))
        out()
        ok = checks.expect(hidden, "tenant B gets NotFoundError for tenant A's booking")
        ok &= checks.expect(
            not leaked and [x.id for x in listed] == [own.id],
            "tenant B's list holds only its own booking",
        )
        ok &= checks.expect(b_check.available, "tenant A's booked date is still free for B")
        if ok:
            out("Tenant isolation holds: tenant B cannot see tenant A's booking.")

    def summary(self) -> None:
        """Section 6: every booking of each tenant."""
        for index, shop in enumerate((self.paris, self.brooklyn)):
            if index:
                self.out()
            self.out(f"{shop.tenant.name}:")
            self.out()
            listed = self.app.bookings.list_for_dates(shop.tenant.id, self.start, self.end)
            self.out(self.bookings_table(listed))


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


def _tour(app: BookingApp, out: _Out, checks: _Checks) -> None:
    out.heading(1, "Two tenants, each with a small catalog")
    tour = _Tour(app, out, checks, _photographer(app), _studio(app))
    _show_catalogs(app, out, [tour.paris, tour.brooklyn])

    out.heading(2, "A month of availability, with the reason each closed date is closed")
    ines = tour.month()

    out.heading(3, f"{RACERS} threads race to hold {_day(tour.raced)} (capacity 1)")
    winner = tour.race()
    if winner is None:
        return

    out.heading(4, "Confirm the winner; cancel another booking: its date is free again")
    confirmed = tour.confirm_and_cancel(winner, ines)

    out.heading(5, "Tenant isolation: tenant B cannot see tenant A's booking")
    tour.isolation(confirmed)

    out.heading(6, "All bookings at the end")
    tour.summary()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m booking_core.demo",
        description="A tour of booking_core on SQLite: tenants, availability, a 20-thread "
        "race for one date, cancellation and tenant isolation.",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the SQLite database at this (new) path; default: a temporary file, removed",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    return parser.parse_args(argv)


def _run(db: Path, out: _Out) -> _Checks:
    checks = _Checks()
    app = connect(f"sqlite:///{db}", cache_url=CACHE_URL, clock=SystemClock(), create_schema=True)
    with app:
        out(
            f"booking_core demo: database sqlite:///{db}, cache {CACHE_URL}, "
            f"now {app.clock.now():%Y-%m-%d %H:%M:%S} UTC"
        )
        try:
            _tour(app, out, checks)
        except BookingCoreError as error:
            checks.failures.append(f"unexpected {type(error).__name__}: {error}")
    return checks


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when every demonstrated invariant held, 1 otherwise, 2 on bad usage."""
    args = _parse_args(argv)
    out = _Out(sys.stdout, quiet=args.quiet)
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


if __name__ == "__main__":
    raise SystemExit(main())
