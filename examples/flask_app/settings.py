"""Configuration from environment variables, and the one place the BookingApp is built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import booking_core
from booking_core import BookingApp, Clock
from booking_core.adapters.payments import FakePaymentProvider

DEFAULT_DATABASE_URL = f"sqlite:///{Path(__file__).with_name('booking.db')}"
DEFAULT_CACHE_URL = "memory://"
# Only for local development: the fake provider never moves money, and anyone who knows this
# secret can forge its webhooks. Set BOOKING_FAKE_PAYMENT_SECRET everywhere else.
DEV_PAYMENT_SECRET = "dev-only-fake-payment-secret"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Where the data lives and how payments are made."""

    database_url: str = DEFAULT_DATABASE_URL
    cache_url: str = DEFAULT_CACHE_URL
    fake_payment_secret: bytes = DEV_PAYMENT_SECRET.encode()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``BOOKING_DATABASE_URL``, ``BOOKING_CACHE_URL`` and
        ``BOOKING_FAKE_PAYMENT_SECRET``; unset (or empty) ones keep their defaults."""
        return cls(
            database_url=environ.get("BOOKING_DATABASE_URL") or DEFAULT_DATABASE_URL,
            cache_url=environ.get("BOOKING_CACHE_URL") or DEFAULT_CACHE_URL,
            fake_payment_secret=(
                environ.get("BOOKING_FAKE_PAYMENT_SECRET") or DEV_PAYMENT_SECRET
            ).encode(),
        )


def connect(settings: Settings, *, clock: Clock | None = None) -> BookingApp:
    """Build the BookingApp: database, cache and payment provider, tables created if missing.

    ``postgresql+psycopg://…`` and ``redis://…`` URLs work as they are (install
    ``booking-core-sdk[postgres,redis]``).
    """
    # The payment adapter goes here. FakePaymentProvider is the library's deterministic stand-in;
    # a real one (Stripe, Adyen, …) implements booking_core.ports.payments.PaymentProvider and is
    # passed the same way. The webhook route is /v1/webhooks/<provider.name>.
    payments = FakePaymentProvider(settings.fake_payment_secret, clock=clock)
    return booking_core.connect(
        settings.database_url,
        cache_url=settings.cache_url,
        clock=clock,
        payments=payments,
        create_schema=True,
    )
