"""Checkout on every backend: a payment session for a held date, released if the provider fails."""

from __future__ import annotations

from typing import Any

import pytest

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.errors import PaymentError

from ._payments import ANN, EVENT
from .conftest import Shop


def test_checkout_needs_a_provider_and_releases_on_failure(app: BookingApp, shop: Shop) -> None:
    """When the payment provider fails, checkout raises PaymentError and the held date is free
    again; an app without a payment provider refuses checkout with PaymentError."""

    class Refusing(FakePaymentProvider):
        def create_payment(self, request: Any) -> Any:
            raise PaymentError("provider down")

    refusing = BookingApp(
        uow=app.uow,
        clock=app.clock,
        payments=Refusing(clock=app.clock),  # same storage
    )
    with pytest.raises(PaymentError):
        refusing.bookings.checkout(
            shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN
        )
    assert app.availability.check(shop.tenant.id, EVENT).available
    bare = BookingApp(uow=app.uow, clock=app.clock)
    with pytest.raises(PaymentError):
        bare.bookings.checkout(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
