"""Helpers shared by the sanitizers: the ``str``-only gate and the invisible-character tables."""

from __future__ import annotations

import re
import unicodedata

from booking_core.errors import ValidationError

__all__ = ["INVISIBLE", "has_ignorable", "require_str", "strip_ignorable"]

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
