"""Worker of the multi-process race tests (importable by spawned processes)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from booking_core.bootstrap import connect
from booking_core.domain.model import CustomerDetails
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock


def race_worker(
    url: str,
    worker: int,
    rounds: list[tuple[uuid.UUID, uuid.UUID, dt.date]],
    barrier: Any,
    results: Any,
    now: dt.datetime,
    cache_url: str | None = None,
) -> None:
    """For each round: wait for every worker at the barrier, then try to hold the date.

    With ``cache_url`` (on PostgreSQL) the holds take the one-statement path once warm.
    """
    clock = ManualClock(now)
    pool = {"pool_size": 1, "max_overflow": 0} if url.startswith("postgresql") else {}
    app = connect(url, clock=clock, cache_url=cache_url, **pool)
    with app:
        for index, (tenant_id, package_id, date) in enumerate(rounds):
            barrier.wait(timeout=60)
            try:
                booking = app.bookings.hold(
                    tenant_id,
                    package_id=package_id,
                    date=date,
                    customer=CustomerDetails(f"Worker {worker}", f"w{worker}-{index}@example.com"),
                )
                results.put((index, "won", str(booking.id)))
            except BookingConflictError as error:
                results.put((index, type(error).__name__, error.date.isoformat()))
            except Exception as error:
                results.put((index, "error", repr(error)))


def deliver_worker(
    url: str,
    secret: bytes,
    body: bytes,
    headers: dict[str, str],
    barrier: Any,
    results: Any,
    now: dt.datetime,
) -> None:
    """Deliver one signed webhook from this process once every worker is ready."""
    from booking_core.adapters.payments import FakePaymentProvider

    clock = ManualClock(now)
    pool = {"pool_size": 1, "max_overflow": 0} if url.startswith("postgresql") else {}
    with connect(
        url, clock=clock, payments=FakePaymentProvider(secret, clock=clock), **pool
    ) as app:
        barrier.wait(timeout=60)
        try:
            receipt = app.webhooks.receive(None, body, headers)
            results.put((receipt.state.value, receipt.duplicate, receipt.outcome))
        except Exception as error:
            results.put(("error", False, repr(error)))
