"""Boundary checks shared by the services; each failure is a ValidationError naming the field."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_email, sanitize_plain_text, sanitize_slug

_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_MONEY = 10**12  # minor units; far beyond any booking, far inside BIGINT


def uuid_(value: Any, field: str) -> uuid.UUID:
    """Ids are ``uuid.UUID`` objects; hosts parse strings at their edge (a typo is then theirs)."""
    if isinstance(value, uuid.UUID):
        return value
    raise ValidationError(field, "must be a uuid.UUID")


def optional_uuid(value: Any, field: str) -> uuid.UUID | None:
    return None if value is None else uuid_(value, field)


def date_(value: Any, field: str = "date") -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, "must be a datetime.date (not a datetime)")
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
    if not isinstance(value, str) or not value or value.startswith(("/", ".")):
        raise ValidationError(field, "must be an IANA timezone name such as 'Europe/Paris'")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(field, f"unknown timezone {value!r}") from None
    return value


def currency(value: Any, field: str = "currency") -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip().upper()):
        raise ValidationError(field, "must be a three-letter ISO 4217 code")
    return value.strip().upper()


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
