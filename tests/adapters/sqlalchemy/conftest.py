"""The SQLite file and scratch PostgreSQL database of the service tests, for the schema tests."""

from __future__ import annotations

from tests.services.conftest import pg_database_url, sqlite_file_url

__all__ = ["pg_database_url", "sqlite_file_url"]
