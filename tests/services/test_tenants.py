"""Tenant management on every backend: creation, validation, lookup and deactivation."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingPolicy
from booking_core.errors import (
    AlreadyExistsError,
    NotFoundError,
    TenantInactiveError,
    ValidationError,
)

from .conftest import Shop, unique_slug


def test_tenant_create_get_and_validation(app: BookingApp) -> None:
    """A tenant is created with its currency upper-cased and its commission as a Decimal, found by
    id and slug; a taken slug raises AlreadyExistsError and each invalid field raises
    ValidationError naming it; an unknown id raises NotFoundError."""
    slug = unique_slug()
    tenant = app.tenants.create(
        slug=slug, name="Acme", timezone="Asia/Kolkata", currency="inr", commission_percent="12.5"
    )
    assert (tenant.currency, tenant.commission_percent, tenant.active) == (
        "INR",
        Decimal("12.5"),
        True,
    )
    assert app.tenants.get(tenant.id) == tenant
    assert app.tenants.get_by_slug(slug) == tenant
    with pytest.raises(AlreadyExistsError) as caught:
        app.tenants.create(slug=slug, name="Other", timezone="UTC", currency="EUR")
    assert caught.value.field == "slug"
    bad = [
        ("slug", {"slug": "Not A Slug!"}),
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("timezone", {"timezone": "../etc/passwd"}),
        ("currency", {"currency": "EURO"}),
        ("commission_percent", {"commission_percent": 51}),
        ("commission_percent", {"commission_percent": -1}),
        ("commission_percent", {"commission_percent": 1.5}),
        ("commission_percent", {"commission_percent": "12.345"}),
        ("name", {"name": " "}),
        ("name", {"name": None}),
        ("policy.capacity_per_date", {"policy": BookingPolicy(capacity_per_date=0)}),
        ("policy.horizon_days", {"policy": BookingPolicy(min_notice_days=5, horizon_days=2)}),
    ]
    for field, override in bad:
        args: dict[str, object] = {
            "slug": unique_slug(),
            "name": "X",
            "timezone": "UTC",
            "currency": "EUR",
        }
        args.update(override)
        with pytest.raises(ValidationError) as error:
            app.tenants.create(**args)  # type: ignore[arg-type]
        assert error.value.field == field, override
    with pytest.raises(NotFoundError):
        app.tenants.get(uuid.uuid4())


def test_tenant_deactivation_refuses_operations(app: BookingApp, shop: Shop) -> None:
    """A deactivated tenant reads back inactive, and catalog and customer operations on it raise
    TenantInactiveError."""
    app.tenants.deactivate(shop.tenant.id)
    assert app.tenants.get(shop.tenant.id).active is False
    for call in (
        lambda: app.catalog.list_packages(shop.tenant.id),
        lambda: app.catalog.create_segment(shop.tenant.id, slug="x", name="X"),
        lambda: app.customers.list(shop.tenant.id),
    ):
        with pytest.raises(TenantInactiveError):
            call()


def test_concurrent_edits_of_one_tenant_keep_both(app: BookingApp, shop: Shop) -> None:
    """Edits of different fields racing from four threads never lose one another: each write
    is a compare-and-swap on the tenant's version, so the tenant ends with every field's last
    value and a version grown by every edit."""
    tid = shop.tenant.id
    before = app.tenants.get(tid).version
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def edit(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            for _ in range(3):
                if index % 2:
                    app.tenants.update(tid, commission_percent=20)
                else:
                    app.tenants.update_policy(tid, BookingPolicy(capacity_per_date=7))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    tenant = app.tenants.get(tid)
    assert (tenant.commission_percent, tenant.policy.capacity_per_date) == (Decimal(20), 7)
    assert tenant.version == before + 12
