"""Helpers shared by the sanitizers: the ``str``-only gate, the invisible-character tables, and
Unicode normalization in linear time."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Literal, NamedTuple, TypeAlias

from booking_core.errors import ValidationError

__all__ = [
    "INVISIBLE",
    "NormalForm",
    "has_ignorable",
    "normalize",
    "require_str",
    "strip_ignorable",
]

NormalForm: TypeAlias = Literal["NFC", "NFD", "NFKC", "NFKD"]
_Decomposition: TypeAlias = Literal["NFD", "NFKD"]

# Characters that render as nothing but change meaning: zero-width spaces, the word joiner family,
# the BOM, and the bidi embedding/override/isolate controls used for "Trojan Source" style spoofing.
# ZWJ (U+200D) and ZWNJ (U+200C) are deliberately absent: emoji sequences and several scripts
# (Persian, Devanagari) need them, and they cannot hide a URL scheme from a browser on their own.
INVISIBLE = re.compile("[\u200b\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]")


# Controls, format characters (zero-width, bidi), surrogates and every kind of Unicode space. A
# browser or mail client may skip any of them while looking for a URL scheme.
_IGNORABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_ASCII_IGNORABLE = re.compile(r"[\x00-\x20\x7f]")


def has_ignorable(text: str) -> bool:
    """Whether ``text`` holds a control, format, surrogate or space character anywhere."""
    if text.isascii():
        return _ASCII_IGNORABLE.search(text) is not None
    return any(unicodedata.category(char) in _IGNORABLE_CATEGORIES for char in text)


def strip_ignorable(text: str) -> str:
    """``text`` minus what :func:`has_ignorable` looks for: what a lenient reader sees."""
    if text.isascii():
        return _ASCII_IGNORABLE.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in _IGNORABLE_CATEGORIES)


def require_str(value: object, field: str) -> str:
    """Return ``value`` if it is exactly a ``str``; otherwise raise a ``ValidationError``.

    Sanitizers refuse to guess: ``None`` usually means "missing", ``bytes`` have no encoding, and a
    number stringified here would hide a bug in the caller's parsing. ``str`` subclasses are
    accepted and returned as plain ``str`` so their overridden methods cannot interfere.
    """
    if isinstance(value, str):
        return str(value)
    if value is None:
        raise ValidationError(field, "is required (got None)")
    raise ValidationError(field, f"must be a string, not {type(value).__name__}")


# The Stream-Safe Text Format (UAX #15) allows at most 30 combining marks in a row, so real text
# never has a longer run; only such a run takes the slow path in normalize().
_LONG_RUN = 31
# Every character with a nonzero combining class lies below U+20000 (the last is U+1E94A, Adlam).
_MARKS_END = 0x20000
# Astral marks are few but scattered over ~100 ranges, and a regex tests such ranges one by one;
# merging those closer than this keeps the run pattern fast (see _MarkTables.runs).
_ASTRAL_GAP = 0x400
_DECOMPOSITION: dict[NormalForm, _Decomposition] = {
    "NFC": "NFD",
    "NFD": "NFD",
    "NFKC": "NFKD",
    "NFKD": "NFKD",
}


class _MarkTables(NamedTuple):
    """The patterns :func:`normalize` needs, built from the running Python's Unicode data."""

    #: 31+ characters that may decompose to combining marks. Exact in the BMP; astral ranges are
    #: merged, so a few other characters (rare historic scripts) match too. A superset is fine:
    #: it only sends a harmless run through the slow path, which gives the same result.
    runs: re.Pattern[str]
    #: One run of characters with a nonzero combining class (exact: these get sorted).
    marks: re.Pattern[str]
    #: ``str.translate`` tables, by form, for the characters (below U+20000) that decompose.
    decompose: dict[_Decomposition, dict[int, str]]


