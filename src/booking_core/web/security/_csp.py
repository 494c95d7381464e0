"""Content-Security-Policy: a strict default policy, rendered per response with a nonce."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from booking_core.errors import ValidationError

__all__ = ["ContentSecurityPolicy", "generate_nonce"]

_SELF = ("'self'",)
_NONE = ("'none'",)
# A source expression is printable ASCII without whitespace, ";" or "," (they separate sources,
# directives and policies), quotes (except around keywords such as 'self') or backslashes.
# Refusing them at construction means configuration cannot inject a directive into the header.
_SOURCE = re.compile(r"'[A-Za-z0-9+/=_\-]+'|[\x21\x23-\x26\x28-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+")
_DIRECTIVE = re.compile(r"[a-z][a-z0-9-]*")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_NONCE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_MIN_NONCE_BYTES = 16


def generate_nonce(nbytes: int = _MIN_NONCE_BYTES) -> str:
    """Return a fresh base64 nonce for one response's ``'nonce-…'`` source.

    Use a new one per response, put it in the CSP header (``policy.render(nonce=…)`` or
    ``security_headers(nonce=…)``) and on each inline ``<script nonce="…">`` you emit. A nonce
    that repeats, or is guessable, lets injected scripts run, so it comes from ``secrets`` and
    has at least 128 bits.

    Raises:
        ValueError: ``nbytes`` is below 16.
    """
    if nbytes < _MIN_NONCE_BYTES:
        raise ValueError(f"a CSP nonce needs at least {_MIN_NONCE_BYTES} random bytes")
    return base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def _check_sources(name: str, sources: Sequence[str]) -> None:
    if isinstance(sources, str):
        raise ValidationError(name, "must be a sequence of sources, not a single string")
    for source in sources:
        if not _SOURCE.fullmatch(source):
            raise ValidationError(name, f"is not a valid CSP source: {source!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentSecurityPolicy:
    """A Content-Security-Policy, strict by default.

    The default allows scripts, styles, images, fonts and fetches from the page's own origin
    only, forbids plugins (``object-src 'none'``), framing by anyone (``frame-ancestors
    'none'``), ``<base>`` (``base-uri 'none'``) and form posts elsewhere (``form-action
    'self'``). Loosen a directive by passing its sources, e.g.
    ``ContentSecurityPolicy(img_src=("'self'", "https://cdn.example.com"))``; add other
    directives with ``extra={"media-src": ("'self'",)}``.

    Violations are reported to ``report_uri`` (``report-uri``, understood by every browser) and,
    when ``report_to`` names a group, to the Reporting API as well; :func:`security_headers`
    then emits the matching ``Reporting-Endpoints`` header. Parse the reports with
    :func:`parse_csp_report`.

    Raises:
        ValidationError: a source, directive name, group name or URI could inject into the
            header (whitespace, ``;``, ``,``, quotes, controls).
    """

    default_src: Sequence[str] = _SELF
    script_src: Sequence[str] = _SELF
    style_src: Sequence[str] = _SELF
    img_src: Sequence[str] = _SELF
    connect_src: Sequence[str] = _SELF
    font_src: Sequence[str] = _SELF
    object_src: Sequence[str] = _NONE
    frame_ancestors: Sequence[str] = _NONE
    base_uri: Sequence[str] = _NONE
    form_action: Sequence[str] = _SELF
    upgrade_insecure_requests: bool = False
    report_uri: str | None = None
    report_to: str | None = None
    extra: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, sources in self._directives():
            _check_sources(name, sources)
        for name in self.extra:
            if not _DIRECTIVE.fullmatch(name):
                raise ValidationError("extra", f"is not a directive name: {name!r}")
        if self.report_uri is not None and not _SOURCE.fullmatch(self.report_uri):
            raise ValidationError("report_uri", "must be a URI without spaces, ';' or ','")
        if self.report_to is not None and not _TOKEN.fullmatch(self.report_to):
            raise ValidationError("report_to", "must be a group name ([A-Za-z0-9_-]+)")

    def _directives(self) -> list[tuple[str, Sequence[str]]]:
        return [
            ("default-src", self.default_src),
            ("script-src", self.script_src),
            ("style-src", self.style_src),
            ("img-src", self.img_src),
            ("connect-src", self.connect_src),
            ("font-src", self.font_src),
            ("object-src", self.object_src),
            ("frame-ancestors", self.frame_ancestors),
            ("base-uri", self.base_uri),
            ("form-action", self.form_action),
            *self.extra.items(),
        ]

    def render(self, *, nonce: str | None = None) -> str:
        """Return the header value; with ``nonce``, ``'nonce-…'`` joins script-src and style-src.

        Raises:
            ValidationError: ``nonce`` is not base64 (it would break or inject into the header).
        """
        if nonce is not None and not _NONCE.fullmatch(nonce):
            raise ValidationError("nonce", "must be base64 (use generate_nonce())")
        parts = []
        for name, sources in self._directives():
            values = list(sources)
            if nonce is not None and name in ("script-src", "style-src"):
                values = [v for v in values if v != "'none'"] + [f"'nonce-{nonce}'"]
            parts.append(" ".join([name, *values]) if values else name)
        if self.upgrade_insecure_requests:
            parts.append("upgrade-insecure-requests")
        if self.report_uri is not None:
            parts.append(f"report-uri {self.report_uri}")
        if self.report_to is not None:
            parts.append(f"report-to {self.report_to}")
        return "; ".join(parts)
