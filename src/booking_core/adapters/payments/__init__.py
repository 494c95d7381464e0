"""Payment-provider adapters for :class:`booking_core.ports.payments.PaymentProvider`.

Only the deterministic :class:`FakePaymentProvider` ships here (tests, the demo, local
development). A real adapter (Stripe, Adyen, ...) lives in the host app or its own package: it
implements the protocol and may reuse :mod:`booking_core.web.signing` if its provider signs the same
way.
"""

from booking_core.adapters.payments.fake import (
    MAX_WEBHOOK_BYTES,
    SIGNATURE_HEADER,
    FakePayment,
    FakePaymentProvider,
    FakeRefund,
)

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "SIGNATURE_HEADER",
    "FakePayment",
    "FakePaymentProvider",
    "FakeRefund",
]
