"""The backends a hostile call runs on, each app wrapped to see its commits and its rows.

Whether a failing call wrote anything is decided in two steps that stay cheap: a wrapper around
the unit-of-work factory counts commits (a call that committed nothing wrote nothing, since a
transaction that is not committed is rolled back), and only when a failing call did commit are
the stored rows compared with a snapshot taken before the call.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from booking_core.adapters.cache import MemoryCache
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.adapters.sqlalchemy.tables import metadata
from booking_core.bootstrap import BookingApp, connect
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.testing import ManualClock, in_memory_app

#: 2030-06-15 09:00 UTC: a Saturday, far from DST changes in Europe/Paris.
START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)

Snapshot = dict[str, list[str]]
_WRITE = re.compile(r"\s*(?:WITH\b.*?)?(INSERT INTO|UPDATE|DELETE FROM)\s+(\S+)", re.S | re.I)


class _CountingUnitOfWork:
    """A unit of work that tells its factory when it commits, and what it wrote."""

    def __init__(self, factory: CountingFactory, inner: UnitOfWork) -> None:
        self._factory = factory
        self._inner = inner

    def __enter__(self) -> _CountingUnitOfWork:
        self._inner.__enter__()
        self._factory.pending.clear()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._factory.pending.clear()
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        journal = getattr(getattr(self._inner, "_db", None), "journal", None)
        if journal is not None:  # the memory adapter: one undo entry per row written
            self._factory.pending.extend(["memory row"] * len(journal._undo))
        self._inner.commit()
        self._factory.commits += 1
        self._factory.written.extend(self._factory.pending)
        self._factory.pending.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CountingFactory:
    """Wraps a unit-of-work factory and records the rows its committed transactions wrote.

    ``written`` gets one entry per row inserted, updated or deleted by a committed transaction
    (SQL: the statement's rowcount, seen by an engine event; memory: the undo journal).
    Transactions run one at a time in the harness, so one ``pending`` list is enough.
    """

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self.inner = inner
        self.commits = 0
        self.written: list[str] = []
        self.pending: list[str] = []
        engine = getattr(inner, "engine", None)
        if engine is not None:
            sa.event.listen(engine, "after_cursor_execute", self._after_execute)

    def _after_execute(self, *args: Any) -> None:
        _conn, cursor, statement, _params, _context, _many = args
        found = _WRITE.match(statement)
        if found is not None and cursor.rowcount and cursor.rowcount > 0:
            self.pending.extend([f"{found[1].split()[0]} {found[2]}"] * cursor.rowcount)

    def __call__(self, *, read_only: bool = False) -> Any:
        return _CountingUnitOfWork(self, self.inner(read_only=read_only))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Backend:
    """One backend's app, with what the harness needs to judge a call on it."""

    name: str
    app: BookingApp
    clock: ManualClock
    payments: FakePaymentProvider
    factory: CountingFactory
    rows: Callable[[uuid.UUID], Snapshot]
    shop: Any = None
    stats: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        return self.rows(self.shop.tenant.id)


def _wrap(built: BookingApp, clock: ManualClock, payments: FakePaymentProvider) -> BookingApp:
    return BookingApp(
        uow=CountingFactory(built.uow),
        clock=clock,
        calendar=built.calendar,
        cache=built.cache,
        cache_settings=built.cache_settings,
        payments=payments,
    )


def _memory_rows(app: BookingApp) -> Callable[[uuid.UUID], Snapshot]:
    db = app.uow.inner.db  # type: ignore[attr-defined]

    def rows(tenant_id: uuid.UUID) -> Snapshot:
        with db.lock:
            found: Snapshot = {}
            for name, table in vars(db).items():
                if hasattr(table, "all_rows"):
                    everything = list(table.all_rows())
                    mine = [r for r in everything if getattr(r, "tenant_id", None) == tenant_id]
                    mine += [r for r in everything if getattr(r, "id", None) == tenant_id]
                    found[name] = [f"count={len(everything)}", *sorted(map(repr, mine))]
                elif hasattr(table, "data"):
                    data = table.data
                    mine = [f"{k!r}={v!r}" for k, v in data.items() if tenant_id in _flat(k)]
                    found[name] = [f"count={len(data)}", *sorted(mine)]
            return found

    return rows


def _flat(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def _sql_rows(app: BookingApp) -> Callable[[uuid.UUID], Snapshot]:
    engine: sa.Engine = app.uow.inner.engine  # type: ignore[attr-defined]

    def rows(tenant_id: uuid.UUID) -> Snapshot:
        found: Snapshot = {}
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                column = table.c.get("tenant_id")
                if column is None:
                    column = table.c.id
                mine = connection.execute(sa.select(table).where(column == tenant_id)).all()
                found[table.name] = [f"count={count}", *sorted(map(repr, mine))]
        return found

    return rows


def build(name: str, urls: dict[str, str]) -> Backend:
    """The app of backend ``name`` on a fresh clock and a fake payment provider.

    ``urls`` holds the database of each SQL backend (``sqlite``, ``sqlite+cache``,
    ``postgres``, ``postgres+redis``: one database each, so their states never mix) and
    ``redis``.
    """
    clock = ManualClock(START)
    payments = FakePaymentProvider(clock=clock)
    if name == "memory":
        built = in_memory_app(clock=clock, payments=payments)
    elif name == "memory+cache":
        built = in_memory_app(clock=clock, cache=MemoryCache(), payments=payments)
    elif name == "sqlite+cache":  # date holds from cached terms take SQLite's short path
        built = connect(
            urls[name], clock=clock, payments=payments, cache=MemoryCache(), create_schema=True
        )
    else:
        cache_url = None
        if name.endswith("+redis"):
            cache_url = f"{urls['redis']}?prefix=bc-hostile-{uuid.uuid4().hex[:8]}"
        built = connect(
            urls[name], clock=clock, payments=payments, cache_url=cache_url, create_schema=True
        )
    app = _wrap(built, clock, payments)
    rows = _memory_rows(app) if name.startswith("memory") else _sql_rows(app)
    factory = app.uow
    assert isinstance(factory, CountingFactory)
    return Backend(name, app, clock, payments, factory, rows)
