"""Translate driver exceptions into booking_core errors at the adapter edge."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc

from booking_core.errors import (
    AlreadyExistsError,
    CommitOutcomeUnknownError,
    LockTimeoutError,
    NotFoundError,
    StorageError,
    TransientStorageError,
)

#: PostgreSQL SQLSTATEs worth a retry in a fresh transaction.
_PG_TRANSIENT = {"40001": "serialization failure", "40P01": "deadlock", "55P03": "lock timeout"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)")
_ENTITY = {
    "bc_tenants": "tenant",
    "bc_segments": "segment",
    "bc_packages": "package",
    "bc_add_ons": "add_on",
    "bc_venues": "venue",
    "bc_customers": "customer",
    "bc_bookings": "booking",
    "bc_blackout_dates": "blackout",
    "bc_refunds": "refund",
    "bc_idempotency_keys": "idempotency_key",
    "bc_webhook_inbox": "webhook_event",
    "bc_outbox": "outbox_event",
    "bc_tenant_api_keys": "api_key",
    "bc_resources": "resource",
    "bc_resource_time_off": "time_off",
}


def _unique_column(error: sa_exc.IntegrityError) -> tuple[str, str] | None:
    """(table, last column) of a violated unique key, from PostgreSQL or SQLite details."""
    orig = error.orig
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if getattr(orig, "sqlstate", None) == "23505" and constraint:
        for table in _ENTITY:
            prefix = f"uq_{table}_tenant_id_"
            if constraint.startswith(prefix):
                return table, constraint.removeprefix(prefix)
            if constraint == f"uq_{table}_slug":
                return table, "slug"
        return constraint, "key"
    match = _SQLITE_UNIQUE.search(str(orig))
    if match:
        table, column = match.group(1).split(", ")[-1].split(".")
        return table, column
    return None


def _is_foreign_key(error: sa_exc.IntegrityError) -> bool:
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint" in str(orig)


@contextmanager
def translated(row: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Run a database call, re-raising driver errors as booking_core errors (``from`` them)."""
    try:
        yield
    except sa_exc.IntegrityError as error:
        unique = _unique_column(error)
        if unique is not None:
            table, column = unique
            value = (row or {}).get(column)
            raise AlreadyExistsError(_ENTITY.get(table, table), column, value) from error
        if _is_foreign_key(error):
            raise NotFoundError("referenced record", "(same tenant)") from error
        raise StorageError("integrity violation", details=str(error.orig)) from error
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            # The pool drops the dead connection; a retry gets a fresh one.
            raise TransientStorageError("connection lost", details=str(error.orig)) from error
        orig = error.orig
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in _PG_TRANSIENT:
            raise TransientStorageError(_PG_TRANSIENT[sqlstate], details=sqlstate) from error
        if sqlstate == "57014":
            raise LockTimeoutError("statement timed out", details=sqlstate) from error
        if any(marker in str(orig) for marker in _SQLITE_BUSY):
            raise TransientStorageError("sqlite busy", details=str(orig)) from error
        raise StorageError(f"database error: {type(orig).__name__}", details=str(orig)) from error
    except sa_exc.SQLAlchemyError as error:
        raise StorageError(f"database error: {type(error).__name__}", details=str(error)) from error


@contextmanager
def outcome_unknown_if_disconnected() -> Iterator[None]:
    """Around COMMIT: a lost connection means the server may or may not have committed.

    The reply is what was lost, not necessarily the transaction, so this must not become a
    :class:`TransientStorageError` (a blind retry would repeat a committed write).
    """
    try:
        yield
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            raise CommitOutcomeUnknownError(
                "connection lost during COMMIT", details=str(error.orig)
            ) from error
        raise
