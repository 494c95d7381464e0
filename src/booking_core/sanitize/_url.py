"""URLs for links and images: an allowlist of schemes, checked the way a browser would read them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, unquote, urlsplit

from booking_core.errors import ValidationError
from booking_core.sanitize._common import has_ignorable, require_str, strip_ignorable

__all__ = ["MAX_URL_LENGTH", "sanitize_url"]

MAX_URL_LENGTH = 2048
"""Longest URL accepted: enough for any real link or CDN image, and a bound on stored junk."""

# Schemes no caller may allow: they run script in the page's origin.
_NEVER = frozenset({"javascript", "vbscript", "livescript", "mocha"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PROBE_ROUNDS = 4
_MARKUP = re.compile(r"[<>\"`]")
_HOST_FORBIDDEN = re.compile(r"[\s<>\"'`{}|\\^%,;()\[\]]")
_FIRST_SEGMENT = re.compile(r"[/?#]")
_HIERARCHICAL = frozenset({"http", "https", "ws", "wss", "ftp", "ftps", "sftp"})


def _decodings(text: str) -> set[str]:
    """``text`` as it might read after entity and percent decoding, invisible characters dropped.

    A URL is often decoded more than once on its way to a browser (template -> attribute ->
    redirect), so ``"javascript&colon;"``, ``"javascript%3A"``, ``"&#106;avascript:"`` and
    doubly encoded variants all get a look. Entities are also decoded case-insensitively
    (``&COLON;``) and backslashes dropped, as lenient decoders do. Each round only shortens the
    text, and the number of rounds is fixed, so this stays linear in the input.
    """
    seen = {text}
    frontier = {text}
    for _ in range(_PROBE_ROUNDS):
        decoded: set[str] = set()
        for candidate in frontier:
            decoded.update(
                (html.unescape(candidate), html.unescape(candidate.lower()), unquote(candidate))
            )
        frontier = decoded - seen
        if not frontier:
            break
        seen |= frontier
    return {strip_ignorable(candidate).replace("\\", "") for candidate in seen}


def _check_authority(parts: SplitResult, *, allow_credentials: bool, field: str) -> None:
    has_userinfo = parts.username is not None or "@" in parts.netloc
    if has_userinfo and not allow_credentials:
        raise ValidationError(field, "must not contain credentials (user:password@)")
    host = parts.hostname
    if not host:
        raise ValidationError(field, "has no host")
    is_ipv6 = parts.netloc.rpartition("@")[2].startswith("[")
    if not is_ipv6 and _HOST_FORBIDDEN.search(host):
        raise ValidationError(field, "has an invalid host")
    try:
        parts.port  # noqa: B018 -- urllib validates the port lazily, on attribute access
    except ValueError as exc:
        raise ValidationError(field, "has an invalid port") from exc


def sanitize_url(
    value: object,
    *,
    schemes: Iterable[str] = ("http", "https"),
    allow_relative: bool = False,
    allow_credentials: bool = False,
    field: str = "url",
) -> str:
    """Return ``value`` (minus surrounding spaces) if it is a URL safe to link to; raise otherwise.

    Accepted: an absolute URL whose scheme is in ``schemes`` (``http://localhost:8000/x`` is
    fine) and, with ``allow_relative=True``, a path-relative or root-relative reference
    (``/img/a.png``, ``a.png``, ``?page=2``). ``http``/``https`` URLs need a host and may not
    carry ``user:password@`` unless ``allow_credentials=True`` (it is the classic phishing
    disguise, ``https://bank.example@evil.example``).

    Refused: other schemes, and anything that could *become* another scheme on the way to a
    browser: control characters, tabs, newlines or inner spaces anywhere, zero-width and bidi
    characters, backslashes (browsers read them as ``/``), unencoded ``<>"``` and backticks,
    scheme-relative ``//host`` references
    (they leave the site), and values whose entity- or percent-decoded forms start with a scheme
    that is not allowed (``javascript&colon;``, ``java%73cript:``). The URL is returned as given,
    not re-serialized, so sanitizing it again returns the same string.

    This checks safety and shape, not reachability, and says nothing about *which* hosts are
    acceptable: restricting redirects to your own host is the caller's job.

    Args:
        value: the URL; anything but a ``str`` is rejected.
        schemes: allowed schemes (case-insensitive). ``javascript``/``vbscript`` are never allowed.
        allow_relative: accept references without a scheme (never ``//host``).
        allow_credentials: accept ``user:password@`` in the authority.
        field: the name reported in the ``ValidationError``.

    Raises:
        ValidationError: ``value`` is not a ``str`` or not an acceptable URL.
        ValueError: ``schemes`` names a script scheme (a programming error).
    """
    allowed = frozenset(s.lower() for s in schemes)
    if allowed & _NEVER:
        raise ValueError(f"sanitize_url cannot allow script schemes: {sorted(allowed & _NEVER)}")
    text = require_str(value, field).strip(" ")
    if not text:
        raise ValidationError(field, "is empty")
    if len(text) > MAX_URL_LENGTH:
        raise ValidationError(field, f"is longer than {MAX_URL_LENGTH} characters")
    # Browsers skip C0 controls and spaces around a URL and drop tab/CR/LF inside it, so
    # "java\tscript:" runs as javascript:. Refuse such input instead of guessing what was meant.
    if has_ignorable(text):
        raise ValidationError(field, "contains whitespace, control or invisible characters")
    if "\\" in text:
        raise ValidationError(field, "contains a backslash")
    # RFC 3986 has no place for these unencoded; in a page they end the attribute or start a
    # tag when the output layer forgets to escape, so refuse them rather than pass them on.
    if _MARKUP.search(text):
        raise ValidationError(field, 'contains a character that must be percent-encoded (<>"`)')
    decodings = _decodings(text)
    hidden = {m.group(1).lower() for d in decodings if (m := _SCHEME.match(d))} - allowed
    if hidden:
        raise ValidationError(field, f"uses a scheme that is not allowed ({sorted(hidden)[0]})")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise ValidationError(field, "is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if not scheme or not _SCHEME.match(text):
        if not allow_relative:
            raise ValidationError(field, "must be an absolute URL")
        if text.startswith("//"):
            raise ValidationError(field, "must not be scheme-relative (//host)")
        # RFC 3986 forbids a colon in the first segment of a relative path; one that appears
        # after decoding ("javascrip%5Crt:", "&!*javascript:") is an obfuscated scheme.
        if any(":" in _FIRST_SEGMENT.split(d, maxsplit=1)[0] for d in decodings):
            raise ValidationError(field, "looks like an obfuscated scheme")
        return text
    if scheme not in allowed:
        raise ValidationError(field, f"uses a scheme that is not allowed ({scheme})")
    if scheme in _HIERARCHICAL:
        if not text[len(scheme) + 1 :].startswith("//"):
            raise ValidationError(field, "must start with scheme://host")
        _check_authority(parts, allow_credentials=allow_credentials, field=field)
    elif not text[len(scheme) + 1 :]:
        raise ValidationError(field, "is empty after its scheme")
    return text
