"""Every error maps to one HTTP status and an RFC 9457 body."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from booking_core import errors as e
from booking_core.web.problems import PROBLEM_JSON, problem_details, status_for

DAY = dt.date(2030, 1, 2)


@pytest.mark.parametrize(
    ("error", "status", "extra"),
    [
        (e.ValidationError("customer.email", "bad"), 422, {"field": "customer.email"}),
        (e.IdempotencyKeyReusedError("k"), 422, {}),
        (e.AuthenticationError(), 401, {}),
        (e.TenantInactiveError(uuid.UUID(int=1)), 403, {}),
        (e.NotFoundError("booking", "x"), 404, {"entity": "booking"}),
        (e.AlreadyExistsError("package", "slug", "gold"), 409, {"entity": "package"}),
        (e.BookingConflictError(DAY), 409, {"date": "2030-01-02", "reason": "booked"}),
        (
            e.DateUnavailableError(DAY, "blackout"),
            409,
            {"date": "2030-01-02", "reason": "blackout"},
        ),
        (
            e.BookingConflictError(
                DAY, start=dt.datetime(2030, 1, 2, 9, tzinfo=dt.UTC), resource_id=uuid.UUID(int=3)
            ),
            409,
            {
                "type": "urn:booking-core:problem:time-taken",
                "start": "2030-01-02T09:00:00+00:00",
                "resource_id": str(uuid.UUID(int=3)),
                "reason": "booked",
            },
        ),
        (
            e.TimeUnavailableError(dt.datetime(2030, 1, 2, 9, tzinfo=dt.UTC), "outside_hours"),
            409,
            {
                "type": "urn:booking-core:problem:time-unavailable",
                "start": "2030-01-02T09:00:00+00:00",
                "reason": "outside_hours",
                "date": "2030-01-02",
            },
        ),
        (
            e.InvalidTransitionError(uuid.UUID(int=2), "CANCELED", "CONFIRMED"),
            409,
            {"current": "CANCELED", "requested": "CONFIRMED"},
        ),
        (e.WebhookVerificationError("bad signature"), 400, {}),
        (e.PaymentError("declined"), 502, {}),
        (e.LockTimeoutError("busy"), 503, {}),
        (e.StorageError("boom", details="password=secret"), 500, {}),
    ],
)
def test_problem_details(error: e.BookingCoreError, status: int, extra: dict[str, str]) -> None:
    """Each library error maps to its HTTP status and an RFC 9457 problem body with a urn:booking-
    core:problem type, the instance, the error's own fields, and no internal details such as a
    password."""
    got_status, body = problem_details(error, instance="/v1/x")
    assert got_status == status == status_for(error) == body["status"]
    assert body["type"].startswith("urn:booking-core:problem:")
    assert body["instance"] == "/v1/x"
    for key, value in extra.items():
        assert body[key] == value
    assert "secret" not in str(body)
    assert PROBLEM_JSON == "application/problem+json"
