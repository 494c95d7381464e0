"""Shared helpers for the benchmarks: interleaved timing rounds, robust statistics, tables.

Loopback round trips on a busy machine jump between levels, so two things being compared are
never timed one after the other in a block: :func:`interleaved_rounds` alternates them round by
round (A B, B A, A B, ...) and callers compare medians, not means.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DriverTime",
    "SideTimes",
    "StatementCounter",
    "count_statements",
    "driver_time",
    "fmt_ms",
    "fmt_rate",
    "interleaved_rounds",
    "median",
    "percentile",
    "print_table",
    "timed_calls",
]


# --- statistics ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count); NaN when empty."""
    return percentile(values, 50)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile with linear interpolation between ranks (NumPy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- timing ----------------------------------------------------------------------------------


@dataclass
class SideTimes:
    """What one side of an interleaved comparison measured."""

    name: str
    #: Wall time of each round (seconds), in round order.
    round_seconds: list[float] = field(default_factory=list)
    #: Wall time of every single operation (seconds), all rounds.
    op_seconds: list[float] = field(default_factory=list)
    ops_per_round: int = 0

    @property
    def round_rates(self) -> list[float]:
        """Operations per second of each round."""
        return [self.ops_per_round / s for s in self.round_seconds if s > 0]

    @property
    def median_rate(self) -> float:
        """Median over rounds of operations per second."""
        return median(self.round_rates)

    @property
    def median_op(self) -> float:
        """Median duration of one operation (seconds)."""
        return median(self.op_seconds)


def timed_calls(operation: Callable[[], object], count: int) -> tuple[float, list[float]]:
    """Call ``operation`` ``count`` times; return (total seconds, seconds of each call)."""
    clock = time.perf_counter
    each = []
    start = clock()
    for _ in range(count):
        t0 = clock()
        operation()
        each.append(clock() - t0)
    return clock() - start, each


def interleaved_rounds(
    sides: Mapping[str, Callable[[], object]],
    *,
    rounds: int,
    ops_per_round: int,
    warmup: int = 0,
) -> dict[str, SideTimes]:
    """Time the sides in alternating rounds of ``ops_per_round`` calls each.

    The order of the sides is reversed every other round, so a slow phase of the machine hits
    every side alike. ``warmup`` untimed calls per side come first (caches, prepared
    statements, pool connections).
    """
    names = list(sides)
    for name in names:
        for _ in range(warmup):
            sides[name]()
    result = {name: SideTimes(name, ops_per_round=ops_per_round) for name in names}
    for round_no in range(rounds):
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            total, each = timed_calls(sides[name], ops_per_round)
            result[name].round_seconds.append(total)
            result[name].op_seconds.extend(each)
    return result


# --- SQL statement counting ------------------------------------------------------------------


@dataclass
class StatementCounter:
    """Statements SQLAlchemy sent, plus transaction control it issued through the DBAPI."""

    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0

    @property
    def total(self) -> int:
        """Statements plus COMMIT/ROLLBACK calls (BEGIN is implicit on most DBAPIs and is only
        counted here when it was sent as a statement)."""
        return len(self.statements) + self.commits + self.rollbacks


@contextlib.contextmanager
def count_statements(engine: Any) -> Iterator[StatementCounter]:
    """Count what ``engine`` (a SQLAlchemy Engine) executes inside the ``with`` block."""
    from sqlalchemy import event  # noqa: PLC0415 - keep _common importable without SQLAlchemy

    counter = StatementCounter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(" ".join(statement.split()))

    def on_begin(_conn: Any) -> None:
        counter.begins += 1

    def on_commit(_conn: Any) -> None:
        counter.commits += 1

    def on_rollback(_conn: Any) -> None:
        counter.rollbacks += 1

    hooks = [
        ("before_cursor_execute", on_statement),
        ("begin", on_begin),
        ("commit", on_commit),
        ("rollback", on_rollback),
    ]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield counter
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


@dataclass
class DriverTime:
    """Wall time spent inside the DBAPI driver, as seen from SQLAlchemy's events."""

    #: Between ``before_cursor_execute`` and ``after_cursor_execute`` (statement round trips).
    execute_seconds: float = 0.0
    #: From the ``commit`` event to the pool's ``checkin`` (COMMIT round trip + pool reset).
    commit_seconds: float = 0.0
    statements: int = 0
    commits: int = 0


@contextlib.contextmanager
def driver_time(engine: Any) -> Iterator[DriverTime]:
    """Accumulate the time ``engine``'s connections spend executing and committing."""
    from sqlalchemy import event  # noqa: PLC0415 - keep _common importable without SQLAlchemy

    clock = time.perf_counter
    spent = DriverTime()

    def before(conn: Any, *_args: Any) -> None:
        conn.info["_bench_exec"] = clock()

    def after(conn: Any, *_args: Any) -> None:
        started = conn.info.pop("_bench_exec", None)
        if started is not None:
            spent.execute_seconds += clock() - started
            spent.statements += 1

    def on_commit(conn: Any) -> None:
        conn.info["_bench_commit"] = clock()

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        started = record.info.pop("_bench_commit", None) if record is not None else None
        if started is not None:
            spent.commit_seconds += clock() - started
            spent.commits += 1

    hooks = [
        (engine, "before_cursor_execute", before),
        (engine, "after_cursor_execute", after),
        (engine, "commit", on_commit),
        (engine.pool, "checkin", on_checkin),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield spent
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


# --- output ----------------------------------------------------------------------------------


def fmt_rate(per_second: float) -> str:
    """``12,345/s``."""
    return "n/a" if math.isnan(per_second) else f"{per_second:,.0f}/s"


def fmt_ms(seconds: float, digits: int = 2) -> str:
    """Seconds shown as milliseconds: ``1.23 ms``."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.{digits}f} ms"


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").split(" ")[0]
    stripped = stripped.removesuffix("/s").removesuffix("x")
    try:
        float(stripped)
    except ValueError:
        return False
    return True


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print an aligned table: numbers right-aligned, text left-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(row: Sequence[str], *, header: bool = False) -> str:
        parts = []
        for i, cell in enumerate(row):
            right = not header and _is_number(cell)
            parts.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    print()
    print(title)
    print(line(headers, header=True))
    print(rule)
    for row in cells:
        print(line(row))
