"""What the sections share: the app, the output, the checks, the two shops and the dates; and
the last section, every booking at the end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.demo._catalog import Shop
from booking_core.demo._format import Checks, Out, day, format_money, format_table, short
from booking_core.demo._payments import PAYERS
from booking_core.domain.model import Booking, Tenant

_BOOKING_HEADERS = ["Booking", "Event date", "Customer", "Status", "Total", "Commission"]
_BOOKING_ALIGN = "llllrr"


@dataclass
class Tour:
    """The demo's sections, in order, sharing the app, the output and the checks."""

    app: BookingApp
    out: Out
    checks: Checks
    paris: Shop
    brooklyn: Shop
    provider: FakePaymentProvider
    start: dt.date = field(init=False)
    end: dt.date = field(init=False)
    blackout: dt.date = field(init=False)
    booked: dt.date = field(init=False)
    freed: dt.date = field(init=False)
    raced: dt.date = field(init=False)
    last: dt.date = field(init=False)
    #: Tenants opened by later sections, listed after the two shops at the end.
    others: list[Tenant] = field(default_factory=list)

    def __post_init__(self) -> None:
        today = self.paris.today
        self.start = today - dt.timedelta(days=7 + today.weekday())  # Monday of last week
        self.end = self.start + dt.timedelta(days=34)
        self.booked = today + dt.timedelta(days=9)
        self.blackout = today + dt.timedelta(days=12)
        self.freed = today + dt.timedelta(days=16)
        self.raced = today + dt.timedelta(days=20)
        self.last = today + dt.timedelta(days=max(p.days_ahead for p in PAYERS))

    def bookings_table(self, bookings: Sequence[Booking]) -> str:
        rows = []
        for booking in bookings:
            customer = self.app.customers.get(booking.tenant_id, booking.customer_id)
            when = day(booking.event_date)
            if booking.starts_at is not None:  # a timed booking: its start, tenant's clock
                when += f" {booking.starts_at.astimezone(ZoneInfo(self._zone(booking))):%H:%M}"
            rows.append(
                [
                    short(booking.id),
                    when,
                    customer.name,
                    booking.status.value,
                    format_money(booking.total, booking.currency),
                    format_money(booking.commission, booking.currency),
                ]
            )
        return format_table(_BOOKING_HEADERS, rows, _BOOKING_ALIGN)

    def _zone(self, booking: Booking) -> str:
        tenants = (self.paris.tenant, self.brooklyn.tenant, *self.others)
        return next(t.timezone for t in tenants if t.id == booking.tenant_id)

    def summary(self) -> None:
        """The last section: every booking of each tenant."""
        for index, tenant in enumerate((self.paris.tenant, self.brooklyn.tenant, *self.others)):
            if index:
                self.out()
            self.out(f"{tenant.name}:")
            self.out()
            listed = self.app.bookings.list_for_dates(tenant.id, self.start, self.last)
            self.out(self.bookings_table(listed))
