"""booking_core: a multi-tenant booking core that never double-books.

Start with :func:`connect` (SQLite or PostgreSQL) or :func:`booking_core.testing.in_memory_app`.
Documented submodules: ``booking_core.sanitize``, ``booking_core.security``,
``booking_core.testing``, ``booking_core.signing``, ``booking_core.notifications``,
``booking_core.adapters.sqlalchemy`` (schema ``metadata``), ``booking_core.adapters.cache``,
``booking_core.adapters.payments`` (``FakePaymentProvider``), ``booking_core.ports``.
"""

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import (
    AddOn,
    BlackoutDate,
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    Cancellation,
    CancellationPolicy,
    Customer,
    CustomerDetails,
    DateAvailability,
    InboxEvent,
    InboxState,
    OutboxEvent,
    Package,
    PackageDetails,
    Refund,
    RefundState,
    RefundTier,
    Segment,
    Tenant,
    UnavailableReason,
    Venue,
)
from booking_core.errors import (
    AlreadyExistsError,
    BookingConflictError,
    BookingCoreError,
    ConflictError,
    DateUnavailableError,
    HoldExpiredError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    LockTimeoutError,
    NotFoundError,
    PaymentError,
    StorageError,
    TenantInactiveError,
    TransientStorageError,
    ValidationError,
    WebhookVerificationError,
)
from booking_core.ports.calendar import CalendarPort, NoCalendar
from booking_core.ports.clock import Clock, SystemClock
from booking_core.ports.payments import PaymentProvider
from booking_core.services._base import CacheSettings
from booking_core.services.bookings import Checkout
from booking_core.services.webhooks import WebhookReceipt

__version__ = "0.1.0"

__all__ = [
    "AddOn",
    "AlreadyExistsError",
    "BlackoutDate",
    "Booking",
    "BookingAddOn",
    "BookingApp",
    "BookingConflictError",
    "BookingCoreError",
    "BookingPolicy",
    "BookingStatus",
    "CacheSettings",
    "CalendarPort",
    "Cancellation",
    "CancellationPolicy",
    "Checkout",
    "Clock",
    "ConflictError",
    "Customer",
    "CustomerDetails",
    "DateAvailability",
    "DateUnavailableError",
    "HoldExpiredError",
    "IdempotencyKeyReusedError",
    "InboxEvent",
    "InboxState",
    "InvalidTransitionError",
    "LockTimeoutError",
    "NoCalendar",
    "NotFoundError",
    "OutboxEvent",
    "Package",
    "PackageDetails",
    "PaymentError",
    "PaymentProvider",
    "Refund",
    "RefundState",
    "RefundTier",
    "Segment",
    "StorageError",
    "SystemClock",
    "Tenant",
    "TenantInactiveError",
    "TransientStorageError",
    "UnavailableReason",
    "ValidationError",
    "Venue",
    "WebhookReceipt",
    "WebhookVerificationError",
    "__version__",
    "connect",
]
