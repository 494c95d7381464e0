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
