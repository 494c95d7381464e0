"""Boundary checks shared by the services; each failure is a ValidationError naming the field."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
import uuid
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from booking_core.domain.money import plain_decimal
from booking_core.errors import ValidationError
from booking_core.limits import MAX_COUNT, MAX_MONEY, MAX_RANGE_DAYS
from booking_core.sanitize import sanitize_email, sanitize_plain_text, sanitize_slug

_CURRENCY = re.compile(r"[A-Za-z]{3}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
#: An IANA zone name: ASCII parts joined by "/", never "." (no "..", no "zone.tab").
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")
MAX_ZONE_LENGTH = 64  # the longest IANA name has 32 characters; the column holds 64
#: Dates a call may name. The upper bound leaves a year below ``date.max`` for the month and
#: range arithmetic of availability (a cached month of December 9999 would end past it).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(9998, 12, 31)
#: Unicode categories refused in identifiers: control (NUL included), format (bidi overrides,
#: zero-width characters) and surrogates (which no UTF-8 database stores).
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs"})


#: How much of a received value an error message shows (a huge value is never echoed).
SHOWN_CHARACTERS = 40
#: Types whose value an error message may show: their repr is ours, short once cut, and
#: escapes control and format characters. Instances of other types (a subclass of these
#: included, whose repr may be anything) are named by their type only.
_SHOWN: frozenset[type] = frozenset(
    {str, bytes, bytearray, int, float, bool, Decimal, uuid.UUID, dt.date, dt.datetime}
)
_SLUGGISH = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Where a slug passed as an id can be turned into that id.
_BY_SLUG = {
    "tenant_id": "tenants.get_by_slug(slug).id",
    "package_id": "catalog.get_package(tenant_id, slug).id",
}


def _type_name(kind: type) -> str:
    module = kind.__module__
    if module == "builtins":
        return kind.__name__
    if module in ("datetime", "decimal", "uuid"):
        return f"{module}.{kind.__name__}"
    return kind.__name__


def _cut(text: str) -> str:
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return text[: SHOWN_CHARACTERS - 1] + "…"


def _shown(value: Any) -> str:
    """The value part of :func:`describe` for a type of :data:`_SHOWN`."""
    if isinstance(value, str | bytes | bytearray):
        shown = repr(value[:SHOWN_CHARACTERS])  # escaped: no control or format characters
        if len(value) <= SHOWN_CHARACTERS and len(shown) <= SHOWN_CHARACTERS:
            return shown
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{_cut(shown)} ({len(value)} {unit})"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"of {value.bit_length()} bits"  # str() of a huge int is slow, or refused
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return _cut(str(value))
    return _cut(repr(value) if isinstance(value, float) else str(value))


def short_repr(text: str) -> str:
    """``repr(text)``, escaped and cut to about :data:`SHOWN_CHARACTERS` (its length then given)."""
    return _shown(text)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _entity_hint(value: Any, field: str) -> str | None:
    """``pass tenant.id`` for a booking_core entity passed where its id belongs, else None."""
    kind = type(value)
    if not kind.__module__.startswith("booking_core.") or not dataclasses.is_dataclass(value):
        return None
    variable = _snake(kind.__name__)
    fields = {f.name for f in dataclasses.fields(value)}
    wanted = field.removesuffix("_id") if field.endswith("_id") else variable
    own = variable == wanted or variable.startswith(f"{wanted}_")  # PackageDetails: a package
    if not own and field in fields:
        return f"pass {variable}.{field}"  # a Package where its tenant_id belongs
    if not own and hasattr(kind, "id"):
        return f"pass the {wanted.replace('_', ' ')}'s id, not a {kind.__name__}"
    if hasattr(kind, "id"):
        return f"pass {variable}.id"
    if "booking" in fields:
        return f"pass {variable}.booking.id"
    return None


def describe(value: Any) -> str:
    """A received value in brief, for an error message: its type and, if safe, a short repr.

    ``str '2027-03-01'``, ``int 7``, ``None``, ``Tenant``, ``list of 3 items``. Strings and bytes
    are cut to :data:`SHOWN_CHARACTERS` (their length is then given); objects of other types are
    named by their type only, so nothing of theirs runs and nothing large or private is echoed.
    """
    try:
        kind = type(value)
        if value is None:
            return "None"
        name = _type_name(kind)
        if kind in _SHOWN:
            return f"{name} {_shown(value)}"
        if kind in (list, tuple, dict, set, frozenset):
            count = len(value)
            return f"{name} of {count} item{'' if count == 1 else 's'}"
        return name
    except Exception:  # a message must never fail to be written
        return "an unreadable value"


def refuse(field: str, expected: str, value: Any, hint: str = "") -> ValidationError:
    """``expected <what>, got <describe(value)>[; <hint>]`` for ``field``, ready to raise."""
    message = f"expected {expected}, got {describe(value)}"
    return ValidationError(field, f"{message}; {hint}" if hint else message)


def _uuid_hint(value: Any, field: str) -> str:
    try:
        return _id_hint(value, field)
    except Exception:  # a hint is a courtesy: never let it hide the refusal
        return ""


def _id_hint(value: Any, field: str) -> str:
    entity = _entity_hint(value, field)
    if entity is not None:
        return entity
    if type(value) is str:
        try:
            uuid.UUID(value)
        except ValueError:
            pass
        else:
            return "parse it with uuid.UUID(text) first"
        if len(value) <= 64 and _SLUGGISH.fullmatch(value):
            where = _BY_SLUG.get(field, "the record's .id")
            return f"a slug is not an id: pass {where}"
    return ""


def uuid_(value: Any, field: str) -> uuid.UUID:
    """Ids are ``uuid.UUID`` objects; hosts parse strings at their edge (a typo is then theirs)."""
    if isinstance(value, uuid.UUID):
        return value
    raise refuse(field, "uuid.UUID", value, _uuid_hint(value, field))


def optional_uuid(value: Any, field: str) -> uuid.UUID | None:
    return None if value is None else uuid_(value, field)


def date_(value: Any, field: str = "date") -> dt.date:
    """A calendar date (not a datetime) between :data:`MIN_DATE` and :data:`MAX_DATE`."""
    if isinstance(value, dt.datetime):
        hint = "pass a date, not a datetime (its .date() in the tenant's timezone)"
        raise refuse(field, "datetime.date", value, hint)
    if not isinstance(value, dt.date):
        hint = "use date.fromisoformat" if type(value) is str else ""
        raise refuse(field, "datetime.date", value, hint)
    if not MIN_DATE <= value <= MAX_DATE:
        got = dt.date.isoformat(value)  # the date's own method, not a subclass's
        raise ValidationError(field, f"must be between {MIN_DATE} and {MAX_DATE}, got {got}")
    return value


def date_range(start: Any, end: Any, *, max_days: int = MAX_RANGE_DAYS) -> tuple[dt.date, dt.date]:
    start, end = date_(start, "start"), date_(end, "end")
    if end < start:
        before = f"{dt.date.isoformat(end)} is before {dt.date.isoformat(start)}"
        raise ValidationError("end", f"must not be before start ({before})")
    if (end - start).days > max_days:
        days = (end - start).days
        raise ValidationError("end", f"range is limited to {max_days} days, got {days}")
    return start, end


def _integer_hint(value: Any, *, amount: bool) -> str:
    kind = type(value)
    if kind is str and value.strip().lstrip("+-").isdecimal():
        return "use int(text)"
    if amount and kind in (float, Decimal):
        return "amounts are int minor units (cents): 10.50 is 1050"
    whole = (kind is float and value.is_integer()) or (
        kind is Decimal and value == value.to_integral_value()
    )
    return "use int(value)" if whole else ""


def integer(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    return _integer(value, field, minimum=minimum, maximum=maximum, amount=False)


def _integer(value: Any, field: str, *, minimum: int, maximum: int, amount: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            hint = _integer_hint(value, amount=amount)
        except (ValueError, OverflowError, ArithmeticError):  # int() of nan/inf
            hint = ""
        raise refuse(field, "an integer", value, hint)
    if not minimum <= value <= maximum:
        got = _shown(value) if type(value) is int else describe(value)
        raise ValidationError(field, f"must be between {minimum} and {maximum}, got {got}")
    return value


def money(value: Any, field: str) -> int:
    """A non-negative amount in minor units (floats are refused: they cannot hold cents)."""
    return _integer(value, field, minimum=0, maximum=MAX_MONEY, amount=True)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise refuse(field, "True or False", value)
    return value


def percent(value: Any, field: str = "commission_percent") -> Decimal:
    """A percent 0-50 with at most two decimals, as a plain Decimal (``Decimal("10")``)."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        hint = "use a str such as '12.5' or a Decimal" if type(value) is float else ""
        raise refuse(field, "an int, a decimal string or a Decimal", value, hint)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise refuse(field, "a number", value) from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(50):
        raise ValidationError(field, f"must be between 0 and 50, got {describe(value)}")
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError(field, f"at most two decimal places, got {describe(value)}")
    return plain_decimal(number)


