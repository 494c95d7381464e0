"""security_headers and ContentSecurityPolicy: strict defaults, nonces, and no header injection."""

from __future__ import annotations

import base64
import re

import pytest

import booking_core.web.security as security
from booking_core.errors import ValidationError
from booking_core.web.security import (
    HSTS_ONE_YEAR,
    ContentSecurityPolicy,
    generate_nonce,
    security_headers,
)


def directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split("; "):
        name, *values = part.split(" ")
        assert name not in result, f"duplicate directive {name}"
        result[name] = values
    return result


def test_all_is_sorted_and_complete() -> None:
    """__all__ is in ruff's isort order and lists every public name."""
    key = lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)  # noqa: E731
    assert security.__all__ == sorted(security.__all__, key=key)
    public = {n for n in vars(security) if not n.startswith(("_", "@"))} - {"annotations"}
    assert set(security.__all__) == public


def test_default_headers() -> None:
    """The defaults are a strict CSP, one-year HSTS with subdomains, and the hardening headers."""
    headers = security_headers()
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"].split(", ")
    assert "geolocation=()" in headers["Permissions-Policy"].split(", ")
    assert directives(headers["Content-Security-Policy"]) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
    }
    assert "Reporting-Endpoints" not in headers


def test_every_value_is_a_single_latin1_line() -> None:
    """Header values are encodable and contain no CR/LF."""
    for value in security_headers(nonce=generate_nonce()).values():
        value.encode("latin-1")
        assert "\r" not in value
        assert "\n" not in value


def test_nonce_joins_script_and_style_sources() -> None:
    """A per-response nonce is added to script-src and style-src, nowhere else."""
    nonce = generate_nonce()
    csp = directives(security_headers(nonce=nonce)["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert csp["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert csp["img-src"] == ["'self'"]


def test_nonce_replaces_none() -> None:
    """script-src 'none' plus a nonce renders just the nonce ('none' with others is invalid)."""
    csp = ContentSecurityPolicy(script_src=("'none'",))
    assert directives(csp.render(nonce="abc123=="))["script-src"] == ["'nonce-abc123=='"]


def test_generate_nonce_is_fresh_base64_of_128_bits() -> None:
    """Nonces are base64 of at least 16 random bytes and do not repeat."""
    nonces = {generate_nonce() for _ in range(100)}
    assert len(nonces) == 100
    for nonce in nonces:
        assert len(base64.b64decode(nonce, validate=True)) == 16
    assert len(base64.b64decode(generate_nonce(32))) == 32
    with pytest.raises(ValueError, match="16"):
        generate_nonce(8)


@pytest.mark.parametrize("nonce", ["abc def", "abc;script-src *", "a'b", "", "é"])
def test_bad_nonce_cannot_inject(nonce: str) -> None:
    """A nonce with spaces, a semicolon, a quote, non-ASCII text or nothing at all is refused on
    'nonce', so it cannot inject CSP directives."""
    with pytest.raises(ValidationError) as info:
        security_headers(nonce=nonce)
    assert info.value.field == "nonce"


def test_reporting() -> None:
    """report-uri and report-to are emitted, with a matching Reporting-Endpoints header."""
    csp = ContentSecurityPolicy(report_uri="https://example.com/csp", report_to="csp-endpoint")
    headers = security_headers(csp=csp)
    parsed = directives(headers["Content-Security-Policy"])
    assert parsed["report-uri"] == ["https://example.com/csp"]
    assert parsed["report-to"] == ["csp-endpoint"]
    assert headers["Reporting-Endpoints"] == 'csp-endpoint="https://example.com/csp"'


def test_report_only_and_no_csp() -> None:
    """Report-only mode renames the header; csp=None leaves it out."""
    headers = security_headers(csp_report_only=True)
    assert "Content-Security-Policy-Report-Only" in headers
    assert "Content-Security-Policy" not in headers
    assert not any(k.startswith("Content-Security") for k in security_headers(csp=None))


def test_custom_policy_and_extra_directives() -> None:
    """Directives can be loosened one by one and extra ones added."""
    csp = ContentSecurityPolicy(
        img_src=("'self'", "https://cdn.example.com", "data:"),
        frame_ancestors=("'self'",),
        upgrade_insecure_requests=True,
        extra={"media-src": ("'self'",), "frame-src": ("https://js.stripe.com",)},
    )
    rendered = csp.render()
    parsed = directives(rendered)
    assert parsed["img-src"] == ["'self'", "https://cdn.example.com", "data:"]
    assert parsed["media-src"] == ["'self'"]
    assert parsed["frame-src"] == ["https://js.stripe.com"]
    assert parsed["upgrade-insecure-requests"] == []
    assert security_headers(csp=csp)["X-Frame-Options"] == "SAMEORIGIN"
    other = ContentSecurityPolicy(frame_ancestors=("https://partner.example",))
    assert "X-Frame-Options" not in security_headers(csp=other)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"script_src": ("'self'; script-src *",)},
        {"script_src": ("https://a.example https://b.example",)},
        {"script_src": ("https://a.example,evil",)},
        {"script_src": ("https://a.example\r\nSet-Cookie: x",)},
        {"script_src": "'self'"},
        {"extra": {"script-src; x": ("'self'",)}},
        {"report_uri": "/csp; script-src *"},
        {"report_uri": '/csp"'},
        {"report_to": "a b"},
    ],
)
def test_policy_refuses_injection(kwargs: dict[str, object]) -> None:
    """Sources, names and URIs that could add a directive or a header are refused."""
    with pytest.raises(ValidationError):
        ContentSecurityPolicy(**kwargs)  # type: ignore[arg-type]


def test_hsts_options() -> None:
    """preload is opt-in and requires a year; HSTS can be switched off."""
    headers = security_headers(hsts_preload=True)
    assert headers["Strict-Transport-Security"] == (
        f"max-age={HSTS_ONE_YEAR}; includeSubDomains; preload"
    )
    assert "Strict-Transport-Security" not in security_headers(hsts=False)
    assert security_headers(hsts_max_age=300)["Strict-Transport-Security"].startswith(
        "max-age=300;"
    )
    with pytest.raises(ValidationError, match="one year"):
        security_headers(hsts_preload=True, hsts_max_age=300)


def test_permissions_policy_rendering() -> None:
    """Allowlists render as RFC 8941 inner lists; bad origins are refused."""
    headers = security_headers(
        permissions_policy={"payment": ("self", "https://js.stripe.com"), "camera": ()}
    )
    assert headers["Permissions-Policy"] == 'payment=(self "https://js.stripe.com"), camera=()'
    assert "Permissions-Policy" not in security_headers(permissions_policy=None)
    with pytest.raises(ValidationError):
        security_headers(permissions_policy={"camera": ('"), x=(*',)})


@pytest.mark.parametrize("value", ["no-referrer\r\nX: y", "a b", ""])
def test_token_options_refuse_injection(value: str) -> None:
    """Referrer-Policy and COOP values must be plain tokens."""
    with pytest.raises(ValidationError):
        security_headers(referrer_policy=value)
    with pytest.raises(ValidationError):
        security_headers(cross_origin_opener_policy=value)


def test_policy_is_immutable() -> None:
    """A policy is a frozen value, safe to share between requests."""
    csp = ContentSecurityPolicy()
    with pytest.raises(AttributeError):
        csp.script_src = ("*",)  # type: ignore[misc]
    assert re.fullmatch(r"[ -~]+", csp.render())
