"""CSP violation reports: parse what browsers POST to ``report-uri`` / ``report-to`` endpoints."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from booking_core.errors import ValidationError

__all__ = ["MAX_REPORT_BYTES", "CspReport", "parse_csp_report"]

MAX_REPORT_BYTES: Final = 64 * 1024
"""Largest body accepted: real reports are a few KiB; the endpoint is unauthenticated."""

_MAX_REPORTS: Final = 100
_MAX_FIELD_CHARS: Final = 2048
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_LEGACY_TYPES = frozenset({"application/csp-report"})
_REPORTING_TYPES = frozenset({"application/reports+json"})
_JSON_TYPES = frozenset({"application/json"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CspReport:
    """One CSP violation, the same shape whichever format the browser used.

    Strings are attacker-controlled (anyone can POST to a report endpoint): they are cut to
    2,048 characters and stripped of control characters, so they are safe to log, but still
    untrusted text to escape wherever they are displayed.
    """

    document_uri: str
    effective_directive: str
    blocked_uri: str | None = None
    original_policy: str | None = None
    disposition: Literal["enforce", "report"] | None = None
    referrer: str | None = None
    source_file: str | None = None
    line_number: int | None = None
    column_number: int | None = None
    status_code: int | None = None
    sample: str | None = None
    user_agent: str | None = None
    format: Literal["csp-report", "reports+json"] = "csp-report"


def _text(data: dict[str, Any], key: str, field: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(field, f"{key} must be a string")
    return _CONTROL.sub("", value[:_MAX_FIELD_CHARS])


def _number(data: dict[str, Any], key: str, field: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 12.0 is the integer 12
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, f"{key} must be a non-negative integer")
    return value


def _disposition(value: str | None, field: str) -> Literal["enforce", "report"] | None:
    if value is None:
        return None
    if value == "enforce":
        return "enforce"
    if value == "report":
        return "report"
    raise ValidationError(field, "disposition must be 'enforce' or 'report'")


def _required(value: str | None, key: str, field: str) -> str:
    if value is None:
        raise ValidationError(field, f"{key} is missing")
    return value


def _legacy(data: Any) -> CspReport:
    """``{"csp-report": {"document-uri": …, "violated-directive": …}}`` (CSP level 2)."""
    field = "csp-report"
    if not isinstance(data, dict) or not isinstance(data.get("csp-report"), dict):
        raise ValidationError(field, 'body must be an object with a "csp-report" object')
    body: dict[str, Any] = data["csp-report"]
    directive = _text(body, "effective-directive", field) or _text(
        body, "violated-directive", field
    )
    return CspReport(
        document_uri=_required(_text(body, "document-uri", field), "document-uri", field),
        effective_directive=_required(directive, "effective-directive", field),
        blocked_uri=_text(body, "blocked-uri", field),
        original_policy=_text(body, "original-policy", field),
        disposition=_disposition(_text(body, "disposition", field), field),
        referrer=_text(body, "referrer", field),
        source_file=_text(body, "source-file", field),
        line_number=_number(body, "line-number", field),
        column_number=_number(body, "column-number", field),
        status_code=_number(body, "status-code", field),
        sample=_text(body, "script-sample", field),
        format="csp-report",
    )


def _reporting(data: Any) -> tuple[CspReport, ...]:
    """``[{"type": "csp-violation", "body": {"documentURL": …}, …}]`` (Reporting API)."""
    if not isinstance(data, list):
        raise ValidationError("reports", "body must be an array of reports")
    if len(data) > _MAX_REPORTS:
        raise ValidationError("reports", f"more than {_MAX_REPORTS} reports in one body")
    reports = []
    for index, item in enumerate(data):
        field = f"reports.{index}"
        if not isinstance(item, dict):
            raise ValidationError(field, "each report must be an object")
        if item.get("type") != "csp-violation":
            continue  # other report types (deprecation, intervention, …) are not ours to parse
        body = item.get("body")
        if not isinstance(body, dict):
            raise ValidationError(field, "body must be an object")
        reports.append(
            CspReport(
                document_uri=_required(
                    _text(body, "documentURL", field) or _text(item, "url", field),
                    "documentURL",
                    field,
                ),
                effective_directive=_required(
                    _text(body, "effectiveDirective", field), "effectiveDirective", field
                ),
                blocked_uri=_text(body, "blockedURL", field),
                original_policy=_text(body, "originalPolicy", field),
                disposition=_disposition(_text(body, "disposition", field), field),
                referrer=_text(body, "referrer", field),
                source_file=_text(body, "sourceFile", field),
                line_number=_number(body, "lineNumber", field),
                column_number=_number(body, "columnNumber", field),
                status_code=_number(body, "statusCode", field),
                sample=_text(body, "sample", field),
                user_agent=_text(item, "user_agent", field),
                format="reports+json",
            )
        )
    return tuple(reports)


def parse_csp_report(
    body: bytes, content_type: str, *, max_bytes: int = MAX_REPORT_BYTES
) -> tuple[CspReport, ...]:
    """Parse a CSP violation report body into :class:`CspReport` records.

    Both formats browsers send are understood: ``application/csp-report`` (one report, from
    ``report-uri``) and ``application/reports+json`` (a batch from the Reporting API's
    ``report-to``, in which non-CSP report types are skipped). ``application/json`` is accepted
    too, as some browsers label legacy reports that way; the shape then decides. A tuple is
    returned in every case, so one endpoint can serve both directives; it may be empty when a
    batch held no CSP report.

    The body is refused before decoding when it exceeds ``max_bytes``, and nesting is bounded
    by the JSON decoder; a report endpoint is public, so every failure is a ``ValidationError``
    (answer it with 400 and move on), never another exception.

    Raises:
        ValidationError: wrong content type, too large, not UTF-8 JSON, or not a report.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValidationError("body", f"must be bytes, not {type(body).__name__}")
    if not isinstance(content_type, str):
        raise ValidationError("content_type", "must be a string")
    if len(body) > max_bytes:
        raise ValidationError("body", f"is larger than {max_bytes} bytes")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _LEGACY_TYPES | _REPORTING_TYPES | _JSON_TYPES:
        raise ValidationError("content_type", f"is not a CSP report type: {media_type!r}")
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValidationError("body", "is not UTF-8 JSON") from exc
    if media_type in _REPORTING_TYPES or (media_type in _JSON_TYPES and isinstance(data, list)):
        return _reporting(data)
    return (_legacy(data),)
