"""Idempotency keys on every backend: replay, reuse detection, concurrent requests, purging."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingPolicy,
    BookingStatus,
)
from booking_core.errors import (
    BookingConflictError,
    IdempotencyKeyReusedError,
    ValidationError,
)
from booking_core.testing import ManualClock

from ._payments import ANN, EVENT
from .conftest import Shop, make_shop


def test_idempotent_hold_replays_and_detects_reuse(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """A hold repeated with the same key returns the first booking (also once confirmed) and writes
    nothing; the key with other arguments raises IdempotencyKeyReusedError; other tenants may use
    the same key; after 24 h the key serves a new request; an empty key is refused."""
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    first = app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1")
    replay = app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1")
    assert replay.id == first.id
    assert len(app.bookings.list_for_dates(shop.tenant.id, EVENT, EVENT)) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        app.bookings.hold(
            shop.tenant.id,
            **{**args, "date": EVENT + dt.timedelta(days=1)},
            idempotency_key="req-1",
        )
    app.bookings.confirm(shop.tenant.id, first.id, payment_ref="p1")
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="req-1").status is (
        BookingStatus.CONFIRMED
    )
    # another tenant may use the same key for its own request
    other = make_shop(app)
    mine = app.bookings.hold(
        other.tenant.id,
        package_id=other.package.id,
        date=EVENT,
        customer=ANN,
        idempotency_key="req-1",
    )
    assert mine.tenant_id == other.tenant.id
    # after 24 h the key is forgotten: the same key may serve a new request
    clock.advance(dt.timedelta(hours=24, seconds=1))
    again = app.bookings.hold(
        shop.tenant.id, **{**args, "date": EVENT + dt.timedelta(days=2)}, idempotency_key="req-1"
    )
    assert again.id != first.id
    with pytest.raises(ValidationError):
        app.bookings.hold(shop.tenant.id, **args, idempotency_key="")


def test_failed_request_does_not_burn_its_key(app: BookingApp, shop: Shop) -> None:
    """A hold refused with BookingConflictError does not record its idempotency key: once the date
    frees, the same key makes a new PENDING hold."""
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    taken = app.bookings.hold(shop.tenant.id, **args)
    with pytest.raises(BookingConflictError):
        app.bookings.hold(shop.tenant.id, **args, idempotency_key="k")
    app.bookings.cancel(shop.tenant.id, taken.id)
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="k").status is (
        BookingStatus.PENDING
    )


def test_concurrent_requests_with_one_key_create_one_booking(app: BookingApp) -> None:
    """Twelve threads holding at once with one idempotency key all get the same booking id, and only
    one booking exists for the date."""
    shop = make_shop(app, policy=BookingPolicy(capacity_per_date=20))
    barrier = threading.Barrier(12)
    ids: list[Any] = []

    def request() -> None:
        barrier.wait(timeout=30)
        try:
            ids.append(
                app.bookings.hold(
                    shop.tenant.id,
                    package_id=shop.package.id,
                    date=EVENT,
                    customer=ANN,
                    idempotency_key="same",
                ).id
            )
        except Exception as error:
            ids.append(error)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(ids)) == 1, ids
    assert isinstance(ids[0], uuid.UUID)
    assert len(app.bookings.list_for_dates(shop.tenant.id, EVENT, EVENT)) == 1


def test_expired_idempotency_keys_are_purged(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """purge_idempotency_keys keeps a key younger than its TTL (the hold still replays) and removes
    it once expired, after which the key makes a new booking."""
    args = {"package_id": shop.package.id, "date": EVENT, "customer": ANN}
    first = app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me")
    clock.advance(dt.timedelta(hours=23))
    assert app.bookings.purge_idempotency_keys() >= 0
    assert app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me").id == first.id
    clock.advance(dt.timedelta(hours=2))
    assert app.bookings.purge_idempotency_keys() >= 1
    assert app.bookings.purge_idempotency_keys() == 0
    # the key is free again; the first hold lapsed long ago, so its date is free too
    fresh = app.bookings.hold(shop.tenant.id, **args, idempotency_key="purge-me")
    assert fresh.id != first.id
