"""sanitize_email, sanitize_url, sanitize_phone, sanitize_slug and slugify: seed behaviours."""

from __future__ import annotations

import pytest

from booking_core.errors import ValidationError
from booking_core.sanitize import (
    MAX_URL_LENGTH,
    sanitize_email,
    sanitize_phone,
    sanitize_slug,
    sanitize_url,
    slugify,
)

# ------------------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@example.com", "ann@example.com"),
        ("Ann@Example.COM", "Ann@example.com"),
        ("  ann@example.com ", "ann@example.com"),
        ("josé@exämple.com", "josé@exämple.com"),
    ],
)
def test_email_normalized(raw: str, expected: str) -> None:
    """The domain is lowercased; the local part keeps its case; surrounding spaces go."""
    assert sanitize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@@example.com",
        "ann@example",
        "Ann <ann@example.com>",
        "ann@example.com\r\nBcc: x@evil.example",
        "ann@example.com\n",
        "ann@localhost",
        "ann@printer.local",
        '"quoted"@example.com',
        "a" * 250 + "@example.com",
    ],
)
def test_email_rejected(raw: str) -> None:
    """Malformed, display-name, header-injection and special-use addresses are refused."""
    with pytest.raises(ValidationError) as info:
        sanitize_email(raw, field="customer.email")
    assert info.value.field == "customer.email"
    assert info.value.message


# --------------------------------------------------------------------------------------- url


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/x",
        "https://example.com",
        "HTTPS://EXAMPLE.COM/Path?q=1#frag",
        "https://example.com/redirect?to=javascript%3Aalert(1)",
        "http://127.0.0.1/",
        "https://[::1]:8443/x",
        "https://bücher.example/straße",
        "https://cdn.example.com/photos/a%20b.jpg",
    ],
)
def test_url_accepted_unchanged(url: str) -> None:
    """Ordinary http(s) URLs, localhost and IPs included, come back exactly as given."""
    assert sanitize_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "\tjavascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\x00script:alert(1)",
        "\u200bjavascript:alert(1)",
        "java\u200dscript:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "javascript&#x3A;alert(1)",
        "javascript%3Aalert(1)",
        "%6Aavascript:alert(1)",
        "javascript%253Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "DATA:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/",
        "https://user:pass@example.com/",
        "https://example.com@evil.example/",
        "https://good.example\\@evil.example/",
        "http://",
        "https:example.com",
        "https:///path",
        "http://example.com:99999/",
        "https://exa mple.com/",
        "//evil.example/",
        "/relative",
        "",
        "   ",
        "https://example.com/" + "a" * MAX_URL_LENGTH,
    ],
)
def test_url_rejected(url: str) -> None:
    """Script schemes and every obfuscation of them, credentials and malformed URLs raise."""
    with pytest.raises(ValidationError) as info:
        sanitize_url(url, field="photo_url")
    assert info.value.field == "photo_url"


def test_url_options() -> None:
    """Relative references, extra schemes and credentials are opt-in, one by one."""
    assert sanitize_url("/img/a.png", allow_relative=True) == "/img/a.png"
    assert sanitize_url("?page=2", allow_relative=True) == "?page=2"
    assert sanitize_url("mailto:ann@example.com", schemes=("mailto",)) == "mailto:ann@example.com"
    assert (
        sanitize_url("https://u:p@example.com", allow_credentials=True) == "https://u:p@example.com"
    )
    with pytest.raises(ValidationError, match="scheme-relative"):
        sanitize_url("//evil.example/", allow_relative=True)
    with pytest.raises(ValidationError, match="not allowed"):
        sanitize_url("javascrip%5Crt:alert()", allow_relative=True)
    with pytest.raises(ValidationError, match="obfuscated"):
        sanitize_url("&!*javascript:alert(1)", allow_relative=True)
    with pytest.raises(ValidationError, match="not allowed"):
        sanitize_url("http://example.com", schemes=("https",))


def test_script_schemes_cannot_be_allowed() -> None:
    """Listing javascript: in schemes is a programming error."""
    with pytest.raises(ValueError, match="javascript"):
        sanitize_url("https://example.com", schemes=("https", "JavaScript"))


# ------------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 8366 1177", None, "+442083661177"),
        ("020 8366 1177", "GB", "+442083661177"),
        ("020 8366 1177", "gb", "+442083661177"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("+1 650-253-0000 ext. 12", None, "+16502530000"),
        ("+49 30 123456", "US", "+4930123456"),
    ],
)
def test_phone_e164(raw: str, region: str | None, expected: str) -> None:
    """International input parses alone; national input needs the region; output is E.164."""
    assert sanitize_phone(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("020 8366 1177", None),
        ("+1 555 0100", None),
        ("+44 20 8366", None),
        ("not a phone", "GB"),
        ("", "GB"),
        ("12345", "ZZ"),
    ],
)
def test_phone_rejected(raw: str, region: str | None) -> None:
    """Missing region, too short, impossible or unparseable numbers raise."""
    with pytest.raises(ValidationError) as info:
        sanitize_phone(raw, default_region=region, field="customer.phone")
    assert info.value.field == "customer.phone"


# -------------------------------------------------------------------------------------- slug


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("wedding-deluxe", "wedding-deluxe"),
        (" Spring-Sale ", "spring-sale"),
        ("a1", "a1"),
        ("a\n", "a"),
        ("x" * 64, "x" * 64),
    ],
)
def test_slug_valid(raw: str, expected: str) -> None:
    """Slugs are validated, lowercased and stripped, never otherwise repaired."""
    assert sanitize_slug(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "-a", "a-", "a--b", "a_b", "a b", "café", "\u212aelvin", "x" * 65, "a/b", "a\x00"],
)
def test_slug_invalid(raw: str) -> None:
    """Anything but [a-z0-9]+(-[a-z0-9]+)* within the bound raises (look-alikes included)."""
    with pytest.raises(ValidationError) as info:
        sanitize_slug(raw)
    assert info.value.field == "slug"


def test_slug_max_length() -> None:
    """sanitize_slug accepts a slug of exactly max_length, refuses a longer one with
    ValidationError, and refuses max_length=0 with ValueError."""
    assert sanitize_slug("abc", max_length=3) == "abc"
    with pytest.raises(ValidationError, match="at most 2"):
        sanitize_slug("abc", max_length=2)
    with pytest.raises(ValueError, match="max_length"):
        sanitize_slug("abc", max_length=0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Café Crème", "cafe-creme"),
        ("O'Brien's Pub", "obriens-pub"),
        ("Straße & Co.", "strasse-co"),
        ("Smørrebrød Ærø", "smorrebrod-aero"),
        ("  --Hello,   World!--  ", "hello-world"),
        ("1,000 reasons", "1000-reasons"),
        ("Łódź 2025", "lodz-2025"),
    ],
)
def test_slugify(raw: str, expected: str) -> None:
    """Accents are transliterated, apostrophes dropped, other runs become single hyphens."""
    assert slugify(raw) == expected


def test_slugify_truncates_without_trailing_hyphen() -> None:
    """Cutting at max_length never leaves a dangling hyphen."""
    assert slugify("abc def", max_length=4) == "abc"
    assert len(slugify("word " * 40)) <= 64


@pytest.mark.parametrize("raw", ["", "!!!", "東京", "Ωμέγα"])
def test_slugify_raises_when_nothing_is_left(raw: str) -> None:
    """No ASCII letter or digit survives: the caller must ask for a slug."""
    with pytest.raises(ValidationError, match="no letters or digits"):
        slugify(raw)
