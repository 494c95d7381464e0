"""Security helpers for the HTTP edge, framework-neutral: headers, CSP, reports, security.txt.

    security_headers      the headers every HTML response should carry, as a dict
    ContentSecurityPolicy strict CSP, rendered per response; generate_nonce() for inline scripts
    parse_csp_report      violation reports (report-uri and Reporting API) -> CspReport records
    security_txt          RFC 9116 /.well-known/security.txt

See ``docs/security.md`` for FastAPI and Flask wiring.
"""

from __future__ import annotations

from booking_core.web.security._csp import ContentSecurityPolicy, generate_nonce
from booking_core.web.security._headers import (
    DEFAULT_PERMISSIONS_POLICY,
    HSTS_ONE_YEAR,
    security_headers,
)
from booking_core.web.security._report import MAX_REPORT_BYTES, CspReport, parse_csp_report
from booking_core.web.security._security_txt import security_txt

__all__ = [
    "DEFAULT_PERMISSIONS_POLICY",
    "HSTS_ONE_YEAR",
    "MAX_REPORT_BYTES",
    "ContentSecurityPolicy",
    "CspReport",
    "generate_nonce",
    "parse_csp_report",
    "security_headers",
    "security_txt",
]
