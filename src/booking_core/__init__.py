"""booking_core: a multi-tenant booking core that never double-books.

Start with :func:`connect` (SQLite or PostgreSQL) or :func:`booking_core.testing.in_memory_app`.
Documented submodules: ``booking_core.sanitize``, ``booking_core.web`` (``problems``,
``security``, ``signing``, ``notifications``), ``booking_core.testing``,
``booking_core.adapters.sqlalchemy`` (schema ``metadata``), ``booking_core.adapters.cache``,
``booking_core.adapters.payments`` (``FakePaymentProvider``), ``booking_core.ports``,
``booking_core.limits`` (the input limits), ``booking_core.unset`` (``UNSET``),
``booking_core.services.settings`` (``CacheSettings``).
"""

import importlib
from typing import TYPE_CHECKING

# Errors are light (no third-party imports) and are what callers catch: loaded eagerly.
from booking_core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BookingConflictError,
    BookingCoreError,
    CalendarFeedError,
    CommitOutcomeUnknownError,
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
    TimeUnavailableError,
    TransientStorageError,
    ValidationError,
    WebhookVerificationError,
)

# Everything else is loaded on first use (PEP 562): ``import booking_core`` must stay cheap,
# because pytest imports it at start-up in every project where booking_core is installed (the
# ``pytest11`` plugin), and ``booking_core.bootstrap`` pulls in SQLAlchemy. Type checkers see
# the real imports below; ``__getattr__`` is hidden from them so a misspelt name is still an
# error for mypy.
if TYPE_CHECKING:
    from booking_core.bootstrap import BookingApp, connect
    from booking_core.domain.model import (
        AddOn,
        ApiKey,
        Assignment,
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
        EventType,
        InboxEvent,
        InboxState,
        IssuedApiKey,
        OutboxEvent,
        Package,
        PackageDetails,
        PackageSchedule,
        RecurringBlackout,
        Refund,
        RefundState,
        RefundTier,
        Resource,
        ResourceNeed,
        ResourceTimeOff,
        Segment,
        SeriesCancelScope,
        SeriesConflicts,
        SeriesHold,
        SkippedOccurrence,
        Slot,
        SlotList,
        Tenant,
        UnavailableReason,
        Venue,
    )
    from booking_core.domain.schedule import (
        DateHours,
        RecurringHours,
        RecurringTimeOff,
        SlotTiming,
        TimeOff,
        WeeklyHours,
        WorkingHours,
    )
    from booking_core.ports.calendar import CalendarPort, NoCalendar
    from booking_core.ports.clock import Clock, SystemClock
    from booking_core.ports.payments import (
        PaymentEvent,
        PaymentEventType,
        PaymentProvider,
        PaymentRequest,
        PaymentSession,
        RefundRequest,
        RefundResult,
    )
    from booking_core.services.bookings import Checkout
    from booking_core.services.settings import CacheSettings
    from booking_core.services.webhooks import WebhookReceipt
    from booking_core.unset import UNSET, Unset

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022 - plain sorted() (tests/test_public_api.py), constants not first
    "AddOn",
    "AlreadyExistsError",
    "ApiKey",
    "Assignment",
    "AuthenticationError",
    "BlackoutDate",
    "Booking",
    "BookingAddOn",
    "BookingApp",
    "BookingConflictError",
    "BookingCoreError",
    "BookingPolicy",
    "BookingStatus",
    "CacheSettings",
    "CalendarFeedError",
    "CalendarPort",
    "Cancellation",
    "CancellationPolicy",
    "Checkout",
    "Clock",
    "CommitOutcomeUnknownError",
    "ConflictError",
    "Customer",
    "CustomerDetails",
    "DateAvailability",
    "DateHours",
    "DateUnavailableError",
    "EventType",
    "HoldExpiredError",
    "IdempotencyKeyReusedError",
    "InboxEvent",
    "InboxState",
    "InvalidTransitionError",
    "IssuedApiKey",
    "LockTimeoutError",
    "NoCalendar",
    "NotFoundError",
    "OutboxEvent",
    "Package",
    "PackageDetails",
    "PackageSchedule",
    "PaymentError",
    "PaymentEvent",
    "PaymentEventType",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentSession",
    "RecurringBlackout",
    "RecurringHours",
    "RecurringTimeOff",
    "Refund",
    "RefundRequest",
    "RefundResult",
    "RefundState",
    "RefundTier",
    "Resource",
    "ResourceNeed",
    "ResourceTimeOff",
    "Segment",
    "SeriesCancelScope",
    "SeriesConflicts",
    "SeriesHold",
    "SkippedOccurrence",
    "Slot",
    "SlotList",
    "SlotTiming",
    "StorageError",
    "SystemClock",
    "Tenant",
    "TenantInactiveError",
    "TimeOff",
    "TimeUnavailableError",
    "TransientStorageError",
    "UNSET",
    "UnavailableReason",
    "Unset",
    "ValidationError",
    "Venue",
    "WebhookReceipt",
    "WebhookVerificationError",
    "WeeklyHours",
    "WorkingHours",
    "__version__",
    "connect",
]


