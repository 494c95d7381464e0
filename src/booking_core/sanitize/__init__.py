"""Input sanitizers: turn untrusted strings into values safe to store, or raise ``ValidationError``.

Each sanitizer takes a ``str`` (anything else is a ``ValidationError``), returns a normalized
``str``, and is idempotent: sanitizing its own output changes nothing. They clean *input*; they do
not escape *output*. Escape at the point of rendering (templates autoescape, JSON encoders quote),
because only the renderer knows whether the text lands in HTML, an attribute, a URL or an email
header. See ``docs/security.md`` for what each one guarantees.

    sanitize_html        allowlist HTML (nh3): formatting, lists, links, headings; bounded size
    sanitize_plain_text  no markup, no control characters, NFC, tidy whitespace; not escaped
    sanitize_email       email-validator syntax check, normalized address
    sanitize_url         scheme allowlist, obfuscation-proof; relative and credentials opt-in
    sanitize_phone       E.164 via phonenumbers; must be a valid number
    sanitize_slug        validate a slug; ``slugify`` makes one from a name
    sanitize_object      a rule per field over a whole JSON body, bounded
"""

from __future__ import annotations

from booking_core.sanitize._email import sanitize_email
from booking_core.sanitize._html import (
    DEFAULT_ALLOWED_ATTRIBUTES,
    DEFAULT_ALLOWED_TAGS,
    MAX_HTML_LENGTH,
    MAX_HTML_TAGS,
    sanitize_html,
)
from booking_core.sanitize._object import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_TOTAL_CHARS,
    FieldSanitizer,
    Rule,
    sanitize_object,
)
from booking_core.sanitize._phone import sanitize_phone
from booking_core.sanitize._slug import sanitize_slug, slugify
from booking_core.sanitize._text import sanitize_plain_text
from booking_core.sanitize._url import MAX_URL_LENGTH, sanitize_url

__all__ = [
    "DEFAULT_ALLOWED_ATTRIBUTES",
    "DEFAULT_ALLOWED_TAGS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_TOTAL_CHARS",
    "MAX_HTML_LENGTH",
    "MAX_HTML_TAGS",
    "MAX_URL_LENGTH",
    "FieldSanitizer",
    "Rule",
    "sanitize_email",
    "sanitize_html",
    "sanitize_object",
    "sanitize_phone",
    "sanitize_plain_text",
    "sanitize_slug",
    "sanitize_url",
    "slugify",
]
