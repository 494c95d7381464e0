"""The SQLAlchemy unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine, RootTransaction

from booking_core.adapters.sqlalchemy._bookings import (
    SqlBookingRepository,
    SqlIdempotencyRepository,
)
from booking_core.adapters.sqlalchemy._catalog import (
    SqlAddOnRepository,
    SqlApiKeyRepository,
    SqlBlackoutRepository,
    SqlCalendarFeedRepository,
    SqlCustomerRepository,
    SqlPackageRepository,
    SqlSegmentRepository,
    SqlTenantRepository,
    SqlVenueRepository,
)
from booking_core.adapters.sqlalchemy._db import Db
from booking_core.adapters.sqlalchemy._engine import WRITER_QUEUE_TIMEOUT_S
from booking_core.adapters.sqlalchemy._errors import outcome_unknown_if_disconnected, translated
from booking_core.adapters.sqlalchemy._hold_sqlite import SqliteHolds
from booking_core.adapters.sqlalchemy._payments import (
    SqlInboxRepository,
    SqlOutboxRepository,
    SqlRefundRepository,
)
from booking_core.adapters.sqlalchemy._scheduling import (
    SqlResourceRepository,
    SqlTimeOffRepository,
)
from booking_core.adapters.sqlalchemy.tables import metadata
from booking_core.errors import LockTimeoutError
from booking_core.ports.repositories import HoldAttempt, HoldAttemptResult

if TYPE_CHECKING:
    from booking_core.adapters.sqlalchemy._hold_at_once import HoldConnections


class SqlUnitOfWork:
    """A transaction over all repositories on one pooled connection."""

    def __init__(
        self,
        engine: Engine,
        *,
        read_only: bool = False,
        writer_lock: threading.Lock | None = None,
        lock_timeout: float = WRITER_QUEUE_TIMEOUT_S,
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._writer_lock = None if read_only else writer_lock
        self._lock_timeout = lock_timeout
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> Self:
        if self._writer_lock is not None and not self._writer_lock.acquire(
            timeout=self._lock_timeout
        ):
            raise LockTimeoutError("waited too long for the SQLite write lock")
        try:
            return self._begin()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._writer_lock is not None and self._writer_lock.locked():
            self._writer_lock.release()

    def _begin(self) -> Self:
        with translated():
            connection = self._engine.connect()
            try:
                if self._read_only:
                    connection.execution_options(booking_core_read_only=True)
                self._transaction = connection.begin()
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        db = Db(connection)
        self.tenants = SqlTenantRepository(db)
        self.api_keys = SqlApiKeyRepository(db)
        self.calendar_feeds = SqlCalendarFeedRepository(db)
        self.segments = SqlSegmentRepository(db)
        self.packages = SqlPackageRepository(db)
        self.add_ons = SqlAddOnRepository(db)
        self.venues = SqlVenueRepository(db)
        self.resources = SqlResourceRepository(db)
        self.time_off = SqlTimeOffRepository(db)
        self.customers = SqlCustomerRepository(db)
        self.bookings = SqlBookingRepository(db)
        self.blackouts = SqlBlackoutRepository(db)
        self.refunds = SqlRefundRepository(db)
        self.idempotency = SqlIdempotencyRepository(db)
        self.inbox = SqlInboxRepository(db)
        self.outbox = SqlOutboxRepository(db)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if self._transaction is not None and self._transaction.is_active:
                with translated():
                    self._transaction.rollback()
        finally:
            connection.close()
            self._release()

    def commit(self) -> None:
        """Commit; a connection lost during COMMIT is an unknown outcome, never a retry."""
        if self._transaction is not None:
            with translated(), outcome_unknown_if_disconnected():
                self._transaction.commit()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            with translated():
                self._transaction.rollback()


class SqlUnitOfWorkFactory:
    """Opens :class:`SqlUnitOfWork` on one engine; owns schema creation and disposal.

    On SQLite, write transactions of this process queue on a lock before ``BEGIN IMMEDIATE``:
    SQLite admits one writer anyway, and a lock hands over at once where ``busy_timeout``
    polls with growing sleeps (the difference between a p99 of tens and of hundreds of ms under
    contention). Other processes still queue on ``busy_timeout``.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._hold_connections: HoldConnections | None = None
        self._sqlite_holds: SqliteHolds | None = None
        self._hold_lock = threading.Lock()

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only, writer_lock=self._writer_lock)

    def hold_at_once(self, attempt: HoldAttempt) -> HoldAttemptResult | None:
        """PostgreSQL: the whole hold in one autocommit statement (``_hold_at_once``). SQLite:
        a date hold in one short write transaction of compiled statements (``_hold_sqlite``);
        None for a timed hold there, which keeps the ordinary transaction."""
        if self.engine.dialect.name != "postgresql":
            if attempt.claim is not None or self._writer_lock is None:
                return None
            sqlite_holds = self._sqlite_holds
            if sqlite_holds is None:
                sqlite_holds = SqliteHolds(
                    self.engine, self._writer_lock, lock_timeout=WRITER_QUEUE_TIMEOUT_S
                )
                self._sqlite_holds = sqlite_holds  # built twice at worst: both are the same
            return sqlite_holds.hold(attempt)
        # imported here: it needs psycopg, which a SQLite-only install does not have
        from booking_core.adapters.sqlalchemy import _hold_at_once  # noqa: PLC0415

        connections = self._hold_connections
        if connections is None:
            with self._hold_lock:
                connections = self._hold_connections
                if connections is None:
                    # as many as the engine's pool keeps: a bounded second set, never more
                    size = getattr(self.engine.pool, "size", None)
                    limit = max(1, size()) if callable(size) else 5
                    connections = _hold_at_once.HoldConnections(self.engine, limit=limit)
                    self._hold_connections = connections
        return _hold_at_once.hold_at_once(connections, attempt)

    def create_schema(self) -> None:
        """Create booking_core's tables and indexes if they are missing (idempotent).

        On PostgreSQL this also creates the ``btree_gist`` extension (if missing) that the
        time claims' exclusion constraint needs.
        """
        with translated():
            metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._hold_connections is not None:
            self._hold_connections.close()
