"""Framework-neutral mapping of booking_core errors to HTTP answers (RFC 9457 problem details).

FastAPI, Flask and Django apps all need the same table; keeping it here makes every host answer
the same status and body for the same error::

    status, body = problem_details(error)
    return Response(json.dumps(body), status, media_type=PROBLEM_JSON)
"""

from __future__ import annotations

from typing import Any, Final

from booking_core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BookingConflictError,
    BookingCoreError,
    ConflictError,
    DateUnavailableError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    LockTimeoutError,
    NotFoundError,
    PaymentError,
    StorageError,
    TenantInactiveError,
    TimeUnavailableError,
    ValidationError,
    WebhookVerificationError,
)

__all__ = ["PROBLEM_JSON", "problem_details", "status_for"]

#: The media type of a problem details body.
PROBLEM_JSON: Final = "application/problem+json"

#: Most specific first: the first class an error is an instance of decides.
_TABLE: Final[tuple[tuple[type[BookingCoreError], int, str, str], ...]] = (
    (ValidationError, 422, "validation", "Invalid input"),
    (IdempotencyKeyReusedError, 422, "idempotency-key-reused", "Idempotency key reused"),
    (AuthenticationError, 401, "unauthenticated", "Invalid API key"),
    (TenantInactiveError, 403, "tenant-inactive", "Tenant inactive"),
    (NotFoundError, 404, "not-found", "Not found"),
    (AlreadyExistsError, 409, "already-exists", "Already exists"),
    (BookingConflictError, 409, "date-full", "Date fully booked"),
    (TimeUnavailableError, 409, "time-unavailable", "Time unavailable"),
    (DateUnavailableError, 409, "date-unavailable", "Date unavailable"),
    (InvalidTransitionError, 409, "invalid-transition", "Invalid status change"),
    (ConflictError, 409, "conflict", "Conflict"),
    (WebhookVerificationError, 400, "webhook-verification", "Webhook rejected"),
    (PaymentError, 502, "payment", "Payment provider error"),
    (LockTimeoutError, 503, "busy", "Busy, retry later"),
    (StorageError, 500, "storage", "Storage error"),
)


def _public_detail(error: BookingCoreError) -> str:
    """The message a client may see: no driver details, no internal ids of other records."""
    if isinstance(error, StorageError):
        return "the service could not complete the request"
    if isinstance(error, TenantInactiveError):
        return "this tenant is inactive"
    return str(error)


def status_for(error: BookingCoreError) -> int:
    """The HTTP status for ``error`` (500 for a booking_core error not in the table)."""
    return problem_details(error)[0]


def problem_details(
    error: BookingCoreError, *, instance: str | None = None
) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for an RFC 9457 ``application/problem+json`` answer.

    The body carries ``type`` (a ``urn:booking-core:problem:…`` URI), ``title``, ``status``,
    ``detail`` and the error's own fields where they help a client: ``field`` for validation
    errors, ``date`` and ``reason`` for unavailable dates (and ``start``, with the taken
    ``resource_id`` when one was named, for timed holds: types ``time-taken`` and
    ``time-unavailable``), ``entity`` for not-found and duplicates. Storage errors never expose
    driver details.
    """
    status, slug, title = next(
        ((status, slug, title) for kind, status, slug, title in _TABLE if isinstance(error, kind)),
        (500, "error", "Error"),
    )
    if isinstance(error, BookingConflictError) and error.start is not None:
        slug, title = "time-taken", "Time taken"  # a timed hold: the start is what to pick again
    body: dict[str, Any] = {
        "type": f"urn:booking-core:problem:{slug}",
        "title": title,
        "status": status,
        "detail": _public_detail(error),
    }
    if instance is not None:
        body["instance"] = instance
    if isinstance(error, ValidationError):
        body["field"] = error.field
    if isinstance(error, BookingConflictError | DateUnavailableError):
        body["date"] = error.date.isoformat()
        body["reason"] = error.reason
    if isinstance(error, BookingConflictError | TimeUnavailableError) and error.start is not None:
        body["start"] = error.start.isoformat()
    if isinstance(error, BookingConflictError) and error.resource_id is not None:
        body["resource_id"] = str(error.resource_id)
    if isinstance(error, NotFoundError | AlreadyExistsError):
        body["entity"] = error.entity
    if isinstance(error, InvalidTransitionError):
        body["current"] = error.current
        body["requested"] = error.requested
    return status, body
