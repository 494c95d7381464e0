"""feed_body: what a feed token opens, as the ICS body a subscriber's calendar reads."""

from __future__ import annotations

import datetime as dt
import uuid

import icalendar

from booking_core.calendar import feed_body
from booking_core.domain.model import CustomerDetails
from booking_core.testing import ManualClock, in_memory_app

NOW = dt.datetime(2030, 6, 15, 9, tzinfo=dt.UTC)


def test_a_feed_body_carries_the_feeds_bookings_and_choices() -> None:
    """The body parses, has no METHOD, one VEVENT per shown booking (the confirmed one as
    CONFIRMED, the hold as TENTATIVE), the feed's label as its name, and the customer's email
    only because the feed includes contact details."""
    app = in_memory_app(clock=ManualClock(NOW))
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:8]}", name="Studio", timezone="Europe/Paris", currency="EUR"
    )
    package = app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=1_000)
    guest = CustomerDetails("Ann Guest", "ann@example.com")
    paid = app.bookings.hold(
        tenant.id, package_id=package.id, date=dt.date(2030, 6, 20), customer=guest
    )
    app.bookings.confirm(tenant.id, paid.id, payment_ref="p-1")
    held = app.bookings.hold(
        tenant.id, package_id=package.id, date=dt.date(2030, 6, 21), customer=guest
    )
    _, plain = app.feeds.create(tenant.id, label="Front desk")
    _, full = app.feeds.create(tenant.id, include_holds=True, include_contact=True)
    window = {"start": dt.date(2030, 6, 1), "end": dt.date(2030, 6, 30)}

    body = feed_body(app.feeds.contents(plain, **window))
    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert "METHOD" not in calendar
    assert str(calendar["X-WR-CALNAME"]) == "Front desk"
    assert [(str(e["UID"]), str(e["STATUS"])) for e in events] == [(str(paid.id), "CONFIRMED")]
    assert b"ann@example.com" not in body

    everything = feed_body(app.feeds.contents(full, **window))
    statuses = {
        str(e["UID"]): str(e["STATUS"])
        for e in icalendar.Calendar.from_ical(everything).walk("VEVENT")
    }
    assert statuses == {str(paid.id): "CONFIRMED", str(held.id): "TENTATIVE"}
    assert b"ann@example.com" in everything
