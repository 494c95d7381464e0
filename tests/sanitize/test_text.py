"""sanitize_plain_text: no markup or controls, NFC, tidy whitespace, and no HTML escaping."""

from __future__ import annotations

import pytest

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_plain_text

from .helpers import elements_in


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("O'Brien & Sons <b>x</b>", "O'Brien & Sons x"),
        ("  Ann   Smith \t", "Ann Smith"),
        ("Hello <script>alert(1)</script>world", "Hello world"),
        ("a <style>p{color:red}</style>b", "a b"),
        ("<p>Hello</p><p>World</p>", "Hello World"),
        ("x <!-- secret > still secret --> y", "x y"),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("a &amp; b &lt;i&gt;", "a &amp; b &lt;i&gt;"),
        ("<<b>b>", "b>"),
        ("<\u212a>", "K>"),
        ("<<\u212a", "K"),
        ("Zero\u200bwidth\u202eevil", "Zerowidthevil"),
        ("nul\x00 bell\x07", "nul bell"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("e<b>\u0301</b>", "\u00e9"),
        ("👩\u200d💻 dev", "👩\u200d💻 dev"),
        ("<script>", ""),
        ("   ", ""),
        ("", ""),
    ],
)
def test_single_line(raw: str, expected: str) -> None:
    """Tags, controls and invisible characters go; entities and '<' as text stay; NFC; one space."""
    assert sanitize_plain_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("line one\r\nline two", "line one\nline two"),
        ("a\n\n\n\n b  \r c", "a\n\nb\nc"),
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("x\u2028y", "x\ny"),
        ("\n\n  padded  \n\n", "padded"),
    ],
)
def test_multiline_keeps_line_breaks(raw: str, expected: str) -> None:
    """Line breaks normalize to LF, lines are trimmed, at most one blank line in a row."""
    assert sanitize_plain_text(raw, multiline=True) == expected


def test_single_line_turns_newlines_into_spaces() -> None:
    """Without multiline a CR/LF cannot survive (think email Subject built from a name)."""
    assert sanitize_plain_text("Ann\r\nBcc: x@evil.example") == "Ann Bcc: x@evil.example"


def test_max_length_applies_to_the_result() -> None:
    """The limit counts the sanitized characters; exceeding it raises with the field name."""
    assert sanitize_plain_text("<b>abc</b>", max_length=3) == "abc"
    with pytest.raises(ValidationError) as info:
        sanitize_plain_text("abcd", max_length=3, field="name")
    assert info.value.field == "name"
    assert "at most 3" in info.value.message


def test_negative_max_length_is_a_programming_error() -> None:
    """A negative bound is a bug in the caller, reported as ValueError."""
    with pytest.raises(ValueError, match="max_length"):
        sanitize_plain_text("a", max_length=-1)


def test_unclosed_script_keeps_following_text() -> None:
    """An unclosed <script> loses its tag only: the rest may be the user's text."""
    assert sanitize_plain_text("I like <script> tags") == "I like tags"


def test_many_unclosed_scripts_are_linear() -> None:
    """A hostile repetition of unclosed script tags is handled quickly (no quadratic rescans)."""
    assert sanitize_plain_text("<script>" * 50_000 + "x") == "x"


def test_output_has_no_element() -> None:
    """Recombined tag fragments never produce an element."""
    for raw in ("<<script>script>alert(1)<</script>/script>", "<</p>b>", "<\x00b>x"):
        assert elements_in(sanitize_plain_text(raw)) == []


def test_script_lookalike_with_dotless_i_is_an_ordinary_tag() -> None:
    """HTML tag names are ASCII: ``<scr\u0131pt>`` is an unknown element, not a script.

    A case-insensitive regex used to read it as ``<script>`` and then failed with a KeyError.
    """
    assert sanitize_plain_text("<scr\u0131pt>x</script>y") == "xy"
    assert sanitize_plain_text("a<script_x>b</script>c") == "abc"
    assert sanitize_plain_text("a<script/>b</script>c") == "ac"
