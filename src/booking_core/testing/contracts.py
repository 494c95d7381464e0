"""Contract test suites for adapter authors: run booking_core's adapter contracts on yours.

This module is for *test suites*: it imports pytest (and, for the property tests, Hypothesis when
it is installed). Subclass a contract in a test module, override one fixture, and pytest runs
every behaviour the services rely on against your adapter::

    import pytest
    from booking_core.testing.contracts import CacheContract, UnitOfWorkContract

    class TestMyUow(UnitOfWorkContract):
        @pytest.fixture
        def uow_factory(self):
            return MyUowFactory(...)

    class TestMyCache(CacheContract):
        @pytest.fixture
        def cache(self):
            return MyCache(...)

The suites are what booking_core's own adapters (memory, SQLite, PostgreSQL; in-memory and
Redis caches) are tested with. Each behaviour is one test method with a docstring that says what
must happen. Tests create fresh random tenants and assert only on them, so a factory may share
one database across tests (and with other test suites); nothing is wiped.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import builtins
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

import pytest

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    AddOn,
    ApiKey,
    BlackoutDate,
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    Customer,
    HeldSeat,
    IdempotencyRecord,
    InboxEvent,
    InboxState,
    OutboxEvent,
    Package,
    Refund,
    RefundState,
    RefundTier,
    Segment,
    Tenant,
    Venue,
)
from booking_core.errors import (
    AlreadyExistsError,
    NotFoundError,
    TransientStorageError,
    ValidationError,
)
from booking_core.ports.cache import (
    UNKNOWN_GENERATION,
    CachePort,
    CacheStats,
    read_through,
)
from booking_core.ports.repositories import BOOKING_TOTAL, UnitOfWork, UnitOfWorkFactory

__all__ = ["CacheContract", "UnitOfWorkContract"]

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


class UnitOfWorkContract:
    """Behaviour every :class:`~booking_core.ports.repositories.UnitOfWorkFactory` must have.

    Override the ``uow_factory`` fixture to return your factory. The suite exercises the
    repositories directly (not through the services): tenant scoping, per-tenant unique keys,
    rollback unless commit, atomic seat claims, status compare-and-swap, hold expiry, the
    idempotency, inbox and outbox tables, refunds.
    """

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
        """update() of tenants and catalog records replaces the stored row."""
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
            assert uow.tenants.get(tid) == tenant
            assert uow.segments.get(tid, segment.id) == segment
            assert uow.packages.get(tid, package.id) == package
            assert uow.add_ons.get(tid, add_on.id) == add_on
            assert uow.venues.get(tid, venue.id) == venue

    # -- catalog --------------------------------------------------------------------------------

    def test_catalog_round_trip(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """Stored catalog records read back equal, by id and by slug."""
        tid = shop.tenant_id
        with uow_factory(read_only=True) as uow:
            assert uow.segments.get(tid, shop.segment.id) == shop.segment
            assert uow.segments.get_by_slug(tid, "weddings") == shop.segment
            assert uow.packages.get(tid, shop.package.id) == shop.package
            assert uow.packages.get_by_slug(tid, "gold") == shop.package
            assert uow.add_ons.get(tid, shop.add_on.id) == shop.add_on
            assert uow.add_ons.get_by_slug(tid, "album") == shop.add_on
            assert uow.venues.get(tid, shop.venue.id) == shop.venue
            assert uow.packages.offered_add_ons(tid, shop.package.id) == [shop.add_on]

    def test_lists_are_ordered_and_filtered(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Lists follow the documented order and ``active_only`` hides inactive records."""
        tid = shop.tenant_id
        seg_a = Segment(uuid.uuid4(), tid, "a-first", "A", sort_order=1)
        seg_z = Segment(uuid.uuid4(), tid, "z-hidden", "Z", sort_order=0, active=False)
        pkg_b = Package(uuid.uuid4(), tid, "b", "B", 1, grouping="full day", group_order=0)
        pkg_c = Package(uuid.uuid4(), tid, "c", "C", 1, grouping="", active=False)
        extra = AddOn(uuid.uuid4(), tid, "a-drone", "Drone", 1, active=False)
        hall = Venue(uuid.uuid4(), tid, "Annex", capacity=1)
        with uow_factory() as uow:
            for segment in (seg_a, seg_z):
                uow.segments.add(segment)
            for package in (pkg_b, pkg_c):
                uow.packages.add(package)
            uow.add_ons.add(extra)
            uow.venues.add(hall)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            segments = uow.segments.list(tid, active_only=False)
            assert [s.slug for s in segments] == ["z-hidden", "a-first", "weddings"]
            assert [s.slug for s in uow.segments.list(tid, active_only=True)] == [
                "a-first",
                "weddings",
            ]
            all_packages = uow.packages.list(tid, segment_id=None, active_only=False)
            assert [p.slug for p in all_packages] == ["c", "b", "gold"]
            active = uow.packages.list(tid, segment_id=None, active_only=True)
            assert [p.slug for p in active] == ["b", "gold"]
            in_segment = uow.packages.list(tid, segment_id=shop.segment.id, active_only=False)
            assert in_segment == [shop.package]
            assert [a.slug for a in uow.add_ons.list(tid, active_only=False)] == [
                "a-drone",
                "album",
            ]
            assert uow.add_ons.list(tid, active_only=True) == [shop.add_on]
            assert [v.name for v in uow.venues.list(tid, active_only=True)] == [
                "Annex",
                "Grand Hall",
            ]

    def test_offer_and_withdraw_add_ons(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """Offering is idempotent, offered add-ons are sorted by slug, withdrawing removes one."""
        tid = shop.tenant_id
        drone = AddOn(uuid.uuid4(), tid, "a-drone", "Drone", 30_000)
        with uow_factory() as uow:
            uow.add_ons.add(drone)
            uow.packages.offer_add_on(tid, shop.package.id, drone.id)
            uow.packages.offer_add_on(tid, shop.package.id, drone.id)
            uow.commit()
        with uow_factory() as uow:
            assert uow.packages.offered_add_ons(tid, shop.package.id) == [drone, shop.add_on]
            uow.packages.withdraw_add_on(tid, shop.package.id, shop.add_on.id)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.packages.offered_add_ons(tid, shop.package.id) == [drone]

    @pytest.mark.parametrize("kind", ["package-segment", "offer-add-on", "booking-package"])
    def test_references_stay_inside_the_tenant(
        self, uow_factory: UnitOfWorkFactory, shop: Shop, other_shop: Shop, kind: str
    ) -> None:
        """A record cannot point at another tenant's record: NotFoundError, nothing stored."""
        tid = shop.tenant_id
        package = Package(uuid.uuid4(), tid, "x", "X", 1, segment_id=other_shop.segment.id)

        def write_reference() -> None:
            with uow_factory() as uow:
                if kind == "package-segment":
                    uow.packages.add(package)
                elif kind == "offer-add-on":
                    uow.packages.offer_add_on(tid, shop.package.id, other_shop.add_on.id)
                else:
                    customer = _customer(tid)
                    uow.customers.upsert_by_email(customer)
                    foreign = replace(
                        other_shop.booking(customer_id=customer.id, ttl=None),
                        tenant_id=tid,
                        add_ons=(),
                    )
                    uow.bookings.add(foreign)
                uow.commit()

        with pytest.raises(NotFoundError):
            write_reference()
        with uow_factory(read_only=True) as uow:
            assert uow.packages.get(tid, package.id) is None
            assert uow.packages.offered_add_ons(tid, shop.package.id) == [shop.add_on]
            assert uow.bookings.list_for_dates(tid, DAY, DAY) == []

    @pytest.mark.parametrize("kind", ["tenant", "segment", "package", "add_on", "venue"])
    def test_unique_keys_raise_already_exists(
        self, uow_factory: UnitOfWorkFactory, shop: Shop, other_shop: Shop, kind: str
    ) -> None:
        """A taken per-tenant key (slug, venue name; a tenant's slug platform-wide) raises
        AlreadyExistsError; the same key in another tenant is fine."""
        tid = shop.tenant_id
        duplicate: dict[str, Callable[[UnitOfWork, uuid.UUID], None]] = {
            "tenant": lambda uow, _t: uow.tenants.add(_tenant(slug=shop.tenant.slug)),
            "segment": lambda uow, t: uow.segments.add(
                Segment(uuid.uuid4(), t, "weddings", "Again")
            ),
            "package": lambda uow, t: uow.packages.add(Package(uuid.uuid4(), t, "gold", "G", 1)),
            "add_on": lambda uow, t: uow.add_ons.add(AddOn(uuid.uuid4(), t, "album", "A", 1)),
            "venue": lambda uow, t: uow.venues.add(Venue(uuid.uuid4(), t, "Grand Hall")),
        }
        with pytest.raises(AlreadyExistsError), uow_factory() as uow:
            duplicate[kind](uow, tid)
        if kind != "tenant":
            fresh = _store_shop(uow_factory)  # the same slugs and venue name, another tenant
            with uow_factory(read_only=True) as uow:
                assert uow.packages.get_by_slug(fresh.tenant_id, "gold") == fresh.package
                assert uow.packages.get_by_slug(tid, "gold") == shop.package

    def test_another_tenants_ids_are_none_everywhere(
        self, uow_factory: UnitOfWorkFactory, shop: Shop, other_shop: Shop
    ) -> None:
        """Every read scoped to tenant B misses tenant A's records, as if they did not exist."""
        booking = shop.booking()
        placed = _hold(uow_factory, booking, capacity=2, email="scoped@example.com")
        assert placed is not None
        refund = Refund(uuid.uuid4(), shop.tenant_id, placed.id, 10, 1, "r", RefundState.FAILED,
                        NOW, NOW, provider_refund_id="re_scoped")  # fmt: skip
        with uow_factory() as uow:
            uow.refunds.add(refund)
            uow.blackouts.add(BlackoutDate(shop.tenant_id, DAY, "closed"))
            uow.commit()
        b = other_shop.tenant_id
        with uow_factory() as uow:
            assert uow.segments.get(b, shop.segment.id) is None
            assert uow.segments.get_by_slug(b, "weddings") == other_shop.segment
            assert uow.packages.get(b, shop.package.id) is None
            assert uow.packages.offered_add_ons(b, shop.package.id) == []
            assert uow.add_ons.get(b, shop.add_on.id) is None
            assert uow.venues.get(b, shop.venue.id) is None
            assert uow.customers.get(b, placed.customer_id) is None
            assert uow.customers.find_by_email(b, "scoped@example.com") is None
            assert uow.customers.list(b, limit=10, offset=0) == []
            assert uow.bookings.get(b, placed.id) is None
            assert uow.bookings.list_for_dates(b, DAY, DAY) == []
            assert uow.bookings.held_seats(b, TENANT_WIDE, DAY, DAY) == []
            context = uow.bookings.hold_context(b, shop.package.id, shop.venue.id, DAY, NOW)
            assert context is not None
            assert (context.tenant, context.package, context.venue) == (
                other_shop.tenant,
                None,
                None,
            )
            assert (context.blackout, context.seats_held) == (False, 0)
            assert uow.blackouts.list_between(b, DAY, DAY) == []
            assert uow.refunds.get(b, refund.id) is None
            assert uow.refunds.for_booking(b, placed.id) == []
            assert uow.refunds.find_by_provider_id(b, "re_scoped") is None
            assert uow.refunds.unsettled(tenant_id=b, limit=10) == []
            assert uow.api_keys.active(b) == []
            assert uow.outbox.claim(now=NOW, lease_until=NOW + HOLD, limit=10, tenant_id=b) == []
            assert uow.inbox.lock(b, "fake", "evt_scoped") is None
            assert uow.bookings.release_claims(b, placed.id) == 0
            assert uow.bookings.settle_claims(b, placed.id) == 0
            assert uow.bookings.touch(b, placed.id) is None
            assert uow.bookings.add_refund(b, placed.id, amount=0, commission=0) is None
            assert (
                uow.bookings.transition(
                    b, placed.id, from_statuses=list(BookingStatus), to=BookingStatus.CANCELED
                )
                is None
            )
            assert uow.bookings.expire_lapsed(NOW + HOLD * 2, tenant_id=b, limit=10) == []
            assert uow.blackouts.remove(b, DAY) is False
        with uow_factory(read_only=True) as uow:  # and A's data is untouched by B's writes
            assert uow.bookings.get(shop.tenant_id, placed.id) == placed
            assert len(uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, DAY, DAY)) == 1
            assert len(uow.blackouts.list_between(shop.tenant_id, DAY, DAY)) == 1

    # -- customers ------------------------------------------------------------------------------

    def test_customer_upsert_by_email(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """The first upsert stores the customer; one with the same email updates name (and phone
        when given) of the stored one and returns it with the stored id."""
        tid = shop.tenant_id
        first = _customer(tid, email="same@example.com")
        second = _customer(tid, email="same@example.com", name="Ann Married", phone=None)
        with uow_factory() as uow:
            assert uow.customers.upsert_by_email(first) == first
            uow.commit()
        with uow_factory() as uow:
            stored = uow.customers.upsert_by_email(second)
            uow.commit()
        assert stored == replace(first, name="Ann Married")
        later = _customer(tid, created_at=NOW + _MINUTE)
        with uow_factory() as uow:
            uow.customers.upsert_by_email(later)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.customers.get(tid, first.id) == stored
            assert uow.customers.find_by_email(tid, "same@example.com") == stored
            assert uow.customers.list(tid, limit=10, offset=0) == [stored, later]
            assert uow.customers.list(tid, limit=1, offset=1) == [later]

    # -- bookings and seats ---------------------------------------------------------------------

    def test_place_hold_stores_booking_customer_and_seat(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """place_hold stores the booking (with its lines) under the stored customer's id and
        claims one seat that expires with the hold."""
        booking = shop.booking()
        placed = _hold(uow_factory, booking, capacity=1, email="hold@example.com")
        assert placed is not None
        with uow_factory(read_only=True) as uow:
            customer = uow.customers.find_by_email(shop.tenant_id, "hold@example.com")
            assert customer is not None
            assert placed == replace(booking, customer_id=customer.id)
            assert uow.bookings.get(shop.tenant_id, booking.id) == placed
            assert uow.bookings.list_for_dates(shop.tenant_id, DAY, DAY) == [placed]
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, NOW + HOLD)]

    def test_place_hold_reuses_the_customer(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Two holds with one email share one customer."""
        first = _hold(uow_factory, shop.booking(), capacity=5, email="twice@example.com")
        second = _hold(uow_factory, shop.booking(), capacity=5, email="twice@example.com")
        assert first is not None
        assert second is not None
        assert first.customer_id == second.customer_id
        with uow_factory(read_only=True) as uow:
            assert len(uow.customers.list(shop.tenant_id, limit=10, offset=0)) == 1

    def test_capacity_is_never_exceeded(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """With capacity 2 the third hold on a date gets None; rolled back, it leaves nothing."""
        first = _hold(uow_factory, shop.booking(), capacity=2)
        second = _hold(uow_factory, shop.booking(), capacity=2)
        third = shop.booking()
        assert first is not None
        assert second is not None
        assert _hold(uow_factory, third, capacity=2) is None
        assert len(_seats(uow_factory, shop)) == 2
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, third.id) is None
            assert {b.id for b in uow.bookings.list_for_dates(shop.tenant_id, DAY, DAY)} == {
                first.id,
                second.id,
            }
        other_day = DAY + dt.timedelta(days=1)
        assert _hold(uow_factory, shop.booking(date=other_day), capacity=2) is not None

    def test_venues_and_tenant_wide_seats_are_separate_pools(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A venue's seats do not use the tenant-wide seats of the date, and vice versa."""
        assert _hold(uow_factory, shop.booking(), capacity=1) is not None
        assert _hold(uow_factory, shop.booking(venue=True), capacity=1) is not None
        assert _hold(uow_factory, shop.booking(venue=True), capacity=1) is None
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, NOW + HOLD)]
        assert _seats(uow_factory, shop, resource=shop.venue.id) == [HeldSeat(DAY, NOW + HOLD)]

    def test_lapsed_seats_are_taken_over(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A seat whose hold lapsed is free: a later hold takes it over, and the lapsed booking
        no longer holds anything (settling it finds no seat)."""
        lapsed = _hold(uow_factory, shop.booking(), capacity=1)
        assert lapsed is not None
        just_before = NOW + HOLD - _MINUTE
        assert _hold(uow_factory, shop.booking(created_at=just_before), capacity=1,
                     now=just_before) is None  # fmt: skip
        later = NOW + HOLD  # expiry is exclusive: at expires_at the hold has lapsed
        taker = _hold(uow_factory, shop.booking(created_at=later), capacity=1, now=later)
        assert taker is not None
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, later + HOLD)]
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(shop.tenant_id, lapsed.id) == 0
            assert uow.bookings.release_claims(shop.tenant_id, lapsed.id) == 0
            assert uow.bookings.settle_claims(shop.tenant_id, taker.id) == 1
            uow.commit()
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, None)]

    def test_settled_seats_never_lapse(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A settled seat (confirmed booking) has no expiry: it is never taken over."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(shop.tenant_id, held.id) == 1
            uow.commit()
        far = NOW + dt.timedelta(days=30)
        assert _hold(uow_factory, shop.booking(created_at=far), capacity=1, now=far) is None

    def test_release_claims_frees_the_seat(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """release_claims returns how many seats it freed; the date is bookable again."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 1
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 0
            uow.commit()
        assert _seats(uow_factory, shop) == []
        assert _hold(uow_factory, shop.booking(), capacity=1) is not None

    def test_concurrent_holds_never_exceed_capacity(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Eight transactions in eight threads race for two seats: exactly two win."""
        contenders, capacity = 8, 2
        barrier = threading.Barrier(contenders)
        results: list[Booking | None] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def contend() -> None:
            try:
                barrier.wait(timeout=10)
                for _attempt in range(20):  # TransientStorageError: retry, as services do
                    try:
                        placed = _hold(uow_factory, shop.booking(), capacity=capacity)
                    except TransientStorageError:
                        continue
                    with lock:
                        results.append(placed)
                    return
            except BaseException as error:  # reported by the test thread below
                with lock:
                    errors.append(error)

        threads = [threading.Thread(target=contend) for _ in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(results) == contenders
        assert sum(placed is not None for placed in results) == capacity
        assert len(_seats(uow_factory, shop)) == capacity

    def test_hold_context(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """hold_context reads tenant, package, venue, blackout and live seats of the pool;
        an unknown tenant gives None."""
        _hold(uow_factory, shop.booking(), capacity=2)
        _hold(uow_factory, shop.booking(created_at=NOW - HOLD * 2), capacity=2, now=NOW - HOLD * 2)
        with uow_factory() as uow:
            uow.blackouts.add(BlackoutDate(shop.tenant_id, DAY, "holiday"))
            uow.commit()
        with uow_factory(read_only=True) as uow:
            tid, pid = shop.tenant_id, shop.package.id
            context = uow.bookings.hold_context(tid, pid, None, DAY, NOW)
            assert context is not None
            assert (context.tenant, context.package, context.venue) == (
                shop.tenant,
                shop.package,
                None,
            )
            assert (context.blackout, context.seats_held) == (True, 1)  # one lapsed
            in_venue = uow.bookings.hold_context(tid, pid, shop.venue.id, DAY, NOW)
            assert in_venue is not None
            assert (in_venue.venue, in_venue.seats_held) == (shop.venue, 0)
            unknown = uow.bookings.hold_context(tid, uuid.uuid4(), None, DAY, NOW)
            assert unknown is not None
            assert unknown.package is None
            assert uow.bookings.hold_context(uuid.uuid4(), pid, None, DAY, NOW) is None

    def test_held_seats_cover_a_range(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """held_seats lists live and lapsed seats of dates in [start, end], by date."""
        days = [DAY + dt.timedelta(days=n) for n in (0, 2, 5)]
        earlier = NOW - HOLD * 4
        _hold(uow_factory, shop.booking(date=days[1]), capacity=1)
        _hold(uow_factory, shop.booking(date=days[0], created_at=earlier), capacity=1, now=earlier)
        _hold(uow_factory, shop.booking(date=days[2]), capacity=1)
        with uow_factory(read_only=True) as uow:
            seats = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[1])
            assert seats == [HeldSeat(days[0], earlier + HOLD), HeldSeat(days[1], NOW + HOLD)]
            assert [s.is_live(NOW) for s in seats] == [False, True]
            everything = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[2])
            assert [s.date for s in everything] == days

    def test_transition_is_a_compare_and_swap(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """transition() changes status, applies changes and bumps the version only from one of
        ``from_statuses``; a second identical call gets None."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        changes: dict[str, Any] = {
            "confirmed_at": NOW + _MINUTE,
            "payment_ref": "pay_1",
            "amount_paid": 300_000,
        }
        with uow_factory() as uow:
            confirmed = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CONFIRMED,
                unexpired_at=NOW + _MINUTE,
                changes=changes,
            )
            uow.commit()
        expected = replace(held, status=BookingStatus.CONFIRMED, version=2, **changes)
        assert confirmed == expected
        with uow_factory() as uow:
            again = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CANCELED,
            )
            assert again is None
            assert uow.bookings.get(shop.tenant_id, held.id) == expected

    def test_transition_resolves_booking_total(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """``BOOKING_TOTAL`` as a change value stands for the booking's own total."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            paid = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CONFIRMED,
                changes={"amount_paid": BOOKING_TOTAL},
            )
            uow.commit()
        assert paid is not None
        assert paid.amount_paid == held.total > 0

    def test_transition_refuses_a_lapsed_hold(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """With ``unexpired_at`` at or after its expiry, a PENDING hold cannot transition."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            lapsed = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CONFIRMED,
                unexpired_at=NOW + HOLD,
            )
            assert lapsed is None
            canceled = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CANCELED,
                changes={"cancel_reason": "changed plans"},
            )
            uow.commit()
        assert canceled == replace(
            held, status=BookingStatus.CANCELED, version=2, cancel_reason="changed plans"
        )

    def test_expire_lapsed(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """expire_lapsed marks lapsed PENDING holds EXPIRED (earliest expiry first, up to
        ``limit``) and frees their seats; live holds and other statuses stay."""
        days = [DAY + dt.timedelta(days=n) for n in range(4)]
        first = _hold(uow_factory, shop.booking(date=days[0], ttl=_MINUTE), capacity=1)
        second = _hold(uow_factory, shop.booking(date=days[1], ttl=_MINUTE * 2), capacity=1)
        live = _hold(uow_factory, shop.booking(date=days[2], ttl=HOLD * 10), capacity=1)
        settled = _hold(uow_factory, shop.booking(date=days[3], ttl=_MINUTE), capacity=1)
        assert first is not None
        assert second is not None
        assert live is not None
        assert settled is not None
        with uow_factory() as uow:
            uow.bookings.transition(
                shop.tenant_id, settled.id, from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CONFIRMED,
            )  # fmt: skip
            uow.bookings.settle_claims(shop.tenant_id, settled.id)
            uow.commit()
        later = NOW + HOLD
        with uow_factory() as uow:
            expired = uow.bookings.expire_lapsed(later, tenant_id=shop.tenant_id, limit=1)
            uow.commit()
        assert expired == [replace(first, status=BookingStatus.EXPIRED, version=2)]
        with uow_factory() as uow:
            rest = uow.bookings.expire_lapsed(later, tenant_id=None, limit=10_000)
            uow.commit()
        assert [b.id for b in rest if b.tenant_id == shop.tenant_id] == [second.id]
        with uow_factory(read_only=True) as uow:
            statuses = [
                uow.bookings.get(shop.tenant_id, b.id).status  # type: ignore[union-attr]
                for b in (first, second, live, settled)
            ]
            assert statuses == ["EXPIRED", "EXPIRED", "PENDING", "CONFIRMED"]
            seats = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[3])
            assert [s.date for s in seats] == [days[2], days[3]]
            assert uow.bookings.expire_lapsed(later, tenant_id=shop.tenant_id, limit=10) == []

    def test_move_takes_a_seat_on_the_new_date(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """move() claims a seat on the new date (same expiry), frees the old one and bumps the
        version; onto a full date it returns None and changes nothing."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        new_day = DAY + dt.timedelta(days=3)
        blocker = _hold(uow_factory, shop.booking(date=DAY + dt.timedelta(days=1)), capacity=1)
        assert held is not None
        assert blocker is not None
        with uow_factory() as uow:
            moved = uow.bookings.move(held, new_day, capacity=1, now=NOW)
            uow.commit()
        assert moved == replace(held, event_date=new_day, version=2)
        assert _seats(uow_factory, shop) == []
        assert _seats(uow_factory, shop, new_day) == [HeldSeat(new_day, NOW + HOLD)]
        with uow_factory() as uow:
            assert uow.bookings.move(moved, blocker.event_date, capacity=1, now=NOW) is None
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == moved

    def test_add_refund_is_a_compare_and_swap(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """add_refund counts refunds up to what was paid (and the commission), bumping the
        version; beyond that it returns None and changes nothing."""
        held = _hold(uow_factory, shop.booking(total=100_000), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            uow.bookings.transition(
                shop.tenant_id, held.id, from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CONFIRMED, changes={"amount_paid": 100_000},
            )  # fmt: skip
            uow.commit()
        tid = shop.tenant_id
        with uow_factory() as uow:
            partial = uow.bookings.add_refund(tid, held.id, amount=60_000, commission=6_000)
            assert partial is not None
            assert (partial.amount_refunded, partial.commission_refunded) == (60_000, 6_000)
            assert partial.version == 3
            assert uow.bookings.add_refund(tid, held.id, amount=40_001, commission=0) is None
            assert uow.bookings.add_refund(tid, held.id, amount=0, commission=4_001) is None
            rest = uow.bookings.add_refund(tid, held.id, amount=40_000, commission=4_000)
            uow.commit()
        assert rest is not None
        assert (rest.amount_refunded, rest.commission_refunded, rest.version) == (
            100_000,
            10_000,
            4,
        )
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(tid, held.id) == rest

    def test_move_is_a_compare_and_swap_on_the_version(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """move() of a booking changed since it was read (or no longer movable) raises
        TransientStorageError and changes nothing: a racing cancel always wins cleanly."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.touch(shop.tenant_id, held.id) == held.version + 1
            uow.commit()
        new_day = DAY + dt.timedelta(days=3)
        with uow_factory() as uow, pytest.raises(TransientStorageError):
            uow.bookings.move(held, new_day, capacity=1, now=NOW)
        with uow_factory() as uow:
            canceled = uow.bookings.transition(
                shop.tenant_id,
                held.id,
                from_statuses=[BookingStatus.PENDING],
                to=BookingStatus.CANCELED,
            )
            assert canceled is not None
            uow.commit()
        with uow_factory() as uow, pytest.raises(TransientStorageError):
            uow.bookings.move(canceled, new_day, capacity=1, now=NOW)
        assert _seats(uow_factory, shop, new_day) == []
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(shop.tenant_id, held.id)
        assert stored is not None
        assert (stored.event_date, stored.version) == (DAY, canceled.version)

    def test_claim_seat_on_the_bookings_own_date(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """claim_seat() takes a free seat of the booking's date with its expiry (None: for
        good) and no version change; False when the date is full."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 1
            permanent = replace(held, expires_at=None)
            assert uow.bookings.claim_seat(permanent, capacity=1, now=NOW) is True
            assert uow.bookings.claim_seat(shop.booking(), capacity=1, now=NOW) is False
            uow.commit()
        assert [seat.expires_at for seat in _seats(uow_factory, shop)] == [None]
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(shop.tenant_id, held.id)
        assert stored is not None
        assert stored.version == held.version

    def test_outbox_get_and_for_booking(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """outbox.get finds an event by id (tenant-scoped); for_booking lists a booking's
        events by sequence, delivered or not."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        events = [
            OutboxEvent(uuid.uuid4(), shop.tenant_id, held.id, sequence, "booking.held", {}, NOW)
            for sequence in (2, 1)
        ]
        with uow_factory() as uow:
            for event in events:
                uow.outbox.add(event)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            found = uow.outbox.get(shop.tenant_id, events[0].id)
            assert found is not None
            assert (found.id, found.sequence) == (events[0].id, 2)
            assert uow.outbox.get(uuid.uuid4(), events[0].id) is None
            assert uow.outbox.get(shop.tenant_id, uuid.uuid4()) is None
            listed = uow.outbox.for_booking(shop.tenant_id, held.id)
            assert [e.sequence for e in listed] == [1, 2]
            assert uow.outbox.for_booking(uuid.uuid4(), held.id) == []

    def test_idempotency_release(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """release() forgets a key only while it still names that booking."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        record = IdempotencyRecord(shop.tenant_id, "k-1", "fp", None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None
            uow.idempotency.attach(shop.tenant_id, "k-1", held.id)
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.release(shop.tenant_id, "k-1", uuid.uuid4()) is False
            assert uow.idempotency.release(uuid.uuid4(), "k-1", held.id) is False
            assert uow.idempotency.release(shop.tenant_id, "k-1", held.id) is True
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None  # the key is free again
            uow.commit()

    def test_touch_bumps_the_version(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """touch() returns the new version; an unknown booking gives None."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.touch(shop.tenant_id, held.id) == 2
            assert uow.bookings.touch(shop.tenant_id, held.id) == 3
            assert uow.bookings.touch(shop.tenant_id, uuid.uuid4()) is None
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == replace(held, version=3)

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

    # -- idempotency, inbox, outbox -------------------------------------------------------------

    def test_idempotency_claim(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """The first claim of a key stores it (None); a live key returns the stored record
        (with what attach() recorded); an expired one is replaced; keys are per tenant."""
        tid = shop.tenant_id
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        record = IdempotencyRecord(tid, "key-1", "a" * 64, None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None
            uow.idempotency.attach(tid, "key-1", held.id)
            uow.commit()
        retry = replace(record, request_hash="b" * 64, created_at=NOW + _MINUTE)
        with uow_factory() as uow:
            assert uow.idempotency.claim(retry, now=NOW + _MINUTE) == replace(
                record, booking_id=held.id
            )
        other = IdempotencyRecord(shop.tenant_id, "key-2", "c" * 64, None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(other, now=NOW) is None
            uow.commit()
        after = NOW + HOLD
        renewed = replace(retry, created_at=after, expires_at=after + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(renewed, now=after) is None
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=after) == renewed

    def test_idempotency_keys_are_per_tenant(
        self, uow_factory: UnitOfWorkFactory, shop: Shop, other_shop: Shop
    ) -> None:
        """The same key string of two tenants is two independent records."""
        mine = IdempotencyRecord(shop.tenant_id, "shared", "a" * 64, None, NOW, NOW + HOLD)
        theirs = replace(mine, tenant_id=other_shop.tenant_id, request_hash="b" * 64)
        with uow_factory() as uow:
            assert uow.idempotency.claim(mine, now=NOW) is None
            assert uow.idempotency.claim(theirs, now=NOW) is None
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(mine, now=NOW) == mine
            assert uow.idempotency.claim(theirs, now=NOW) == theirs

    def test_inbox_records_each_event_once(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """record() is True for a new (tenant, provider, event id) and False after; the payload
        comes back byte-identical; update() persists processing state."""
        tid = shop.tenant_id
        payload = b'{"id": "evt_1", "amount": 300000}\x00\xff'
        event = InboxEvent(tid, "fake", "evt_1", "payment.succeeded", payload,
                           InboxState.PENDING, NOW)  # fmt: skip
        with uow_factory() as uow:
            assert uow.inbox.record(event) is True
            assert uow.inbox.record(replace(event, payload=b"replayed")) is False
            assert uow.inbox.record(replace(event, provider="other")) is True
            uow.commit()
        processed = replace(event, state=InboxState.PROCESSED, attempts=1,
                            processed_at=NOW + _MINUTE, outcome="confirmed")  # fmt: skip
        with uow_factory() as uow:
            assert uow.inbox.record(event) is False
            locked = uow.inbox.lock(tid, "fake", "evt_1")
            assert locked == event
            assert locked.payload == payload
            uow.inbox.update(processed)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.inbox.lock(tid, "fake", "evt_1") == processed
            assert uow.inbox.lock(tid, "fake", "evt_unknown") is None

    def test_inbox_failed_events(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """failed() lists FAILED events with fewer than ``max_attempts`` attempts, oldest first."""
        tid = shop.tenant_id

        def event(name: str, minutes: int, state: InboxState, attempts: int) -> InboxEvent:
            return InboxEvent(tid, "fake", name, "payment.failed", b"{}", state,
                              NOW + _MINUTE * minutes, attempts=attempts,
                              last_error="boom")  # fmt: skip

        late = event("late", 3, InboxState.FAILED, 1)
        early = event("early", 1, InboxState.FAILED, 2)
        exhausted = event("exhausted", 0, InboxState.FAILED, 5)
        fine = event("fine", 2, InboxState.PROCESSED, 1)
        with uow_factory() as uow:
            for item in (late, early, exhausted, fine):
                uow.inbox.record(item)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.inbox.failed(tenant_id=tid, max_attempts=5, limit=10) == [early, late]
            assert uow.inbox.failed(tenant_id=tid, max_attempts=2, limit=10) == [late]
            assert uow.inbox.failed(tenant_id=tid, max_attempts=5, limit=1) == [early]

    def test_outbox_claims_in_order(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """claim() leases only each booking's earliest undelivered event, oldest first; leased
        events are not claimed again until the lease ends; mark_done lets the next one go."""
        tid = shop.tenant_id
        a = _hold(uow_factory, shop.booking(), capacity=5)
        b = _hold(uow_factory, shop.booking(), capacity=5)
        assert a is not None
        assert b is not None

        def event(booking: Booking, sequence: int, minutes: int) -> OutboxEvent:
            return OutboxEvent(uuid.uuid4(), tid, booking.id, sequence, f"booking.v{sequence}",
                               {"sequence": sequence, "text": "é€"},
                               NOW + _MINUTE * minutes)  # fmt: skip

        a1, a2, b1 = event(a, 1, 0), event(a, 2, 1), event(b, 1, 2)
        with uow_factory() as uow:
            for item in (b1, a2, a1):
                uow.outbox.add(item)
            uow.commit()
        lease = NOW + HOLD
        with uow_factory() as uow:
            leased = uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid)
            uow.commit()
        assert leased == [
            replace(a1, claimed_until=lease, attempts=1),
            replace(b1, claimed_until=lease, attempts=1),
        ]
        with uow_factory() as uow:
            assert uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid) == []
            assert uow.outbox.mark_done([(tid, a1.id)], now=NOW + _MINUTE) == 1
            assert uow.outbox.mark_done([(tid, a1.id), (tid, uuid.uuid4())], now=NOW) == 0
            uow.outbox.release(tid, b1.id, error="HTTP 503")
            uow.commit()
        with uow_factory() as uow:
            again = uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid)
            assert [(e.id, e.attempts) for e in again] == [(a2.id, 1), (b1.id, 2)]
            assert again[1].last_error == "HTTP 503"
            assert uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid) == []
            assert uow.outbox.mark_done([], now=NOW) == 0
            uow.commit()
        with uow_factory() as uow:  # an unfinished lease ends: the event is claimable again
            late = uow.outbox.claim(now=lease, lease_until=lease + HOLD, limit=1, tenant_id=tid)
            assert [(e.id, e.attempts) for e in late] == [(a2.id, 2)]

    def test_outbox_sequence_is_unique_per_booking(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Two events of one booking with one sequence number raise AlreadyExistsError."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        first = OutboxEvent(uuid.uuid4(), shop.tenant_id, held.id, 1, "booking.held", {}, NOW)
        with uow_factory() as uow:
            uow.outbox.add(first)
            uow.commit()
        with pytest.raises(AlreadyExistsError), uow_factory() as uow:
            uow.outbox.add(replace(first, id=uuid.uuid4()))


# --- cache ------------------------------------------------------------------------------------

NS: Final = "catalog"
OTHER_NS: Final = "availability"
TTL: Final = 60.0


class CacheContract:
    """Behaviour every :class:`~booking_core.ports.cache.CachePort` adapter must have.

    Override the ``cache`` fixture (yield the adapter, close it afterwards if you like). The
    TTL test waits for real (about 0.5 s); override the ``advance`` fixture to move a fake
    timer instead (``advance(seconds)``). The property tests need Hypothesis and are skipped
    without it. A cache that stores nothing (``NullCache``) is not
    a cache in this sense and does not pass: it only honours the validation half.
    """

    @pytest.fixture
    def cache(self) -> CachePort:
        """The adapter under test; subclasses must override this fixture."""
        msg = "override the cache fixture to return your CachePort"
        raise NotImplementedError(msg)

    @pytest.fixture
    def advance(self) -> Callable[[float], None]:
        """Let ``seconds`` pass for the cache's clock (default: really wait)."""
        import time  # noqa: PLC0415 - only the default implementation needs it

        return time.sleep

    @pytest.fixture
    def tenant(self) -> uuid.UUID:
        return uuid.uuid4()

    def test_miss_then_hit(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A key never set misses (value None); after set it hits with an equal value."""
        missed = cache.get(tenant, NS, "a")
        assert (missed.hit, missed.value) == (False, None)
        assert cache.set(tenant, NS, "a", {"name": "Gold", "price": 250000}, ttl=TTL) is True
        lookup = cache.get(tenant, NS, "a")
        assert (lookup.hit, lookup.value) == (True, {"name": "Gold", "price": 250000})

    def test_overwrite_and_none(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A second set replaces the value; a stored None is a hit, told apart from a miss."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "a", [2, 3], ttl=TTL)
        assert cache.get(tenant, NS, "a").value == [2, 3]
        cache.set(tenant, NS, "nothing", None, ttl=TTL)
        lookup = cache.get(tenant, NS, "nothing")
        assert (lookup.hit, lookup.value) == (True, None)

    def test_json_round_trip(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Nested JSON (unicode, big ints, floats, empty containers) comes back equal."""
        value: dict[str, Any] = {
            "text": "Zoë 李 \U0001f389 \u202e <b>",
            "big": 2**62,
            "neg": -(2**53) - 1,
            "float": 0.1,
            "empty": [[], {}],
            "flags": [True, False, None],
        }
        assert cache.set(tenant, NS, "v", value, ttl=TTL) is True
        assert cache.get(tenant, NS, "v").value == value

    def test_json_values_round_trip(self, cache: CachePort) -> None:
        """Any strict JSON value (random nesting of null, bools, 64-bit ints, finite floats,
        text, lists and objects) comes back equal (Hypothesis; skipped when not installed)."""
        pytest.importorskip("hypothesis")
        from hypothesis import given, settings  # noqa: PLC0415 - optional, for this test only
        from hypothesis import strategies as st  # noqa: PLC0415

        json_values = st.recursive(
            st.none()
            | st.booleans()
            | st.integers(min_value=-(2**63), max_value=2**63)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=12,
        )

        @settings(max_examples=40, deadline=None, database=None)
        @given(value=json_values)
        def check(value: Any) -> None:
            tenant = uuid.uuid4()
            assert cache.set(tenant, NS, "v", value, ttl=TTL) is True
            lookup = cache.get(tenant, NS, "v")
            assert (lookup.hit, lookup.value) == (True, value)

        check()

    def test_reads_are_copies(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Mutating a returned value (or the one passed to set) never changes the cached one."""
        original: dict[str, Any] = {"tags": ["a"], "n": 1}
        cache.set(tenant, NS, "k", original, ttl=TTL)
        original["tags"].append("mutated-after-set")
        first = cache.get(tenant, NS, "k").value
        assert isinstance(first, dict)
        first["n"] = 99
        assert cache.get(tenant, NS, "k").value == {"tags": ["a"], "n": 1}

    @pytest.mark.parametrize(
        "value",
        [
            (1, 2),
            {1: "int key"},
            {"nested": [object()]},
            float("nan"),
            float("inf"),
            b"bytes",
            {"set": {1, 2}},
        ],
        ids=["tuple", "int-key", "object", "nan", "inf", "bytes", "set"],
    )
    def test_only_json_values(self, cache: CachePort, tenant: uuid.UUID, value: Any) -> None:
        """Non-JSON values are refused with ValidationError and nothing is stored (no pickle)."""
        with pytest.raises(ValidationError) as caught:
            cache.set(tenant, NS, "bad", value, ttl=TTL)
        assert caught.value.field.startswith("value")
        assert cache.get(tenant, NS, "bad").hit is False

    @pytest.mark.parametrize("namespace", ["", "Catalog", "a:b", "a{b}", "x" * 65, "sp ace"])
    def test_bad_namespace(self, cache: CachePort, tenant: uuid.UUID, namespace: str) -> None:
        """Namespaces are 1-64 chars of [a-z0-9_.-]; anything else is a ValidationError."""
        with pytest.raises(ValidationError) as caught:
            cache.get(tenant, namespace, "k")
        assert caught.value.field == "namespace"

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
    def test_bad_ttl(self, cache: CachePort, tenant: uuid.UUID, ttl: float) -> None:
        """A TTL must be a finite number of seconds > 0."""
        with pytest.raises(ValidationError) as caught:
            cache.set(tenant, NS, "k", 1, ttl=ttl)
        assert caught.value.field == "ttl"

    def test_ttl_expiry(
        self, cache: CachePort, tenant: uuid.UUID, advance: Callable[[float], None]
    ) -> None:
        """An entry is served before its TTL elapses (also once some time has passed) and
        missed after; a longer TTL is unaffected."""
        cache.set(tenant, NS, "short", "s", ttl=0.3)
        cache.set(tenant, NS, "long", "l", ttl=TTL)
        assert cache.get(tenant, NS, "short").value == "s"
        advance(0.05)
        assert cache.get(tenant, NS, "short").value == "s"
        advance(0.45)
        assert cache.get(tenant, NS, "short").hit is False
        assert cache.get(tenant, NS, "long").value == "l"

    def test_get_many(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """get_many answers every key once: hits with values, misses without, one token."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "c", {"x": 3}, ttl=TTL)
        result = cache.get_many(tenant, NS, ["a", "b", "c", "a"])
        assert {k: (v.hit, v.value) for k, v in result.items()} == {
            "a": (True, 1),
            "b": (False, None),
            "c": (True, {"x": 3}),
        }
        assert len({lookup.token for lookup in result.values()}) == 1
        assert cache.get_many(tenant, NS, []) == {}

    def test_delete(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """delete removes one entry only; deleting a missing key is fine."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "b", 2, ttl=TTL)
        cache.delete(tenant, NS, "a")
        cache.delete(tenant, NS, "never-set")
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, NS, "b").value == 2

    def test_invalidate_namespace(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating a namespace hides all its entries and leaves other namespaces alone;
        new writes are visible again."""
        for key in ("a", "b"):
            cache.set(tenant, NS, key, key, ttl=TTL)
        cache.set(tenant, OTHER_NS, "a", "other", ttl=TTL)
        cache.invalidate_namespace(tenant, NS)
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, NS, "b").hit is False
        assert cache.get(tenant, OTHER_NS, "a").value == "other"
        cache.set(tenant, NS, "a", "fresh", ttl=TTL)
        assert cache.get(tenant, NS, "a").value == "fresh"

    def test_invalidate_tenant(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating a tenant hides every namespace of it; other tenants are untouched."""
        other = uuid.uuid4()
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, OTHER_NS, "a", 2, ttl=TTL)
        cache.set(other, NS, "a", 3, ttl=TTL)
        cache.invalidate_tenant(tenant)
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, OTHER_NS, "a").hit is False
        assert cache.get(other, NS, "a").value == 3
        cache.set(tenant, NS, "a", "again", ttl=TTL)
        assert cache.get(tenant, NS, "a").value == "again"

    def test_invalidations_are_idempotent(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating twice, or a tenant with nothing cached, is fine."""
        cache.invalidate_tenant(tenant)
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.invalidate_namespace(tenant, NS)
        cache.invalidate_namespace(tenant, NS)
        assert cache.get(tenant, NS, "a").hit is False

    def test_stale_token_after_namespace_invalidation(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """A value loaded before an invalidation and written with the read's token never shows."""
        lookup = cache.get(tenant, NS, "pkg")  # a read-through starts: miss
        assert lookup.hit is False
        cache.invalidate_namespace(tenant, NS)  # a write commits meanwhile
        assert cache.set(tenant, NS, "pkg", "stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_stale_token_after_tenant_invalidation(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """The tenant generation is part of the token too."""
        cache.set(tenant, NS, "pkg", "v1", ttl=TTL)
        lookup = cache.get(tenant, NS, "pkg")
        cache.invalidate_tenant(tenant)
        assert cache.set(tenant, NS, "pkg", "v1-stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_current_token_writes(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """With no invalidation in between, a write with the read's token is stored; a token
        of another namespace's invalidation does not matter."""
        cache.invalidate_namespace(tenant, NS)
        lookup = cache.get(tenant, NS, "pkg")
        assert lookup.token.known
        cache.invalidate_namespace(tenant, OTHER_NS)
        assert cache.set(tenant, NS, "pkg", "fresh", ttl=TTL, token=lookup.token) is True
        assert cache.get(tenant, NS, "pkg").value == "fresh"

    def test_unknown_token_is_skipped(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A token from a failed read cannot prove freshness: nothing is written."""
        assert cache.set(tenant, NS, "pkg", 1, ttl=TTL, token=UNKNOWN_GENERATION) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_read_through(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """read_through loads once and serves hits after; a load that overlaps an invalidation
        is returned but not cached."""
        calls: list[str] = []

        def load_then_writer_commits() -> str:
            calls.append("racing")
            cache.invalidate_namespace(tenant, NS)  # the writer's after-commit invalidation
            return "loaded-before-commit"

        assert read_through(cache, tenant, NS, "pkg", load_then_writer_commits, ttl=TTL) == (
            "loaded-before-commit"
        )
        assert cache.get(tenant, NS, "pkg").hit is False

        def load() -> str:
            calls.append("plain")
            return "after"

        for _ in range(3):
            assert read_through(cache, tenant, NS, "pkg", load, ttl=TTL) == "after"
        assert calls == ["racing", "plain"]
        assert cache.get(tenant, NS, "pkg").value == "after"

    def test_read_through_encodes_and_decodes(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """read_through stores ``encode(loaded)`` and serves ``decode(cached)``, so non-JSON
        values (a tuple here) round-trip through it; the loader runs on the first miss only."""
        calls: list[int] = []

        def loader() -> tuple[int, str]:
            calls.append(1)
            return (7, "seven")

        def decode(raw: Any) -> tuple[int, str]:
            return (raw[0], raw[1])

        for _ in range(3):
            got = read_through(cache, tenant, NS, "t", loader, ttl=TTL, encode=list, decode=decode)
            assert got == (7, "seven")
        assert len(calls) == 1
        assert cache.get(tenant, NS, "t").value == [7, "seven"]

    def test_stats(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Hits, misses and sets are counted exactly from a fresh adapter; hit rate is
        hits / reads; a skipped stale write is not a set."""
        assert cache.stats() == CacheStats()
        cache.get(tenant, NS, "a")
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.get(tenant, NS, "a")
        cache.get(tenant, NS, "a")
        cache.get_many(tenant, NS, ["a", "b"])
        lookup = cache.get(tenant, NS, "z")
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "z", 1, ttl=TTL, token=lookup.token)
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.errors, stats.sets) == (3, 3, 0, 1)
        assert stats.hit_rate == pytest.approx(0.5)

    def test_ping(self, cache: CachePort) -> None:
        """A reachable backend answers the health check."""
        assert cache.ping() is True

    def test_tenant_isolation(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Tenant B cannot read, overwrite, delete or invalidate tenant A's entries."""
        tenant_b = uuid.uuid4()
        cache.set(tenant, NS, "pkg", {"owner": "A"}, ttl=TTL)
        assert cache.get(tenant_b, NS, "pkg").hit is False
        assert cache.get_many(tenant_b, NS, ["pkg"])["pkg"].hit is False
        cache.set(tenant_b, NS, "pkg", {"owner": "B"}, ttl=TTL)
        assert cache.get(tenant_b, NS, "pkg").value == {"owner": "B"}
        cache.delete(tenant_b, NS, "pkg")
        cache.invalidate_namespace(tenant_b, NS)
        cache.invalidate_tenant(tenant_b)
        assert cache.get(tenant, NS, "pkg").value == {"owner": "A"}

    def test_keys_are_opaque_text(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Keys with separators, braces, spaces or unicode do not collide or escape the tenant."""
        keys = ["a:b", "a", "b", "{tenant}", "*", "sp ace", "é", "a:b:c"]
        for index, key in enumerate(keys):
            cache.set(tenant, NS, key, index, ttl=TTL)
        assert [cache.get(tenant, NS, key).value for key in keys] == list(range(len(keys)))
        assert cache.get(uuid.uuid4(), NS, "a:b").hit is False

    def test_matches_a_dict_model(self, cache: CachePort) -> None:
        """Random sequences of set/get/delete/invalidate behave like a dict (Hypothesis; skipped
        when it is not installed)."""
        pytest.importorskip("hypothesis")
        from hypothesis import given, settings  # noqa: PLC0415 - optional, for this test only
        from hypothesis import strategies as st  # noqa: PLC0415

        ops = st.lists(
            st.tuples(
                st.sampled_from(["set", "get", "delete", "inv_ns", "inv_tenant", "stale_set"]),
                st.integers(0, 1),
                st.sampled_from([NS, OTHER_NS]),
                st.sampled_from(["a", "b", "c"]),
                st.integers(-5, 5),
            ),
            max_size=30,
        )

        @settings(max_examples=60, deadline=None, database=None)
        @given(ops=ops)
        def check(ops: list[tuple[str, int, str, str, int]]) -> None:
            _run_model(cache, ops)

        check()


def _run_model(cache: CachePort, ops: list[tuple[str, int, str, str, int]]) -> None:
    tenants = [uuid.uuid4(), uuid.uuid4()]
    model: dict[tuple[uuid.UUID, str, str], int] = {}
    for op, index, namespace, key, value in ops:
        tenant = tenants[index]
        if op == "set":
            assert cache.set(tenant, namespace, key, value, ttl=TTL) is True
            model[tenant, namespace, key] = value
        elif op == "get":
            lookup = cache.get(tenant, namespace, key)
            expected = model.get((tenant, namespace, key))
            assert (lookup.hit, lookup.value) == (expected is not None, expected)
        elif op == "delete":
            cache.delete(tenant, namespace, key)
            model.pop((tenant, namespace, key), None)
        elif op == "inv_ns":
            cache.invalidate_namespace(tenant, namespace)
            model = {k: v for k, v in model.items() if k[:2] != (tenant, namespace)}
        elif op == "inv_tenant":
            cache.invalidate_tenant(tenant)
            model = {k: v for k, v in model.items() if k[0] != tenant}
        else:  # a read-through that lost the race against an invalidation
            token = cache.get(tenant, namespace, key).token
            cache.invalidate_namespace(tenant, namespace)
            model = {k: v for k, v in model.items() if k[:2] != (tenant, namespace)}
            assert cache.set(tenant, namespace, key, value, ttl=TTL, token=token) is False
    for (tenant, namespace, key), value in model.items():
        assert cache.get(tenant, namespace, key).value == value
