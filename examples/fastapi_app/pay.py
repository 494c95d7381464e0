"""Pay for a booking as the fake payment provider would: post its signed webhook to the app.

    python pay.py <booking id>            # in this folder, while the app runs: prints the receipt
    python pay.py <booking id> --curl     # print the curl command instead (valid for 5 minutes)
    python pay.py <booking id> --failed   # payment.failed: the hold is released

The booking is read from the app's database (the same ``BOOKING_*`` variables, see
``settings.py``) and the webhook is signed with ``BOOKING_FAKE_PAYMENT_SECRET``, so the running
app verifies it and confirms the booking. The fake provider never moves money: this stands in
for the customer paying on the provider's page.
"""

from __future__ import annotations

import argparse
import shlex
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence

from seed import DEMO_SLUG
from settings import Settings, connect

from booking_core import Booking, BookingCoreError
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.ports.payments import PaymentEventType, PaymentRequest

#: Where ``uvicorn main:app`` listens by default.
DEFAULT_URL = "http://127.0.0.1:8000"


def checkout_payment_ref(booking: Booking) -> str:
    """The ``payment_ref`` of the booking's checkout (what the checkout reply calls
    ``payment.payment_ref``).

    A paid booking carries it. Before that, the fake provider's ref is derived from the
    idempotency key booking_core's checkout sends (``checkout:<booking id>``), so a fresh
    provider with the same key gives the same ref.
    """
    if booking.payment_ref:
        return booking.payment_ref
    session = FakePaymentProvider().create_payment(
        PaymentRequest(
            tenant_id=booking.tenant_id,
            booking_id=booking.id,
            amount=booking.total,
            currency=booking.currency,
            application_fee=booking.commission,
            description=f"Booking {booking.id}",
            idempotency_key=f"checkout:{booking.id}",
        )
    )
    return session.payment_ref


def signed_webhook(
    provider: FakePaymentProvider,
    booking: Booking,
    *,
    payment_ref: str,
    event: PaymentEventType = PaymentEventType.PAYMENT_SUCCEEDED,
) -> tuple[bytes, dict[str, str]]:
    """The provider's webhook for the booking's whole amount: ``(raw body, headers)``."""
    return provider.make_webhook(
        event,
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        payment_ref=payment_ref,
        amount=booking.total,
        currency=booking.currency,
    )


def curl_command(url: str, body: bytes, headers: Mapping[str, str]) -> str:
    """The same request as a shell command."""
    words = ["curl", "-sS", "-X", "POST", url]
    for name, value in headers.items():
        words += ["-H", f"{name}: {value}"]
    words += ["--data-binary", body.decode()]
    return " ".join(shlex.quote(word) for word in words)


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
    """POST the exact bytes (the signature covers them); the status and the reply's text."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Post the fake provider's signed payment webhook for a booking."
    )
    parser.add_argument("booking_id", type=uuid.UUID, help="the checkout reply's booking.id")
    parser.add_argument("--tenant", default=DEMO_SLUG, help="tenant slug (default: %(default)s)")
    parser.add_argument("--url", default=DEFAULT_URL, help="the app's URL (default: %(default)s)")
    parser.add_argument("--payment-ref", help="the checkout reply's payment.payment_ref")
    parser.add_argument("--failed", action="store_true", help="send payment.failed instead")
    parser.add_argument("--curl", action="store_true", help="print the curl command, send nothing")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    try:
        with connect(settings) as app:
            tenant = app.tenants.get_by_slug(args.tenant)
            booking = app.bookings.get(tenant.id, args.booking_id)
    except BookingCoreError as error:
        parser.exit(2, f"pay.py: {error}\n")
    provider = FakePaymentProvider(settings.fake_payment_secret)
    event = PaymentEventType.PAYMENT_FAILED if args.failed else PaymentEventType.PAYMENT_SUCCEEDED
    body, headers = signed_webhook(
        provider,
        booking,
        payment_ref=args.payment_ref or checkout_payment_ref(booking),
        event=event,
    )
    url = f"{args.url.rstrip('/')}/v1/webhooks/{provider.name}?tenant={tenant.slug}"
    if args.curl:
        print(curl_command(url, body, headers))
        return 0
    try:
        status, text = post(url, body, headers)
    except urllib.error.URLError as error:
        parser.exit(1, f"pay.py: cannot reach {args.url} ({error.reason}); is the app running?\n")
    print(f"HTTP {status} {text}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
