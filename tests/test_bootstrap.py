"""connect() refuses bad configuration with ValidationError, never a raw driver error."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking_core import ValidationError, connect


@pytest.mark.parametrize(
    ("url", "options", "field"),
    [
        ("mysql://u@h/d", {}, "database_url"),
        ("sqlite://", {}, "database_url"),
        ("sqlite:///:memory:", {}, "database_url"),
        ("not a url", {}, "database_url"),
        ("postgresql+pg8000://u@h/d", {}, "database_url"),
        ("SQLITE_FILE", {"bogus_option": 1}, "engine_options"),
        ("SQLITE_FILE", {"cache_url": "memcached://x"}, "cache_url"),
    ],
)
def test_bad_configuration(
    url: str, options: dict[str, object], field: str, tmp_path: Path
) -> None:
    """connect() refuses an unsupported or in-memory database URL, an unknown engine option or an
    unknown cache scheme with ValidationError naming the argument."""
    url = url.replace("SQLITE_FILE", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValidationError) as caught:
        connect(url, **options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_postgresql_scheme_means_psycopg(tmp_path: Path) -> None:
    """A plain postgresql:// URL gets the psycopg (3) driver."""
    from booking_core.adapters.sqlalchemy import make_engine

    engine = make_engine("postgresql://u@127.0.0.1:1/d")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()