def _ranges(points: Iterable[int], gap: int = 1) -> list[tuple[int, int]]:
    """Sorted ``points`` as inclusive ranges, merging neighbours at most ``gap`` apart."""
    ranges: list[tuple[int, int]] = []
    for point in sorted(points):
        if ranges and point - ranges[-1][1] <= gap:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return ranges


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    """A regex character class for inclusive code point ``ranges``."""
    body = "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)
    return f"[{body}]"


@functools.cache
def _mark_tables() -> _MarkTables:
    """Build the tables, once: scanning the code points takes about 0.1 s, so it waits for the
    first long non-ASCII text."""
    everything = "".join(map(chr, range(_MARKS_END)))
    classes = zip(everything, map(unicodedata.combining, everything), strict=True)
    marks = {ord(c) for c, ccc in classes if ccc}
    decompositions = zip(everything, map(unicodedata.decomposition, everything), strict=True)
    decomposable = [c for c, decomposition in decompositions if decomposition]
    # A few starters decompose to marks only (U+0F73, U+FF9E, ...): they extend a run too.
    leads = marks | {
        ord(c) for c in decomposable if unicodedata.combining(unicodedata.normalize("NFKD", c)[0])
    }
    bmp = _ranges(p for p in leads if p <= 0xFFFF)
    astral = _ranges((p for p in leads if p > 0xFFFF), _ASTRAL_GAP)
    lead = _char_class(bmp + astral)
    return _MarkTables(
        runs=re.compile(f"(?<!{lead}){lead}{{{_LONG_RUN},}}"),
        marks=re.compile(_char_class(_ranges(marks)) + "+"),
        decompose={
            "NFD": _decomposition_table("NFD", decomposable),
            "NFKD": _decomposition_table("NFKD", decomposable),
        },
    )


def _decomposition_table(form: _Decomposition, chars: Iterable[str]) -> dict[int, str]:
    """What each of ``chars`` decomposes to under ``form``, for those it changes."""
    table = {ord(c): unicodedata.normalize(form, c) for c in chars}
    return {point: text for point, text in table.items() if text != chr(point)}


def _by_class(marks: re.Match[str]) -> str:
    return "".join(sorted(marks.group(), key=unicodedata.combining))


def _in_canonical_order(segment: str, decomposition: _Decomposition) -> str:
    """``segment`` decomposed, each run of marks stably sorted by combining class.

    That sort is canonical ordering (UAX #15), so unicodedata finds nothing left to reorder; it
    costs O(n log n) where unicodedata's insertion sort costs O(n²).
    """
    tables = _mark_tables()
    # Hangul syllables decompose by rule, not by table, but can only be the first character.
    decomposed = unicodedata.normalize(decomposition, segment[0]) + segment[1:].translate(
        tables.decompose[decomposition]
    )
    return tables.marks.sub(_by_class, decomposed)


def _presort_long_runs(text: str, decomposition: _Decomposition) -> str:
    """``text`` with every long run of marks (and the character before it) put in order."""
    pieces: list[str] = []
    done = 0
    for run in _mark_tables().runs.finditer(text):
        # The character before a run may decompose to a letter plus marks that join the run.
        start = max(run.start() - 1, done)
        pieces += (text[done:start], _in_canonical_order(text[start : run.end()], decomposition))
        done = run.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def normalize(form: NormalForm, text: str) -> str:
    """``unicodedata.normalize(form, text)``, in O(n log n) time whatever the input.

    CPython sorts each run of combining marks with an insertion sort, so ``"a" + "\\u0301\\u0316"
    * n`` takes quadratic time (100,000 characters: seconds). Runs longer than any real text has
    are decomposed and put in canonical order here first, which leaves unicodedata nothing to
    reorder. The result is the same string: decomposing, or swapping neighbouring marks of
    different classes, keeps the text equivalent under ``form``, and equivalent texts normalize
    alike.
    """
    if text.isascii():
        return text
    if len(text) >= _LONG_RUN:
        text = _presort_long_runs(text, _DECOMPOSITION[form])
    return unicodedata.normalize(form, text)