def timezone(value: Any, field: str = "timezone") -> str:
    """An IANA zone name that loads.

    The name is checked before the lookup, which reads a file named after it: a directory
    ("Europe"), an over-long name or a path ("../etc") must fail here, not in the file system.
    """
    if not isinstance(value, str) or len(value) > MAX_ZONE_LENGTH or not _ZONE.fullmatch(value):
        raise refuse(field, "an IANA timezone name such as 'Europe/Paris'", value)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(field, f"unknown timezone {value!r}") from None
    return value


def currency(value: Any, field: str = "currency") -> str:
    """Three ASCII letters, uppercased (checked before ``upper()``, which turns "ﬃ" into "FFI")."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise refuse(field, "a three-letter ISO 4217 code such as 'EUR'", value)
    return value.strip().upper()


def country(value: Any, field: str = "country") -> str:
    """An ISO 3166 alpha-2 code (two ASCII letters, uppercased), or "" for none."""
    if value == "":
        return ""
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value.strip()):
        raise refuse(field, "a two-letter ISO 3166 country code such as 'FR', or ''", value)
    return value.strip().upper()


def identifier(value: Any, field: str, *, max_length: int = 255) -> str:
    """An opaque key chosen outside (an idempotency key, a provider name, an event id).

    Kept as given, so it must be storable and comparable as is: 1 to ``max_length``
    characters, not only spaces, without control, format or surrogate characters.
    """
    if not isinstance(value, str):
        raise refuse(field, f"a str of 1-{max_length} characters", value)
    if not value.strip() or len(value) > max_length:
        raise ValidationError(field, f"must be 1-{max_length} characters, got {describe(value)}")
    if any(unicodedata.category(char) in _UNPRINTABLE for char in value):
        raise ValidationError(
            field,
            f"must not contain control, format or surrogate characters, got {describe(value)}",
        )
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
    integer(max_length, "max_length", minimum=1, maximum=MAX_COUNT)
    if _UNSTORABLE.search(text) is not None:
        # UTF-16 joins valid pairs back into one code point; "replace" marks the lone ones.
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        text = joined.replace("\x00", REPLACEMENT)
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text