#: Public name -> the module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    "AddOn": "booking_core.domain.model",
    "ApiKey": "booking_core.domain.model",
    "Assignment": "booking_core.domain.model",
    "BlackoutDate": "booking_core.domain.model",
    "Booking": "booking_core.domain.model",
    "BookingAddOn": "booking_core.domain.model",
    "BookingApp": "booking_core.bootstrap",
    "BookingPolicy": "booking_core.domain.model",
    "BookingStatus": "booking_core.domain.model",
    "CacheSettings": "booking_core.services.settings",
    "CalendarPort": "booking_core.ports.calendar",
    "Cancellation": "booking_core.domain.model",
    "CancellationPolicy": "booking_core.domain.model",
    "Checkout": "booking_core.services.bookings",
    "Clock": "booking_core.ports.clock",
    "Customer": "booking_core.domain.model",
    "CustomerDetails": "booking_core.domain.model",
    "DateAvailability": "booking_core.domain.model",
    "DateHours": "booking_core.domain.schedule",
    "EventType": "booking_core.domain.model",
    "InboxEvent": "booking_core.domain.model",
    "InboxState": "booking_core.domain.model",
    "IssuedApiKey": "booking_core.domain.model",
    "NoCalendar": "booking_core.ports.calendar",
    "OutboxEvent": "booking_core.domain.model",
    "Package": "booking_core.domain.model",
    "PackageDetails": "booking_core.domain.model",
    "PackageSchedule": "booking_core.domain.model",
    "PaymentEvent": "booking_core.ports.payments",
    "PaymentEventType": "booking_core.ports.payments",
    "PaymentProvider": "booking_core.ports.payments",
    "PaymentRequest": "booking_core.ports.payments",
    "PaymentSession": "booking_core.ports.payments",
    "RecurringBlackout": "booking_core.domain.model",
    "RecurringHours": "booking_core.domain.schedule",
    "RecurringTimeOff": "booking_core.domain.schedule",
    "Refund": "booking_core.domain.model",
    "RefundRequest": "booking_core.ports.payments",
    "RefundResult": "booking_core.ports.payments",
    "RefundState": "booking_core.domain.model",
    "RefundTier": "booking_core.domain.model",
    "Resource": "booking_core.domain.model",
    "ResourceNeed": "booking_core.domain.model",
    "ResourceTimeOff": "booking_core.domain.model",
    "Segment": "booking_core.domain.model",
    "SeriesCancelScope": "booking_core.domain.model",
    "SeriesConflicts": "booking_core.domain.model",
    "SeriesHold": "booking_core.domain.model",
    "SkippedOccurrence": "booking_core.domain.model",
    "Slot": "booking_core.domain.model",
    "SlotList": "booking_core.domain.model",
    "SlotTiming": "booking_core.domain.schedule",
    "SystemClock": "booking_core.ports.clock",
    "Tenant": "booking_core.domain.model",
    "TimeOff": "booking_core.domain.schedule",
    "UNSET": "booking_core.unset",
    "UnavailableReason": "booking_core.domain.model",
    "Unset": "booking_core.unset",
    "Venue": "booking_core.domain.model",
    "WebhookReceipt": "booking_core.services.webhooks",
    "WeeklyHours": "booking_core.domain.schedule",
    "WorkingHours": "booking_core.domain.schedule",
    "connect": "booking_core.bootstrap",
}

#: Submodules reachable as attributes of the package without an explicit import, as before
#: (the eager imports used to load them as a side effect).
_SUBMODULES = frozenset(
    {
        "adapters",
        "bootstrap",
        "domain",
        "ports",
        "sanitize",
        "services",
        "testing",
        "web",
    }
)

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif name in _SUBMODULES:
            value = importlib.import_module(f"{__name__}.{name}")
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # later accesses skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
