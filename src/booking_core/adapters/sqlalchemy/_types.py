"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text in a fixed format, so
    comparisons inside SQL (hold expiry) stay correct as plain string comparisons.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            msg = f"expected an aware datetime, got {value!r}"
            raise TypeError(msg)
        instant: dt.datetime = value.astimezone(dt.UTC)
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if type(value) is dt.datetime and value.tzinfo is dt.UTC:  # psycopg's usual answer
            return value
        if not isinstance(value, dt.datetime):
            msg = f"expected a datetime from the database, got {value!r}"
            raise TypeError(msg)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
