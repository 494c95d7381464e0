"""Rich text: an allowlist HTML sanitizer on top of nh3 (ammonia, html5ever's parser)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping

import nh3

from booking_core.errors import ValidationError
from booking_core.sanitize._common import require_str, strip_ignorable

__all__ = [
    "DEFAULT_ALLOWED_ATTRIBUTES",
    "DEFAULT_ALLOWED_TAGS",
    "FORBIDDEN_ATTRIBUTES",
    "FORBIDDEN_TAGS",
    "LINK_SCHEMES",
    "MAX_HTML_LENGTH",
    "MAX_HTML_TAGS",
    "sanitize_html",
]

MAX_HTML_LENGTH = 100_000
"""Longest fragment accepted: a long description is a few thousand characters."""
MAX_HTML_TAGS = 5_000
"""Most tags (start, end, comment, doctype) a fragment may have."""

# What a package description or a note needs: emphasis, lists, links, headings, quotes. No images
# (tracking pixels, mixed content, layout breakage), no tables, no classes or styles.
DEFAULT_ALLOWED_TAGS: frozenset[str] = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "ins",
        "li",
        "ol",
        "p",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "u",
        "ul",
    ]
)
DEFAULT_ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "abbr": frozenset({"title"}),
    "ol": frozenset({"start"}),
}
LINK_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

# Never allowed, whatever the caller asks for: elements that run code, load documents or styles,
# change how the page resolves URLs or submits data, or switch the parser into another language
# (SVG/MathML namespaces are where mXSS lives).
FORBIDDEN_TAGS: frozenset[str] = frozenset(
    [
        "applet",
        "base",
        "basefont",
        "bgsound",
        "body",
        "button",
        "embed",
        "form",
        "frame",
        "frameset",
        "head",
        "html",
        "iframe",
        "input",
        "isindex",
        "keygen",
        "link",
        "math",
        "meta",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "option",
        "param",
        "plaintext",
        "portal",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "xmp",
    ]
)
# Event handlers (any ``on*``) are refused by prefix; these are the rest: inline CSS, documents in
# an attribute, and URL-bearing attributes that nh3 does not scheme-check (it checks ``href`` and
# ``src``), so allowing them would bypass the link-scheme allowlist. ``rel`` is ours to set.
FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset(
    [
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "icon",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "poster",
        "profile",
        "rel",
        "srcdoc",
        "srcset",
        "style",
        "usemap",
        "xlink:href",
        "xmlns",
        "http-equiv",
    ]
)
# Bodies removed together with their tags: keeping the text of a script would publish the attack.
_DROP_CONTENT_OF = frozenset(
    [
        "script",
        "style",
        "iframe",
        "noscript",
        "noembed",
        "noframes",
        "object",
        "embed",
        "svg",
        "math",
        "template",
        "textarea",
        "title",
        "xmp",
        "select",
    ]
)
_LINK_REL = "noopener noreferrer"

_FIRST_SEGMENT = re.compile(r"[/?#]")
# What the tokenizer may read as a tag, a comment or a declaration; text like "1 < 2" is not one.
_TAG = re.compile(r"<[A-Za-z/!?]")


def _filter_relative_url(url: str) -> str | None:
    """Keep a relative link unless it can be read as ``scheme:`` by a lenient consumer.

    nh3 checks schemes on URLs it can parse as absolute; ``"\\u200bjavascript:"`` or
    ``"java\\x01script:"`` fail that parse and count as relative. Today's browsers do not run them,
    but older parsers and other consumers of the stored HTML (mail clients, PDF renderers) might,
    so any control, format or space character is ignored when looking for a scheme. A colon in
    the first path segment is refused too: RFC 3986 does not allow it in a relative reference,
    and ``"javascript\\x3Ajavascript:"`` is a scheme to anything that unescapes backslashes.
    """
    if ":" in _FIRST_SEGMENT.split(strip_ignorable(url), maxsplit=1)[0]:
        return None
    return url


def _check_config(tags: frozenset[str], attributes: Mapping[str, frozenset[str]]) -> None:
    """Refuse configurations that would let executable or URL-smuggling markup through."""
    bad_tags = sorted(tags & FORBIDDEN_TAGS)
    if bad_tags:
        raise ValueError(f"sanitize_html cannot allow these tags: {', '.join(bad_tags)}")
    for tag, names in attributes.items():
        bad = sorted(n for n in names if n.lower().startswith("on") or n in FORBIDDEN_ATTRIBUTES)
        if bad:
            raise ValueError(f"sanitize_html cannot allow these attributes on {tag}: {bad}")


@functools.lru_cache(maxsize=64)
def _cleaner(
    tags: frozenset[str], attributes: frozenset[tuple[str, frozenset[str]]]
) -> nh3.Cleaner:
    """Build (once per distinct configuration) the nh3 cleaner for an allowlist."""
    attribute_map = dict(attributes)
    _check_config(tags, attribute_map)
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(_DROP_CONTENT_OF - tags),
        attributes={tag: set(names) for tag, names in attribute_map.items()},
        url_schemes=set(LINK_SCHEMES),
        url_relative=_filter_relative_url,
        link_rel=_LINK_REL,
        strip_comments=True,
    )


def _freeze(
    attributes: Mapping[str, Iterable[str]],
) -> frozenset[tuple[str, frozenset[str]]]:
    return frozenset((tag, frozenset(names)) for tag, names in attributes.items())


_DEFAULT_CLEANER = _cleaner(DEFAULT_ALLOWED_TAGS, _freeze(DEFAULT_ALLOWED_ATTRIBUTES))


def _check_size(html: str, field: str) -> None:
    """Refuse fragments big enough to make the parser slow, before it sees them.

    html5ever, nh3's parser, is not linear: each tag costs time proportional to the nesting
    depth (``"<div>" * 20_000`` takes seconds; servo/html5ever#788), each attribute to the
    attributes before it in its tag, and each character reference to the text before it in its
    text node. Bounding the length and the tag count bounds all three (about 0.3 s at worst).
    """
    if len(html) > MAX_HTML_LENGTH:
        raise ValidationError(field, f"is longer than {MAX_HTML_LENGTH} characters")
    if next(itertools.islice(_TAG.finditer(html), MAX_HTML_TAGS, None), None) is not None:
        raise ValidationError(field, f"has more than {MAX_HTML_TAGS} tags")


def sanitize_html(
    value: object,
    *,
    allowed_tags: Iterable[str] | None = None,
    allowed_attributes: Mapping[str, Iterable[str]] | None = None,
    field: str = "html",
) -> str:
    """Return ``value`` with everything but an allowlist of harmless HTML removed.

    The default allowlist is formatting, lists, links, headings and quotes
    (:data:`DEFAULT_ALLOWED_TAGS`), with ``href``/``title`` on links, ``title`` on ``abbr`` and
    ``start`` on ``ol``. Link URLs must be ``http``, ``https``, ``mailto`` or relative (a relative
    URL that hides a scheme behind invisible characters is dropped); every link gets
    ``rel="noopener noreferrer"``. Comments go; the bodies of ``script``, ``style``, ``iframe``,
    ``svg``, ``math`` and similar are removed with their tags; other disallowed tags are unwrapped
    and keep their text. The output is serialized by an HTML5 parser, so it is well-formed and
    its meaning does not depend on the browser's error recovery. Fragments longer than
    :data:`MAX_HTML_LENGTH` characters or with more than :data:`MAX_HTML_TAGS` tags are refused
    before parsing, which keeps the parser's cost bounded.

    Args:
        value: the HTML fragment; anything but a ``str`` is rejected.
        allowed_tags: replaces the default tag allowlist.
        allowed_attributes: replaces the default attribute allowlist (tag -> names; ``"*"``
            means every allowed tag).
        field: the name reported in the ``ValidationError``.

    Raises:
        ValidationError: ``value`` is not a ``str``, holds a lone surrogate (not encodable), or
            exceeds :data:`MAX_HTML_LENGTH` or :data:`MAX_HTML_TAGS`.
        ValueError: the allowlist names a tag from :data:`FORBIDDEN_TAGS`, an ``on*`` handler or
            an attribute from :data:`FORBIDDEN_ATTRIBUTES` (a programming error, not bad input).
    """
    if type(value) is not str:
        value = require_str(value, field)
    _check_size(value, field)
    if allowed_tags is None and allowed_attributes is None:
        cleaner = _DEFAULT_CLEANER
    else:
        tags = DEFAULT_ALLOWED_TAGS if allowed_tags is None else frozenset(allowed_tags)
        attributes = _freeze(
            DEFAULT_ALLOWED_ATTRIBUTES if allowed_attributes is None else allowed_attributes
        )
        cleaner = _cleaner(tags, attributes)
    try:
        cleaned: str = cleaner.clean(value)
    except UnicodeEncodeError as exc:  # a lone surrogate cannot cross into Rust as UTF-8
        raise ValidationError(field, "contains an unpaired surrogate character") from exc
    # A "&#13;" in the input comes out as a raw CR, which the next HTML parse turns into LF;
    # doing that here keeps sanitize_html(sanitize_html(x)) == sanitize_html(x).
    if "\r" in cleaned:
        cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
    # Likewise a parser drops a byte-order mark at the very start of its input, and removing a
    # leading tag can put one there ("</a>\ufeff").
    if cleaned.startswith("\ufeff"):
        cleaned = cleaned.lstrip("\ufeff")
    return cleaned
