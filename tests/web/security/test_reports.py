"""parse_csp_report (both browser formats, bounded, hostile input) and security_txt (RFC 9116)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from booking_core.errors import ValidationError
from booking_core.web.security import MAX_REPORT_BYTES, CspReport, parse_csp_report, security_txt

LEGACY = {
    "csp-report": {
        "document-uri": "https://book.example/t/acme",
        "referrer": "https://search.example/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; report-uri /csp",
        "disposition": "enforce",
        "blocked-uri": "https://evil.example/x.js",
        "line-number": 12,
        "column-number": 4,
        "source-file": "https://book.example/app.js",
        "status-code": 200,
        "script-sample": "",
    }
}
REPORTING = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://book.example/t/acme",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://book.example/t/acme",
            "blockedURL": "inline",
            "effectiveDirective": "script-src-elem",
            "originalPolicy": "script-src 'self'; report-to csp",
            "sourceFile": "https://book.example/t/acme",
            "sample": "alert(1)",
            "disposition": "report",
            "statusCode": 200,
            "lineNumber": 1,
            "columnNumber": 9,
        },
    },
    {"type": "deprecation", "url": "https://book.example/", "body": {"id": "x"}},
]


def encode(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_legacy_report() -> None:
    """application/csp-report becomes one typed record."""
    (report,) = parse_csp_report(encode(LEGACY), "application/csp-report")
    assert report == CspReport(
        document_uri="https://book.example/t/acme",
        effective_directive="script-src-elem",
        blocked_uri="https://evil.example/x.js",
        original_policy="default-src 'self'; report-uri /csp",
        disposition="enforce",
        referrer="https://search.example/",
        source_file="https://book.example/app.js",
        line_number=12,
        column_number=4,
        status_code=200,
        sample="",
        format="csp-report",
    )


def test_legacy_report_falls_back_to_violated_directive() -> None:
    """A legacy report with only violated-directive (older browsers) takes it as the effective
    directive, with no blocked URI."""
    body = {"csp-report": {"document-uri": "https://a.example/", "violated-directive": "img-src"}}
    (report,) = parse_csp_report(encode(body), "application/json; charset=utf-8")
    assert report.effective_directive == "img-src"
    assert report.blocked_uri is None


def test_reporting_api_batch() -> None:
    """application/reports+json: CSP reports are parsed, other report types skipped."""
    reports = parse_csp_report(encode(REPORTING), "Application/Reports+JSON")
    assert reports == (
        CspReport(
            document_uri="https://book.example/t/acme",
            effective_directive="script-src-elem",
            blocked_uri="inline",
            original_policy="script-src 'self'; report-to csp",
            disposition="report",
            source_file="https://book.example/t/acme",
            line_number=1,
            column_number=9,
            status_code=200,
            sample="alert(1)",
            user_agent="Mozilla/5.0",
            format="reports+json",
        ),
    )
    assert parse_csp_report(encode(REPORTING[1:]), "application/reports+json") == ()


def test_strings_are_bounded_and_control_free() -> None:
    """Attacker-controlled strings are cut and cleaned so they are safe to log."""
    body = {
        "csp-report": {
            "document-uri": "https://a.example/\r\nFAKE LOG LINE",
            "effective-directive": "script-src",
            "script-sample": "x" * 10_000,
        }
    }
    (report,) = parse_csp_report(encode(body), "application/csp-report")
    assert report.document_uri == "https://a.example/FAKE LOG LINE"
    assert report.sample == "x" * 2048


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (encode(LEGACY), "text/plain", "content_type"),
        (encode(LEGACY), "application/x-www-form-urlencoded", "content_type"),
        (b"x" * (MAX_REPORT_BYTES + 1), "application/csp-report", "body"),
        (b"\xff\xfe", "application/csp-report", "body"),
        (b"{not json", "application/csp-report", "body"),
        (b"[" * 50_000 + b"]" * 50_000, "application/json", "body"),
        (b"[" * 30_000 + b"]" * 30_000, "application/csp-report", "body"),
        (encode([]), "application/csp-report", "csp-report"),
        (encode({"csp-report": "x"}), "application/csp-report", "csp-report"),
        (encode({"csp-report": {"document-uri": "x"}}), "application/csp-report", "csp-report"),
        (
            encode({"csp-report": {"document-uri": 5, "effective-directive": "x"}}),
            "application/csp-report",
            "csp-report",
        ),
        (
            encode(
                {
                    "csp-report": {
                        "document-uri": "a",
                        "effective-directive": "x",
                        "line-number": True,
                    }
                }
            ),
            "application/csp-report",
            "csp-report",
        ),
        (
            encode(
                {
                    "csp-report": {
                        "document-uri": "a",
                        "effective-directive": "x",
                        "disposition": "y",
                    }
                }
            ),
            "application/csp-report",
            "csp-report",
        ),
        (encode({"a": 1}), "application/reports+json", "reports"),
        (encode([1]), "application/reports+json", "reports.0"),
        (encode([{"type": "csp-violation"}]), "application/reports+json", "reports.0"),
        (encode([REPORTING[0]] * 101), "application/reports+json", "reports"),
    ],
)
def test_bad_reports_are_validation_errors(body: bytes, content_type: str, field: str) -> None:
    """Every malformed, oversized or hostile body raises ValidationError naming the problem."""
    with pytest.raises(ValidationError) as info:
        parse_csp_report(body, content_type)
    assert info.value.field == field


def test_body_must_be_bytes() -> None:
    """A str body is refused (decode is ours, with a known charset)."""
    with pytest.raises(ValidationError, match="bytes"):
        parse_csp_report(json.dumps(LEGACY), "application/csp-report")  # type: ignore[arg-type]


def test_max_bytes_is_configurable() -> None:
    """A report body larger than a tightened max_bytes is refused with ValidationError naming the
    limit."""
    with pytest.raises(ValidationError, match="larger than 10"):
        parse_csp_report(encode(LEGACY), "application/csp-report", max_bytes=10)


# -------------------------------------------------------------------------------- security.txt

EXPIRES = dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_security_txt_minimal() -> None:
    """Contact and Expires (in UTC, RFC 3339) are the required fields."""
    assert security_txt(contact="mailto:security@example.com", expires=EXPIRES) == (
        "Contact: mailto:security@example.com\nExpires: 2027-06-01T10:00:00Z\n"
    )


def test_security_txt_full() -> None:
    """All RFC 9116 fields, in a stable order, repeated fields one per line."""
    text = security_txt(
        contact=["mailto:security@example.com", "tel:+1-201-555-0123", "https://example.com/sec"],
        expires=EXPIRES,
        encryption="https://example.com/pgp-key.txt",
        acknowledgments="https://example.com/hall-of-fame",
        preferred_languages=["en", "de-CH"],
        canonical=["https://example.com/.well-known/security.txt"],
        policy="https://example.com/disclosure",
        hiring="https://example.com/jobs",
    )
    assert text.splitlines() == [
        "Contact: mailto:security@example.com",
        "Contact: tel:+1-201-555-0123",
        "Contact: https://example.com/sec",
        "Expires: 2027-06-01T10:00:00Z",
        "Encryption: https://example.com/pgp-key.txt",
        "Acknowledgments: https://example.com/hall-of-fame",
        "Preferred-Languages: en, de-CH",
        "Canonical: https://example.com/.well-known/security.txt",
        "Policy: https://example.com/disclosure",
        "Hiring: https://example.com/jobs",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"contact": []}, "contact"),
        ({"contact": "security@example.com"}, "contact"),
        ({"contact": "http://example.com/sec"}, "contact"),
        ({"contact": "mailto:a@example.com\nExpires: 2099-01-01T00:00:00Z"}, "contact"),
        ({"expires": dt.datetime(2027, 1, 1)}, "expires"),  # naive on purpose
        ({"encryption": "http://example.com/key"}, "encryption"),
        ({"canonical": "/security.txt"}, "canonical"),
        ({"preferred_languages": ["en, de"]}, "preferred_languages"),
        ({"now": dt.datetime(2028, 1, 1, tzinfo=dt.UTC)}, "expires"),
    ],
)
def test_security_txt_refuses_bad_values(kwargs: dict[str, Any], field: str) -> None:
    """Non-URI contacts, insecure URIs, line injection, naive or past expiry are refused."""
    arguments: dict[str, Any] = {"contact": "mailto:s@example.com", "expires": EXPIRES, **kwargs}
    with pytest.raises(ValidationError) as info:
        security_txt(**arguments)
    assert info.value.field == field
