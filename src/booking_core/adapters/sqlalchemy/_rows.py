"""Entities to rows and back, where a table's columns are not an entity's fields one to one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Row,
)

from booking_core.adapters.sqlalchemy._db import asdict
from booking_core.domain.model import (
    Assignment,
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    Package,
    PackageSchedule,
    RecurringBlackout,
    RefundTier,
    Resource,
    ResourceNeed,
    ResourceTimeOff,
    Tenant,
)
from booking_core.domain.money import plain_decimal
from booking_core.domain.schedule import SlotTiming, WorkingHours


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
        "blackout_rules": [
            {
                "rrule": rule.rrule,
                "starts_on": rule.starts_on.isoformat(),
                "except_on": [day.isoformat() for day in rule.except_on],
                "reason": rule.reason,
            }
            for rule in tenant.blackout_rules
        ]
        or None,
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
        blackout_rules=tuple(
            RecurringBlackout(
                rule["rrule"],
                dt.date.fromisoformat(rule["starts_on"]),
                tuple(dt.date.fromisoformat(day) for day in rule["except_on"]),
                rule["reason"],
            )
            for rule in m["blackout_rules"] or ()
        ),
    )


def _seconds(span: dt.timedelta) -> int | float:
    seconds = span.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _span(seconds: float | None) -> dt.timedelta | None:
    return None if seconds is None else dt.timedelta(seconds=seconds)


def _schedule_row(schedule: PackageSchedule | None) -> dict[str, Any] | None:
    """A package's schedule as the JSON of ``bc_packages.schedule`` (spans in seconds)."""
    if schedule is None:
        return None
    timing = schedule.timing
    return {
        "timing": {
            "duration": _seconds(timing.duration),
            "buffer_before": _seconds(timing.buffer_before),
            "buffer_after": _seconds(timing.buffer_after),
            "slot_interval": (
                None if timing.slot_interval is None else _seconds(timing.slot_interval)
            ),
            "min_notice": _seconds(timing.min_notice),
            "horizon": _seconds(timing.horizon),
            "max_per_day": timing.max_per_day,
        },
        "resource_ids": [str(resource_id) for resource_id in schedule.resource_ids],
        "need": schedule.need.value,
        "assignment": schedule.assignment.value,
    }


def _schedule(data: Mapping[str, Any] | None) -> PackageSchedule | None:
    """The inverse of :func:`_schedule_row`; stored data is trusted to have its shape."""
    if data is None:
        return None
    timing = data["timing"]
    return PackageSchedule(
        timing=SlotTiming(
            duration=dt.timedelta(seconds=timing["duration"]),
            buffer_before=dt.timedelta(seconds=timing["buffer_before"]),
            buffer_after=dt.timedelta(seconds=timing["buffer_after"]),
            slot_interval=_span(timing["slot_interval"]),
            min_notice=dt.timedelta(seconds=timing["min_notice"]),
            horizon=dt.timedelta(seconds=timing["horizon"]),
            max_per_day=timing["max_per_day"],
        ),
        resource_ids=tuple(uuid.UUID(resource_id) for resource_id in data["resource_ids"]),
        need=ResourceNeed(data["need"]),
        assignment=Assignment(data["assignment"]),
    )


def _package_row(package: Package) -> dict[str, Any]:
    row = asdict(package)
    row["photo_urls"] = list(package.photo_urls)
    row["schedule"] = _schedule_row(package.schedule)
    return row


_PACKAGE_FIELDS = tuple(Package.__dataclass_fields__)


def _package_from(m: Mapping[Any, Any], prefix: str = "") -> Package:
    """A package from a row's mapping, its columns named ``prefix + field``."""
    fields = {name: m[prefix + name] for name in _PACKAGE_FIELDS}
    fields["photo_urls"] = tuple(fields["photo_urls"])
    fields["schedule"] = _schedule(fields["schedule"])
    return Package(**fields)


def _package(row: Row[Any]) -> Package:
    return _package_from(row._mapping)


def _resource_row(resource: Resource) -> dict[str, Any]:
    row = asdict(resource)
    row["hours"] = resource.hours.to_primitive()
    return row


def _resource(row: Row[Any]) -> Resource:
    m = dict(row._mapping)
    m["hours"] = WorkingHours.from_primitive(m["hours"])
    return Resource(**m)


def _time_off_row(time_off: ResourceTimeOff) -> dict[str, Any]:
    return {
        "tenant_id": time_off.tenant_id,
        "id": time_off.id,
        "resource_id": time_off.resource_id,
        "starts_at": time_off.start,
        "ends_at": time_off.end,
        "reason": time_off.reason,
    }


def _time_off(row: Row[Any]) -> ResourceTimeOff:
    m = row._mapping
    return ResourceTimeOff(
        id=m["id"],
        tenant_id=m["tenant_id"],
        resource_id=m["resource_id"],
        start=m["starts_at"],
        end=m["ends_at"],
        reason=m["reason"],
    )


def _resource_ids_row(resource_ids: Sequence[uuid.UUID]) -> list[str] | None:
    """``bc_bookings.resource_ids``: a list of strings, NULL for a date booking's none."""
    return [str(resource_id) for resource_id in resource_ids] or None


def _booking_row(booking: Booking) -> dict[str, Any]:
    row = {name: getattr(booking, name) for name in Booking.__dataclass_fields__}
    row.pop("add_ons")
    row["status"] = booking.status.value
    row["resource_ids"] = _resource_ids_row(booking.resource_ids)
    return row


def _line_rows(booking: Booking) -> list[dict[str, Any]]:
    """The rows of a booking's add-on lines."""
    return [
        {"tenant_id": booking.tenant_id, "booking_id": booking.id, **asdict(line)}
        for line in booking.add_ons
    ]


_BOOKING_COLUMNS = tuple(name for name in Booking.__dataclass_fields__ if name != "add_ons")


def _booking(row: Row[Any], lines: Sequence[BookingAddOn]) -> Booking:
    """A booking from its row (other columns of the row, a joined line's, are ignored)."""
    m = row._mapping
    fields = {name: m[name] for name in _BOOKING_COLUMNS}
    fields["status"] = BookingStatus(fields["status"])
    fields["resource_ids"] = tuple(uuid.UUID(value) for value in fields["resource_ids"] or ())
    return Booking(**fields, add_ons=tuple(lines))
