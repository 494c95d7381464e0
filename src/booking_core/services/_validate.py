"""Boundary checks shared by the services; each failure is a ValidationError naming the field."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_email, sanitize_plain_text, sanitize_slug

_CURRENCY = re.compile(r"[A-Za-z]{3}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
#: An IANA zone name: ASCII parts joined by "/", never "." (no "..", no "zone.tab").
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")
MAX_ZONE_LENGTH = 64  # the longest IANA name has 32 characters; the column holds 64
MAX_MONEY = 10**12  # minor units; far beyond any booking, far inside BIGINT
#: Dates a call may name. The upper bound leaves a year below ``date.max`` for the month and
#: range arithmetic of availability (a cached month of December 9999 would end past it).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(9998, 12, 31)
#: Unicode categories refused in identifiers: control (NUL included), format (bidi overrides,
#: zero-width characters) and surrogates (which no UTF-8 database stores).
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs"})


def uuid_(value: Any, field: str) -> uuid.UUID:
    """Ids are ``uuid.UUID`` objects; hosts parse strings at their edge (a typo is then theirs)."""
    if isinstance(value, uuid.UUID):
        return value
    raise ValidationError(field, "must be a uuid.UUID")


def optional_uuid(value: Any, field: str) -> uuid.UUID | None:
    return None if value is None else uuid_(value, field)


def date_(value: Any, field: str = "date") -> dt.date:
    """A calendar date (not a datetime) between :data:`MIN_DATE` and :data:`MAX_DATE`."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, "must be a datetime.date (not a datetime)")
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(field, f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def date_range(start: Any, end: Any, *, max_days: int = 1100) -> tuple[dt.date, dt.date]:
    start, end = date_(start, "start"), date_(end, "end")
    if end < start:
        raise ValidationError("end", "must not be before start")
    if (end - start).days > max_days:
        raise ValidationError("end", f"range is limited to {max_days} days")
    return start, end


def integer(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "must be an integer")
    if not minimum <= value <= maximum:
        raise ValidationError(field, f"must be between {minimum} and {maximum}")
    return value


def money(value: Any, field: str) -> int:
    """A non-negative amount in minor units (floats are refused: they cannot hold cents)."""
    return integer(value, field, minimum=0, maximum=MAX_MONEY)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be True or False")
    return value


def percent(value: Any, field: str = "commission_percent") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValidationError(field, "must be an int, a decimal string or a Decimal")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValidationError(field, "must be a number") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(50):
        raise ValidationError(field, "must be between 0 and 50")
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(field, "at most two decimal places")
    return number.normalize()


def timezone(value: Any, field: str = "timezone") -> str:
    """An IANA zone name that loads.

    The name is checked before the lookup, which reads a file named after it: a directory
    ("Europe"), an over-long name or a path ("../etc") must fail here, not in the file system.
    """
    if not isinstance(value, str) or len(value) > MAX_ZONE_LENGTH or not _ZONE.fullmatch(value):
        raise ValidationError(field, "must be an IANA timezone name such as 'Europe/Paris'")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(field, f"unknown timezone {value!r}") from None
    return value


def currency(value: Any, field: str = "currency") -> str:
    """Three ASCII letters, uppercased (checked before ``upper()``, which turns "ﬃ" into "FFI")."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise ValidationError(field, "must be a three-letter ISO 4217 code")
    return value.strip().upper()


def country(value: Any, field: str = "country") -> str:
    """An ISO 3166 alpha-2 code (two ASCII letters, uppercased), or "" for none."""
    if value == "":
        return ""
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value.strip()):
        raise ValidationError(field, "must be a two-letter ISO 3166 country code or empty")
    return value.strip().upper()


def identifier(value: Any, field: str, *, max_length: int = 255) -> str:
    """An opaque key chosen outside (an idempotency key, a provider name, an event id).

    Kept as given, so it must be storable and comparable as is: 1 to ``max_length``
    characters, not only spaces, without control, format or surrogate characters.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValidationError(field, f"must be 1-{max_length} characters")
    if any(unicodedata.category(char) in _UNPRINTABLE for char in value):
        raise ValidationError(field, "must not contain control, format or surrogate characters")
    return value


def name(value: Any, field: str = "name", *, max_length: int = 200) -> str:
    """A required single-line display name: sanitized plain text, not empty."""
    cleaned = sanitize_plain_text(value, max_length=max_length, field=field)
    if not cleaned:
        raise ValidationError(field, "must not be empty")
    return cleaned


def text(value: Any, field: str, *, max_length: int = 5000) -> str:
    """Optional multi-line descriptive text, sanitized as plain text."""
    return sanitize_plain_text(value, max_length=max_length, multiline=True, field=field)


def slug(value: Any, field: str = "slug") -> str:
    return sanitize_slug(value, field=field)


def customer_email(value: Any, field: str = "email") -> str:
    """The identity of a customer: the normalized address, lowercased as a whole.

    RFC 5321 lets a mailbox's local part be case-sensitive, but no real provider treats it so,
    and "Ann@x.com" and "ann@x.com" are one customer to every business.
    """
    return sanitize_email(value, field=field).lower()


#: What replaces a character no database can store (NUL, a lone surrogate).
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str, *, max_length: int) -> str:
    """Outside text (a handler's error, a provider's reason) made storable in every backend.

    The text is not ours to validate, only to keep: refusing it would lose the record it belongs
    to, so it is repaired instead. A surrogate pair split into two code points is joined into
    the character it encodes; a lone surrogate (no UTF-8 encoder takes it, so neither SQLite
    nor PostgreSQL stores it) and NUL (PostgreSQL's ``text`` refuses it) each become U+FFFD.
    The result is cut to
    ``max_length`` code points, its last one an ellipsis when something was cut. Linear in the
    length of ``text``; idempotent.

    Raises:
        ValidationError: ``text`` is not a str, or ``max_length`` is not a positive int.
    """
    if not isinstance(text, str):
        raise ValidationError("text", "must be a str")
    integer(max_length, "max_length", minimum=1, maximum=10**9)
    if _UNSTORABLE.search(text) is not None:
        # UTF-16 joins valid pairs back into one code point; "replace" marks the lone ones.
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        text = joined.replace("\x00", REPLACEMENT)
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text
