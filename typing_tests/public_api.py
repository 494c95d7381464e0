"""Static checks of the public API's types (mypy only; never executed)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import assert_type

import booking_core
from booking_core import (
    Booking,
    BookingApp,
    Cancellation,
    Checkout,
    CustomerDetails,
    DateAvailability,
    PackageDetails,
    Refund,
    Tenant,
    WebhookReceipt,
    connect,
)
from booking_core.testing import ManualClock, in_memory_app
from booking_core.web.problems import problem_details


def check(app: BookingApp, tenant_id: uuid.UUID, package_id: uuid.UUID) -> None:
    day = dt.date(2030, 1, 1)
    customer = CustomerDetails("Ann", "ann@example.com")
    assert_type(app.tenants.get(tenant_id), Tenant)
    assert_type(app.catalog.get_package(tenant_id, "gold"), PackageDetails)
    assert_type(app.availability.check(tenant_id, day), DateAvailability)
    assert_type(app.availability.unavailable_dates(tenant_id, day, day), list[DateAvailability])
    hold = app.bookings.hold(tenant_id, package_id=package_id, date=day, customer=customer)
    assert_type(hold, Booking)
    assert_type(
        app.bookings.checkout(
            tenant_id, package_id=package_id, date=day, customer=customer, idempotency_key="k"
        ),
        Checkout,
    )
    assert_type(app.bookings.cancel(tenant_id, hold.id), Cancellation)
    assert_type(app.bookings.refund(tenant_id, hold.id, amount=100), Refund)
    assert_type(app.webhooks.receive(None, b"{}", {}), WebhookReceipt)
    assert_type(app.tenants.create_api_key(tenant_id), booking_core.IssuedApiKey)
    record, key = app.tenants.create_api_key(tenant_id)
    assert_type(record, booking_core.ApiKey)
    assert_type(key, str)
    status, _body = problem_details(booking_core.NotFoundError("booking", hold.id))
    assert_type(status, int)


def build() -> None:
    assert_type(connect("sqlite:///booking.db"), BookingApp)
    assert_type(
        in_memory_app(clock=ManualClock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))), BookingApp
    )
