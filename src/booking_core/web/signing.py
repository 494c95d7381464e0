"""The one webhook signing scheme of booking_core: HMAC-SHA256 over the timestamp and raw body.

Both directions use it: the fake payment provider signs the webhooks it emits (and verifies them
in ``parse_webhook``), and :mod:`booking_core.web.notifications` signs the webhooks host apps
send to their own customers. One scheme means one implementation to review and one set of tests.

The header value is ``t=<unix seconds>,v1=<hex>`` (the shape Stripe made familiar), where the
MAC is ``HMAC-SHA256(secret, f"{t}.".encode() + body)``:

* the MAC covers the **raw bytes** as sent. Re-serializing parsed JSON changes whitespace, key
  order or escapes and breaks the signature, and worse, invites verifying something other than
  what will be parsed;
* the timestamp is inside the MAC, so an attacker cannot refresh it, and :func:`verify` rejects
  timestamps outside ``±tolerance`` of ``now``: a captured request cannot be replayed later;
* ``v1`` names the scheme. Unknown versions (``v0``, a future ``v2``) are ignored, so a sender can
  add a new scheme next to ``v1`` without breaking receivers; a header with no ``v1`` fails;
* several ``v1=`` entries and several secrets are accepted, so a secret can be rotated without
  downtime: the sender signs with the old and the new secret, the receiver accepts either;
* MACs are compared with :func:`hmac.compare_digest`, in constant time.

Configuration mistakes (an empty secret, a naive ``now``) raise
:class:`~booking_core.errors.ValidationError`; anything wrong with the *request* raises
:class:`~booking_core.errors.WebhookVerificationError` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final

from booking_core.errors import ValidationError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_HEADER_LENGTH",
    "SIGNATURE_VERSION",
    "HeaderLines",
    "header_value",
    "sign",
    "verify",
]

SIGNATURE_VERSION: Final = "v1"
DEFAULT_TOLERANCE: Final = dt.timedelta(minutes=5)
# A real header is ~80 characters (~150 during a rotation); refusing long ones up front bounds the
# work an attacker can make us do per request.
MAX_HEADER_LENGTH: Final = 4096

# Plain ASCII digits only: int() would also accept "+1", " 1", "1_000" and other scripts' digits.
# 15 digits is far beyond any real timestamp yet keeps arithmetic exact in a float.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_MAC = re.compile(r"[0-9a-f]{64}")


def _check_secret(secret: object, field: str = "secret") -> bytes:
    if not isinstance(secret, bytes | bytearray):
        raise ValidationError(field, f"must be bytes, got {type(secret).__name__}")
    if not secret:
        raise ValidationError(field, "must not be empty")
    return bytes(secret)


def _secrets(secret: object) -> list[bytes]:
    # bytes is itself a Sequence (of ints), so test for it first; a str is a Sequence too
    if isinstance(secret, bytes | bytearray):
        return [_check_secret(secret)]
    if isinstance(secret, str) or not isinstance(secret, Sequence):
        raise ValidationError("secret", "must be bytes or a sequence of bytes")
    if not secret:
        raise ValidationError("secret", "needs at least one secret")
    return [_check_secret(s, f"secret[{i}]") for i, s in enumerate(secret)]


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Return the value of header ``name`` matched case-insensitively, or ``None``.

    HTTP header names are case-insensitive and frameworks normalize them differently (Django
    ``HTTP_X``, ASGI lower case, a plain dict as the test wrote it), so receivers look them up
    with this. Two spellings of one header in a plain dict are refused as ambiguous rather than
    one of them picked.

    Raises:
        WebhookVerificationError: not a mapping, the header given twice, or a non-str value.
    """
    try:
        items = list(headers.items())
    except (AttributeError, TypeError) as exc:
        raise WebhookVerificationError("headers must be a mapping of strings") from exc
    wanted = name.lower()
    found = [value for key, value in items if isinstance(key, str) and key.lower() == wanted]
    if len(found) > 1:
        raise WebhookVerificationError(f"more than one {name} header")
    if not found:
        return None
    if not isinstance(found[0], str):
        raise WebhookVerificationError(f"{name} header must be a string")
    return found[0]


