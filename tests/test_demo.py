"""The demo runs end to end on SQLite and demonstrates what it claims."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from booking_core.demo import format_money, format_table, main


def test_demo_shows_the_invariants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.db"

    code = main(["--db", str(db)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert db.exists(), "--db keeps the database"
    assert re.search(r"^BookingConflictError\s+19$", out, re.MULTILINE)
    assert re.search(r"^won the hold\s+1$", out, re.MULTILINE)
    assert "winners: 1, conflicts: 19" in out
    assert re.search(r"^B brooklyn-light\s+bookings\.get\(\w+\)\s+NotFoundError", out, re.M)
    assert "1 booking, 0 of tenant A" in out
    assert "Tenant isolation holds: tenant B cannot see tenant A's booking." in out
    assert re.search(r"^before cancel\s+\S+ \S+\s+PENDING\s+unavailable \(booked\)$", out, re.M)
    assert re.search(r"^after cancel\s+\S+ \S+\s+CANCELED\s+available$", out, re.M)
    assert re.search(r"Freed date .*: available again\.", out)
    for reason in ("blackout", "booked", "past", "too_soon"):
        assert re.search(rf"^\w{{3}} \d{{4}}-\d\d-\d\d.*\s{reason}\s", out, re.M), reason
    assert "EUR 2,500.00" in out
    assert "USD 525.00" in out
    assert out.rstrip().splitlines()[-1].startswith("OK: all ")


def test_demo_refuses_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    db.write_bytes(b"")

    assert main(["--db", str(db), "--quiet"]) == 2


def test_quiet_prints_only_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("OK: all ")


def test_python_dash_m_runs_in_seconds() -> None:
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "booking_core.demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - began

    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed < 30
    assert "OK: all " in result.stdout


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (250_000, "EUR", "EUR 2,500.00"),
        (5, "USD", "USD 0.05"),
        (0, "USD", "USD 0.00"),
        (-1_050, "EUR", "EUR -10.50"),
        (1_500, "JPY", "JPY 1,500"),
        (1_234_567, "KWD", "KWD 1,234.567"),
    ],
)
def test_format_money(minor: int, currency: str, expected: str) -> None:
    assert format_money(minor, currency) == expected


def test_format_table_aligns_columns() -> None:
    table = format_table(["Outcome", "Count"], [["won", 1], ["conflict", 19]], "lr")

    assert table.splitlines() == [
        "Outcome   Count",
        "--------  -----",
        "won           1",
        "conflict     19",
    ]


def test_a_broken_invariant_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("booking_core.demo._race", lambda *_args: [])

    assert main(["--quiet"]) == 1

    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "exactly one racer won the hold" in out
