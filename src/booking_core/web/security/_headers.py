"""The response headers every HTML response should carry, as a plain ``dict`` for any framework."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from booking_core.errors import ValidationError
from booking_core.web.security._csp import ContentSecurityPolicy

__all__ = ["DEFAULT_PERMISSIONS_POLICY", "HSTS_ONE_YEAR", "security_headers"]

HSTS_ONE_YEAR: Final = 31_536_000
"""Seconds in a year: the HSTS max-age the preload list requires and browsers recommend."""

DEFAULT_PERMISSIONS_POLICY: Final[Mapping[str, Sequence[str]]] = {
    "accelerometer": (),
    "camera": (),
    "geolocation": (),
    "gyroscope": (),
    "magnetometer": (),
    "microphone": (),
    "usb": (),
}
"""Powerful features a booking site never uses, disabled for the page and every iframe in it.

``payment`` is deliberately absent: payment providers' iframes (Stripe, Apple Pay) use the
Payment Request API and would break if it were denied here.
"""

_DEFAULT_CSP: Final = ContentSecurityPolicy()
_FEATURE = re.compile(r"[a-z][a-z0-9-]*")
_ORIGIN = re.compile(r"https?://[^\s\"(),;]+")
_TOKEN_VALUE = re.compile(r"[A-Za-z0-9-]+")


def _permissions_policy(policy: Mapping[str, Sequence[str]]) -> str:
    """Render ``{"camera": (), "payment": ("self", "https://js.stripe.com")}`` (RFC 8941 dict)."""
    items = []
    for feature, allowlist in policy.items():
        if not _FEATURE.fullmatch(feature) or isinstance(allowlist, str):
            raise ValidationError("permissions_policy", f"invalid entry for {feature!r}")
        members = []
        for origin in allowlist:
            if origin in ("self", "*"):
                members.append(origin)
            elif _ORIGIN.fullmatch(origin):
                members.append(f'"{origin}"')
            else:
                raise ValidationError("permissions_policy", f"invalid origin {origin!r}")
        items.append(f"{feature}=({' '.join(members)})")
    return ", ".join(items)


def _check_token(name: str, value: str) -> None:
    if not _TOKEN_VALUE.fullmatch(value):
        raise ValidationError(name, f"is not a header token: {value!r}")


def security_headers(
    *,
    csp: ContentSecurityPolicy | None = _DEFAULT_CSP,
    nonce: str | None = None,
    csp_report_only: bool = False,
    hsts: bool = True,
    hsts_max_age: int = HSTS_ONE_YEAR,
    hsts_preload: bool = False,
    referrer_policy: str = "strict-origin-when-cross-origin",
    permissions_policy: Mapping[str, Sequence[str]] | None = DEFAULT_PERMISSIONS_POLICY,
    cross_origin_opener_policy: str | None = "same-origin",
) -> dict[str, str]:
    """Return the security headers for one response, framework-neutral.

    ``Content-Security-Policy`` (or ``…-Report-Only`` while rolling a policy out) from ``csp``,
    with the per-response ``nonce`` if given (see :func:`generate_nonce`);
    ``Strict-Transport-Security`` (one year, ``includeSubDomains``, ``preload`` opt-in);
    ``X-Content-Type-Options: nosniff``; ``Referrer-Policy``; ``Permissions-Policy``;
    ``Cross-Origin-Opener-Policy``; ``X-Frame-Options`` matching ``frame-ancestors`` for
    browsers that predate it; and ``Reporting-Endpoints`` when the policy names a
    ``report_to`` group.

    HSTS is on by default because production is HTTPS-only; browsers ignore it over plain HTTP,
    so local development is unaffected. ``preload`` is opt-in because it is hard to undo: it
    commits every subdomain to HTTPS for months, through browser releases.

    ``Cross-Origin-Opener-Policy: same-origin`` severs ``window.opener`` across origins; a
    payment flow that opens a provider's popup and waits for it may need
    ``"same-origin-allow-popups"``.

    Raises:
        ValidationError: an option could not be rendered safely (e.g. a bad origin or token), or
            ``hsts_preload`` is asked with a max-age below one year.
    """
    headers: dict[str, str] = {}
    if csp is not None:
        name = (
            "Content-Security-Policy-Report-Only" if csp_report_only else "Content-Security-Policy"
        )
        headers[name] = csp.render(nonce=nonce)
        if csp.report_to is not None and csp.report_uri is not None:
            headers["Reporting-Endpoints"] = f'{csp.report_to}="{csp.report_uri}"'
    if hsts:
        if hsts_max_age < 0:
            raise ValidationError("hsts_max_age", "must be >= 0")
        if hsts_preload and hsts_max_age < HSTS_ONE_YEAR:
            raise ValidationError("hsts_max_age", "must be at least one year for preload")
        value = f"max-age={hsts_max_age}; includeSubDomains"
        headers["Strict-Transport-Security"] = value + ("; preload" if hsts_preload else "")
    headers["X-Content-Type-Options"] = "nosniff"
    _check_token("referrer_policy", referrer_policy)
    headers["Referrer-Policy"] = referrer_policy
    if permissions_policy is not None:
        headers["Permissions-Policy"] = _permissions_policy(permissions_policy)
    if cross_origin_opener_policy is not None:
        _check_token("cross_origin_opener_policy", cross_origin_opener_policy)
        headers["Cross-Origin-Opener-Policy"] = cross_origin_opener_policy
    frame_ancestors = tuple(csp.frame_ancestors) if csp is not None else ("'none'",)
    if frame_ancestors == ("'none'",):
        headers["X-Frame-Options"] = "DENY"
    elif frame_ancestors == ("'self'",):
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers
