"""Section 5: tenant B cannot read, list or be blocked by tenant A's booking."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from booking_core.demo._format import format_table, short
from booking_core.domain.model import Booking, CustomerDetails
from booking_core.errors import NotFoundError

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour


def isolation(tour: Tour, booking_a: Booking) -> None:
    """Section 5: tenant B cannot read, list or be blocked by tenant A's booking."""
    app, out, checks, shop = tour.app, tour.out, tour.checks, tour.brooklyn
    a, b = tour.paris.tenant.id, shop.tenant.id
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
    listed = app.bookings.list_for_dates(b, tour.start, tour.end)
    leaked = [x for x in listed if x.tenant_id != b or x.id == booking_a.id]
    b_check = app.availability.check(b, booking_a.event_date)
    call = f"bookings.get({short(booking_a.id)})"
    rows = [
        ["A atelier-lumiere", call, app.bookings.get(a, booking_a.id).status.value],
        ["B brooklyn-light", call, lookup],
        [
            "B brooklyn-light",
            f"bookings.list_for_dates({tour.start} .. {tour.end})",
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
