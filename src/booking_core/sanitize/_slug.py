"""Slugs: the lowercase ASCII words-and-hyphens keys used in URLs (``/t/acme/p/wedding-deluxe``)."""

from __future__ import annotations

import re

from booking_core.errors import ValidationError
from booking_core.sanitize._common import normalize, require_str

__all__ = ["sanitize_slug", "slugify"]

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_SEPARATORS = re.compile(r"[^a-z0-9]+", re.ASCII)
# Apostrophes vanish, as do thousands separators between digits ("1,000" -> "1000").
_DROPPED = re.compile("['\u2019\u02bc`]|(?<=[0-9]),(?=[0-9])")
# Latin letters that NFKD does not decompose into an ASCII base letter plus accents.
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ł": "l", "Ł": "L",
        "\u0131": "i", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "ng", "Ŋ": "NG", "ĸ": "k",
    }
)  # fmt: skip


def _check_max_length(max_length: int) -> None:
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")


def sanitize_slug(value: object, *, max_length: int = 64, field: str = "slug") -> str:
    """Return ``value`` as a slug if it already is one, give or take case and surrounding spaces.

    A slug is one or more runs of ``a-z``/``0-9`` joined by single hyphens, at most
    ``max_length`` characters. The value is stripped and lowercased first, so ``" Spring-Sale "``
    gives ``"spring-sale"``; anything else is refused rather than repaired, because a slug is an
    identifier and silently changing one makes a different key. Use :func:`slugify` to *make* a
    slug from a name. Non-ASCII input is refused before lowercasing, so look-alikes such as the
    Kelvin sign (which lowercases to ``k``) cannot slip in.

    Raises:
        ValidationError: ``value`` is not a ``str`` or not a slug of the allowed length.
    """
    _check_max_length(max_length)
    text = require_str(value, field).strip()
    if not text.isascii():
        raise ValidationError(field, "must contain only a-z, 0-9 and hyphens")
    text = text.lower()
    if len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    if not _SLUG.fullmatch(text):
        raise ValidationError(
            field, "must be a-z/0-9 words joined by single hyphens (no leading/trailing hyphen)"
        )
    return text


def slugify(text: object, *, max_length: int = 64) -> str:
    """Make a slug from a name: ``"Café Crème"`` -> ``"cafe-creme"``.

    Accents are removed by Unicode decomposition, a few Latin letters that do not decompose are
    transliterated (``ß`` -> ``ss``, ``ø`` -> ``o``, ``æ`` -> ``ae``), apostrophes and
    digit-group commas vanish (``"O'Brien's"`` -> ``"obriens"``, ``"1,000"`` -> ``"1000"``), and
    every other run of non-alphanumerics becomes one hyphen.
    Scripts without a Latin decomposition (Greek, Cyrillic, CJK, …) are dropped: there is no
    transliteration table here, so ask the user for a slug when nothing is left. The result is
    cut to ``max_length`` without leaving a trailing hyphen.

    Raises:
        ValidationError: ``text`` is not a ``str``, or no letter or digit survives (field
            ``"slug"``).
    """
    _check_max_length(max_length)
    source = require_str(text, "slug")
    ascii_text = (
        normalize("NFKD", source.translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = _SEPARATORS.sub("-", _DROPPED.sub("", ascii_text).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug:
        raise ValidationError("slug", "has no letters or digits to make a slug from")
    return slug
