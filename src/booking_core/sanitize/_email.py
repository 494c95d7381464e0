"""Email addresses, checked by email-validator's syntax rules (no DNS: sanitizing never blocks)."""

from __future__ import annotations

import functools

import email_validator

from booking_core.errors import ValidationError
from booking_core.sanitize._common import require_str

__all__ = ["sanitize_email"]

# email-validator refuses any address longer than 254 characters as typed (RFC 5321 allows 254
# octets); past four times that, parsing it only to say so costs about a microsecond a
# character, so such input is refused before it is read.
_FAR_TOO_LONG = 4 * 254


def sanitize_email(value: object, *, field: str = "email") -> str:
    """Return the normalized form of the email address ``value``.

    Surrounding spaces are dropped (mobile keyboards and pasting add them; other whitespace,
    such as a CR/LF that could smuggle an email header, is refused); then email-validator
    checks the syntax with its defaults: no quoted local parts, no display names ("Ann <a@b>"),
    no IP-literal domains, internationalized addresses allowed, special-use domains such as
    ``.local`` or ``.test`` refused. Deliverability (DNS) is not checked: it would make input
    validation slow and flaky, and only sending a message proves an address works anyway.

    The normalized form lowercases and IDNA-normalizes the domain and NFC-normalizes the local
    part, whose case is kept (``Ann@Example.COM`` -> ``Ann@example.com``), so it is stable:
    sanitizing it again returns it unchanged.

    Raises:
        ValidationError: ``value`` is not a ``str`` or not a valid address; the message is
            email-validator's explanation, or says the input is far too long to be one.
    """
    text = require_str(value, field).strip(" ")
    if len(text) > _FAR_TOO_LONG:
        raise ValidationError(field, f"is too long to be an email address ({len(text)} characters)")
    try:
        return _normalized(text)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(field, str(exc)) from exc


@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    """email-validator's normalized form of ``text``, remembered: a returning customer's
    address is validated once per process, not on every hold (its checks cost ~0.1 ms).
    An invalid address raises and is not remembered."""
    return email_validator.validate_email(text, check_deliverability=False).normalized
