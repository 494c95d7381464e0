"""Hostile values: a fixed corpus every target meets, and Hypothesis strategies around it.

A value is a :class:`Hostile`: a label for reports and a factory turning the parameter's valid
value into the hostile one. The factory runs once per backend, so every backend gets a fresh
object (a generator or a list is never shared) and a mutation of a backend's own valid value
(its tenant's API key plus a NUL, its policy with one field replaced) is built from that value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

MEGABYTE = 1_000_000


@dataclass(frozen=True)
class Hostile:
    """One hostile value: ``make(valid)`` builds it from the parameter's valid value."""

    label: str
    make: Callable[[Any], Any]

    def __repr__(self) -> str:
        return self.label


def const(value: Any, label: str | None = None) -> Hostile:
    """A hostile value that does not depend on the valid one (copied fresh for each backend)."""
    shown = label or _short(value)
    if isinstance(value, list | dict | set | bytearray):
        return Hostile(shown, lambda _valid: _copy(value))
    return Hostile(shown, lambda _valid: value)


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}…({len(text)} chars)"


def _generator() -> Iterator[str]:
    yield "https://example.com/a.jpg"


class _Opaque:
    """An object of no type any API expects, with a normal repr."""

    def __repr__(self) -> str:
        return "<opaque>"


def _str_mutation(label: str, mutate: Callable[[str], Any]) -> Hostile:
    """A change to a valid string (its own hostile twin); a non-string valid value is kept."""

    def make(valid: Any) -> Any:
        return mutate(valid) if isinstance(valid, str) else valid

    return Hostile(label, make)


#: Text that sanitizers, zone lookups, encoders and databases each trip over differently.
HOSTILE_TEXT: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "\ud83d\ude00",  # a surrogate pair as two code points: not one character in Python
    "\u202eevil\u202c",
    "\u2066rtl\u2069",
    "\u0301",
    "e\u0301" * 50,
    "\ufb03",  # "ﬃ": one character that .upper() makes three
    "ß",
    "İ",  # .lower() makes it two
    "ǅ",
    "\u200b",
    "\ufeff",
    "\x7f\x1b[31m",
    "\n",
    "line\r\nbreak",
    "\t",
    "💥",
    "'; DROP TABLE bc_tenants; --",
    "%s%n{0}",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "Europe",
    "Europe/",
    "../etc",
    "../../etc/passwd",
    "/etc/localtime",
    "UTC/../Europe/Paris",
    "Europe/Paris\x00",
    "A" * 300,
    "x" * 10_000,
)

#: Values of the wrong type, or of the right type at the edge of what anything can hold.
HOSTILE_OTHER: tuple[Hostile, ...] = (
    const(None),
    const(True),
    const(False),
    const(0),
    const(-1),
    const(2**31),
    const(2**63),
    const(2**64 + 1),
    const(-(2**63) - 1),
    const(10**100, "10**100"),
    const(-(10**100), "-10**100"),
    const(1.5),
    const(-0.0),
    const(math.nan),
    const(math.inf),
    const(-math.inf),
    const(1e308),
    const(decimal.Decimal("NaN")),
    const(decimal.Decimal("Infinity")),
    const(decimal.Decimal("1e999999")),
    const(decimal.Decimal("0.001")),
    const(complex(1, 1)),
    const(b"bytes"),
    const(bytearray(b"\xff\xfe")),
    const([]),
    const({}),
    const(set()),
    const(()),
    const(["\x00"]),
    const({"\ud800": "\x00"}, "{'\\ud800': '\\x00'}"),
    const({1: 2}),
    Hostile("<generator>", lambda _valid: _generator()),
    Hostile("<opaque>", lambda _valid: _Opaque()),
    const(object, "object (a class)"),
    Hostile("<lambda>", lambda _valid: lambda *a, **k: None),
    const(dt.date.min),
    const(dt.date.max),
    const(dt.date(9999, 12, 1)),
    const(dt.date(9999, 12, 31)),
    const(dt.date(1, 1, 1)),
    const(dt.datetime(2030, 6, 20, 12, 0)),  # naive
    const(dt.datetime(2030, 6, 20, 12, 0, tzinfo=dt.UTC)),
    const(dt.datetime.max),
    const(dt.datetime.min.replace(tzinfo=dt.UTC)),
    const(dt.time(12, 0)),
    const(dt.timedelta(0)),
    const(dt.timedelta(microseconds=-1)),
    const(dt.timedelta.max),
    const(dt.timedelta.min),
    const(uuid.UUID(int=0)),
    const(uuid.UUID(int=2**128 - 1)),
    const(uuid.UUID("6f1c2d3e-0000-4000-8000-000000000000")),
    const("6f1c2d3e-0000-4000-8000-000000000000"),
)

#: Changes to the parameter's own valid value.
MUTATIONS: tuple[Hostile, ...] = (
    _str_mutation("valid+NUL", lambda s: s + "\x00"),
    _str_mutation("valid+surrogate", lambda s: s + "\ud800"),
    _str_mutation("RTL+valid", lambda s: "\u202e" + s),
    _str_mutation("valid.upper()", str.upper),
    _str_mutation("' '+valid+' '", lambda s: f" {s} "),
    _str_mutation("valid+combining", lambda s: s + "\u0301"),
    _str_mutation("valid as bytes", lambda s: s.encode()),
    _str_mutation("valid*300", lambda s: s * 300),
    Hostile("str(valid)", lambda valid: str(valid) if isinstance(valid, uuid.UUID) else valid),
    Hostile("valid.hex", lambda valid: valid.hex if isinstance(valid, uuid.UUID) else valid),
)

