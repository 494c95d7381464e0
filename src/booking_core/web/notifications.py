"""Sign (and verify) the webhooks a host app sends to its own customers from outbox events.

A host app drains the outbox and POSTs each event to a customer's endpoint. This module gives
that request a deterministic body and a signature, using the same HMAC-SHA256 scheme as
:mod:`booking_core.web.signing` (``t=<unix seconds>,v1=<hex>`` over ``f"{t}.".encode() + body``)::

    body = encode_notification("booking.confirmed", event_id, {"booking_id": str(booking.id)})
    headers = NotificationSigner(secret).headers(body, event_id=event_id)
    http.post(url, content=body, headers=headers)  # send these exact bytes

Delivery is at least once: a timeout after the receiver processed a request causes a retry with
the same event id. The body is ``{"data":…,"id":…,"type":…}`` (compact, sorted keys) and the
``BookingCore-Event-Id`` header repeats the id; the id inside the body is covered by the
signature, so it cannot be swapped to slip a replay past deduplication.

What a receiver does, in this order (``verify_notification`` does steps 1-3):

1. Read the **raw** request body; verify the signature over those bytes before parsing them.
   Parsing and re-serializing JSON changes the bytes and breaks the signature.
2. Check the signed timestamp is within the tolerance (5 minutes by default) of its own clock:
   a captured request replayed later is refused. Keep the server clock in sync (NTP).
3. Take the event id (the signed ``id`` of the body; the header must agree with it).
4. Deduplicate by event id: if that id was already processed, answer 2xx and do nothing. Store
   processed ids for longer than the sender retries.
5. Answer 2xx quickly, then act; any other answer makes the sender retry.

During a secret rotation, pass both secrets to :func:`verify_notification` (any one may match);
the sender may add a second ``v1=`` entry signed with the new secret.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from booking_core.errors import ValidationError, WebhookVerificationError
from booking_core.ports.clock import Clock, SystemClock
from booking_core.ports.payments import EVENT_ID_PATTERN
from booking_core.web import signing

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "NotificationSigner",
    "encode_notification",
    "verify_notification",
]

SIGNATURE_HEADER: Final = "BookingCore-Signature"
EVENT_ID_HEADER: Final = "BookingCore-Event-Id"
_CONTENT_TYPE: Final = "Content-Type"
_EVENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
# RFC 9110 token characters
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")


def _check_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not EVENT_ID_PATTERN.fullmatch(event_id):
        raise ValidationError("event_id", "must be 1-255 printable ASCII characters, no spaces")
    return event_id


def _check_header_name(header: object) -> str:
    if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
        raise ValidationError("header", "must be an HTTP header name (token characters)")
    if header.lower() in {EVENT_ID_HEADER.lower(), _CONTENT_TYPE.lower()}:
        raise ValidationError("header", f"{header!r} is already used for another purpose")
    return header


def _json_default(value: Any) -> Any:
    # only conversions with one obvious, stable text form; anything else is a caller bug
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    msg = f"{type(value).__name__} is not JSON-serializable"
    raise TypeError(msg)


def encode_notification(event_type: str, event_id: str, payload: Mapping[str, Any]) -> bytes:
    """Return the body ``{"data":payload,"id":event_id,"type":event_type}`` as compact JSON bytes.

    Keys are sorted, separators compact and non-ASCII escaped, so the same event always encodes
    to the same bytes: a redelivery is byte-identical and receivers can compare or hash bodies.
    UUIDs, dates/datetimes and enums are written as their string (or value) form.

    Args:
        event_type: e.g. ``"booking.confirmed"`` (letters, digits, ``._:-``).
        event_id: the outbox event's stable id (printable ASCII, no spaces, ≤ 255).
        payload: the event data; string keys and JSON-able values.

    Raises:
        ValidationError: a bad type or id, or a payload that is not JSON (NaN, sets, bytes, …).
    """
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise ValidationError("event_type", "must be a dotted name like 'booking.confirmed'")
    _check_event_id(event_id)
    if not isinstance(payload, Mapping):
        raise ValidationError("payload", "must be a mapping")
    try:
        text = json.dumps(
            {"id": event_id, "type": event_type, "data": dict(payload)},
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=True,
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError("payload", f"cannot be encoded as JSON: {exc}") from exc
    return text.encode("ascii")


def _body_event_id(body: bytes) -> str | None:
    """The ``id`` of a notification body, or ``None`` when the body is not one."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(document, dict):
        event_id = document.get("id")
        if isinstance(event_id, str):
            return event_id
    return None


