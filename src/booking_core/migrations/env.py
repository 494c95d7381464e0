"""Alembic environment of booking_core's own migrations.

Alembic runs this file (``script_location = booking_core:migrations``); the library never imports
it. The database comes from, in order: a connection in ``config.attributes["connection"]`` (what
:func:`booking_core.migrations.upgrade` passes), ``-x url=...`` on the command line, the
``sqlalchemy.url`` option, or the ``BOOKING_CORE_DATABASE_URL`` environment variable.

The revision is recorded in ``bc_alembic_version``, never in the host's ``alembic_version``.
Autogenerate renders batch operations so that future revisions also work on SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from booking_core.adapters.sqlalchemy import make_engine, metadata
from booking_core.migrations import URL_ENV_VAR, VERSION_TABLE, include_name

config = context.config


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get(URL_ENV_VAR)
    )
    if not url:
        msg = (
            "no database for booking_core's migrations: pass -x url=..., set sqlalchemy.url "
            f"or {URL_ENV_VAR}"
        )
        raise RuntimeError(msg)
    return url


def _options() -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "compare_type": True,
        "render_as_batch": True,
    }


def _check_sqlite_foreign_keys(
    ctx: MigrationContext,
    step: MigrationInfo,
    heads: Collection[Any],
    run_args: Mapping[str, Any],
) -> None:
    """After each SQLite revision, inside its transaction: refuse to leave dangling references."""
    del step, heads, run_args
    connection = ctx.connection
    if connection is None or connection.dialect.name != "sqlite":
        return
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        msg = f"migration left rows with dangling foreign keys: {violations[:10]!r}"
        raise RuntimeError(msg)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Batch operations copy and drop SQLite tables: enforcement is off while they run.

    ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is set on the driver connection
    before Alembic begins one, restored afterwards, and each revision is checked by
    :func:`_check_sqlite_foreign_keys` instead.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    raw: Any = connection.connection.driver_connection
    (enabled,) = raw.execute("PRAGMA foreign_keys").fetchone()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if enabled:
            raw.execute("PRAGMA foreign_keys=ON")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, on_version_apply=_check_sqlite_foreign_keys, **_options()
    )
    with _sqlite_foreign_keys_off(connection), context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """``--sql`` mode: print the DDL instead of running it."""
    context.configure(url=_url(), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=NullPool)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


# Logging is configured from alembic.ini only for the command line, never for a host calling
# booking_core.migrations.upgrade() (that would replace the host's logging setup).
if config.cmd_opts is not None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
