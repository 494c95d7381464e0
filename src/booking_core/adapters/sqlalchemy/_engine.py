"""Engines tuned for booking_core's transactions on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from booking_core.errors import ValidationError

#: How long one statement waits for a lock (ms): PostgreSQL's ``lock_timeout`` on a row lock,
#: SQLite's ``busy_timeout`` on another process's write lock. A statement that waited this long
#: fails with a transient error and its whole transaction is retried (5 attempts, see
#: ``booking_core._retry``), so a write waits about 5 x 5 s = 25 s in all before
#: ``LockTimeoutError``.
DEFAULT_LOCK_TIMEOUT_MS = 5000
#: How long a write transaction waits for its turn in this process's SQLite writer queue (s),
#: the lock taken before ``BEGIN IMMEDIATE`` (see ``SqlUnitOfWorkFactory``). Longer than
#: :data:`DEFAULT_LOCK_TIMEOUT_MS` on purpose: this wait is not retried (it raises
#: ``LockTimeoutError`` at once), so it gets the whole budget the retried statement waits add
#: up to (25 s) plus their backoff, rounded up. Both bound a write's wait at about half a minute.
WRITER_QUEUE_TIMEOUT_S = 30.0


def _parse(database_url: str | URL) -> URL:
    try:
        url = make_url(database_url)
    except ArgumentError as error:
        raise ValidationError("database_url", f"not a database URL: {error}") from None
    backend = url.get_backend_name()
    if backend == "postgresql" and url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if backend not in {"postgresql", "sqlite"}:
        raise ValidationError("database_url", f"unsupported backend {backend!r}")
    if backend == "sqlite" and url.database in {None, "", ":memory:"}:
        raise ValidationError(
            "database_url",
            "in-memory SQLite is private to each connection; use a file, or "
            "booking_core.testing.in_memory_app() for an in-memory app",
        )
    return url


def _configure_sqlite(engine: Engine, lock_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN
        # would be DEFERRED and upgrade to a write lock too late, deadlocking writers).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: concurrent writers queue on busy_timeout
        # instead of failing later with SQLITE_BUSY on lock upgrade.
        read_only = connection.get_execution_options().get("booking_core_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(
    database_url: str | URL,
    *,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    **engine_options: Any,
) -> Engine:
    """Create an engine for booking_core.

    SQLite: WAL, foreign keys on, ``BEGIN IMMEDIATE`` for writers, ``busy_timeout``.
    PostgreSQL (psycopg 3): ``lock_timeout`` and ``TimeZone=UTC`` per session (unless
    ``connect_args`` options set a TimeZone), a LIFO pool (the warmest connection,
    whose statements are prepared, serves next). No pre-ping on checkout (it costs a round trip
    per transaction): a connection found dead fails its transaction, which is retried on a
    fresh connection.

    Args:
        database_url: ``sqlite:///path.db`` or ``postgresql+psycopg://…`` (``postgresql://``
            is taken to mean psycopg 3).
        lock_timeout_ms: the longest one statement waits for a lock before it is retried.
        engine_options: passed to :func:`sqlalchemy.create_engine` (pool size, echo, ...).
    """
    url = _parse(database_url)
    if url.get_backend_name() == "sqlite":
        engine = _create(url, engine_options)
        _configure_sqlite(engine, lock_timeout_ms)
        return engine
    connect_args = dict(engine_options.pop("connect_args", {}))
    options = connect_args.get("options", "")
    settings = f"-c lock_timeout={int(lock_timeout_ms)}"
    if "timezone=" not in options.lower():
        # Sessions in UTC: psycopg then returns timestamptz with ``datetime.UTC`` itself, which
        # the UTC columns pass through as they are (no ``astimezone`` per value read), and
        # aware comparisons take CPython's same-tzinfo fast path. Stored instants are unchanged.
        settings += " -c TimeZone=UTC"
    connect_args["options"] = f"{options} {settings}".strip()
    # The most recently used connection first: its prepared statements (a hold's one
    # statement among them) are the ones already prepared; the others may idle out.
    if "poolclass" not in engine_options:  # QueuePool, the default, takes it
        engine_options.setdefault("pool_use_lifo", True)
    return _create(url, {**engine_options, "connect_args": connect_args})


def _create(url: URL, engine_options: dict[str, Any]) -> Engine:
    """``create_engine`` with its configuration errors as ValidationError."""
    try:
        return create_engine(url, **engine_options)
    except ImportError:
        raise ValidationError(
            "database_url",
            f"the driver of {url.drivername} is not installed "
            "(PostgreSQL: pip install 'booking-core-sdk[postgres]')",
        ) from None
    except TypeError as error:  # an option create_engine does not know
        raise ValidationError("engine_options", str(error)) from None
