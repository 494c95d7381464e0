"""Alembic migrations for booking_core's ``bc_*`` tables, shipped inside the package.

Run them from code (they need the ``migrations`` extra of the ``booking-core-sdk`` distribution:
``pip install 'booking-core-sdk[migrations]'``)::

    import booking_core.migrations

    booking_core.migrations.upgrade("postgresql+psycopg://app@db/app")  # to the latest revision
    booking_core.migrations.current("postgresql+psycopg://app@db/app")  # -> "0001" or None

or with the Alembic CLI and the shipped ``alembic.ini``::

    python -m booking_core.migrations -x url=postgresql+psycopg://app@db/app upgrade head

booking_core records its revision in its own version table, ``bc_alembic_version``, so a host
app's own Alembic history (``alembic_version``) is never touched. A host that prefers one history
can instead list :data:`VERSION_LOCATION` in its ``version_locations`` and add
``booking_core.adapters.sqlalchemy.metadata`` to its ``target_metadata``; see
``docs/migrations.md``.

Alembic is imported lazily: importing this module works without it, and every function that needs
it raises :class:`ImportError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from booking_core.adapters.sqlalchemy import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BRANCH_LABEL",
    "SCRIPT_LOCATION",
    "TABLE_PREFIX",
    "VERSION_LOCATION",
    "VERSION_TABLE",
    "alembic_config",
    "current",
    "downgrade",
    "exclude_booking_core",
    "head",
    "include_name",
    "ini_path",
    "stamp",
    "upgrade",
]

#: The table where booking_core records its applied revision (never the host's ``alembic_version``).
VERSION_TABLE = "bc_alembic_version"
#: Every booking_core table name starts with this prefix.
TABLE_PREFIX = "bc_"
#: Alembic ``script_location`` of the shipped environment (package resource notation).
SCRIPT_LOCATION = "booking_core:migrations"
#: The revision files, for a host's ``version_locations`` (package resource notation).
VERSION_LOCATION = "booking_core.migrations:versions"
#: Branch label of booking_core's history: ``alembic upgrade booking_core@head`` in a host's tree.
BRANCH_LABEL = "booking_core"

#: Environment variable the shipped ``env.py`` reads when no URL was given otherwise.
URL_ENV_VAR = "BOOKING_CORE_DATABASE_URL"

_HERE = Path(__file__).resolve().parent

#: Anything :func:`upgrade` and friends accept as a database.
Database = str | URL | Engine | Connection


def _require_alembic() -> None:
    try:
        importlib.import_module("alembic")
    except ImportError as error:
        msg = (
            "booking_core.migrations needs Alembic; install the migrations extra: "
            f"pip install 'booking-core-sdk[migrations]' ({error})"
        )
        raise ImportError(msg, name="alembic") from error


def ini_path() -> Path:
    """The shipped ``alembic.ini`` (for ``alembic -c``; :func:`alembic_config` does not need it)."""
    return _HERE / "alembic.ini"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for booking_core's migrations.

    Use it with :mod:`alembic.command` (``command.upgrade(cfg, "head")``, ``command.history``,
    ``command.upgrade(cfg, "head", sql=True)`` for an offline SQL script, ...). Without ``url``
    the database is taken from ``cfg.attributes["connection"]`` if you set one, else from the
    ``BOOKING_CORE_DATABASE_URL`` environment variable.
    """
    _require_alembic()
    from alembic.config import Config  # noqa: PLC0415 - optional dependency

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        # ConfigParser interpolation: a literal % (in a password, say) is written %%.
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


@contextmanager
def _connection(database: Database) -> Iterator[Connection]:
    if isinstance(database, Connection):
        yield database
        return
    if isinstance(database, Engine):
        with database.connect() as connection:
            yield connection
        return
    engine = make_engine(database, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _run(database: Database, command_name: str, revision: str) -> None:
    _require_alembic()
    from alembic import command  # noqa: PLC0415 - optional dependency

    with _connection(database) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, command_name)(config, revision)


def upgrade(database_url_or_engine: Database, revision: str = "head") -> None:
    """Apply booking_core's migrations up to ``revision`` (idempotent: at head it does nothing).

    Accepts a URL (an engine is made and disposed of), an :class:`~sqlalchemy.Engine`, or a
    :class:`~sqlalchemy.Connection`. Each revision runs in a transaction, committed at the end;
    given a connection already inside a transaction, committing is left to the caller.
    """
    _run(database_url_or_engine, "upgrade", revision)


def downgrade(database_url_or_engine: Database, revision: str) -> None:
    """Revert booking_core's migrations down to ``revision`` (``"base"`` drops every bc_ table).

    Destroys data: meant for development and tests, never run by :func:`upgrade`.
    """
    _run(database_url_or_engine, "downgrade", revision)


def stamp(database_url_or_engine: Database, revision: str = "head") -> None:
    """Record ``revision`` as applied without running anything.

    For a database whose tables were made by ``create_schema()`` of the same booking_core
    version: stamp it once, and from then on :func:`upgrade` takes it forward.
    """
    _run(database_url_or_engine, "stamp", revision)


def current(database_url_or_engine: Database) -> str | None:
    """The revision applied to the database, or ``None`` if booking_core's are not applied."""
    _require_alembic()
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - optional dependency

    with _connection(database_url_or_engine) as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head() -> str:
    """The latest revision shipped with this version of booking_core."""
    _require_alembic()
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - optional dependency

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:  # pragma: no cover - the package ships at least one revision
        msg = "booking_core ships no migration"
        raise RuntimeError(msg)
    return revision


def include_name(name: str | None, type_: str, _parent_names: Any = None) -> bool:
    """``include_name`` hook for an Alembic env that manages booking_core's tables with its own.

    Keeps autogenerate from proposing to drop :data:`VERSION_TABLE`. Combine with your own
    filter if you have one.
    """
    return not (type_ == "table" and name == VERSION_TABLE)


def exclude_booking_core(name: str | None, type_: str, _parent_names: Any = None) -> bool:
    """``include_name`` hook for a host env that leaves booking_core's tables to :func:`upgrade`.

    Hides every ``bc_*`` table (and :data:`VERSION_TABLE`) from the host's autogenerate, so it
    never proposes to drop or alter them.
    """
    return not (type_ == "table" and name is not None and name.startswith(TABLE_PREFIX))
