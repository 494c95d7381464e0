"""Repositories of the tenant and its catalog: tenants, API keys, segments, packages, add-ons,
venues, customers, blackout dates. Every statement filters by ``tenant_id`` first."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    delete,
    select,
    update,
)

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._db import Db, R, _Scoped, asdict
from booking_core.adapters.sqlalchemy._rows import _package, _package_row, _tenant, _tenant_row
from booking_core.domain.model import (
    AddOn,
    ApiKey,
    BlackoutDate,
    CalendarFeed,
    Customer,
    Package,
    Segment,
    Tenant,
    Venue,
)
from booking_core.errors import TransientStorageError


class SqlTenantRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, tenant: Tenant) -> None:
        row = _tenant_row(tenant)
        self._db.execute(t.tenants.insert(), row, row=row)

    def update(self, tenant: Tenant) -> None:
        row = _tenant_row(tenant)
        c = t.tenants.c
        stmt = (
            update(t.tenants)
            .where(c.id == tenant.id, c.version == tenant.version)
            .values({**row, "version": c.version + 1})
        )
        if self._db.execute(stmt, row=row).rowcount != 1:
            raise TransientStorageError("the tenant changed since it was read")

    def touch(self, tenant_id: uuid.UUID) -> None:
        c = t.tenants.c
        self._db.execute(update(t.tenants).where(c.id == tenant_id).values(version=c.version + 1))

    def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        found = self._db.execute(select(t.tenants).where(t.tenants.c.id == tenant_id)).first()
        return None if found is None else _tenant(found)

    def get_by_slug(self, slug: str) -> Tenant | None:
        found = self._db.execute(select(t.tenants).where(t.tenants.c.slug == slug)).first()
        return None if found is None else _tenant(found)


class _Listed(_Scoped[R]):
    """A catalog table with an ``active`` flag, listed in the order of :attr:`order`."""

    order: ClassVar[tuple[str, ...]]

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[R]:
        c = self.table.c
        conditions = [c.active.is_(True)] if active_only else []
        return self._list(tenant_id, *conditions, order_by=[c[name] for name in self.order])


class SqlSegmentRepository(_Listed[Segment]):
    table = t.segments
    entity = Segment
    order = ("sort_order", "slug")


class SqlPackageRepository(_Scoped[Package]):
    table = t.packages
    entity = Package

    def _to_row(self, obj: Package) -> dict[str, Any]:
        return _package_row(obj)

    def _from_row(self, row: Row[Any]) -> Package:
        return _package(row)

    def list(
        self, tenant_id: uuid.UUID, *, segment_id: uuid.UUID | None, active_only: bool
    ) -> builtins.list[Package]:
        c = self.table.c
        conditions: builtins.list[ColumnElement[bool]] = [c.active.is_(True)] if active_only else []
        if segment_id is not None:
            conditions.append(c.segment_id == segment_id)
        return self._list(tenant_id, *conditions, order_by=[c.grouping, c.group_order, c.slug])

    def offer_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        row = {"tenant_id": tenant_id, "package_id": package_id, "add_on_id": add_on_id}
        stmt = self._db.insert(t.package_add_ons).values(row).on_conflict_do_nothing()
        self._db.execute(stmt, row=row)

    def withdraw_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        c = t.package_add_ons.c
        stmt = delete(t.package_add_ons).where(
            c.tenant_id == tenant_id, c.package_id == package_id, c.add_on_id == add_on_id
        )
        self._db.execute(stmt)

    def offered_add_ons(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> builtins.list[AddOn]:
        pa, a = t.package_add_ons.c, t.add_ons.c
        stmt = (
            select(t.add_ons)
            .join(
                t.package_add_ons,
                and_(pa.tenant_id == a.tenant_id, pa.add_on_id == a.id),
            )
            .where(pa.tenant_id == tenant_id, pa.package_id == package_id)
            .order_by(a.slug)
        )
        return [AddOn(**row._mapping) for row in self._db.execute(stmt)]


class SqlAddOnRepository(_Listed[AddOn]):
    table = t.add_ons
    entity = AddOn
    order = ("slug",)


class SqlVenueRepository(_Listed[Venue]):
    table = t.venues
    entity = Venue
    order = ("name",)


class SqlCustomerRepository(_Scoped[Customer]):
    table = t.customers
    entity = Customer

    def find_by_email(self, tenant_id: uuid.UUID, email: str) -> Customer | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.email == email)
        found = self._db.execute(stmt).first()
        return None if found is None else Customer(**found._mapping)

    def list(self, tenant_id: uuid.UUID, *, limit: int, offset: int) -> builtins.list[Customer]:
        c = self.table.c
        stmt = (
            select(self.table)
            .where(c.tenant_id == tenant_id)
            .order_by(c.created_at, c.id)
            .limit(limit)
            .offset(offset)
        )
        return [Customer(**row._mapping) for row in self._db.execute(stmt)]

    def get_many(
        self, tenant_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Customer]:
        if not customer_ids:
            return []
        c = self.table.c
        wanted = sorted(set(customer_ids))
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id.in_(wanted)).order_by(c.id)
        return [Customer(**row._mapping) for row in self._db.execute(stmt)]

    def upsert_by_email(self, customer: Customer) -> Customer:
        row = asdict(customer)
        stored = self._db.execute(q.upsert_customer(self._db.dialect), row, row=row).one()
        return Customer(**stored._mapping)


class SqlBlackoutRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, blackout: BlackoutDate) -> None:
        row = asdict(blackout)
        stmt = self._db.insert(t.blackout_dates).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.blackout_dates.c.tenant_id, t.blackout_dates.c.date],
            set_={"reason": stmt.excluded.reason},
        )
        self._db.execute(stmt, row=row)

    def remove(self, tenant_id: uuid.UUID, date: dt.date) -> bool:
        c = t.blackout_dates.c
        stmt = delete(t.blackout_dates).where(c.tenant_id == tenant_id, c.date == date)
        return self._db.execute(stmt).rowcount > 0

    def list_between(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[BlackoutDate]:
        c = t.blackout_dates.c
        stmt = (
            select(t.blackout_dates)
            .where(c.tenant_id == tenant_id, c.date.between(start, end))
            .order_by(c.date)
        )
        return [BlackoutDate(**row._mapping) for row in self._db.execute(stmt)]


class SqlCalendarFeedRepository(_Scoped[CalendarFeed]):
    table = t.calendar_feeds
    entity = CalendarFeed

    def active(self, tenant_id: uuid.UUID) -> builtins.list[CalendarFeed]:
        c = self.table.c
        return self._list(tenant_id, c.revoked_at.is_(None), order_by=[c.created_at, c.id])

    def revoke(self, tenant_id: uuid.UUID, feed_id: uuid.UUID, *, now: dt.datetime) -> bool:
        c = self.table.c
        stmt = (
            update(self.table)
            .where(c.tenant_id == tenant_id, c.id == feed_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self._db.execute(stmt).rowcount == 1


class SqlApiKeyRepository(_Scoped[ApiKey]):
    table = t.tenant_api_keys
    entity = ApiKey

    def active(self, tenant_id: uuid.UUID) -> builtins.list[ApiKey]:
        c = self.table.c
        return self._list(tenant_id, c.revoked_at.is_(None), order_by=[c.created_at, c.id])

    def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, now: dt.datetime) -> bool:
        c = self.table.c
        stmt = (
            update(self.table)
            .where(c.tenant_id == tenant_id, c.id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self._db.execute(stmt).rowcount == 1
