"""How the fake provider's webhooks travel: the bytes it emits, their signature, and the checks
a received body passes before anything parses it.

The scheme is :mod:`booking_core.web.signing` under the provider's own header name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Final

from booking_core.errors import WebhookVerificationError
from booking_core.web import signing

__all__ = ["MAX_WEBHOOK_BYTES", "SIGNATURE_HEADER", "sign_webhook", "verified_body"]

SIGNATURE_HEADER: Final = "Fake-Signature"
# Real provider events are a few KiB; refusing larger bodies before the HMAC bounds the work an
# unauthenticated sender can cause.
MAX_WEBHOOK_BYTES: Final = 64 * 1024


def sign_webhook(
    secret: bytes, document: Mapping[str, object], *, created: int
) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)``: ``document`` as compact JSON with sorted keys, signed at ``created``."""
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signing.sign(secret, body, timestamp=created),
    }


def verified_body(
    secret: bytes, raw_body: bytes, headers: Mapping[str, str], *, now: dt.datetime
) -> bytes:
    """``raw_body`` as bytes once its size, signature and timestamp are checked.

    The size is checked first and the signature before the JSON is touched, so an
    unauthenticated sender can only make us hash at most :data:`MAX_WEBHOOK_BYTES`.

    Raises:
        WebhookVerificationError: not bytes, oversized, or a missing/bad/stale signature.
        ValidationError: ``now`` is naive.
    """
    if not isinstance(raw_body, bytes | bytearray):
        raise WebhookVerificationError("webhook body must be the raw bytes")
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise WebhookVerificationError(
            f"webhook body of {len(raw_body)} bytes exceeds {MAX_WEBHOOK_BYTES}"
        )
    body = bytes(raw_body)
    signing.verify(secret, body, signing.header_value(headers, SIGNATURE_HEADER), now=now)
    return body
