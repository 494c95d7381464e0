"""Transactions: commit, rollback, updates."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from booking_core.errors import TransientStorageError
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.contracts._shop import (
    Shop,
    _slug,
    _tenant,
    _UowBase,
)


class TransactionsContract(_UowBase):
    """Transactions: commit, rollback, updates."""

    # -- transactions ---------------------------------------------------------------------------

    def test_commit_makes_writes_visible(self, uow_factory: UnitOfWorkFactory) -> None:
        """A committed tenant is read back equal (policy, cancellation, exact percent)."""
        tenant = _tenant(active=False, commission_percent=Decimal("7.25"))
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.tenants.get(tenant.id) == tenant
            assert uow.tenants.get_by_slug(tenant.slug) == tenant
            assert uow.tenants.get(uuid.uuid4()) is None
            assert uow.tenants.get_by_slug(_slug("missing")) is None

    def test_rolls_back_unless_committed(self, uow_factory: UnitOfWorkFactory) -> None:
        """Leaving the block without commit() discards every write of the transaction."""
        tenant = _tenant()
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            assert uow.tenants.get(tenant.id) == tenant  # visible inside its own transaction
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.rollback()
        with uow_factory(read_only=True) as uow:
            assert uow.tenants.get(tenant.id) is None

    def test_exception_rolls_back(self, uow_factory: UnitOfWorkFactory) -> None:
        """An exception inside the block propagates and nothing of the transaction is kept."""
        tenant = _tenant()

        class BoomError(Exception):
            pass

        def write_then_fail() -> None:
            with uow_factory() as uow:
                uow.tenants.add(tenant)
                raise BoomError

        with pytest.raises(BoomError):
            write_then_fail()
        with uow_factory(read_only=True) as uow:
            assert uow.tenants.get(tenant.id) is None

    def test_update_persists(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """update() of tenants and catalog records replaces the stored row (a tenant's version
        grows by one instead of being written)."""
        tid = shop.tenant_id
        tenant = replace(shop.tenant, name="Renamed", active=False)
        segment = replace(shop.segment, name="Elopements", active=False)
        package = replace(shop.package, base_price=1, photo_urls=(), segment_id=None)
        add_on = replace(shop.add_on, price=0, description="Free")
        venue = replace(shop.venue, capacity=9, address="1 rue de la Paix")
        with uow_factory() as uow:
            uow.tenants.update(tenant)
            uow.segments.update(segment)
            uow.packages.update(package)
            uow.add_ons.update(add_on)
            uow.venues.update(venue)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.tenants.get(tid) == replace(tenant, version=tenant.version + 1)
            assert uow.segments.get(tid, segment.id) == segment
            assert uow.packages.get(tid, package.id) == package
            assert uow.add_ons.get(tid, add_on.id) == add_on
            assert uow.venues.get(tid, venue.id) == venue

    def test_touch_bumps_only_that_tenants_version(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """touch() grows the tenant's version by one and changes nothing else; an unknown id
        is a no-op; update() of a copy read before a touch raises TransientStorageError and
        changes nothing (a compare-and-swap on the version)."""
        tid = shop.tenant_id
        with uow_factory() as uow:
            uow.tenants.touch(tid)
            uow.tenants.touch(tid)
            uow.tenants.touch(uuid.uuid4())
            uow.commit()
        with uow_factory() as uow:
            assert uow.tenants.get(tid) == replace(shop.tenant, version=shop.tenant.version + 2)
        with uow_factory() as uow, pytest.raises(TransientStorageError):
            uow.tenants.update(replace(shop.tenant, name="Stale edit"))  # read before the touches
        with uow_factory(read_only=True) as uow:
            assert uow.tenants.get(tid) == replace(shop.tenant, version=shop.tenant.version + 2)
