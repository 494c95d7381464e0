"""Catalog management on every backend: segments, packages, add-ons, validation, uniqueness."""

from __future__ import annotations

import uuid

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.errors import (
    AlreadyExistsError,
    NotFoundError,
    ValidationError,
)

from .conftest import Shop, make_shop


def test_catalog_listing_and_package_details(app: BookingApp, shop: Shop) -> None:
    """Segments and packages list in their sort and group order, get_package returns the package
    with its active offered add-ons, and deactivated packages and add-ons drop out; unknown slugs
    raise NotFoundError."""
    tid = shop.tenant.id
    other = app.catalog.create_segment(tid, slug="portraits", name="Portraits", sort_order=-1)
    app.catalog.create_package(tid, slug="mini", name="Mini", base_price=9_900, segment_id=other.id)
    app.catalog.create_package(
        tid,
        slug="silver",
        name="Silver",
        base_price=150_000,
        segment_id=shop.segment.id,
        group_order=-1,
    )
    assert [s.slug for s in app.catalog.list_segments(tid)] == ["portraits", "weddings"]
    assert [p.slug for p in app.catalog.list_packages(tid, segment_slug="weddings")] == [
        "silver",
        "gold",
    ]
    assert {p.slug for p in app.catalog.list_packages(tid)} == {"mini", "silver", "gold"}
    details = app.catalog.get_package(tid, "gold")
    assert details.package == shop.package
    assert [a.slug for a in details.add_ons] == ["album"]
    app.catalog.deactivate_add_on(tid, shop.album.id)
    assert app.catalog.get_package(tid, "gold").add_ons == ()
    app.catalog.deactivate_package(tid, shop.package.id)
    assert [p.slug for p in app.catalog.list_packages(tid, segment_slug="weddings")] == ["silver"]
    with pytest.raises(NotFoundError):
        app.catalog.get_package(tid, "gold")
    with pytest.raises(NotFoundError):
        app.catalog.list_packages(tid, segment_slug="nope")


def test_catalog_text_is_sanitized_not_escaped(app: BookingApp, shop: Shop) -> None:
    """Package names lose markup and descriptions lose control characters but are not HTML-escaped;
    javascript: photo URLs, more than five photos and unknown fields raise ValidationError naming
    the field."""
    package = app.catalog.update_package(
        shop.tenant.id,
        shop.package.id,
        name="Gold <script>alert(1)</script>& Co",
        description="Line 1\nLine 2\x00",
        photo_urls=["https://cdn.example.com/a.jpg"],
    )
    assert package.name == "Gold & Co"
    assert package.description == "Line 1\nLine 2"
    with pytest.raises(ValidationError) as caught:
        app.catalog.update_package(
            shop.tenant.id, shop.package.id, photo_urls=["javascript:alert(1)"]
        )
    assert caught.value.field == "photo_urls.0"
    with pytest.raises(ValidationError):
        app.catalog.update_package(
            shop.tenant.id, shop.package.id, photo_urls=["https://x.io/a"] * 6
        )
    with pytest.raises(ValidationError) as caught:
        app.catalog.update_package(shop.tenant.id, shop.package.id, colour="red")
    assert caught.value.field == "colour"


def test_uniqueness_is_per_tenant(app: BookingApp, shop: Shop) -> None:
    """Slugs and venue names are unique inside a tenant, free across tenants."""
    with pytest.raises(AlreadyExistsError) as caught:
        app.catalog.create_package(shop.tenant.id, slug="gold", name="Gold 2", base_price=1)
    assert (caught.value.entity, caught.value.field) == ("package", "slug")
    with pytest.raises(AlreadyExistsError):
        app.catalog.create_add_on(shop.tenant.id, slug="album", name="A", price=1)
    with pytest.raises(AlreadyExistsError):
        app.catalog.create_segment(shop.tenant.id, slug="weddings", name="W")
    app.catalog.create_venue(shop.tenant.id, name="Hall")
    with pytest.raises(AlreadyExistsError) as caught:
        app.catalog.create_venue(shop.tenant.id, name="Hall")
    assert caught.value.field == "name"
    other = make_shop(app)  # same slugs in another tenant are fine
    assert other.package.slug == "gold"
    app.catalog.create_venue(other.tenant.id, name="Hall")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("base_price", {"base_price": -1}),
        ("base_price", {"base_price": 10.5}),
        ("base_price", {"base_price": "100"}),
        ("slug", {"slug": "-bad-"}),
        ("name", {"name": ""}),
        ("photo_urls", {"photo_urls": "https://x.io/a.jpg"}),
        ("segment_id", {"segment_id": "seg"}),
        ("group_order", {"group_order": None}),
    ],
)
def test_package_validation(
    app: BookingApp, shop: Shop, field: str, kwargs: dict[str, object]
) -> None:
    """Each invalid create_package argument raises ValidationError naming exactly that field, and
    the tenant's packages stay as they were."""
    args: dict[str, object] = {"slug": "new", "name": "New", "base_price": 100}
    args.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        app.catalog.create_package(shop.tenant.id, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert [p.slug for p in app.catalog.list_packages(shop.tenant.id)] == ["gold"]


def test_offer_add_on_rules(app: BookingApp, shop: Shop) -> None:
    """An add-on scoped to another segment cannot be offered; offering is idempotent and withdrawing
    removes it; an unknown package or segment raises NotFoundError."""
    tid = shop.tenant.id
    other_segment = app.catalog.create_segment(tid, slug="corporate", name="Corporate")
    scoped = app.catalog.create_add_on(
        tid, slug="badge", name="Badge", price=100, segment_id=other_segment.id
    )
    with pytest.raises(ValidationError):
        app.catalog.offer_add_on(tid, shop.package.id, scoped.id)
    app.catalog.offer_add_on(tid, shop.package.id, shop.drone.id)
    app.catalog.offer_add_on(tid, shop.package.id, shop.drone.id)  # idempotent
    assert [a.slug for a in app.catalog.get_package(tid, "gold").add_ons] == ["album", "drone"]
    app.catalog.withdraw_add_on(tid, shop.package.id, shop.drone.id)
    assert [a.slug for a in app.catalog.get_package(tid, "gold").add_ons] == ["album"]
    with pytest.raises(NotFoundError):
        app.catalog.offer_add_on(tid, uuid.uuid4(), shop.drone.id)
    with pytest.raises(NotFoundError):
        app.catalog.create_package(tid, slug="x", name="X", base_price=1, segment_id=uuid.uuid4())
