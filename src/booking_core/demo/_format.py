"""Output for the tour: money and tables as text, the printer, and the checks it keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

#: ISO 4217 currencies whose minor unit is not a hundredth.
_MINOR_DIGITS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "VND": 0}


def format_money(minor: int, currency: str) -> str:
    """``250000, "EUR"`` -> ``"EUR 2,500.00"``: integer minor units, never floats."""
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    major, rest = divmod(abs(minor), 10**digits)
    fraction = f".{rest:0{digits}d}" if digits else ""
    return f"{currency} {sign}{major:,}{fraction}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """An aligned text table; ``align`` has one ``l``/``r`` per column (default: left)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    spec = align.ljust(len(headers), "l")

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if a == "r" else cell.ljust(w)
            for cell, w, a in zip(row, widths, spec, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def short(value: uuid.UUID) -> str:
    return str(value)[:8]


def day(date: dt.date) -> str:
    return date.strftime("%a %Y-%m-%d")


class Out:
    """Prints the tour unless quiet; the verdict is always printed."""

    def __init__(self, stream: TextIO, *, quiet: bool) -> None:
        self._stream = stream
        self._quiet = quiet

    def __call__(self, text: str = "") -> None:
        if not self._quiet:
            print(text, file=self._stream)

    def heading(self, number: int, title: str) -> None:
        self()
        self(f"== {number}. {title} ".ljust(78, "="))
        self()

    def always(self, text: str) -> None:
        print(text, file=self._stream)


@dataclass
class Checks:
    """The invariants the demo demonstrates; any failure makes the exit status non-zero."""

    failures: list[str] = field(default_factory=list)
    passed: int = 0

    def expect(self, condition: bool, what: str) -> bool:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
