"""Phone numbers, parsed and validated by ``phonenumbers`` (libphonenumber's metadata)."""

from __future__ import annotations

import phonenumbers

from booking_core.errors import ValidationError
from booking_core.sanitize._common import require_str

__all__ = ["sanitize_phone"]


def sanitize_phone(
    value: object, *, default_region: str | None = None, field: str = "phone"
) -> str:
    """Return ``value`` as an E.164 number (``"+442083661177"``).

    International input (``"+44 20 8366 1177"``, ``"0044…"`` is *not* international) parses on
    its own; national input (``"020 8366 1177"``) needs ``default_region``, the ISO 3166 code of
    the country the user is in (``"GB"``). The number must be *valid* for its region according
    to the installed metadata, not merely plausible in length: a booking confirmation sent to a
    number that cannot exist is a support ticket. Extensions are dropped, as E.164 has none.

    Raises:
        ValidationError: ``value`` is not a ``str``, cannot be parsed, or is not a valid number.
    """
    text = require_str(value, field)
    region = default_region.upper() if default_region is not None else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            field, f"is not a phone number ({exc.args[0] if exc.args else exc})"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
