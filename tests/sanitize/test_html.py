"""sanitize_html: the default allowlist, link handling, configuration guards."""

from __future__ import annotations

import pytest

from booking_core.errors import ValidationError
from booking_core.sanitize import DEFAULT_ALLOWED_TAGS, sanitize_html

from .helpers import executable_constructs

REL = 'rel="noopener noreferrer"'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Hi <b>there</b></p>", "<p>Hi <b>there</b></p>"),
        ("<h2>Menu</h2><ul><li>Soup</li></ul>", "<h2>Menu</h2><ul><li>Soup</li></ul>"),
        ('<ol start="3"><li>x</li></ol>', '<ol start="3"><li>x</li></ol>'),
        ("<script>alert(1)</script>ok", "ok"),
        ("<style>*{}</style>ok", "ok"),
        ("<iframe src=//evil></iframe>ok", "ok"),
        ("<svg><g onload=alert(1)>x</g></svg>ok", "ok"),
        ("<math><mi>x</mi></math>ok", "ok"),
        ("<img src=x onerror=alert(1)>", ""),
        ('<p style="color:red" onclick="x()" class="c" id="i">t</p>', "<p>t</p>"),
        ("<div><span>unwrapped</span></div>", "unwrapped"),
        ("<!-- comment -->text", "text"),
        ("<b>unclosed", "<b>unclosed</b>"),
        ("a < b & c", "a &lt; b &amp; c"),
        ("line\r\nbreak&#13;", "line\nbreak\n"),
        ("</a>\ufeffx", "x"),
    ],
)
def test_default_allowlist(raw: str, expected: str) -> None:
    """Formatting, lists and headings survive; scripts, styles, handlers and unknown tags do not."""
    assert sanitize_html(raw) == expected


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://example.com/a?b=c", True),
        ("http://localhost:8000/x", True),
        ("mailto:ann@example.com", True),
        ("/relative/path", True),
        ("page.html#top", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("&#106;avascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("&#x200B;javascript:alert(1)", False),
        ("vbscript:msgbox(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("file:///etc/passwd", False),
        ("ftp://example.com", False),
        ("javascript\\x3Ajavascript:alert(1)", False),
    ],
)
def test_link_schemes(href: str, kept: bool) -> None:
    """Links keep http/https/mailto/relative hrefs only, and always get rel=noopener noreferrer."""
    out = sanitize_html(f'<a href="{href}">x</a>')
    assert REL in out
    assert ("href=" in out) is kept


def test_author_rel_is_replaced() -> None:
    """A rel from the input cannot weaken ours (e.g. drop noopener)."""
    assert sanitize_html('<a href="/x" rel="opener">x</a>') == f'<a href="/x" {REL}>x</a>'


def test_custom_allowlist_replaces_default() -> None:
    """allowed_tags/allowed_attributes replace the defaults; URL checks still apply to src."""
    tags = {"img", "p"}
    attributes = {"img": {"src", "alt"}}
    assert (
        sanitize_html(
            '<p><img src="https://cdn.example/a.png" alt="A"><b>x</b></p>',
            allowed_tags=tags,
            allowed_attributes=attributes,
        )
        == '<p><img src="https://cdn.example/a.png" alt="A">x</p>'
    )
    out = sanitize_html(
        '<img src="javascript:alert(1)">', allowed_tags=tags, allowed_attributes=attributes
    )
    assert out == "<img>"


def test_allowed_tags_alone_keeps_default_attributes() -> None:
    """Only allowed_tags given: link attributes still follow the default."""
    out = sanitize_html('<a href="/x" title="t">x</a><b>y</b>', allowed_tags={"a"})
    assert out == f'<a href="/x" title="t" {REL}>x</a>y'


@pytest.mark.parametrize("tag", ["script", "style", "iframe", "svg", "math", "object", "form"])
def test_dangerous_tags_cannot_be_allowed(tag: str) -> None:
    """Asking for an executable element is a programming error, not a silent hole."""
    with pytest.raises(ValueError, match=tag):
        sanitize_html("x", allowed_tags={*DEFAULT_ALLOWED_TAGS, tag})


@pytest.mark.parametrize("attribute", ["onclick", "OnLoad", "style", "srcset", "rel", "cite"])
def test_dangerous_attributes_cannot_be_allowed(attribute: str) -> None:
    """Handlers, inline CSS and URL attributes nh3 does not check are refused in the config."""
    with pytest.raises(ValueError, match="cannot allow"):
        sanitize_html("x", allowed_attributes={"p": {attribute}})


def test_lone_surrogate_is_a_validation_error() -> None:
    """Text that cannot be encoded as UTF-8 is refused with the field name, not a crash."""
    with pytest.raises(ValidationError, match="surrogate") as info:
        sanitize_html("a\ud800b", field="notes")
    assert info.value.field == "notes"


def test_nested_links_stay_inert() -> None:
    """Parser-driven restructuring (nested <a>) yields only allowlisted, safe output."""
    out = sanitize_html('<a href="/a"><a href="javascript:x">in</a></a>')
    assert executable_constructs(out) == []
    assert "javascript" not in out
