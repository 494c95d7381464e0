"""The catalog and customers: round trips, per-tenant unique keys, upserts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from booking_core.domain import lifecycle
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    AddOn,
    BlackoutDate,
    Package,
    Refund,
    RefundState,
    Segment,
    Venue,
)
from booking_core.errors import (
    AlreadyExistsError,
    NotFoundError,
    TransientStorageError,
)
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.testing.contracts._shop import (
    _MINUTE,
    DAY,
    HOLD,
    NOW,
    Shop,
    _customer,
    _hold,
    _store_shop,
    _tenant,
    _UowBase,
)


class CatalogContract(_UowBase):
    """The catalog and customers: round trips, per-tenant unique keys, upserts."""

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
                    uow.bookings.place_hold(foreign, customer, capacity=1, now=NOW)
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
            assert uow.bookings.lapsed(NOW + HOLD * 2, tenant_id=b, limit=10) == []
            assert uow.blackouts.remove(b, DAY) is False
        # A change of A's booking as if it were B's finds nothing to swap.
        seen_as_b = replace(placed, tenant_id=b)
        for change in (
            lifecycle.cancel(seen_as_b, reason="", now=NOW),
            lifecycle.expire(seen_as_b, now=NOW + HOLD * 2),
            lifecycle.note_refund_outcome(
                seen_as_b,
                refund_id=refund.id,
                amount=0,
                succeeded=True,
                failure_reason=None,
                now=NOW,
            ),
        ):
            assert change is not None
            with uow_factory() as uow, pytest.raises(TransientStorageError):
                uow.bookings.save(change)
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
