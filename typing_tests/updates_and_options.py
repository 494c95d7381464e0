"""Static checks of updates (typed keywords, UNSET), keyword-only options and the limits.

``# type: ignore[code]`` marks a call that must stay an error: under ``--strict``
(``warn_unused_ignores``) an ignore that is no longer needed fails the check.
"""

from __future__ import annotations

import uuid
from typing import assert_type

import booking_core
from booking_core import (
    UNSET,
    AddOn,
    BookingApp,
    CacheSettings,
    Package,
    Segment,
    Tenant,
    Unset,
    Venue,
)
from booking_core.limits import MAX_BATCH, MAX_RANGE_DAYS
from booking_core.services.settings import CacheSettings as PublicCacheSettings
from booking_core.testing import set_testing


def updates(app: BookingApp, tenant_id: uuid.UUID, entity_id: uuid.UUID) -> None:
    catalog = app.catalog
    assert_type(catalog.update_segment(tenant_id, entity_id, name="Weddings"), Segment)
    assert_type(catalog.update_package(tenant_id, entity_id, segment_id=None), Package)
    assert_type(catalog.update_add_on(tenant_id, entity_id, price=100, active=UNSET), AddOn)
    assert_type(catalog.update_venue(tenant_id, entity_id, capacity=3), Venue)
    catalog.update_package(tenant_id, entity_id, colour="red")  # type: ignore[arg-type]
    catalog.update_package(tenant_id, entity_id, name=None)  # type: ignore[arg-type]
    catalog.update_package(tenant_id, entity_id, "Gold")  # type: ignore[call-arg]
    assert_type(app.tenants.update(tenant_id, name="Lumière", timezone=UNSET), Tenant)
    app.tenants.update(tenant_id, name=None)  # type: ignore[arg-type]


def sentinel(value: str | Unset) -> str:
    if value is UNSET:
        return "left as is"
    assert_type(value, str)  # narrowed: UNSET is the only member of Unset
    return value


def options(app: BookingApp, tenant_id: uuid.UUID) -> None:
    app.outbox.claim(batch_size=MAX_BATCH, tenant_id=tenant_id)
    app.outbox.claim(100)  # type: ignore[call-arg]
    app.catalog.list_packages(tenant_id, segment_slug="weddings")
    app.catalog.list_packages(tenant_id, "weddings")  # type: ignore[call-arg]
    days: int = MAX_RANGE_DAYS
    assert days > 0


def settings() -> None:
    assert PublicCacheSettings is CacheSettings
    assert_type(booking_core.CacheSettings(catalog_ttl=60.0), CacheSettings)
    with set_testing(True):
        pass
    set_testing(False)