class HeaderLines(Mapping[str, str]):
    """Request headers with every line kept, so a repeated header is refused, not collapsed.

    A ``dict`` of a request's headers keeps only the last of two ``Fake-Signature`` lines, so a
    verifier would never see the first. Here :meth:`items` yields every ``(name, value)`` line
    as received (as werkzeug's and Starlette's ``Headers`` do), which :func:`header_value`
    refuses when the name repeats; a lookup is case-insensitive and refuses a repeated name too,
    so an adapter reading ``headers[name]`` or ``headers.get(name)`` cannot pick one copy.
    """

    __slots__ = ("_lines",)

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = tuple(lines)

    def __getitem__(self, name: str) -> str:
        value = header_value(self, name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        wanted = name.lower()
        return any(key.lower() == wanted for key, _ in self._lines)

    def __iter__(self) -> Iterator[str]:
        # one key per name, as first spelled: a Mapping's keys are distinct
        first: dict[str, str] = {}
        for key, _ in self._lines:
            first.setdefault(key.lower(), key)
        return iter(first.values())

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._lines})

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every line as received, a repeated name as often as it came (unlike ``dict``)."""
        return list(self._lines)


def _mac(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int) -> str:
    """Return the signature header value ``t=<timestamp>,v1=<hex HMAC-SHA256>`` for ``body``.

    Sign the exact bytes that go on the wire; serialize first, then sign, then send those bytes.

    Args:
        secret: the shared secret (non-empty bytes).
        body: the raw request body.
        timestamp: Unix seconds; receivers reject it when it is too far from their clock.

    Raises:
        ValidationError: empty/non-bytes secret, non-bytes body, or a negative/non-int timestamp.
    """
    key = _check_secret(secret)
    if not isinstance(body, bytes | bytearray):
        raise ValidationError("body", f"must be bytes, got {type(body).__name__}")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValidationError("timestamp", "must be a non-negative int (Unix seconds)")
    return f"t={timestamp},{SIGNATURE_VERSION}={_mac(key, bytes(body), timestamp)}"


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    """Split a header into its timestamp and ``v1`` MACs; refuse any malformed shape."""
    if header is None:
        raise WebhookVerificationError("missing signature header")
    if not isinstance(header, str):
        raise WebhookVerificationError("signature header must be a string")
    if not header.strip():
        raise WebhookVerificationError("empty signature header")
    if len(header) > MAX_HEADER_LENGTH:
        raise WebhookVerificationError(
            f"signature header longer than {MAX_HEADER_LENGTH} characters"
        )
    timestamp: int | None = None
    macs: list[str] = []
    versions: set[str] = set()
    for raw_item in header.split(","):
        key, sep, value = raw_item.strip().partition("=")
        if not sep or not key or not value:
            raise WebhookVerificationError(
                "malformed signature header: expected comma-separated key=value items"
            )
        if key == "t":
            if timestamp is not None:
                raise WebhookVerificationError("malformed signature header: more than one t=")
            if not _TIMESTAMP.fullmatch(value):
                raise WebhookVerificationError("malformed signature header: t= is not Unix seconds")
            timestamp = int(value)
        elif key == SIGNATURE_VERSION:
            mac = value.lower()
            if not _HEX_MAC.fullmatch(mac):
                raise WebhookVerificationError(
                    "malformed signature header: v1= is not 64 hex digits"
                )
            macs.append(mac)
        else:
            # another scheme version (or a future extension): skipped, never trusted
            versions.add(key[:16])
    if timestamp is None:
        raise WebhookVerificationError("malformed signature header: no t= timestamp")
    if not macs:
        seen = ", ".join(sorted(versions)) or "none"
        raise WebhookVerificationError(
            f"no {SIGNATURE_VERSION} signature in header (other entries: {seen})"
        )
    return timestamp, macs


def verify(
    secret: bytes | Sequence[bytes],
    body: bytes,
    header: str | None,
    *,
    now: dt.datetime,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> int:
    """Check that ``header`` signs ``body`` with one of the secrets, recently; return its timestamp.

    The MAC is checked before the timestamp, so "outside the tolerance" is only ever reported for
    a genuinely signed request: a replay (or a badly skewed clock), not a forgery.

    Args:
        secret: the shared secret, or several during a rotation (any one may match).
        body: the raw request body exactly as received, before any parsing.
        header: the signature header value (``None`` when the request had none).
        now: the receiver's current time, timezone-aware.
        tolerance: how far the signed timestamp may be from ``now``, either way.

    Returns:
        The signed timestamp (Unix seconds).

    Raises:
        WebhookVerificationError: missing or malformed header, no ``v1`` entry, no matching MAC,
            or a timestamp outside ``±tolerance``.
        ValidationError: a configuration mistake: empty/non-bytes secret, naive ``now``,
            non-positive tolerance.
    """
    keys = _secrets(secret)
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ValidationError("now", "must be a timezone-aware datetime")
    if not isinstance(tolerance, dt.timedelta) or tolerance <= dt.timedelta(0):
        raise ValidationError("tolerance", "must be a positive timedelta")
    if not isinstance(body, bytes | bytearray):
        raise WebhookVerificationError("body must be bytes (verify the raw request body)")
    timestamp, macs = _parse_header(header)
    raw = bytes(body)
    matched = False
    # every pair is compared (no early exit), so timing does not reveal which secret matched
    for key in keys:
        expected = _mac(key, raw, timestamp)
        for mac in macs:
            matched |= hmac.compare_digest(expected, mac)
    if not matched:
        raise WebhookVerificationError("signature mismatch: body, timestamp or secret differ")
    skew = now.timestamp() - timestamp
    if abs(skew) > tolerance.total_seconds():
        direction = "old" if skew > 0 else "far in the future"
        raise WebhookVerificationError(
            f"timestamp {timestamp} is {abs(int(skew))} s {direction}, outside the "
            f"{int(tolerance.total_seconds())} s tolerance (replayed or clock skew)"
        )
    return timestamp