ONE_MB = (
    const("a" * MEGABYTE, "'a' * 1 MB"),
    const("é\u202e\x00" * (MEGABYTE // 3), "'é\\u202e\\x00' * 1 MB"),
)

#: Everything above: what the long mode sweeps through at every target.
LONG_CORPUS: tuple[Hostile, ...] = (
    tuple(const(text) for text in HOSTILE_TEXT) + HOSTILE_OTHER + MUTATIONS + ONE_MB
)
#: Labels of the values every target meets in CI: one or two of each kind, and the issue's
#: examples (the drawn values sample the rest).
_CI_LABELS = frozenset(
    {
        repr(text)
        for text in (
            "",
            "\x00",
            "\ud800",
            "\u202eevil\u202c",
            "\u0301",
            "\ufb03",
            "İ",
            "\u200b",
            "'; DROP TABLE bc_tenants; --",
            "Europe",
            "../etc",
        )
    }
    | {
        "None",
        "True",
        "-1",
        "9223372036854775808",
        "10**100",
        "1.5",
        "nan",
        "inf",
        "Decimal('NaN')",
        "Decimal('1E+999999')",
        "b'bytes'",
        "[]",
        "{}",
        "['\\x00']",
        "<generator>",
        "<opaque>",
        "datetime.date(1, 1, 1)",
        "datetime.date(9999, 12, 1)",
        "datetime.date(9999, 12, 31)",
        "datetime.datetime(2030, 6, 20, 12, 0)",
        "datetime.timedelta(days=999999999, seconds=86399, microseconds=999999)",
        "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)",
        "UUID('00000000-0000-0000-0000-000000000000')",
        "'6f1c2d3e-0000-4000-8000-000000000000'",
        "valid+NUL",
        "valid+surrogate",
        "valid.upper()",
        "valid*300",
        "str(valid)",
        "'a' * 1 MB",
    }
)
CORPUS: tuple[Hostile, ...] = tuple(h for h in LONG_CORPUS if h.label in _CI_LABELS)
_long_texts = tuple(h for h in LONG_CORPUS if h.label.startswith(("'AAAA", "'xxxx")))
CORPUS += _long_texts


# --- Hypothesis ------------------------------------------------------------------------------

#: Every code point, lone surrogates included (Hypothesis leaves them out by default).
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
FRAGMENT = st.one_of(st.sampled_from(HOSTILE_TEXT[:33]), st.text(ANY_CHARACTER, max_size=8))


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.decimals(),
        st.text(ANY_CHARACTER, max_size=40),
        st.lists(FRAGMENT, max_size=6).map("".join),
        st.binary(max_size=20),
        st.dates(),
        st.datetimes(),
        st.datetimes(timezones=st.just(dt.UTC)),
        st.timedeltas(),
        st.uuids(),
    )


def _composites(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(scalars, max_size=4),
        st.tuples(scalars),
        st.dictionaries(
            st.one_of(st.uuids(), st.text(ANY_CHARACTER, max_size=5)), scalars, max_size=3
        ),
    )


def _mutated_text() -> st.SearchStrategy[Hostile]:
    """The valid string with hostile fragments inserted at either end or inside."""

    def build(fragment: str, where: int) -> Hostile:
        def make(valid: Any) -> Any:
            if not isinstance(valid, str):
                return fragment
            cut = where % (len(valid) + 1)
            return valid[:cut] + fragment + valid[cut:]

        return Hostile(f"valid with {fragment!r} at {where}", make)

    return st.builds(build, FRAGMENT, st.integers(min_value=0, max_value=64))


def hostile_values(*, long: bool) -> st.SearchStrategy[Hostile]:
    """Any hostile value: the corpus, drawn scalars and containers, or a mutated valid value."""
    drawn = _scalars()
    corpus = LONG_CORPUS if long else LONG_CORPUS[: -len(ONE_MB)]
    return st.one_of(
        st.sampled_from(corpus),
        drawn.map(const),
        _composites(drawn).map(const),
        _mutated_text(),
    )


# --- nested valid values ---------------------------------------------------------------------

Path = tuple[str | int, ...]


def leaves(value: Any, *, depth: int = 3) -> Iterator[Path]:
    """Paths to the fields of a dataclass value, and into its tuples/lists of dataclasses."""
    if depth == 0:
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield (field.name,)
            for rest in leaves(getattr(value, field.name), depth=depth - 1):
                yield (field.name, *rest)
    elif isinstance(value, list | tuple) and value and dataclasses.is_dataclass(value[0]):
        yield (0,)
        for rest in leaves(value[0], depth=depth - 1):
            yield (0, *rest)


def get_leaf(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step] if isinstance(step, int) else getattr(value, step)
    return value


def with_leaf(value: Any, path: Path, new: Any) -> Any:
    """``value`` with the part at ``path`` replaced by ``new`` (no validation runs)."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        items = list(value)
        items[step] = with_leaf(items[step], rest, new)
        return type(value)(items)
    return dataclasses.replace(value, **{step: with_leaf(getattr(value, step), rest, new)})


# --- time slots: hostile values of one kind, for the targets of that kind -------------------
#
# The corpus above meets every target; these meet only the targets whose valid value is of
# their kind (an aware datetime, working hours, a package schedule, a zone, resource ids), so
# each can be specific without multiplying the run.


class RaisingOffset(dt.tzinfo):
    """A tzinfo whose every method raises (a broken or malicious zone object)."""

    def utcoffset(self, _when: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("utcoffset raises")

    def dst(self, _when: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("dst raises")

    def tzname(self, _when: dt.datetime | None) -> str:
        raise RuntimeError("tzname raises")

    def fromutc(self, _when: dt.datetime) -> dt.datetime:
        raise RuntimeError("fromutc raises")

    def __repr__(self) -> str:
        return "<tz: utcoffset raises>"


class Offset(dt.tzinfo):
    """A tzinfo whose utcoffset returns ``offset``: None, a day or more, or not a timedelta."""

    def __init__(self, offset: Any) -> None:
        self.offset = offset

    def utcoffset(self, _when: dt.datetime | None) -> Any:
        return self.offset

    def dst(self, _when: dt.datetime | None) -> Any:
        return None

    def tzname(self, _when: dt.datetime | None) -> str:
        return "ODD"

    def __repr__(self) -> str:
        return f"<tz: utcoffset returns {self.offset!r}>"


class Flipping(dt.tzinfo):
    """A tzinfo whose utcoffset changes between calls (+14:00, then -12:00, ...)."""

    def __init__(self) -> None:
        self.calls = 0

    def utcoffset(self, _when: dt.datetime | None) -> dt.timedelta:
        self.calls += 1
        return dt.timedelta(hours=14 if self.calls % 2 else -12)

    def dst(self, _when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, _when: dt.datetime | None) -> str:
        return "FLIP"

    def __repr__(self) -> str:
        return "<tz: utcoffset flips>"


class BrokenZone(ZoneInfo):
    """A ZoneInfo (so it passes an isinstance check) whose conversions raise."""

    def utcoffset(self, _when: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("utcoffset raises")

    def fromutc(self, _when: dt.datetime) -> dt.datetime:
        raise RuntimeError("fromutc raises")


PLUS_14 = dt.timezone(dt.timedelta(hours=14))
MINUS_12 = dt.timezone(dt.timedelta(hours=-12))
PARIS = ZoneInfo("Europe/Paris")


def _dt_mutation(label: str, mutate: Callable[[dt.datetime], Any]) -> Hostile:
    """A change to a valid datetime; a value that is not one is kept (nothing to change)."""

    def make(valid: Any) -> Any:
        return mutate(valid) if isinstance(valid, dt.datetime) else valid

    return Hostile(label, make)


def _year(year: int) -> Callable[[dt.datetime], dt.datetime]:
    return lambda valid: valid.replace(year=year)


#: Aware datetimes gone wrong: naive, a date, text, the ends of the calendar, exotic and
#: broken tzinfo, DST gaps and folds, off the grid, and (for the end of a range) before the
#: start or far past the longest range.
HOSTILE_DATETIMES: tuple[Hostile, ...] = (
    _dt_mutation("valid naive", lambda v: v.replace(tzinfo=None)),
    _dt_mutation("valid.date()", lambda v: v.date()),
    _dt_mutation("valid.isoformat()", lambda v: v.isoformat()),
    _dt_mutation("valid.timestamp()", lambda v: v.timestamp()),
    _dt_mutation("valid in +14:00", lambda v: v.astimezone(PLUS_14)),
    _dt_mutation("valid in -12:00", lambda v: v.astimezone(MINUS_12)),
    _dt_mutation("valid's wall time at +14:00", lambda v: v.replace(tzinfo=PLUS_14)),
    _dt_mutation(
        "valid in Pacific/Kiritimati", lambda v: v.astimezone(ZoneInfo("Pacific/Kiritimati"))
    ),
    _dt_mutation("valid with utcoffset raising", lambda v: v.replace(tzinfo=RaisingOffset())),
    _dt_mutation("valid with utcoffset None", lambda v: v.replace(tzinfo=Offset(None))),
    _dt_mutation(
        "valid with utcoffset 25 h", lambda v: v.replace(tzinfo=Offset(dt.timedelta(hours=25)))
    ),
    _dt_mutation("valid with utcoffset 3600 (int)", lambda v: v.replace(tzinfo=Offset(3600))),
    _dt_mutation("valid with utcoffset flipping", lambda v: v.replace(tzinfo=Flipping())),
    _dt_mutation(
        "valid with offset +01:00:01.000001",
        lambda v: v.replace(tzinfo=dt.timezone(dt.timedelta(hours=1, seconds=1, microseconds=1))),
    ),
    _dt_mutation("valid fold=1", lambda v: v.replace(fold=1)),
    _dt_mutation("valid + 1 µs", lambda v: v + dt.timedelta(microseconds=1)),
    _dt_mutation("valid + 30 s", lambda v: v + dt.timedelta(seconds=30)),
    _dt_mutation("valid - 1 day", lambda v: v - dt.timedelta(days=1)),
    _dt_mutation("valid - 10 years", lambda v: v - dt.timedelta(days=3653)),
    _dt_mutation("valid + 62 days", lambda v: v + dt.timedelta(days=62)),
    _dt_mutation("valid + 10 years", lambda v: v + dt.timedelta(days=3653)),
    _dt_mutation("valid in year 9999", _year(9999)),
    _dt_mutation("valid in year 1", _year(1)),
    const(dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)),
    const(dt.datetime.max.replace(tzinfo=dt.UTC), "datetime.max UTC"),
    const(dt.datetime.max.replace(tzinfo=MINUS_12), "datetime.max at -12:00"),
    const(dt.datetime.max.replace(tzinfo=PLUS_14), "datetime.max at +14:00"),
    const(dt.datetime.min.replace(tzinfo=PLUS_14), "datetime.min at +14:00"),
    const(dt.datetime.min.replace(tzinfo=PARIS), "datetime.min in Europe/Paris"),
    const(dt.datetime(1, 1, 1, 12, tzinfo=dt.UTC)),
    const(dt.datetime(2031, 3, 30, 2, 30, tzinfo=PARIS), "2031-03-30 02:30 Paris (in the gap)"),
    const(dt.datetime(2030, 10, 27, 2, 30, tzinfo=PARIS), "2030-10-27 02:30 Paris (fold 0)"),
    const(dt.datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=PARIS), "2030-10-27 02:30 Paris fold 1"),
    const(dt.datetime(2030, 10, 27, 8, 0, tzinfo=PARIS), "2030-10-27 08:00 Paris (fall-back day)"),
    const(dt.datetime(2031, 3, 30, 8, 0, tzinfo=PARIS), "2031-03-30 08:00 Paris (spring day)"),
    const(dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC), "now"),
    const(dt.datetime(2030, 6, 15, 8, 59, tzinfo=dt.UTC), "a minute ago"),
    const(dt.date(2030, 7, 5)),
    const("2030-07-05T10:00:00+02:00"),
    const(1_909_728_000, "a Unix timestamp"),
)

#: RRULE values: finer frequencies, parts that are refused, the longest, NUL and line breaks,
#: rules that never match or stop only in the year 9999, and counts never reached.
HOSTILE_RRULES: tuple[str, ...] = (
    "FREQ=SECONDLY",
    "FREQ=MINUTELY;INTERVAL=1",
    "FREQ=HOURLY",
    "FREQ=DAILY;BYHOUR=8",
    "FREQ=DAILY;BYSECOND=1,2,3",
    "freq=daily",
    "RRULE:FREQ=DAILY",
    "DTSTART:20300101T000000\nRRULE:FREQ=DAILY",
    "FREQ=DAILY\r\nEXRULE:FREQ=WEEKLY",
    "FREQ=DAILY;RDATE=20300101",
    "FREQ=DAILY\x00",
    "FREQ=DAILY;\x00=1",
    "FREQ=DAILY;" + "BYMONTH=1;" * 200,
    "FREQ=DAILY;BYMONTHDAY=" + ",".join(["1"] * 3000),
    "FREQ=DAILY;INTERVAL=0",
    "FREQ=DAILY;INTERVAL=1001",
    "FREQ=DAILY;INTERVAL=99999999999999999999999999",
    "FREQ=DAILY;INTERVAL=-1",
    "FREQ=DAILY;INTERVAL=\u0661",  # an Arabic-Indic digit: int() reads it, a regex might not
    "FREQ=DAILY;COUNT=1000",
    "FREQ=YEARLY;COUNT=1000",
    "FREQ=DAILY;COUNT=1000;INTERVAL=1000",
    "FREQ=DAILY;COUNT=5;UNTIL=20310101",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;INTERVAL=1000",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
    "FREQ=MONTHLY;BYDAY=5FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYDAY=6MO",
    "FREQ=YEARLY;BYDAY=53MO",
    "FREQ=YEARLY;BYDAY=-53SU;BYWEEKNO=53",
    "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=366,-366",
    "FREQ=YEARLY;BYSETPOS=366;BYMONTHDAY=31",
    "FREQ=WEEKLY;WKST=XX",
    "FREQ=WEEKLY;BYDAY=MO,MO,MO",
    "FREQ=WEEKLY;BYMONTHDAY=1",
    "FREQ=DAILY;UNTIL=99991231",
    "FREQ=DAILY;UNTIL=99991231T235959Z",
    "FREQ=DAILY;UNTIL=00010101",
    "FREQ=DAILY;UNTIL=20300230",
    "FREQ=YEARLY;INTERVAL=1000;UNTIL=99991231",
    "FREQ=DAILY;;",
    "FREQ=DAILY;FREQ=WEEKLY",
    ";".join(["FREQ=DAILY"] * 200),
    "FREQ=" + "D" * 10_000,
    "x" * 10_000,
)

_T8, _T20 = dt.time(8), dt.time(20)


def _primitive(**changes: Any) -> dict[str, Any]:
    """Working hours in their JSON form: open 08:00-20:00 every day, with ``changes``."""
    base: dict[str, Any] = {
        "weekly": [[day, "08:00", "20:00"] for day in range(7)],
        "recurring": [],
        "dates": [],
    }
    return {**base, **changes}


def _rule(rrule: Any, starts_on: Any = "2030-01-01", **changes: Any) -> dict[str, Any]:
    return {"rrule": rrule, "starts_on": starts_on, "opens": "08:00", "closes": "20:00", **changes}


def _hours_mutation(label: str, mutate: Callable[[Any], Any]) -> Hostile:
    """A change to valid working hours (a dataclass, changed without its checks)."""

    def make(valid: Any) -> Any:
        return mutate(valid) if dataclasses.is_dataclass(valid) else valid

    return Hostile(label, make)


def _weekly(*entries: Any) -> Callable[[Any], Any]:
    return lambda valid: dataclasses.replace(valid, weekly=entries)


def _recurring(rrule: Any, starts_on: Any = dt.date(2030, 1, 1)) -> Callable[[Any], Any]:
    from booking_core.domain.schedule import RecurringHours

    return lambda valid: dataclasses.replace(
        valid, recurring=(RecurringHours(rrule, starts_on, _T8, _T20),)
    )


def _hostile_hours() -> tuple[Hostile, ...]:
    from booking_core.domain.schedule import DateHours, WeeklyHours

    monday = WeeklyHours(0, _T8, _T20)
    # the constructors without their annotations: these values are wrong on purpose
    weekly: Any = WeeklyHours
    dated: Any = DateHours
    return (
        # the JSON form, in wrong shapes
        const({}, "hours {}"),
        const(_primitive(extra=1), "hours with an unknown key"),
        const(_primitive(weekly=None), "hours weekly=None"),
        const(_primitive(weekly="MO 08:00-20:00"), "hours weekly as text"),
        const(_primitive(weekly={"0": ["08:00", "20:00"]}), "hours weekly as a dict"),
        const(_primitive(weekly=[[0, "08:00"]]), "hours weekly entry of 2"),
        const(_primitive(weekly=[[True, "08:00", "20:00"]]), "hours weekday True"),
        const(_primitive(weekly=[[7, "08:00", "20:00"]]), "hours weekday 7"),
        const(_primitive(weekly=[[2**64, "08:00", "20:00"]]), "hours weekday 2**64"),
        const(_primitive(weekly=[["0", "08:00", "20:00"]]), "hours weekday '0'"),
        const(_primitive(weekly=[[0, "8:00", "20:00"]]), "hours opens '8:00'"),
        const(_primitive(weekly=[[0, "08:00", "24:00"]]), "hours closes '24:00'"),
        const(_primitive(weekly=[[0, "08:00:30", "20:00"]]), "hours opens with seconds"),
        const(_primitive(weekly=[[0, "20:00", "08:00"]]), "hours closing before opening"),
        const(_primitive(weekly=[[0, "08:00\x00", "20:00"]]), "hours opens with NUL"),
        const(_primitive(weekly=[[0, "\uff10\uff18:00", "20:00"]]), "hours in fullwidth digits"),
        const(_primitive(weekly=[[0, "08:00", "20:00"]] * 101), "hours 101 weekly entries"),
        Hostile(
            "hours 100k weekly entries",
            lambda _valid: _primitive(weekly=[[0, "08:00", "20:00"]] * 100_000),
        ),
        const(_primitive(weekly=[[0, "x" * 10_000, "20:00"]]), "hours opens 10k chars"),
        const(_primitive(recurring=[_rule("FREQ=SECONDLY")]), "hours rule FREQ=SECONDLY"),
        const(_primitive(recurring=[_rule("FREQ=MINUTELY")]), "hours rule FREQ=MINUTELY"),
        const(_primitive(recurring=[_rule("x" * 10_000)]), "hours rule of 10k chars"),
        const(_primitive(recurring=[_rule("FREQ=DAILY\x00")]), "hours rule with NUL"),
        const(_primitive(recurring=[_rule(None)]), "hours rule None"),
        const(_primitive(recurring=[_rule("FREQ=DAILY", "2030-02-30")]), "hours rule Feb 30"),
        const(_primitive(recurring=[_rule("FREQ=DAILY", "0000-01-01")]), "hours rule year 0"),
        const(_primitive(recurring=[_rule("FREQ=DAILY", "9999-12-31")]), "hours rule 9999-12-31"),
        const(_primitive(recurring=[_rule("FREQ=DAILY", 20300101)]), "hours rule starts_on int"),
        const(_primitive(recurring=[{"rrule": "FREQ=DAILY"}]), "hours rule missing keys"),
        const(_primitive(recurring=[_rule("FREQ=DAILY", x=1)]), "hours rule extra key"),
        const(_primitive(recurring="FREQ=DAILY"), "hours recurring as text"),
        const(_primitive(dates=[{"date": "2030-02-30", "hours": []}]), "hours date Feb 30"),
        const(_primitive(dates=[{"date": "2030-07-05", "hours": []}] * 2), "hours date twice"),
        const(
            _primitive(dates=[{"date": "2030-07-05", "hours": [["08:00", "20:00", "x"]]}]),
            "hours date pair of 3",
        ),
        const(
            _primitive(dates=[{"date": "2030-07-05", "hours": [["08:00", "20:00"]] * 101}]),
            "hours date 101 pairs",
        ),
        const(_primitive(dates=[{"date": "+10000-01-01", "hours": []}]), "hours date +10000"),
        # the dataclass, in wrong shapes
        _hours_mutation(
            "hours weekly as a list", lambda v: dataclasses.replace(v, weekly=list(v.weekly))
        ),
        _hours_mutation(
            "hours weekly as a generator", lambda v: dataclasses.replace(v, weekly=iter(v.weekly))
        ),
        _hours_mutation(
            "hours weekly of dicts", _weekly({"weekday": 0, "opens": _T8, "closes": _T20})
        ),
        _hours_mutation("hours weekday 7", _weekly(WeeklyHours(7, _T8, _T20))),
        _hours_mutation("hours weekday -1", _weekly(WeeklyHours(-1, _T8, _T20))),
        _hours_mutation("hours weekday True", _weekly(weekly(True, _T8, _T20))),
        _hours_mutation("hours weekday 1.0", _weekly(weekly(1.0, _T8, _T20))),
        _hours_mutation("hours opens '08:00'", _weekly(weekly(0, "08:00", _T20))),
        _hours_mutation(
            "hours opens aware", _weekly(WeeklyHours(0, dt.time(8, tzinfo=dt.UTC), _T20))
        ),
        _hours_mutation("hours opens 08:00:30", _weekly(WeeklyHours(0, dt.time(8, 0, 30), _T20))),
        _hours_mutation(
            "hours opens 08:00 fold=1", _weekly(WeeklyHours(0, dt.time(8, fold=1), _T20))
        ),
        _hours_mutation("hours closes = opens", _weekly(WeeklyHours(0, _T8, _T8))),
        _hours_mutation("hours 00:00-00:00", _weekly(WeeklyHours(0, dt.time(0), dt.time(0)))),
        _hours_mutation("hours 100 overlapping", _weekly(*[monday] * 100)),
        _hours_mutation("hours 101 entries", _weekly(*[monday] * 101)),
        _hours_mutation(
            "hours 59 one-minute openings",
            _weekly(*[WeeklyHours(0, dt.time(8, m), dt.time(8, m + 1)) for m in range(0, 59)]),
        ),
        _hours_mutation("hours rule FREQ=SECONDLY", _recurring("FREQ=SECONDLY")),
        _hours_mutation("hours rule of 10k chars", _recurring("FREQ=DAILY;" + "x" * 10_000)),
        _hours_mutation("hours rule with NUL", _recurring("FREQ=DAILY\x00")),
        _hours_mutation(
            "hours rule never matching", _recurring("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
        ),
        _hours_mutation("hours rule COUNT=1000", _recurring("FREQ=DAILY;COUNT=1000")),
        _hours_mutation("hours rule from date.min", _recurring("FREQ=DAILY", dt.date.min)),
        _hours_mutation("hours rule from date.max", _recurring("FREQ=YEARLY", dt.date.max)),
        _hours_mutation(
            "hours rule from a datetime", _recurring("FREQ=DAILY", dt.datetime(2030, 1, 1))
        ),
        _hours_mutation("hours rule as bytes", _recurring(b"FREQ=DAILY")),
        _hours_mutation(
            "hours date override of a datetime",
            lambda v: dataclasses.replace(v, dates=(dated(dt.datetime(2030, 7, 5), ()),)),
        ),
        _hours_mutation(
            "hours date override twice",
            lambda v: dataclasses.replace(v, dates=(DateHours(dt.date(2030, 7, 5)),) * 2),
        ),
        _hours_mutation(
            "hours date override at date.max",
            lambda v: dataclasses.replace(v, dates=(DateHours(dt.date.max, ((_T8, _T20),)),)),
        ),
        _hours_mutation(
            "hours date pair as a list",
            lambda v: dataclasses.replace(v, dates=(dated(dt.date(2030, 7, 5), ([_T8, _T20],)),)),
        ),
        _hours_mutation(
            "hours date 101 pairs",
            lambda v: dataclasses.replace(
                v, dates=(DateHours(dt.date(2030, 7, 5), ((_T8, _T20),) * 101),)
            ),
        ),
        _hours_mutation("hours as primitive", lambda v: v.to_primitive()),
    )


HOSTILE_HOURS: tuple[Hostile, ...] = _hostile_hours()


def _schedule_mutation(label: str, mutate: Callable[[Any], Any]) -> Hostile:
    """A change to a valid package schedule (made without its checks)."""

    def make(valid: Any) -> Any:
        return mutate(valid) if dataclasses.is_dataclass(valid) else valid

    return Hostile(label, make)


def _timing(**changes: Any) -> Callable[[Any], Any]:
    return lambda valid: dataclasses.replace(
        valid, timing=dataclasses.replace(valid.timing, **changes)
    )


def _ids(make_ids: Callable[[tuple[uuid.UUID, ...]], Any]) -> Callable[[Any], Any]:
    return lambda valid: dataclasses.replace(valid, resource_ids=make_ids(valid.resource_ids))


class Endless:
    """An iterable that never ends (it raises after ``limit`` items, so a test cannot hang):
    whoever reads it whole instead of stopping at a limit is a finding."""

    def __init__(self, item: Any, limit: int = 100_000) -> None:
        self.item = item
        self.limit = limit

    def __iter__(self) -> Iterator[Any]:
        for _ in range(self.limit):
            yield self.item
        raise RuntimeError(f"read {self.limit} items of an endless iterable")

    def __repr__(self) -> str:
        return "<endless iterable>"


_MINUTE = dt.timedelta(minutes=1)
_HOUR = dt.timedelta(hours=1)


def _hostile_schedules() -> tuple[Hostile, ...]:
    from booking_core.domain.model import PackageSchedule

    return (
        _schedule_mutation("timing None", lambda v: dataclasses.replace(v, timing=None)),
        _schedule_mutation(
            "timing as a dict", lambda v: dataclasses.replace(v, timing={"duration": 60})
        ),
        _schedule_mutation("duration 0", _timing(duration=dt.timedelta(0))),
        _schedule_mutation("duration -1 min", _timing(duration=-_MINUTE)),
        _schedule_mutation("duration 1 µs", _timing(duration=dt.timedelta(microseconds=1))),
        _schedule_mutation("duration 90 s", _timing(duration=dt.timedelta(seconds=90))),
        _schedule_mutation("duration 7 days", _timing(duration=dt.timedelta(days=7))),
        _schedule_mutation(
            "duration 7 days + 1 min", _timing(duration=dt.timedelta(days=7) + _MINUTE)
        ),
        _schedule_mutation("duration timedelta.max", _timing(duration=dt.timedelta.max)),
        _schedule_mutation("duration 60 (int)", _timing(duration=60)),
        _schedule_mutation("duration nan", _timing(duration=math.nan)),
        _schedule_mutation(
            "buffers of 1 day",
            _timing(buffer_before=dt.timedelta(days=1), buffer_after=dt.timedelta(days=1)),
        ),
        _schedule_mutation("buffer_before timedelta.max", _timing(buffer_before=dt.timedelta.max)),
        _schedule_mutation("buffer_after -1 min", _timing(buffer_after=-_MINUTE)),
        _schedule_mutation("buffer_after None", _timing(buffer_after=None)),
        _schedule_mutation("slot_interval 0", _timing(slot_interval=dt.timedelta(0))),
        _schedule_mutation("slot_interval 1 min", _timing(slot_interval=_MINUTE)),
        _schedule_mutation("slot_interval 1 s", _timing(slot_interval=dt.timedelta(seconds=1))),
        _schedule_mutation("slot_interval -1 h", _timing(slot_interval=-_HOUR)),
        _schedule_mutation("slot_interval timedelta.max", _timing(slot_interval=dt.timedelta.max)),
        _schedule_mutation("min_notice -1 min", _timing(min_notice=-_MINUTE)),
        _schedule_mutation("min_notice timedelta.max", _timing(min_notice=dt.timedelta.max)),
        _schedule_mutation(
            "min_notice past the horizon", _timing(min_notice=dt.timedelta(days=800))
        ),
        _schedule_mutation("horizon 0", _timing(horizon=dt.timedelta(0))),
        _schedule_mutation("horizon 1 min", _timing(horizon=_MINUTE)),
        _schedule_mutation(
            "horizon 3 years + 2 days", _timing(horizon=dt.timedelta(days=3 * 365 + 2))
        ),
        _schedule_mutation("horizon timedelta.max", _timing(horizon=dt.timedelta.max)),
        _schedule_mutation("horizon 30 (int)", _timing(horizon=30)),
        _schedule_mutation("max_per_day 0", _timing(max_per_day=0)),
        _schedule_mutation("max_per_day 1", _timing(max_per_day=1)),
        _schedule_mutation("max_per_day 1001", _timing(max_per_day=1001)),
        _schedule_mutation("max_per_day True", _timing(max_per_day=True)),
        _schedule_mutation("max_per_day 10**100", _timing(max_per_day=10**100)),
        _schedule_mutation("max_per_day 1.5", _timing(max_per_day=1.5)),
        _schedule_mutation("no resource", _ids(lambda ids: ())),
        _schedule_mutation("a resource twice", _ids(lambda ids: ids * 2)),
        _schedule_mutation("an unknown resource", _ids(lambda ids: (uuid.UUID(int=7),))),
        _schedule_mutation("the tenant-wide id", _ids(lambda ids: (uuid.UUID(int=0),))),
        _schedule_mutation(
            "51 resources", _ids(lambda ids: tuple(uuid.UUID(int=i) for i in range(1, 52)))
        ),
        _schedule_mutation("resource ids as text", _ids(lambda ids: tuple(map(str, ids)))),
        _schedule_mutation("resource ids as one text", _ids(lambda ids: str(ids[0]))),
        _schedule_mutation("resource ids as a list", _ids(list)),
        _schedule_mutation("resource ids as a set", _ids(set)),
        _schedule_mutation("resource ids as a generator", _ids(lambda ids: (i for i in ids))),
        _schedule_mutation("resource ids endless", _ids(lambda ids: Endless(ids[0]))),
        _schedule_mutation("resource ids (None,)", _ids(lambda ids: (None,))),
        _schedule_mutation("resource id bare", _ids(lambda ids: ids[0])),
        _schedule_mutation("need 'all'", lambda v: dataclasses.replace(v, need="all")),
        _schedule_mutation("need 'ALL'", lambda v: dataclasses.replace(v, need="ALL")),
        _schedule_mutation("need None", lambda v: dataclasses.replace(v, need=None)),
        _schedule_mutation("need []", lambda v: dataclasses.replace(v, need=[])),
        _schedule_mutation(
            "assignment 'round_robin'", lambda v: dataclasses.replace(v, assignment="round_robin")
        ),
        _schedule_mutation("assignment 2", lambda v: dataclasses.replace(v, assignment=2)),
        _schedule_mutation(
            "schedule as a dict",
            lambda v: {"timing": v.timing, "resource_ids": v.resource_ids},
        ),
        _schedule_mutation("schedule as a tuple", lambda v: tuple(dataclasses.astuple(v))),
        Hostile(
            "PackageSchedule of garbage",
            lambda _valid: PackageSchedule(object(), object(), object(), object()),  # type: ignore[arg-type]
        ),
    )


HOSTILE_SCHEDULES: tuple[Hostile, ...] = _hostile_schedules()


def _hostile_zones() -> tuple[Hostile, ...]:
    return (
        const(ZoneInfo("Pacific/Kiritimati"), "ZoneInfo('Pacific/Kiritimati')"),
        const(ZoneInfo("Etc/GMT+12"), "ZoneInfo('Etc/GMT+12')"),
        Hostile("ZoneInfo.no_cache('Europe/Paris')", lambda _v: ZoneInfo.no_cache("Europe/Paris")),
        Hostile("a ZoneInfo whose conversions raise", lambda _v: BrokenZone("Europe/Paris")),
        const(dt.UTC, "datetime.UTC"),
        const(PLUS_14, "timezone(+14:00)"),
        Hostile("<tz: utcoffset raises>", lambda _v: RaisingOffset()),
        const("Pacific/Kiritimati"),
        const("Etc/GMT-14"),
        const("Etc/GMT+12"),
        const("UTC"),
        const("posixrules"),
        const("Factory"),
        const("localtime"),
        const("zone.tab"),
        const("tzdata.zi"),
        const("leapseconds"),
        const("right/UTC"),
        const("posix/Europe/Paris"),
        const("EST5EDT"),
        const("<+14>-14"),  # a POSIX TZ string, not a name
        const("Europe/Paris,M3.5.0,M10.5.0"),
        const("europe/paris"),
        const("Europe/Paris/"),
        const("Europe//Paris"),
        const("./Europe/Paris"),
    )


HOSTILE_ZONES: tuple[Hostile, ...] = _hostile_zones()


def _ids_mutation(label: str, mutate: Callable[[list[Any]], Any]) -> Hostile:
    """A change to a valid list of resource ids."""

    def make(valid: Any) -> Any:
        return mutate(list(valid)) if isinstance(valid, list | tuple) and valid else valid

    return Hostile(label, make)


#: Resource-id filters: empty, duplicated, unknown, too many, of other types, endless.
HOSTILE_ID_LISTS: tuple[Hostile, ...] = (
    _ids_mutation("ids []", lambda ids: []),
    _ids_mutation("ids twice", lambda ids: ids * 2),
    _ids_mutation("ids 50 times", lambda ids: ids * 50),
    _ids_mutation("ids 51 times", lambda ids: ids * 51),
    _ids_mutation("ids + 10k unknown", lambda ids: ids + [uuid.UUID(int=i) for i in range(10_000)]),
    _ids_mutation("ids as text", lambda ids: [str(i) for i in ids]),
    _ids_mutation("ids as hex", lambda ids: [i.hex for i in ids]),
    _ids_mutation("ids as bytes", lambda ids: [i.bytes for i in ids]),
    _ids_mutation("ids as ints", lambda ids: [i.int for i in ids]),
    _ids_mutation("ids as a tuple", tuple),
    _ids_mutation("ids as a set", set),
    _ids_mutation("ids as a frozenset", frozenset),
    _ids_mutation("ids as a dict", dict.fromkeys),
    _ids_mutation("ids as a generator", lambda ids: (i for i in ids)),
    _ids_mutation("ids endless", lambda ids: Endless(ids[0])),
    _ids_mutation("ids one bare id", lambda ids: ids[0]),
    _ids_mutation("ids one id as text", lambda ids: str(ids[0])),
    _ids_mutation("ids + None", lambda ids: [*ids, None]),
    _ids_mutation("ids nested", lambda ids: [ids]),
    const([uuid.UUID(int=0)], "[the tenant-wide id]"),
    const([uuid.UUID(int=7)], "[an unknown id]"),
)


def corpus_for(name: str, valid: Any) -> tuple[Hostile, ...]:
    """The hostile values of the kind of a target named ``name`` whose valid value is
    ``valid`` (empty: none beyond the common corpus)."""
    from booking_core.domain.model import PackageSchedule
    from booking_core.domain.schedule import WorkingHours

    if isinstance(valid, dt.datetime):
        return HOSTILE_DATETIMES
    if isinstance(valid, WorkingHours):
        return HOSTILE_HOURS
    if isinstance(valid, PackageSchedule):
        return HOSTILE_SCHEDULES
    if name == "rrule":
        return tuple(const(text) for text in HOSTILE_RRULES)
    if name in ("tz", "timezone"):
        return HOSTILE_ZONES
    if name == "resource_ids":
        return HOSTILE_ID_LISTS
    return ()
