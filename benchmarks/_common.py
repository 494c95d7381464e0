"""Shared helpers for the benchmarks: interleaved timing rounds, robust statistics, tables.

Loopback round trips on a busy machine jump between levels, so two things being compared are
never timed one after the other in a block: :func:`interleaved_rounds` alternates them round by
round (A B, B A, A B, ...) and callers compare medians, not means.
"""

from __future__ import annotations

import contextlib
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DriverClock",
    "DriverTime",
    "SideTimes",
    "StatementCounter",
    "WireCounter",
    "WireTally",
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

    hooks: list[tuple[str, Callable[..., Any]]] = [
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

    hooks: list[tuple[Any, str, Callable[..., Any]]] = [
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


# --- wire round trips (a counting proxy) and driver time (psycopg patched) -------------------

#: PostgreSQL's SSLRequest and GSSENCRequest codes (answered with one byte, then a new startup).
_ENCRYPTION_REQUESTS = {80877103, 80877104}


class _FrontendParser:
    """Splits a client's PostgreSQL protocol stream into messages; names what they execute."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._named: dict[bytes, str] = {}
        self._unnamed = ""
        self._bound = "?"

    def feed(self, data: bytes) -> list[str]:
        """Labels of what ``data`` executes: a Query's text, an Execute's statement,
        ``(connect)`` for a startup message, ``(prepare)`` for a named Parse."""
        self._buffer += data
        found: list[str] = []
        buf = self._buffer
        while True:
            if not self._started:
                if len(buf) < 8:
                    break
                size = int.from_bytes(buf[:4], "big")
                code = int.from_bytes(buf[4:8], "big")
                if len(buf) < size:
                    break
                buf = buf[size:]
                if code not in _ENCRYPTION_REQUESTS:
                    self._started = True
                    found.append("(connect)")
                continue
            if len(buf) < 5:
                break
            kind = buf[:1]
            size = int.from_bytes(buf[1:5], "big")
            if len(buf) < 1 + size:
                break
            body = buf[5 : 1 + size]
            buf = buf[1 + size :]
            if kind == b"Q":
                found.append(body.rstrip(b"\0").decode(errors="replace"))
            elif kind == b"P":
                name, rest = body.split(b"\0", 1)
                query = rest.split(b"\0", 1)[0].decode(errors="replace")
                if name:
                    self._named[name] = query
                    found.append("(prepare)")
                else:
                    self._unnamed = query
            elif kind == b"B":
                _portal, rest = body.split(b"\0", 1)
                statement = rest.split(b"\0", 1)[0]
                self._bound = self._named.get(statement, "?") if statement else self._unnamed
            elif kind == b"E":
                found.append(self._bound)
        self._buffer = buf
        return found


@dataclass
class WireTally:
    """What the clients of a :class:`WireCounter` sent while it was recording."""

    #: One entry per request/response exchange: the statements that exchange carried.
    exchanges: list[list[str]] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return len(self.exchanges)

    @property
    def statements(self) -> list[str]:
        """Executed statements (Query messages and Executes); connects, prepares excluded."""
        return [s for trip in self.exchanges for s in trip if not s.startswith("(")]

    @property
    def connects(self) -> int:
        return sum(1 for trip in self.exchanges for s in trip if s == "(connect)")


class WireCounter:
    """A loopback TCP proxy in front of PostgreSQL that counts round trips, driver-agnostic.

    Point a client at ``127.0.0.1:port`` (with ``sslmode=disable``, so the stream can be read)
    and every request/response exchange it makes inside :meth:`recording` is counted: one
    round trip = the client sending after it last heard from the server (a BEGIN, a COMMIT, a
    Sync'ed extended-protocol statement, a pipeline burst: each is one). It catches statements
    sent on any connection, pooled or not, through SQLAlchemy or the bare driver. It adds
    latency: use it to count, never to time.
    """

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._tally: WireTally | None = None
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="wire-counter").start()

    @contextlib.contextmanager
    def recording(self) -> Iterator[WireTally]:
        tally = WireTally()
        with self._lock:
            self._tally = tally
        try:
            yield tally
        finally:
            with self._lock:
                self._tally = None

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        parser = _FrontendParser()
        heard_server = True  # a new connection's startup is an exchange of its own
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ)
        selector.register(server, selectors.EVENT_READ)
        try:
            while True:
                for key, _events in selector.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(1 << 16)
                    if not data:
                        return
                    if sock is client:
                        labels = parser.feed(data)
                        with self._lock:
                            if self._tally is not None:
                                if heard_server or not self._tally.exchanges:
                                    self._tally.exchanges.append([])
                                self._tally.exchanges[-1].extend(labels)
                        heard_server = False
                        server.sendall(data)
                    else:
                        heard_server = True
                        client.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            server.close()


class DriverClock:
    """Wall time spent inside psycopg 3 calls (cursor execute/fetch, connection execute,
    commit, rollback, connect), whoever makes them: SQLAlchemy or code using the bare driver.

    Everything else a caller spends is Python outside the driver (validation, services,
    SQLAlchemy, pool). Not thread-safe: time one thread at a time.
    """

    _CURSOR = ("execute", "executemany", "fetchone", "fetchmany", "fetchall")
    _CONNECTION = ("execute", "commit", "rollback")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.connects = 0
        #: Seconds per call label: an execute's SQL text, or ``commit``/``rollback``/``fetch…``
        #: (an implicit BEGIN is inside the first execute of a transaction).
        self.by_call: dict[str, float] = {}
        self._depth = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def _wrap(self, method: Callable[..., Any], name: str) -> Callable[..., Any]:
        clock = time.perf_counter
        executes = name in {"execute", "executemany"}

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return method(*args, **kwargs)
            self._depth += 1
            t0 = clock()
            try:
                return method(*args, **kwargs)
            finally:
                spent = clock() - t0
                self.seconds += spent
                self.calls += 1
                self._depth -= 1
                label = str(args[1]) if executes and len(args) > 1 else name
                self.by_call[label] = self.by_call.get(label, 0.0) + spent

        return timed

    def install(self) -> None:
        import psycopg  # noqa: PLC0415 - keep _common importable without psycopg

        for cls, names in ((psycopg.Cursor, self._CURSOR), (psycopg.Connection, self._CONNECTION)):
            for name in names:
                original = cls.__dict__[name]
                self._saved.append((cls, name, original))
                setattr(cls, name, self._wrap(original, name))
        connect = psycopg.Connection.__dict__["connect"]
        self._saved.append((psycopg.Connection, "connect", connect))
        timed_connect = self._wrap(connect.__func__, "connect")

        def counted(cls: Any, *args: Any, **kwargs: Any) -> Any:
            self.connects += 1
            return timed_connect(cls, *args, **kwargs)

        psycopg.Connection.connect = classmethod(counted)  # type: ignore[method-assign, assignment]
        # ``psycopg.connect`` is the classmethod bound at import time: replace it too.
        self._saved.append((psycopg, "connect", psycopg.connect))
        psycopg.connect = psycopg.Connection.connect

    def uninstall(self) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved.clear()

    def reset(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.connects = 0
        self.by_call = {}

    def __enter__(self) -> DriverClock:
        self.install()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.uninstall()


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
