"""The connection of a unit of work, and what every repository shares: error translation,
dialect inserts, shallow entity rows, tenant-scoped CRUD."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
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

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: A dialect's INSERT: both have ``on_conflict_do_nothing`` / ``on_conflict_do_update``.
DialectInsert = postgresql.Insert | sqlite.Insert


class TenantRecord(Protocol):
    """A dataclass entity stored one row per record of a tenant, keyed ``(tenant_id, id)``."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def id(self) -> uuid.UUID: ...


R = TypeVar("R", bound=TenantRecord)


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

    def insert(self, table: Table) -> DialectInsert:
        """A dialect insert, so ``on_conflict_do_update`` is available on both backends."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def asdict(entity: DataclassInstance) -> dict[str, Any]:
    """A row of an entity's fields, shallow.

    ``dataclasses.asdict`` deep-copies every value (payload dicts, decimals), which cost a hold
    more than its statements; the entities are frozen, so sharing their values is safe.
    """
    return {name: getattr(entity, name) for name in entity.__dataclass_fields__}


def _now_param(now: dt.datetime) -> BindParameter[dt.datetime]:
    return literal(now, UTCDateTime())


class _Scoped(Generic[R]):
    """Shared CRUD of a tenant-owned table whose entity maps 1:1 to its columns."""

    table: ClassVar[Table]
    #: The entity class; a subclass whose columns differ overrides the row mappers instead.
    entity: Callable[..., R]

    def __init__(self, db: Db) -> None:
        self._db = db

    def _to_row(self, obj: R) -> dict[str, Any]:
        return asdict(obj)

    def _from_row(self, row: Row[Any]) -> R:
        return self.entity(**row._mapping)

    def add(self, obj: R) -> None:
        row = self._to_row(obj)
        self._db.execute(self.table.insert(), row, row=row)

    def update(self, obj: R) -> None:
        row = self._to_row(obj)
        c = self.table.c
        stmt = update(self.table).where(c.tenant_id == obj.tenant_id, c.id == obj.id).values(row)
        self._db.execute(stmt, row=row)

    def get(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> R | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id == row_id)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> R | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.slug == slug)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def _list(
        self,
        tenant_id: uuid.UUID,
        *conditions: ColumnElement[bool],
        order_by: Sequence[ColumnElement[Any]],
    ) -> builtins.list[R]:
        stmt = (
            select(self.table)
            .where(self.table.c.tenant_id == tenant_id, *conditions)
            .order_by(*order_by)
        )
        return [self._from_row(row) for row in self._db.execute(stmt)]
