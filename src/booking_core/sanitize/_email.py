"""Email addresses, checked by email-validator's syntax rules (no DNS: sanitizing never blocks)."""

from __future__ import annotations

import functools
import re
from typing import Final

import email_validator
from email_validator import rfc_constants

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


#: An unquoted ASCII local part of the most common characters, dots only between them: a strict
#: subset of what email-validator accepts, which it returns unchanged.
_PLAIN_LOCAL_PART: Final = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*")
#: RFC 5321's limits: email-validator applies the address's to it as typed, normalized and with
#: an IDNA ASCII domain, each in UTF-8 bytes; the local part's is stricter than it needs.
_MAX_LOCAL_PART = 64
_MAX_ADDRESS = 254
#: Role mailboxes (RFC 2142: postmaster, info, ...) whose case email-validator folds itself.
_CASE_INSENSITIVE_MAILBOXES: Final = frozenset(rfc_constants.CASE_INSENSITIVE_MAILBOX_NAMES)


@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    """email-validator's normalized form of ``text``, remembered: a returning customer's
    address is validated once per process, not on every hold (its checks cost 25-50 us).

    A new address at a domain seen before skips most of that: when its local part is plain
    (see ``_PLAIN_LOCAL_PART``) and not a role mailbox, and every form of it is within the
    length, the verdict and the
    normalized form are the local part as typed and the domain as email-validator normalized
    it the first time (the tests compare both ways on the corpus and on generated addresses).
    Anything else, and every refusal, comes from email-validator itself. An invalid address
    raises and is not remembered.
    """
    local, at, domain = text.rpartition("@")
    if (
        at
        and len(local) <= _MAX_LOCAL_PART
        and _PLAIN_LOCAL_PART.fullmatch(local)
        and local.lower() not in _CASE_INSENSITIVE_MAILBOXES
    ):
        known = _domain_forms(domain)
        if known is not None:
            normalized = f"{local}@{known[0]}"
            longest = max(
                len(text.encode()), len(normalized.encode()), len(local) + 1 + len(known[1])
            )
            if longest <= _MAX_ADDRESS:
                return normalized
    return email_validator.validate_email(text, check_deliverability=False).normalized


@functools.lru_cache(maxsize=1024)
def _domain_forms(domain: str) -> tuple[str, str] | None:
    """The domain as email-validator normalizes it after a plain local part, and its IDNA
    ASCII form; None when it refuses such an address (the caller then validates the real one,
    for its own message)."""
    try:
        checked = email_validator.validate_email(f"a@{domain}", check_deliverability=False)
    except email_validator.EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain
