"""Properties every sanitizer must keep for any input, found by hypothesis.

Inputs are built from hostile fragments (tags, entities, script schemes, controls, invisible and
combining characters) mixed with arbitrary text, so the interesting cases come up quickly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.errors import ValidationError
from booking_core.sanitize import (
    sanitize_email,
    sanitize_html,
    sanitize_object,
    sanitize_phone,
    sanitize_plain_text,
    sanitize_slug,
    sanitize_url,
    slugify,
)

from .helpers import elements_in, executable_constructs

FRAGMENTS = [
    "<", ">", "</", "<!--", "-->", "<!", "<?", "/", "=", '"', "'", "`", "&", "&#", ";", "&lt;",
    "&amp;", "&#x6A;", "&colon;", "%3A", "%25", ":", "javascript:", "java\tscript:", "data:",
    "vbscript:", "http://", "https://x.example/", "mailto:", "//", "\\", "#", "?",
    "<a href=", "<a href='", "<a href=\"", "</a>", "<b>", "</b>", "<p>", "<br>", "<ul><li>",
    "<script>", "</script>", "<style>", "</style>", "<svg>", "<math>", "<img src=x onerror=",
    "<iframe>", "<textarea>", "<title>", "<noscript>", "<template>", "<table><td>", "<xmp>",
    " onclick=", " style=", " on", "alert(1)", "\x00", "\x01", "\x0b", "\r", "\n", "\t", " ",
    "\u00a0", "\u200b", "\u200d", "\u202e", "\u2028", "\ufeff", "\u0301", "e", "A", "1",
    "\u212a", "ß", "É", "👩", "\ud800",
]  # fmt: skip
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=25).map(
    "".join
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e\ufeff\ud800-\udfff]")


@PROPERTY
@given(hostile)
def test_html_is_idempotent_and_inert(value: str) -> None:
    """sanitize_html(x) has no executable construct and is a fixed point."""
    try:
        once = sanitize_html(value)
    except ValidationError:
        assert re.search("[\ud800-\udfff]", value)  # the only input it refuses
        return
    assert executable_constructs(once) == []
    assert sanitize_html(once) == once


@PROPERTY
@given(hostile, st.booleans())
def test_plain_text_is_idempotent_and_has_no_element(value: str, multiline: bool) -> None:
    """Plain text parses as HTML to no element, has no controls, is NFC, and is a fixed point."""
    once = sanitize_plain_text(value, multiline=multiline)
    assert elements_in(once) == []
    assert _CONTROL.search(once) is None
    assert unicodedata.is_normalized("NFC", once)
    assert once == once.strip()
    assert ("\n" in once) <= multiline
    assert sanitize_plain_text(once, multiline=multiline) == once


@PROPERTY
@given(hostile, st.booleans())
def test_url_accepts_only_safe_and_is_idempotent(value: str, relative: bool) -> None:
    """Whatever sanitize_url accepts starts with an allowed scheme or is a plain relative path."""
    try:
        once = sanitize_url(value, allow_relative=relative)
    except ValidationError:
        return
    assert sanitize_url(once, allow_relative=relative) == once
    lowered = once.lower()
    if relative and not lowered.startswith(("http://", "https://")):
        assert ":" not in re.split(r"[/?#]", once, maxsplit=1)[0]
        assert not once.startswith("//")
    else:
        assert lowered.startswith(("http://", "https://"))
    assert executable_constructs(f'<a href="{once}">x</a>') == []


@PROPERTY
@given(st.one_of(hostile, st.text()))
def test_slugify_yields_a_valid_stable_slug(value: str) -> None:
    """A slug from slugify passes sanitize_slug unchanged and slugifies to itself."""
    try:
        slug = slugify(value)
    except ValidationError:
        return
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 64
    assert sanitize_slug(slug) == slug
    assert slugify(slug) == slug


@settings(max_examples=150, deadline=None)
@given(st.emails())
def test_email_normalization_is_idempotent(value: str) -> None:
    """A normalized address normalizes to itself."""
    try:
        once = sanitize_email(value)
    except ValidationError:
        return
    assert sanitize_email(once) == once


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_phone_e164_is_idempotent(value: str) -> None:
    """Valid numbers come back as E.164, which parses to itself without a region."""
    try:
        once = sanitize_phone(value)
    except ValidationError:
        return
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", once)
    assert sanitize_phone(once) == once


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "notes", "tags", "x", "meta"]), children, max_size=4
        )
    ),
    max_leaves=20,
)
OBJECT_RULES: dict[str, Any] = {"notes": "html", "name": "text", "meta": "passthrough"}


@PROPERTY
@given(json_values)
def test_sanitize_object_is_idempotent_and_pure(value: Any) -> None:
    """sanitize_object never mutates its input and is a fixed point of itself."""
    snapshot = repr(value)
    try:
        once = sanitize_object(value, OBJECT_RULES)
    except ValidationError:  # e.g. a boolean under a text rule
        assert repr(value) == snapshot
        return
    assert repr(value) == snapshot
    assert sanitize_object(once, OBJECT_RULES) == once
