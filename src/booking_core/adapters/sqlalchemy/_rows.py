"""Entities to rows and back, where a table's columns are not an entity's fields one to one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Row,
)

from booking_core.adapters.sqlalchemy._db import asdict
from booking_core.domain.model import (
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    Package,
    RefundTier,
    Tenant,
)
from booking_core.domain.money import plain_decimal


def _tenant_row(tenant: Tenant) -> dict[str, Any]:
    policy = tenant.policy
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "currency": tenant.currency,
        "commission_percent": tenant.commission_percent,
        "active": tenant.active,
        "capacity_per_date": policy.capacity_per_date,
        "hold_ttl_seconds": int(policy.hold_ttl.total_seconds()),
        "min_notice_days": policy.min_notice_days,
        "horizon_days": policy.horizon_days,
        "cancellation": {
            "tiers": [[tier.days_before, tier.percent] for tier in tenant.cancellation.tiers],
            "fee": tenant.cancellation.fee,
        },
    }


def _tenant(row: Row[Any]) -> Tenant:
    m = row._mapping
    return Tenant(
        id=m["id"],
        slug=m["slug"],
        name=m["name"],
        timezone=m["timezone"],
        currency=m["currency"],
        commission_percent=plain_decimal(Decimal(m["commission_percent"])),
        active=bool(m["active"]),
        policy=BookingPolicy(
            capacity_per_date=m["capacity_per_date"],
            hold_ttl=dt.timedelta(seconds=m["hold_ttl_seconds"]),
            min_notice_days=m["min_notice_days"],
            horizon_days=m["horizon_days"],
        ),
        cancellation=CancellationPolicy(
            tiers=tuple(RefundTier(days, pct) for days, pct in m["cancellation"]["tiers"]),
            fee=m["cancellation"]["fee"],
        ),
        version=m["version"],
    )


def _package_row(package: Package) -> dict[str, Any]:
    row = asdict(package)
    row["photo_urls"] = list(package.photo_urls)
    return row


def _package(row: Row[Any]) -> Package:
    m = dict(row._mapping)
    m["photo_urls"] = tuple(m["photo_urls"])
    return Package(**m)


def _booking_row(booking: Booking) -> dict[str, Any]:
    row = {name: getattr(booking, name) for name in Booking.__dataclass_fields__}
    row.pop("add_ons")
    row["status"] = booking.status.value
    return row


_BOOKING_COLUMNS = tuple(name for name in Booking.__dataclass_fields__ if name != "add_ons")


def _booking(row: Row[Any], lines: Sequence[BookingAddOn]) -> Booking:
    """A booking from its row (other columns of the row, a joined line's, are ignored)."""
    m = row._mapping
    fields = {name: m[name] for name in _BOOKING_COLUMNS}
    fields["status"] = BookingStatus(fields["status"])
    return Booking(**fields, add_ons=tuple(lines))