class NotificationSigner:
    """Builds the headers of an outgoing notification: signature, event id, content type.

    Args:
        secret: the secret shared with the receiving customer (non-empty bytes).
        header: the signature header name.
        clock: where the default timestamp comes from (a :class:`~booking_core.ports.clock.Clock`;
            ``SystemClock`` by default, ``booking_core.testing.ManualClock`` in tests).

    Raises:
        ValidationError: an empty secret or an invalid header name.
    """

    def __init__(
        self, secret: bytes, *, header: str = SIGNATURE_HEADER, clock: Clock | None = None
    ) -> None:
        if not isinstance(secret, bytes) or not secret:
            raise ValidationError("secret", "must be non-empty bytes")
        self._secret = secret
        self._header = _check_header_name(header)
        self._clock: Clock = clock or SystemClock()

    @property
    def header(self) -> str:
        return self._header

    def headers(
        self, body: bytes, *, event_id: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """Return ``{signature header: "t=…,v1=…", "BookingCore-Event-Id": id, "Content-Type": …}``.

        Sign at send time (each retry gets a fresh timestamp, the same body and event id), so a
        retry hours later is not refused as a replay.

        Args:
            body: the exact bytes that will be sent, from :func:`encode_notification`.
            event_id: the event's stable id; must equal the body's ``id``.
            timestamp: Unix seconds; defaults to the clock's now.

        Raises:
            ValidationError: a bad event id, or one that differs from the body's ``id`` (the
                receiver would refuse it).
        """
        _check_event_id(event_id)
        if not isinstance(body, bytes):
            raise ValidationError("body", "must be bytes")
        if _body_event_id(body) != event_id:
            raise ValidationError(
                "event_id", "must equal the body's id (encode the body with encode_notification)"
            )
        if timestamp is None:
            timestamp = int(self._clock.now().timestamp())
        return {
            self._header: signing.sign(self._secret, body, timestamp=timestamp),
            EVENT_ID_HEADER: event_id,
            _CONTENT_TYPE: "application/json",
        }


def verify_notification(
    secret: bytes | Sequence[bytes],
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: dt.datetime,
    tolerance: dt.timedelta = signing.DEFAULT_TOLERANCE,
    header: str = SIGNATURE_HEADER,
) -> str:
    """Verify a received notification and return its event id, to deduplicate by.

    Header names are matched case-insensitively (HTTP frameworks normalize them differently).
    The returned id is the one inside the signed body; the ``BookingCore-Event-Id`` header, when
    present, must agree with it.

    Args:
        secret: the shared secret, or several during a rotation.
        body: the raw request body, before any parsing.
        headers: the request headers.
        now: the receiver's current time, timezone-aware.
        tolerance: how far the signed timestamp may be from ``now``.
        header: the signature header name the sender used.

    Raises:
        WebhookVerificationError: missing/bad signature, stale timestamp, a body without an id,
            or an event id header that contradicts the body.
        ValidationError: a configuration mistake (empty secret, naive ``now``, bad header name).
    """
    _check_header_name(header)
    signing.verify(
        secret, body, signing.header_value(headers, header), now=now, tolerance=tolerance
    )
    event_id = _body_event_id(bytes(body))
    if event_id is None or not EVENT_ID_PATTERN.fullmatch(event_id):
        raise WebhookVerificationError("notification body carries no valid event id")
    claimed = signing.header_value(headers, EVENT_ID_HEADER)
    if claimed is not None and claimed != event_id:
        raise WebhookVerificationError(f"{EVENT_ID_HEADER} header does not match the body's id")
    return event_id
