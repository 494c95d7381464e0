"""Tenant isolation through every service: another tenant's id behaves like a missing one."""

from __future__ import annotations

import datetime as dt

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import CustomerDetails
from booking_core.errors import NotFoundError

from .conftest import make_shop

DAY = dt.date(2030, 9, 20)


def test_tenant_b_cannot_read_or_change_tenant_a(app: BookingApp) -> None:
    """Every read or write by tenant B of tenant A's booking, customer, package, add-on or venue
    raises NotFoundError and changes nothing of A's; A's booking does not block B's calendar, and
    the same email in B is a different customer."""
    a, b = make_shop(app), make_shop(app)
    booking = app.bookings.hold(
        a.tenant.id,
        package_id=a.package.id,
        date=DAY,
        customer=CustomerDetails("A", "a@example.com"),
    )
    venue = app.catalog.create_venue(a.tenant.id, name="A Hall")
    for call in (
        lambda: app.bookings.get(b.tenant.id, booking.id),
        lambda: app.bookings.confirm(b.tenant.id, booking.id, payment_ref="x"),
        lambda: app.bookings.cancel(b.tenant.id, booking.id),
        lambda: app.customers.get(b.tenant.id, booking.customer_id),
        lambda: app.catalog.update_package(b.tenant.id, a.package.id, name="Stolen"),
        lambda: app.catalog.offer_add_on(b.tenant.id, b.package.id, a.drone.id),
        lambda: app.catalog.update_venue(b.tenant.id, venue.id, capacity=9),
        lambda: app.availability.check(b.tenant.id, DAY, venue_id=venue.id),
        lambda: app.bookings.hold(
            b.tenant.id,
            package_id=a.package.id,
            date=DAY,
            customer=CustomerDetails("B", "b@example.com"),
        ),
        lambda: app.bookings.hold(
            b.tenant.id,
            package_id=b.package.id,
            date=DAY,
            customer=CustomerDetails("B", "b@example.com"),
            add_ons={a.album.id: 1},
        ),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert app.bookings.list_for_dates(b.tenant.id, DAY, DAY) == []
    assert app.customers.find_by_email(b.tenant.id, "a@example.com") is None
    assert app.customers.list(b.tenant.id) == []
    # A's booking does not block B's calendar, and B's writes changed nothing of A's
    assert app.availability.check(b.tenant.id, DAY).available
    assert app.bookings.get(a.tenant.id, booking.id).status.value == "PENDING"
    assert app.catalog.get_package(a.tenant.id, "gold").package.name == "Gold"
    assert app.catalog.list_venues(a.tenant.id)[0].capacity == 1
    # the same email in B is a different customer
    mine = app.bookings.hold(
        b.tenant.id,
        package_id=b.package.id,
        date=DAY,
        customer=CustomerDetails("A", "a@example.com"),
    )
    assert mine.customer_id != booking.customer_id
    assert app.bookings.expire_holds(tenant_id=b.tenant.id) == []
