"""The demo runs end to end on SQLite and demonstrates what it claims."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.demo import format_money, format_table, main
from booking_core.ports.payments import RefundRequest, RefundResult


def test_demo_shows_the_invariants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo exits 0, keeps its --db file, and prints one winner and 19 conflicts for the race,
    tenant B unable to see A's booking, the date freed by a cancel, each closed-day reason,
    formatted money, and an OK verdict."""
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


def test_demo_shows_time_slots(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo prints the week grid, a 3-start spring-forward night and one interval winner."""
    assert main([]) == 0
    out = capsys.readouterr().out

    # the week: hourly starts 09..16, the holds (and the family session's buffer) taken
    grid = dict(re.findall(r"^(\w{3}) \d{4}-\d\d-\d\d((?:\s+[.#-]){8})$", out, re.M))
    assert {name: "".join(marks.split()) for name, marks in grid.items()} == {
        "Mon": ".#......",
        "Tue": "....##..",
        "Wed": "...--...",
        "Thu": "#.......",
        "Fri": "........",
        "Sat": "-.#..---",
        "Sun": "--------",
    }, out
    assert "42 open starts this week: 37 free, 5 taken by 4 holds." in out

    # daylight saving: 4 starts on an ordinary night, 3 in spring, 5 in autumn
    assert re.search(
        r"^Sat \d{4}-03-\d\d\s+00:00 GMT  01:00 GMT  02:00 GMT  03:00 GMT\s+4\s+4$", out, re.M
    )
    assert re.search(
        r"^Sun \d{4}-03-\d\d \(spring forward\)\s+00:00 GMT  02:00 BST  03:00 BST\s+3\s+3$",
        out,
        re.M,
    )
    assert re.search(
        r"^Sun \d{4}-10-\d\d \(fall back\)\s+00:00 BST  01:00 BST  01:00 GMT  02:00 GMT"
        r"  03:00 GMT\s+5\s+5$",
        out,
        re.M,
    )
    assert re.search(
        r"^Sun \d{4}-03-\d\d: 3 starts, 3 real hours; no start between 01:00 and 01:59 ", out, re.M
    )
    utc = re.findall(r"^(\d\d:\d\d [A-Z]{3})\s+\d\d:\d\d [A-Z]{3}\s+(\d\d:\d\d)$", out, re.M)
    assert utc == [("00:00 GMT", "00:00"), ("02:00 BST", "01:00"), ("03:00 BST", "02:00")]

    # overlapping intervals: 4 threads each, one winner in all
    rows = re.findall(r"^(10:00-11:00|10:30-11:30|10:59-12:00)\s+(\d+)\s+(\d+)$", out, re.M)
    assert [interval for interval, _, _ in rows] == ["10:00-11:00", "10:30-11:30", "10:59-12:00"]
    assert sum(int(won) for _, won, _ in rows) == 1
    assert all(int(won) + int(lost) == 4 for _, won, lost in rows)
    assert re.search(r"^12 interval holds in [\d.]+ s: winners: 1, conflicts: 11$", out, re.M)
    assert re.search(
        r"^Winner: Renter \d\d, 10:\d\d-1[12]:\d\d \(Studio hire, 6[01] min\)", out, re.M
    )

    # the studio's bookings at the end: the four holds and the race winner, with their times
    soho = out.split("Soho Portrait Rooms:\n")[-1]
    times = re.findall(r"^\w{8}\s+\w{3} [\d-]+ (\d\d:\d\d)\s+.*\sPENDING\s+GBP", soho, re.M)
    winner = re.search(r"^Winner: Renter \d\d, (10:\d\d)-", out, re.M)
    assert winner
    assert sorted(times) == sorted(["10:00", "13:00", "09:00", "11:00", winner[1]])


def _minor(money: str) -> int:
    """``"EUR 1,465.00"`` -> ``146500``."""
    return int(money.split()[1].replace(",", "").replace(".", ""))


def test_demo_shows_payments_refunds_and_the_outbox(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo prints a replayed checkout, a redelivered webhook with no effect, refunds by the
    cancellation tiers minus the fee, the outbox in order per booking, and a notification's
    header names without its signature."""
    assert main([]) == 0
    out = capsys.readouterr().out

    # checkout, a signed webhook, the same webhook redelivered: acknowledged, no effect
    assert (
        "Her checkout retried with the same idempotency key: the same booking and payment." in out
    )
    first = re.search(
        r"^first\s+Lea Rousseau\s+(evt_\w+)\s+PROCESSED\s+no\s+confirmed\s+CONFIRMED$", out, re.M
    )
    assert first, out
    assert re.search(
        rf"^redelivered\s+Lea Rousseau\s+{first[1]}\s+PROCESSED\s+yes\s+confirmed\s+CONFIRMED$",
        out,
        re.M,
    )
    assert len(re.findall(r"^first\s.*\sPROCESSED\s+no\s+confirmed\s+CONFIRMED$", out, re.M)) == 4
    assert "booking is CONFIRMED, paid EUR 2,800.00, version 2: unchanged." in out

    # cancellations refund by the policy: 100 % from 30 days, 50 % from 7, a EUR 25.00 fee
    rows = re.findall(
        r"^\w{8}\s+(Marc Lefevre|Sofia Moretti|Noah Bernard)\s+(\d+) days?\s+(\d+)%"
        r"\s+(EUR [\d,.]+)\s+(EUR [\d,.]+)\s+(EUR [\d,.]+)\s+(EUR [\d,.]+)"
        r"\s+(SUCCEEDED|no refund)$",
        out,
        re.M,
    )
    assert [row[0] for row in rows] == ["Marc Lefevre", "Sofia Moretti", "Noah Bernard"], out
    for _name, days, tier, paid, refund, commission, commission_back, state in rows:
        expected_tier = 100 if int(days) >= 30 else 50 if int(days) >= 7 else 0
        assert int(tier) == expected_tier
        expected = max(0, _minor(paid) * expected_tier // 100 - 2_500)
        assert _minor(refund) == expected
        back = -(-_minor(commission) * expected // _minor(paid)) if expected else 0
        assert _minor(commission_back) == min(back, _minor(commission))
        assert state == ("SUCCEEDED" if expected else "no refund")
    assert [row[2] for row in rows] == ["100", "50", "0"]
    assert "The provider executed 2 refunds" in out

    # the outbox: in order per booking, one confirmed event despite the redelivery
    assert len(re.findall(r"^\w{8}\s+Lea Rousseau\s+\d+\s+booking\.confirmed$", out, re.M)) == 1
    marc = re.findall(r"^\w{8}\s+Marc Lefevre\s+(\d+)\s+([\w.]+)$", out, re.M)
    assert marc == [
        ("1", "booking.held"),
        ("2", "booking.confirmed"),
        ("3", "booking.canceled"),
        ("4", "refund.requested"),
        ("5", "refund.succeeded"),
    ]
    assert re.search(r"Drained \d+ events: 15 of these four bookings .*; 0 left to claim\.", out)

    # an outgoing notification: header names shown, no signature or secret
    assert "\n  BookingCore-Signature, BookingCore-Event-Id, Content-Type\n" in out
    assert "v1=" not in out
    assert "refused, WebhookVerificationError (signature mismatch" in out
    assert re.search(r"^\w{8}\s+\w{3} [\d-]+\s+Lea Rousseau\s+CONFIRMED\s+EUR 2,800\.00", out, re.M)


def test_demo_refuses_an_existing_database(tmp_path: Path) -> None:
    """The demo exits 2 rather than write into a --db file that already exists."""
    db = tmp_path / "demo.db"
    db.write_bytes(b"")

    assert main(["--db", str(db), "--quiet"]) == 2


def test_quiet_prints_only_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """With --quiet the demo prints one line, the OK verdict."""
    assert main(["--quiet"]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("OK: all ")


def test_python_dash_m_runs_in_seconds() -> None:
    """python -m booking_core.demo exits 0 within 30 seconds and prints the OK verdict."""
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
    """format_money writes minor units with the currency code, thousands separators and the
    currency's number of decimals (0 for JPY, 3 for KWD), negatives included."""
    assert format_money(minor, currency) == expected


def test_format_table_aligns_columns() -> None:
    """format_table pads columns to their widest cell, left or right as asked, under a dashed rule.
    format_table pads columns to their widest cell, left or right as asked, under a dashed rule."""
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
    """When the race has no winner the demo exits 1 and prints FAILED with the broken invariant."""
    monkeypatch.setattr("booking_core.demo._race.race_threads", lambda *_args: [])

    assert main(["--quiet"]) == 1

    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "exactly one racer won the hold" in out


def test_an_interval_race_without_one_winner_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the overlapping-interval race has no winner the demo exits 1 and names the check."""
    monkeypatch.setattr("booking_core.demo._scheduling.race_intervals", lambda *_args: [])

    assert main(["--quiet"]) == 1

    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "exactly one overlapping interval won" in out


class _DecliningProvider(FakePaymentProvider):
    """Declines every refund, as a provider does when the merchant's balance is too low."""

    def refund(self, request: RefundRequest) -> RefundResult:
        self.fail_next_refund("insufficient balance")
        return super().refund(request)


def test_a_declined_refund_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the provider declines the refunds the demo exits 1 and reports the refund that should
    have succeeded and the amount that should have been refunded."""
    monkeypatch.setattr("booking_core.demo._runner.FakePaymentProvider", _DecliningProvider)

    assert main(["--quiet"]) == 1

    out = capsys.readouterr().out
    assert re.search(r"Marc Lefevre \(\d+ days ahead, 100%\): the refund is SUCCEEDED", out)
    assert re.search(r"Marc Lefevre \(\d+ days ahead, 100%\): the provider refunded 146500", out)
