"""What every contract module shares: the committed shop, holds, seats, the fixtures."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

import pytest

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    AddOn,
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    Customer,
    HeldSeat,
    Package,
    RefundTier,
    Segment,
    Tenant,
    Venue,
)
from booking_core.ports.repositories import UnitOfWorkFactory

#: The instant the unit-of-work contract writes at (whole seconds: every backend keeps them).
NOW: Final = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
HOLD: Final = dt.timedelta(minutes=15)
DAY: Final = dt.date(2030, 7, 20)
_MINUTE: Final = dt.timedelta(minutes=1)


def _slug(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _tenant(**changes: Any) -> Tenant:
    tenant = Tenant(
        id=uuid.uuid4(),
        slug=_slug("contract"),
        name="Studio Lumière",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=Decimal("12.5"),
        policy=BookingPolicy(capacity_per_date=2, hold_ttl=HOLD, min_notice_days=1),
        cancellation=CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 40)), fee=500),
    )
    return replace(tenant, **changes)


def _customer(tenant_id: uuid.UUID, *, email: str | None = None, **changes: Any) -> Customer:
    customer = Customer(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name="Ann Example",
        email=email or f"ann-{uuid.uuid4().hex[:10]}@example.com",
        phone="+33612345678",
        created_at=NOW,
    )
    return replace(customer, **changes)


@dataclass(frozen=True, slots=True)
class Shop:
    """What the ``shop`` fixture stored (committed): a tenant and a small catalog."""

    tenant: Tenant
    segment: Segment
    package: Package
    add_on: AddOn
    venue: Venue

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    def booking(
        self,
        *,
        date: dt.date = DAY,
        created_at: dt.datetime = NOW,
        ttl: dt.timedelta | None = HOLD,
        venue: bool = False,
        customer_id: uuid.UUID | None = None,
        total: int = 300_000,
    ) -> Booking:
        """A PENDING booking of the shop's package (with one add-on line), not yet stored."""
        line = BookingAddOn(self.add_on.id, self.add_on.name, self.add_on.price, 2)
        return Booking(
            id=uuid.uuid4(),
            tenant_id=self.tenant.id,
            package_id=self.package.id,
            customer_id=customer_id or uuid.uuid4(),
            venue_id=self.venue.id if venue else None,
            event_date=date,
            status=BookingStatus.PENDING,
            package_price=total - line.line_total,
            add_ons=(line,),
            total=total,
            commission=total // 10,
            currency=self.tenant.currency,
            created_at=created_at,
            expires_at=None if ttl is None else created_at + ttl,
        )


def _store_shop(factory: UnitOfWorkFactory, tenant: Tenant | None = None) -> Shop:
    tenant = tenant or _tenant()
    tid = tenant.id
    segment = Segment(uuid.uuid4(), tid, "weddings", "Weddings", heading="Say yes", sort_order=2)
    package = Package(
        uuid.uuid4(),
        tid,
        "gold",
        "Gold",
        250_000,
        description="Eight hours.",
        segment_id=segment.id,
        grouping="full day",
        group_order=1,
        photo_urls=("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"),
    )
    add_on = AddOn(uuid.uuid4(), tid, "album", "Album", 25_000, segment_id=segment.id)
    venue = Venue(uuid.uuid4(), tid, "Grand Hall", city="Lyon", country="FR", capacity=2)
    with factory() as uow:
        uow.tenants.add(tenant)
        uow.segments.add(segment)
        uow.packages.add(package)
        uow.add_ons.add(add_on)
        uow.venues.add(venue)
        uow.packages.offer_add_on(tid, package.id, add_on.id)
        uow.commit()
    return Shop(tenant, segment, package, add_on, venue)


def _hold(
    factory: UnitOfWorkFactory,
    booking: Booking,
    *,
    capacity: int,
    now: dt.datetime = NOW,
    email: str | None = None,
) -> Booking | None:
    """Place a hold in its own transaction: committed when placed, rolled back when full."""
    customer = _customer(booking.tenant_id, email=email, created_at=now)
    with factory() as uow:
        placed = uow.bookings.place_hold(booking, customer, capacity=capacity, now=now)
        if placed is not None:
            uow.commit()
    return placed


def _seats(
    factory: UnitOfWorkFactory,
    shop: Shop,
    date: dt.date = DAY,
    *,
    resource: uuid.UUID = TENANT_WIDE,
) -> builtins.list[HeldSeat]:
    with factory(read_only=True) as uow:
        return uow.bookings.held_seats(shop.tenant_id, resource, date, date)


class _UowBase:
    """The fixtures of the unit-of-work contracts; ``uow_factory`` is the one to override."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """The adapter under test; subclasses must override this fixture."""
        msg = "override the uow_factory fixture to return your UnitOfWorkFactory"
        raise NotImplementedError(msg)

    @pytest.fixture
    def shop(self, uow_factory: UnitOfWorkFactory) -> Shop:
        return _store_shop(uow_factory)

    @pytest.fixture
    def other_shop(self, uow_factory: UnitOfWorkFactory) -> Shop:
        return _store_shop(uow_factory)
