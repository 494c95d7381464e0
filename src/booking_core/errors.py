"""The one exception hierarchy of booking_core.

Every error a public call raises on bad input or a refused operation derives from
:class:`BookingCoreError`; driver exceptions (SQLAlchemy, psycopg, sqlite3, redis) are translated at
the adapter edge and never escape::

    BookingCoreError
    ├── ValidationError              bad input; names the field
    ├── NotFoundError                no such record *for this tenant*
    ├── ConflictError                the request clashes with stored state
    │   ├── AlreadyExistsError       a unique key (slug, email, name) is taken
    │   ├── BookingConflictError     the date is full (names the date)
    │   ├── DateUnavailableError     the date is closed: blackout, calendar, past, too soon/far
    │   │   └── TimeUnavailableError a timed start is outside hours, past, too soon or too far
    │   └── IdempotencyKeyReusedError  same key, different request
    ├── InvalidTransitionError       a booking cannot move from its status to the asked one
    │   └── HoldExpiredError         the hold lapsed before it was confirmed
    ├── TenantInactiveError          the tenant is deactivated
    ├── AuthenticationError          an API key is unknown, revoked or malformed
    ├── CalendarFeedError            an external calendar could not be fetched or parsed
    ├── PaymentError                 the payment provider refused or failed
    │   └── WebhookVerificationError bad signature, stale timestamp or malformed webhook
    └── StorageError                 the database failed in a way we could not classify
        ├── TransientStorageError    retryable (serialization, deadlock, busy); retried internally
        ├── LockTimeoutError         contention outlasted the bounded retries/lock timeout
        └── CommitOutcomeUnknownError  the COMMIT reply was lost: the write may have landed
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

__all__ = [
    "AlreadyExistsError",
    "AuthenticationError",
    "BookingConflictError",
    "BookingCoreError",
    "CalendarFeedError",
    "CommitOutcomeUnknownError",
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
    "TimeUnavailableError",
    "TransientStorageError",
    "ValidationError",
    "WebhookVerificationError",
]


class BookingCoreError(Exception):
    """Root of every error booking_core raises on purpose."""


class ValidationError(BookingCoreError, ValueError):
    """Input was rejected; ``field`` names the offending field (dotted path for nested data)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFoundError(BookingCoreError, LookupError):
    """No such record for this tenant (another tenant's id behaves exactly like a missing one)."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} not found: {key}")
        self.entity = entity
        self.key = key


class ConflictError(BookingCoreError):
    """The request is valid but clashes with the stored state."""


class AlreadyExistsError(ConflictError):
    """A unique key inside the tenant (slug, email, venue name, …) is already taken."""

    def __init__(self, entity: str, field: str, value: object) -> None:
        super().__init__(f"{entity} with {field}={value!r} already exists")
        self.entity = entity
        self.field = field
        self.value = value


class BookingConflictError(ConflictError):
    """The date has no free capacity left; ``date`` names it. For a timed booking, ``start``
    names the taken start and ``resource_id`` the resource that could not take it (None when
    every eligible resource was tried)."""

    reason = "booked"

    def __init__(
        self,
        date: dt.date,
        message: str | None = None,
        *,
        start: dt.datetime | None = None,
        resource_id: UUID | None = None,
    ) -> None:
        if message is None and start is not None:
            on = "" if resource_id is None else f" on resource {resource_id}"
            message = f"{start.isoformat()} is taken{on}"
        super().__init__(message or f"{date.isoformat()} is fully booked")
        self.date = date
        self.start = start
        self.resource_id = resource_id


class DateUnavailableError(ConflictError):
    """The date is closed for a reason other than capacity; ``date`` and ``reason`` say which.

    Not a :class:`BookingConflictError`: "full" and "closed" call for different answers.
    """

    def __init__(self, date: dt.date, reason: str) -> None:
        super().__init__(f"{date.isoformat()} is unavailable ({reason})")
        self.date = date
        self.reason = reason


class TimeUnavailableError(DateUnavailableError):
    """A timed start cannot be booked for a reason other than a taken slot: ``reason`` is
    ``outside_hours`` (not a start the resource's hours and the package's grid offer),
    ``past``, ``too_soon`` (inside the package's notice) or ``too_far`` (past its horizon)."""

    def __init__(self, start: dt.datetime, reason: str, *, date: dt.date | None = None) -> None:
        ConflictError.__init__(self, f"{start.isoformat()} is unavailable ({reason})")
        self.date = date if date is not None else start.date()
        self.reason = reason
        self.start = start


class IdempotencyKeyReusedError(ConflictError):
    """An idempotency key was replayed with a request that differs from the first one."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key


class InvalidTransitionError(BookingCoreError):
    """A booking cannot go from its current status to the requested one."""

    def __init__(
        self, booking_id: UUID, current: str, requested: str, *, message: str | None = None
    ) -> None:
        super().__init__(message or f"booking {booking_id} is {current}; cannot become {requested}")
        self.booking_id = booking_id
        self.current = current
        self.requested = requested


class HoldExpiredError(InvalidTransitionError):
    """The hold expired (or lost its date) before it could be confirmed."""


class TenantInactiveError(BookingCoreError):
    """The tenant has been deactivated; its operations are refused."""

    def __init__(self, tenant_id: UUID) -> None:
        super().__init__(f"tenant {tenant_id} is inactive")
        self.tenant_id = tenant_id


class AuthenticationError(BookingCoreError):
    """A credential (a tenant API key) is unknown, revoked or malformed.

    Deliberately says nothing about which: a caller probing keys learns nothing.
    """

    def __init__(self, message: str = "invalid API key") -> None:
        super().__init__(message)


class CalendarFeedError(BookingCoreError):
    """An external calendar (an ICS document or feed) could not be fetched or read.

    ``feed`` names the feed as the host named it (never its URL, which may carry a secret);
    ``reason`` is one of ``fetch`` (the fetcher failed), ``timeout``, ``too_large`` or
    ``parse`` (not an iCalendar document booking_core can read).
    """

    def __init__(self, feed: str, reason: str, detail: str = "") -> None:
        message = f"calendar {feed!r} could not be read ({reason})"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.feed = feed
        self.reason = reason


class PaymentError(BookingCoreError):
    """The payment provider refused or failed an operation."""


class WebhookVerificationError(PaymentError):
    """A webhook failed verification (signature, timestamp tolerance, size or shape)."""


class StorageError(BookingCoreError):
    """The storage backend failed in a way booking_core could not classify more precisely."""

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class TransientStorageError(StorageError):
    """A retryable storage failure: serialization, deadlock, lock not available, SQLite busy.

    Adapters raise it; services retry the whole transaction a bounded number of times and raise
    :class:`LockTimeoutError` when the retries run out, so callers normally never see this one.
    """


class LockTimeoutError(StorageError):
    """Lock contention or a busy database outlasted the bounded wait and retries."""


class CommitOutcomeUnknownError(StorageError):
    """The connection was lost while committing: the write may or may not have landed.

    A lost COMMIT reply (a network cut, a killed server connection) leaves the outcome unknown:
    the server may have committed. Writes that can tell whether their first attempt landed
    (ids chosen before it, then looked up) find out and return that attempt's result, and
    writes that are naturally idempotent simply run again; only the others raise this error.
    Read the state back before repeating such a write (see docs/architecture.md).
    """
