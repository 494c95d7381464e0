"""``python -m booking_core.migrations [alembic options] <command>``: Alembic's CLI, preconfigured.

Equivalent to ``alembic -c <shipped alembic.ini> ...``; pass the database with ``-x url=...`` or
``BOOKING_CORE_DATABASE_URL``.
"""

from __future__ import annotations

import sys

from booking_core.migrations import _require_alembic, ini_path


def main(argv: list[str] | None = None) -> None:
    _require_alembic()
    from alembic.config import CommandLine  # noqa: PLC0415 - optional dependency

    args = sys.argv[1:] if argv is None else argv
    CommandLine(prog="python -m booking_core.migrations").main([*["-c", str(ini_path())], *args])


if __name__ == "__main__":
    main()
