"""``/.well-known/security.txt`` (RFC 9116): how researchers reach us about a vulnerability."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_url

__all__ = ["security_txt"]

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _many(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _uris(name: str, values: list[str], schemes: tuple[str, ...]) -> list[str]:
    # sanitize_url refuses CR/LF and other controls, so no value can add a line of its own.
    return [sanitize_url(value, schemes=schemes, field=name) for value in values]


def security_txt(
    *,
    contact: str | Sequence[str],
    expires: dt.datetime,
    encryption: str | Sequence[str] | None = None,
    acknowledgments: str | Sequence[str] | None = None,
    preferred_languages: Sequence[str] | None = None,
    canonical: str | Sequence[str] | None = None,
    policy: str | Sequence[str] | None = None,
    hiring: str | Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Render a security.txt file (RFC 9116) to serve at ``/.well-known/security.txt``.

    ``contact`` (required, one or more) is a ``mailto:``, ``tel:`` or ``https://`` URI;
    ``expires`` (required) is an aware datetime, written in UTC. RFC 9116 recommends an expiry
    less than a year ahead, so the file is revisited; pass ``now`` (an injected clock) to have
    an already expired date refused. The other fields take ``https://`` URIs, except
    ``preferred_languages`` (language tags such as ``"en"``, ``"de-CH"``). Serve it as
    ``text/plain; charset=utf-8``; signing it (OpenPGP cleartext) is left to deployment.

    Raises:
        ValidationError: a missing contact, a naive or past ``expires``, or a value that is not
            an acceptable URI or language tag (the field names the argument).
    """
    contacts = _many(contact)
    if not contacts:
        raise ValidationError("contact", "at least one contact is required")
    if not isinstance(expires, dt.datetime) or expires.utcoffset() is None:
        raise ValidationError("expires", "must be a timezone-aware datetime")
    if now is not None and expires <= now:
        raise ValidationError("expires", "is in the past")
    languages = list(preferred_languages or ())
    for tag in languages:
        if not isinstance(tag, str) or not _LANGUAGE_TAG.fullmatch(tag):
            raise ValidationError("preferred_languages", f"not a language tag: {tag!r}")
    https = ("https",)
    lines = [f"Contact: {uri}" for uri in _uris("contact", contacts, ("mailto", "tel", "https"))]
    stamp = expires.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines.append(f"Expires: {stamp}")
    lines += [f"Encryption: {u}" for u in _uris("encryption", _many(encryption), https)]
    lines += [
        f"Acknowledgments: {u}" for u in _uris("acknowledgments", _many(acknowledgments), https)
    ]
    if languages:
        lines.append(f"Preferred-Languages: {', '.join(languages)}")
    lines += [f"Canonical: {u}" for u in _uris("canonical", _many(canonical), https)]
    lines += [f"Policy: {u}" for u in _uris("policy", _many(policy), https)]
    lines += [f"Hiring: {u}" for u in _uris("hiring", _many(hiring), https)]
    return "\n".join(lines) + "\n"
