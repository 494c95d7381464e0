"""A guided tour of booking_core on the embedded default: a SQLite file, no server needed.

Run it with ``python -m booking_core.demo``. It builds two tenants with a catalog, shows a month of
availability with the reason each closed date is closed, races 20 threads for one date (exactly one
wins), confirms the winner, cancels another booking to free its date, and shows that one tenant can
never see another tenant's bookings. Then payments, with the deterministic fake provider: checkouts
confirmed by signed webhooks (a redelivered webhook has no effect), paid bookings cancelled with
the refund and commission the tenant's policy gives, and the outbox drained in order with one
outgoing notification signed.

Every claim the output makes is also checked; the exit status is 0 only when all checks pass.

Args (command line):
    --db PATH   keep the SQLite database at PATH (it must not exist yet); by default a fresh file
                in a temporary directory is used and removed at the end, so reruns are clean.
    --quiet     print only the final verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
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

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import (
    AddOn,
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    DateAvailability,
    InboxState,
    OutboxEvent,
    Package,
    RefundState,
    RefundTier,
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
    WebhookVerificationError,
)
from booking_core.ports.clock import SystemClock
from booking_core.ports.payments import PaymentEventType
from booking_core.services.bookings import Checkout
from booking_core.services.webhooks import WebhookReceipt
from booking_core.web.notifications import (
    NotificationSigner,
    encode_notification,
    verify_notification,
)

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
            for package in app.catalog.list_packages(t.id, segment_slug=segment.slug):
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


@dataclass(frozen=True)
class _Payer:
    """A customer of the payments sections: what they buy and when their event is."""

    name: str
    email: str
    days_ahead: int
    package: str
    add_ons: tuple[tuple[str, int], ...] = ()
    reason: str = ""


#: The first pays and keeps her booking; the others pay and cancel, one per refund tier.
_PAYERS = (
    _Payer("Lea Rousseau", "lea@example.fr", 45, "full-day", (("album", 1),)),
    _Payer("Marc Lefevre", "marc@example.fr", 40, "half-day", (("prints", 2),), "moved abroad"),
    _Payer("Sofia Moretti", "sofia@example.it", 10, "elopement", (("prints", 3),), "new date"),
    _Payer("Noah Bernard", "noah@example.fr", 5, "elopement", (), "changed plans"),
)
#: The default tiers, plus a fixed fee kept from any refund.
_CANCELLATION = CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 50)), fee=2_500)

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
    provider: FakePaymentProvider
    start: dt.date = field(init=False)
    end: dt.date = field(init=False)
    blackout: dt.date = field(init=False)
    booked: dt.date = field(init=False)
    freed: dt.date = field(init=False)
    raced: dt.date = field(init=False)
    last: dt.date = field(init=False)

    def __post_init__(self) -> None:
        today = self.paris.today
        self.start = today - dt.timedelta(days=7 + today.weekday())  # Monday of last week
        self.end = self.start + dt.timedelta(days=34)
        self.booked = today + dt.timedelta(days=9)
        self.blackout = today + dt.timedelta(days=12)
        self.freed = today + dt.timedelta(days=16)
        self.raced = today + dt.timedelta(days=20)
        self.last = today + dt.timedelta(days=max(p.days_ahead for p in _PAYERS))

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

    # --- payments ------------------------------------------------------------------------------

    def _checkout(self, payer: _Payer) -> Checkout:
        shop = self.paris
        return self.app.bookings.checkout(
            shop.tenant.id,
            package_id=shop.packages[payer.package].id,
            date=shop.today + dt.timedelta(days=payer.days_ahead),
            customer=CustomerDetails(payer.name, payer.email),
            add_ons={shop.add_ons[slug].id: qty for slug, qty in payer.add_ons},
            idempotency_key=f"demo-checkout:{payer.email}",
        )

    def checkout_and_pay(self) -> dict[str, Checkout]:
        """Section 6: checkouts, one signed webhook per payment, one webhook redelivered."""
        app, out, checks, provider = self.app, self.out, self.checks, self.provider
        t = self.paris.tenant.id
        made = {payer.name: self._checkout(payer) for payer in _PAYERS}
        rows = [
            [
                _short(c.booking.id),
                _day(c.booking.event_date),
                name,
                c.booking.status.value,
                format_money(c.booking.total, c.booking.currency),
                format_money(c.booking.commission, c.booking.currency),
                c.session.payment_ref,
            ]
            for name, c in made.items()
        ]
        headers = ["Booking", "Event date", "Customer", "Status", "Total", "Commission", "Payment"]
        out("Four customers check out: each gets a hold and a payment (platform fee = commission).")
        out()
        out(format_table(headers, rows, "llllrrl"))
        out()
        lea = made[_PAYERS[0].name]
        replay = self._checkout(_PAYERS[0])
        same = (replay.booking.id, replay.session) == (lea.booking.id, lea.session)
        out(f"{_PAYERS[0].name} is sent to {lea.session.redirect_url}")
        out(
            "Her checkout retried with the same idempotency key: "
            + ("the same booking and payment." if same else "A SECOND BOOKING.")
        )
        checks.expect(
            all(c.booking.status is BookingStatus.PENDING for c in made.values()),
            "every checkout holds its date (PENDING)",
        )
        checks.expect(same, "a retried checkout returns the same booking and payment")

        webhooks = {
            name: provider.make_webhook(
                PaymentEventType.PAYMENT_SUCCEEDED,
                tenant_id=t,
                booking_id=c.booking.id,
                payment_ref=c.session.payment_ref,
                amount=c.booking.total,
                currency=c.booking.currency,
            )
            for name, c in made.items()
        }
        deliveries: list[tuple[str, str, WebhookReceipt]] = [
            ("first", name, app.webhooks.receive(t, "fake", body, signed))
            for name, (body, signed) in webhooks.items()
        ]
        lea_webhook = webhooks[_PAYERS[0].name]
        before = app.bookings.get(t, lea.booking.id)
        again = app.webhooks.receive(t, "fake", *lea_webhook)
        after = app.bookings.get(t, lea.booking.id)
        deliveries.insert(1, ("redelivered", _PAYERS[0].name, again))
        names = ", ".join(sorted(lea_webhook[1]))
        out()
        out(
            f"The provider signs a {PaymentEventType.PAYMENT_SUCCEEDED} webhook per payment "
            f"(headers: {names});"
        )
        out(f"{_PAYERS[0].name}'s is then delivered a second time, byte for byte:")
        out()
        statuses = {name: app.bookings.get(t, c.booking.id) for name, c in made.items()}
        out(
            format_table(
                ["Delivery", "Customer", "Event id", "State", "Duplicate", "Outcome", "Booking"],
                [
                    [
                        delivery,
                        name,
                        r.event_id,
                        r.state.value,
                        "yes" if r.duplicate else "no",
                        r.outcome or "-",
                        statuses[name].status.value,
                    ]
                    for delivery, name, r in deliveries
                ],
            )
        )
        out()
        unchanged = before == after
        out(
            f"After the redelivery {_PAYERS[0].name}'s booking is {after.status.value}, "
            f"paid {format_money(after.amount_paid, after.currency)}, version {after.version}: "
            + ("unchanged." if unchanged else "CHANGED.")
        )
        firsts = [r for delivery, _, r in deliveries if delivery == "first"]
        checks.expect(
            all(
                r.state is InboxState.PROCESSED and not r.duplicate and r.outcome == "confirmed"
                for r in firsts
            ),
            "each first webhook delivery is PROCESSED and confirms its booking",
        )
        checks.expect(
            again.duplicate
            and again.state is InboxState.PROCESSED
            and again.event_id == firsts[0].event_id,
            "the redelivered webhook is acknowledged as a duplicate of the same event",
        )
        checks.expect(unchanged, "the redelivery has no effect on the booking")
        checks.expect(
            all(
                b.status is BookingStatus.CONFIRMED
                and b.payment_ref == made[name].session.payment_ref
                and b.amount_paid == b.total
                for name, b in statuses.items()
            ),
            "every paid booking is CONFIRMED with its payment and amount",
        )
        paid = provider.payments
        checks.expect(
            all(paid[c.session.payment_ref].status == "succeeded" for c in made.values()),
            "the provider records every payment as succeeded",
        )
        return made

    def cancel_paid(self, made: dict[str, Checkout]) -> None:
        """Section 7: three paid bookings cancelled; refunds and commission by the policy."""
        app, out, checks, provider = self.app, self.out, self.checks, self.provider
        tenant = app.tenants.update_cancellation_policy(self.paris.tenant.id, _CANCELLATION)
        policy = tenant.cancellation
        tiers = ", ".join(
            f"{tier.percent}% from {_days(tier.days_before)}" for tier in policy.tiers
        )
        out(f"{tenant.name}'s cancellation policy refunds {tiers} before the event,")
        fee = format_money(policy.fee, tenant.currency)
        out(f"nothing later, and keeps a {fee} fee from any refund.")
        out()
        out("  refund            = floor(paid x tier % / 100) - fee, not below 0")
        out("  commission refund = ceil(commission x refund / total), 0 without a refund")
        out()
        rows: list[list[object]] = []
        for payer in _PAYERS[1:]:
            booking_id = made[payer.name].booking.id
            result = app.bookings.cancel(tenant.id, booking_id, reason=payer.reason)
            booking = result.booking
            days = (booking.event_date - local_today(app.clock.now(), tenant.timezone)).days
            percent = next((x.percent for x in policy.tiers if days >= x.days_before), 0)
            refund = max(0, booking.amount_paid * percent // 100 - policy.fee)
            commission = (
                min(booking.commission, -(-booking.commission * refund // booking.total))
                if refund > 0
                else 0
            )
            state = "no refund" if result.refund is None else result.refund.state.value
            money = booking.currency
            rows.append(
                [
                    _short(booking.id),
                    payer.name,
                    _days(days),
                    f"{percent}%",
                    format_money(booking.amount_paid, money),
                    format_money(result.refund_amount, money),
                    format_money(booking.commission, money),
                    format_money(result.commission_refund, money),
                    state,
                ]
            )
            who = f"{payer.name} ({_days(days)} ahead, {percent}%)"
            checks.expect(booking.status is BookingStatus.CANCELED, f"{who} is CANCELED")
            checks.expect(
                result.refund_amount == refund == booking.amount_refunded,
                f"{who}: refund = floor(paid x tier / 100) - fee = {refund}",
            )
            checks.expect(
                result.commission_refund == commission == booking.commission_refunded,
                f"{who}: commission refund = ceil(commission x refund / total) = {commission}",
            )
            settled = result.refund is not None and result.refund.state is RefundState.SUCCEEDED
            checks.expect(
                settled if refund > 0 else result.refund is None,
                f"{who}: the refund is {'SUCCEEDED' if refund > 0 else 'not created'}",
            )
            at_provider = provider.payments[made[payer.name].session.payment_ref].refunded
            checks.expect(at_provider == refund, f"{who}: the provider refunded {refund}")
            free = app.availability.check(tenant.id, booking.event_date).available
            checks.expect(free, f"{who}: the date is free again")
        out(
            format_table(
                [
                    "Booking",
                    "Customer",
                    "Days before",
                    "Tier",
                    "Paid",
                    "Refund",
                    "Commission",
                    "Comm. refund",
                    "Refund state",
                ],
                rows,
                "llrrrrrrl",
            )
        )
        out()
        out(
            f"The provider executed {len(provider.refunds)} refunds; "
            "the cancelled dates are free again."
        )

    def drain_outbox(self, made: dict[str, Checkout]) -> None:
        """Section 8: drain the outbox in order; sign one outgoing notification."""
        app, out, checks = self.app, self.out, self.checks
        names = {c.booking.id: name for name, c in made.items()}
        lea_id = made[_PAYERS[0].name].booking.id
        secret = secrets.token_bytes(32)  # shared with the receiving customer, never shown
        signer = NotificationSigner(secret, clock=app.clock)
        delivered: list[OutboxEvent] = []
        sent: list[tuple[bytes, dict[str, str]]] = []

        def deliver(event: OutboxEvent) -> None:
            # A host app would POST body with headers to the customer's endpoint here.
            if event.booking_id == lea_id and event.type == "booking.confirmed":
                event_id = str(event.id)
                body = encode_notification(event.type, event_id, event.payload)
                sent.append((body, signer.headers(body, event_id=event_id)))
            delivered.append(event)

        count = app.outbox.drain(deliver)
        left = app.outbox.claim(batch_size=100)
        ours = [e for e in delivered if e.booking_id in names]
        order = {c.booking.id: i for i, c in enumerate(made.values())}
        ours_sorted = sorted(ours, key=lambda e: order[e.booking_id])  # stable: delivery order
        out(
            format_table(
                ["Booking", "Customer", "Sequence", "Type"],
                [
                    [_short(e.booking_id), names[e.booking_id], e.sequence, e.type]
                    for e in ours_sorted
                ],
                "llrl",
            )
        )
        out()
        out(
            f"Drained {count} events: {len(ours)} of these four bookings (above), "
            f"{count - len(ours)} of earlier ones; {len(left)} left to claim."
        )
        confirmed = Counter(e.booking_id for e in ours if e.type == "booking.confirmed")
        checks.expect(count == len(delivered), "drain reports every event it delivered")
        checks.expect(not left, "nothing is left in the outbox after the drain")
        checks.expect(
            confirmed[lea_id] == 1,
            f"exactly one booking.confirmed event for {_PAYERS[0].name} despite the redelivery",
        )
        checks.expect(
            all(confirmed[booking_id] == 1 for booking_id in names),
            "exactly one booking.confirmed event per paid booking",
        )
        per_booking: dict[uuid.UUID, list[int]] = {}
        for event in delivered:
            per_booking.setdefault(event.booking_id, []).append(event.sequence)
        checks.expect(
            all(seq == sorted(seq) for seq in per_booking.values()),
            "each booking's events are delivered in sequence order",
        )
        for payer in _PAYERS[1:]:
            types = {e.type for e in ours if names[e.booking_id] == payer.name}
            want = {"booking.held", "booking.confirmed", "booking.canceled"}
            checks.expect(want <= types, f"{payer.name}'s events include {sorted(want)}")
        if checks.expect(len(sent) == 1, "one notification was signed"):
            self._notification(secret, *sent[0])

    def _notification(self, secret: bytes, body: bytes, headers: dict[str, str]) -> None:
        """Show a signed outgoing notification (header names only) and a receiver checking it."""
        out, checks = self.out, self.checks
        out()
        out(
            f"{_PAYERS[0].name}'s booking.confirmed, sent as a signed notification "
            f"({len(body)}-byte body); header names only:"
        )
        out()
        out(f"  {', '.join(headers)}")
        out()
        now = self.app.clock.now()
        event_id = verify_notification(secret, body, headers, now=now)
        tampered = body.replace(b'"CONFIRMED"', b'"CANCELED"')
        try:
            verify_notification(secret, tampered, headers, now=now)
        except WebhookVerificationError as error:
            refused = f"refused, {type(error).__name__} ({error})"
        else:
            refused = "ACCEPTED"
        out(f"The receiver verifies it: event id {event_id} (its outbox event's id).")
        out("The same request with CONFIRMED changed to CANCELED in the body is")
        out(f"  {refused}.")
        checks.expect(
            {"BookingCore-Signature", "BookingCore-Event-Id"} <= set(headers),
            "the notification carries a signature and an event id header",
        )
        checks.expect(
            event_id == headers["BookingCore-Event-Id"], "the receiver verifies the notification"
        )
        checks.expect(tampered != body and refused != "ACCEPTED", "a tampered body is refused")

    def summary(self) -> None:
        """Section 9: every booking of each tenant."""
        for index, shop in enumerate((self.paris, self.brooklyn)):
            if index:
                self.out()
            self.out(f"{shop.tenant.name}:")
            self.out()
            listed = self.app.bookings.list_for_dates(shop.tenant.id, self.start, self.last)
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


def _tour(app: BookingApp, out: _Out, checks: _Checks, provider: FakePaymentProvider) -> None:
    out.heading(1, "Two tenants, each with a small catalog")
    tour = _Tour(app, out, checks, _photographer(app), _studio(app), provider)
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

    out.heading(6, "Payments: checkout, a signed webhook, the same webhook redelivered")
    made = tour.checkout_and_pay()

    out.heading(7, "Cancelling paid bookings: refunds by the tenant's policy")
    tour.cancel_paid(made)

    out.heading(8, "The outbox: events drained in order, one notification signed")
    tour.drain_outbox(made)

    out.heading(9, "All bookings at the end")
    tour.summary()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m booking_core.demo",
        description="A tour of booking_core on SQLite: tenants, availability, a 20-thread "
        "race for one date, cancellation, tenant isolation, payments, refunds and the outbox.",
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
    clock = SystemClock()
    provider = FakePaymentProvider(clock=clock)
    app = connect(
        f"sqlite:///{db}",
        cache_url=CACHE_URL,
        clock=clock,
        payments=provider,
        create_schema=True,
    )
    with app:
        out(
            f"booking_core demo: database sqlite:///{db}, cache {CACHE_URL}, "
            f"now {app.clock.now():%Y-%m-%d %H:%M:%S} UTC"
        )
        try:
            _tour(app, out, checks, provider)
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
