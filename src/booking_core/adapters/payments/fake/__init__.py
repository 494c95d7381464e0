"""A deterministic, in-process payment provider for tests, the demo and local development.

It implements :class:`~booking_core.ports.payments.PaymentProvider` with the same guarantees a
real adapter must give (idempotent creation and refunds, refunds bounded by what was paid,
signed webhooks verified over the raw bytes) so the services can be tested against it and then
run against Stripe or Adyen unchanged. It is a supported class, like ``httpx.MockTransport``,
not a test-only mock: nothing about it is random and it never touches the network.

One idea per module: ``_state`` (what the provider remembers), ``_signing`` (the bytes on the
wire and their signature), ``_parsing`` (strict webhook parsing), ``provider`` (the port).
"""

from booking_core.adapters.payments.fake._signing import MAX_WEBHOOK_BYTES, SIGNATURE_HEADER
from booking_core.adapters.payments.fake._state import FakePayment, FakeRefund
from booking_core.adapters.payments.fake.provider import FakePaymentProvider

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "SIGNATURE_HEADER",
    "FakePayment",
    "FakePaymentProvider",
    "FakeRefund",
]
