"""booking_core: a multi-tenant booking core that never double-books."""

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
    ValidationError,
    WebhookVerificationError,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError",
    "BookingConflictError",
    "BookingCoreError",
    "ConflictError",
    "DateUnavailableError",
    "HoldExpiredError",
    "IdempotencyKeyReusedError",
    "InvalidTransitionError",
    "LockTimeoutError",
    "NotFoundError",
    "PaymentError",
    "StorageError",
    "TenantInactiveError",
    "ValidationError",
    "WebhookVerificationError",
    "__version__",
]
