"""The connection of a unit of work, and what every repository shares: error translation,
dialect inserts, shallow entity rows, tenant-scoped CRUD."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Executable,
    Row,
    Table,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from booking_core.adapters.sqlalchemy._errors import translated
from booking_core.adapters.sqlalchemy._types import UTCDateTime


class Db:
    """The connection of one unit of work, with error translation on every call."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def execute(
        self,
        statement: Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        *,
        row: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        with translated(row):
            return self.connection.execute(statement, params)

    def insert(self, table: Table) -> Any:
        """A dialect insert, so ``on_conflict_do_update`` is available on both backends."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)


def asdict(entity: Any) -> dict[str, Any]:
    """A row of an entity's fields, shallow.

    ``dataclasses.asdict`` deep-copies every value (payload dicts, decimals), which cost a hold
    more than its statements; the entities are frozen, so sharing their values is safe.
    """
    return {name: getattr(entity, name) for name in entity.__dataclass_fields__}


def _now_param(now: dt.datetime) -> Any:
    return literal(now, UTCDateTime())


class _Scoped:
    """Shared CRUD of a tenant-owned table whose entity maps 1:1 to its columns."""

    table: Table
    entity: type[Any]

    def __init__(self, db: Db) -> None:
        self._db = db

    def _to_row(self, obj: Any) -> dict[str, Any]:
        return asdict(obj)

    def _from_row(self, row: Row[Any]) -> Any:
        return self.entity(**row._mapping)

    def add(self, obj: Any) -> None:
        row = self._to_row(obj)
        self._db.execute(self.table.insert(), row, row=row)

    def update(self, obj: Any) -> None:
        row = self._to_row(obj)
        c = self.table.c
        stmt = update(self.table).where(c.tenant_id == obj.tenant_id, c.id == obj.id).values(row)
        self._db.execute(stmt, row=row)

    def get(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> Any:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id == row_id)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Any:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.slug == slug)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def _list(
        self, tenant_id: uuid.UUID, *conditions: Any, order_by: Sequence[Any]
    ) -> builtins.list[Any]:
        stmt = (
            select(self.table)
            .where(self.table.c.tenant_id == tenant_id, *conditions)
            .order_by(*order_by)
        )
        return [self._from_row(row) for row in self._db.execute(stmt)]
