"""Repositories of money and messages: refunds, the webhook inbox, the outbox.
Every statement filters by ``tenant_id`` first."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    exists,
    or_,
    select,
    tuple_,
    update,
)

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._db import Db, _now_param, _Scoped, asdict
from booking_core.domain.model import (
    InboxEvent,
    InboxState,
    OutboxEvent,
    Refund,
    RefundState,
)


class SqlRefundRepository(_Scoped[Refund]):
    table = t.refunds
    entity = Refund

    def _to_row(self, obj: Refund) -> dict[str, Any]:
        row = asdict(obj)
        row["state"] = obj.state.value
        return row

    def _from_row(self, row: Row[Any]) -> Refund:
        m = dict(row._mapping)
        m["state"] = RefundState(m["state"])
        return Refund(**m)

    def lock(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> Refund | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id == refund_id)
        if self._db.dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE already serialises
            stmt = stmt.with_for_update()
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def for_booking(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Refund]:
        c = self.table.c
        return self._list(tenant_id, c.booking_id == booking_id, order_by=[c.created_at, c.id])

    def find_by_provider_id(self, tenant_id: uuid.UUID, provider_refund_id: str) -> Refund | None:
        c = self.table.c
        stmt = select(self.table).where(
            c.tenant_id == tenant_id, c.provider_refund_id == provider_refund_id
        )
        row = self._db.execute(stmt).first()
        return None if row is None else self._from_row(row)

    def unsettled(self, *, tenant_id: uuid.UUID | None, limit: int) -> builtins.list[Refund]:
        c = self.table.c
        scope = [] if tenant_id is None else [c.tenant_id == tenant_id]
        stmt = (
            select(self.table)
            .where(*scope, c.state != RefundState.SUCCEEDED.value)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [self._from_row(row) for row in self._db.execute(stmt)]


def _inbox_event(row: Row[Any]) -> InboxEvent:
    m = dict(row._mapping)
    m["state"] = InboxState(m["state"])
    m["payload"] = bytes(m["payload"])
    return InboxEvent(**m)


class SqlInboxRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, event: InboxEvent) -> bool:
        row = asdict(event)
        row["state"] = event.state.value
        c = t.webhook_inbox.c
        stmt = (
            self._db.insert(t.webhook_inbox)
            .values(row)
            .on_conflict_do_nothing()
            .returning(c.event_id)  # rowcount of an INSERT is not reliable across drivers
        )
        return self._db.execute(stmt, row=row).first() is not None

    def lock(self, tenant_id: uuid.UUID, provider: str, event_id: str) -> InboxEvent | None:
        c = t.webhook_inbox.c
        stmt = select(t.webhook_inbox).where(
            c.tenant_id == tenant_id, c.provider == provider, c.event_id == event_id
        )
        if self._db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self._db.execute(stmt).first()
        return None if row is None else _inbox_event(row)

    def update(self, event: InboxEvent) -> None:
        c = t.webhook_inbox.c
        self._db.execute(
            update(t.webhook_inbox)
            .where(
                c.tenant_id == event.tenant_id,
                c.provider == event.provider,
                c.event_id == event.event_id,
            )
            .values(
                state=event.state.value,
                attempts=event.attempts,
                last_error=event.last_error,
                processed_at=event.processed_at,
                outcome=event.outcome,
            )
        )

    def failed(
        self, *, tenant_id: uuid.UUID | None, max_attempts: int, limit: int
    ) -> builtins.list[InboxEvent]:
        c = t.webhook_inbox.c
        scope = [] if tenant_id is None else [c.tenant_id == tenant_id]
        stmt = (
            select(t.webhook_inbox)
            .where(*scope, c.state == InboxState.FAILED.value, c.attempts < max_attempts)
            .order_by(c.received_at, c.event_id)
            .limit(limit)
        )
        return [_inbox_event(row) for row in self._db.execute(stmt)]


def _outbox_event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(**row._mapping)


class SqlOutboxRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, event: OutboxEvent) -> None:
        row = asdict(event)
        self._db.execute(q.INSERT_OUTBOX, row, row=row)

    def get(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> OutboxEvent | None:
        c = t.outbox.c
        row = self._db.execute(
            select(t.outbox).where(c.tenant_id == tenant_id, c.id == event_id)
        ).first()
        return None if row is None else _outbox_event(row)

    def for_booking(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID
    ) -> builtins.list[OutboxEvent]:
        c = t.outbox.c
        stmt = (
            select(t.outbox)
            .where(c.tenant_id == tenant_id, c.booking_id == booking_id)
            .order_by(c.sequence)
        )
        return [_outbox_event(row) for row in self._db.execute(stmt)]

    def claim(
        self,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        tenant_id: uuid.UUID | None,
    ) -> builtins.list[OutboxEvent]:
        o = t.outbox.c
        earlier = t.outbox.alias("earlier")
        e = earlier.c
        conditions: builtins.list[ColumnElement[bool]] = [
            o.done_at.is_(None),
            or_(o.claimed_until.is_(None), o.claimed_until <= _now_param(now)),
            ~exists().where(
                e.tenant_id == o.tenant_id,
                e.booking_id == o.booking_id,
                e.sequence < o.sequence,
                e.done_at.is_(None),
            ),
        ]
        if tenant_id is not None:
            conditions.insert(0, o.tenant_id == tenant_id)
        pick = (
            select(o.tenant_id, o.id)
            .where(*conditions)
            .order_by(o.created_at, o.booking_id, o.sequence)
            .limit(limit)
        )
        if self._db.dialect == "postgresql":
            pick = pick.with_for_update(of=t.outbox, skip_locked=True)
        keys = [(row.tenant_id, row.id) for row in self._db.execute(pick)]
        if not keys:
            return []
        stmt = (
            update(t.outbox)
            .where(tuple_(o.tenant_id, o.id).in_(keys))
            .values(claimed_until=lease_until, attempts=o.attempts + 1)
            .returning(*t.outbox.c)
        )
        leased = [_outbox_event(row) for row in self._db.execute(stmt)]
        return sorted(leased, key=lambda ev: (ev.created_at, str(ev.booking_id), ev.sequence))

    def mark_done(self, ids: Iterable[tuple[uuid.UUID, uuid.UUID]], *, now: dt.datetime) -> int:
        keys = list(ids)
        if not keys:
            return 0
        o = t.outbox.c
        stmt = (
            update(t.outbox)
            .where(tuple_(o.tenant_id, o.id).in_(keys), o.done_at.is_(None))
            .values(done_at=now, claimed_until=None)
        )
        return self._db.execute(stmt).rowcount

    def release(self, tenant_id: uuid.UUID, event_id: uuid.UUID, *, error: str | None) -> None:
        o = t.outbox.c
        self._db.execute(
            update(t.outbox)
            .where(o.tenant_id == tenant_id, o.id == event_id, o.done_at.is_(None))
            .values(claimed_until=None, last_error=error)
        )
