"""Blackout dates, API keys and refunds."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from booking_core.domain.model import (
    ApiKey,
    BlackoutDate,
    Refund,
    RefundState,
)
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.contracts._shop import (
    _MINUTE,
    DAY,
    HOLD,
    NOW,
    Shop,
    _hold,
    _UowBase,
)


class RecordsContract(_UowBase):
    """Blackout dates, API keys and refunds."""

    # -- blackouts, api keys, refunds -----------------------------------------------------------

    def test_blackouts(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """Adding a blackout twice keeps one (the last reason); lists are by date; remove says
        whether there was one."""
        tid = shop.tenant_id
        later = DAY + dt.timedelta(days=10)
        with uow_factory() as uow:
            uow.blackouts.add(BlackoutDate(tid, later, "inventory"))
            uow.blackouts.add(BlackoutDate(tid, DAY, "holiday"))
            uow.blackouts.add(BlackoutDate(tid, DAY, "public holiday"))
            uow.commit()
        with uow_factory() as uow:
            assert uow.blackouts.list_between(tid, DAY, later) == [
                BlackoutDate(tid, DAY, "public holiday"),
                BlackoutDate(tid, later, "inventory"),
            ]
            assert uow.blackouts.list_between(tid, DAY - dt.timedelta(days=5), DAY) == [
                BlackoutDate(tid, DAY, "public holiday")
            ]
            assert uow.blackouts.remove(tid, DAY) is True
            assert uow.blackouts.remove(tid, DAY) is False
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.blackouts.list_between(tid, DAY, later) == [
                BlackoutDate(tid, later, "inventory")
            ]

    def test_api_keys(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """Active keys are listed oldest first; revoking works once and hides the key."""
        tid = shop.tenant_id
        first = ApiKey(uuid.uuid4(), tid, "a" * 64, "web", NOW)
        second = ApiKey(uuid.uuid4(), tid, "b" * 64, "kiosk", NOW + _MINUTE)
        with uow_factory() as uow:
            uow.api_keys.add(second)
            uow.api_keys.add(first)
            uow.commit()
        with uow_factory() as uow:
            assert uow.api_keys.active(tid) == [first, second]
            assert uow.api_keys.revoke(tid, first.id, now=NOW + HOLD) is True
            assert uow.api_keys.revoke(tid, first.id, now=NOW + HOLD) is False
            assert uow.api_keys.revoke(tid, uuid.uuid4(), now=NOW) is False
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.api_keys.active(tid) == [second]

    def test_refund_lock(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """refunds.lock reads the refund (tenant-scoped) for an update in the same transaction;
        a second transaction locking it afterwards sees the update."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        pending = Refund(
            uuid.uuid4(),
            shop.tenant_id,
            held.id,
            1_000,
            10,
            "policy",
            RefundState.PENDING,
            NOW,
            NOW,
        )
        with uow_factory() as uow:
            uow.refunds.add(pending)
            uow.commit()
        with uow_factory() as uow:
            assert uow.refunds.lock(uuid.uuid4(), pending.id) is None
            locked = uow.refunds.lock(shop.tenant_id, pending.id)
            assert locked == pending
            uow.refunds.update(replace(locked, state=RefundState.SUCCEEDED, attempts=1))
            uow.commit()
        with uow_factory() as uow:
            again = uow.refunds.lock(shop.tenant_id, pending.id)
            assert again is not None
            assert (again.state, again.attempts) == (RefundState.SUCCEEDED, 1)

    def test_refunds(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """Refunds round-trip; for_booking and unsettled are oldest first; SUCCEEDED ones are
        settled; find_by_provider_id looks up the provider's id."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        tid = shop.tenant_id

        def refund(minutes: int, state: RefundState) -> Refund:
            at = NOW + _MINUTE * minutes
            return Refund(uuid.uuid4(), tid, held.id, 1_000 + minutes, 10, "policy", state, at, at)

        late, early, done = (
            refund(5, RefundState.FAILED),
            refund(1, RefundState.PENDING),
            refund(3, RefundState.SUCCEEDED),
        )
        with uow_factory() as uow:
            for item in (late, early, done):
                uow.refunds.add(item)
            uow.commit()
        settled = replace(early, state=RefundState.SUCCEEDED, provider_refund_id="re_1",
                          attempts=1, updated_at=NOW + HOLD)  # fmt: skip
        with uow_factory() as uow:
            assert uow.refunds.for_booking(tid, held.id) == [early, done, late]
            assert uow.refunds.unsettled(tenant_id=tid, limit=10) == [early, late]
            assert uow.refunds.unsettled(tenant_id=tid, limit=1) == [early]
            uow.refunds.update(settled)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.refunds.get(tid, early.id) == settled
            assert uow.refunds.find_by_provider_id(tid, "re_1") == settled
            assert uow.refunds.find_by_provider_id(tid, "re_unknown") is None
            assert uow.refunds.unsettled(tenant_id=tid, limit=10) == [late]
            everyone = uow.refunds.unsettled(tenant_id=None, limit=100_000)
            assert late in everyone
            assert settled not in everyone
