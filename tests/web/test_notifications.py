"""booking_core.web.notifications: signed outgoing webhooks with a stable, deduplicable event id."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core.errors import ValidationError, WebhookVerificationError
from booking_core.testing import ManualClock
from booking_core.web import signing
from booking_core.web.notifications import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    NotificationSigner,
    encode_notification,
    verify_notification,
)

NOW = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
T = int(NOW.timestamp())
SECRET = b"customer-endpoint-secret"
EVENT_ID = "0b5c6f0e-4d0a-4c6b-9a43-3c1d2b7f1e01"
BOOKING = uuid.UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture(name="signer")
def fixture_signer() -> NotificationSigner:
    return NotificationSigner(SECRET, clock=ManualClock(NOW))


@pytest.fixture(name="body")
def fixture_body() -> bytes:
    return encode_notification("booking.confirmed", EVENT_ID, {"booking_id": str(BOOKING)})


def test_encode_is_compact_sorted_and_deterministic() -> None:
    """encode_notification writes compact JSON with sorted keys at every level, so the same payload
    in any key order gives the same bytes."""
    body = encode_notification("booking.confirmed", "evt_1", {"z": 1, "a": {"y": 2, "b": 3}})
    assert body == b'{"data":{"a":{"b":3,"y":2},"z":1},"id":"evt_1","type":"booking.confirmed"}'
    again = encode_notification("booking.confirmed", "evt_1", {"a": {"b": 3, "y": 2}, "z": 1})
    assert again == body


def test_encode_writes_common_values_in_their_string_form() -> None:
    """UUIDs, datetimes, dates and enums are written in their string form, read-only mappings as
    objects, and non-ASCII text is escaped so the body is pure ASCII."""

    class Kind(enum.Enum):
        FULL = "full"

    body = encode_notification(
        "refund.succeeded",
        "evt_2",
        MappingProxyType(
            {
                "booking_id": BOOKING,
                "at": NOW,
                "date": dt.date(2026, 7, 4),
                "kind": Kind.FULL,
                "nested": MappingProxyType({"ok": True}),
                "name": "Zoë",
            }
        ),
    )
    assert json.loads(body)["data"] == {
        "booking_id": str(BOOKING),
        "at": "2026-06-01T09:30:00+00:00",
        "date": "2026-07-04",
        "kind": "full",
        "nested": {"ok": True},
        "name": "Zoë",
    }
    assert body.isascii()  # non-ASCII is escaped: the bytes never depend on an encoder's choice


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "evt_1", {}), "event_type"),
        (("booking confirmed", "evt_1", {}), "event_type"),
        (("booking.confirmed", "", {}), "event_id"),
        (("booking.confirmed", "evt 1", {}), "event_id"),
        (("booking.confirmed", "evt_1\r\nX-Injected: 1", {}), "event_id"),
        (("booking.confirmed", "e" * 256, {}), "event_id"),
        (("booking.confirmed", "evt_1", ["not", "a", "mapping"]), "payload"),
        (("booking.confirmed", "evt_1", {"x": float("nan")}), "payload"),
        (("booking.confirmed", "evt_1", {"x": {1, 2}}), "payload"),
        (("booking.confirmed", "evt_1", {"x": b"bytes"}), "payload"),
        (("booking.confirmed", "evt_1", {1: "a", "b": 2}), "payload"),
    ],
)
def test_encode_refuses_what_would_not_round_trip(args: tuple[Any, ...], field: str) -> None:
    """Malformed event types and ids (blank, spaces, CR/LF, too long) and payloads that JSON cannot
    carry back unchanged (not a mapping, NaN, sets, bytes, non-string keys) raise ValidationError
    naming the argument."""
    with pytest.raises(ValidationError) as info:
        encode_notification(*args)
    assert info.value.field == field


def test_headers_sign_the_body_with_a_stable_event_id(
    signer: NotificationSigner, body: bytes
) -> None:
    """The signer's headers are exactly the t=…,v1=… signature of the body at the clock's time, the
    event id, and Content-Type application/json."""
    headers = signer.headers(body, event_id=EVENT_ID)
    assert headers == {
        SIGNATURE_HEADER: signing.sign(SECRET, body, timestamp=T),
        EVENT_ID_HEADER: EVENT_ID,
        "Content-Type": "application/json",
    }
    assert headers[SIGNATURE_HEADER].startswith(f"t={T},v1=")


def test_round_trip_returns_the_event_id(signer: NotificationSigner, body: bytes) -> None:
    """verify_notification accepts the signer's headers and returns the event id."""
    headers = signer.headers(body, event_id=EVENT_ID)
    assert verify_notification(SECRET, body, headers, now=NOW) == EVENT_ID


def test_retries_get_a_fresh_timestamp_but_the_same_id_and_body(body: bytes) -> None:
    """Receivers deduplicate a retry by its id, and a late retry is not refused as a replay."""
    clock = ManualClock(NOW)
    signer = NotificationSigner(SECRET, clock=clock)
    first = signer.headers(body, event_id=EVENT_ID)
    clock.advance(dt.timedelta(hours=2))
    retry = signer.headers(body, event_id=EVENT_ID)
    assert retry[EVENT_ID_HEADER] == first[EVENT_ID_HEADER]
    assert retry[SIGNATURE_HEADER] != first[SIGNATURE_HEADER]
    seen: set[str] = set()
    for headers, at in ((first, NOW), (retry, clock.now())):
        seen.add(verify_notification(SECRET, body, headers, now=at))
    assert seen == {EVENT_ID}


def test_explicit_timestamp(signer: NotificationSigner, body: bytes) -> None:
    """A timestamp given to headers() is the one signed, and it verifies within the tolerance."""
    headers = signer.headers(body, event_id=EVENT_ID, timestamp=T - 60)
    assert headers[SIGNATURE_HEADER].startswith(f"t={T - 60},")
    assert verify_notification(SECRET, body, headers, now=NOW) == EVENT_ID


def test_replay_outside_tolerance_is_refused(signer: NotificationSigner, body: bytes) -> None:
    """A notification verified more than five minutes after signing is refused; a wider tolerance
    accepts it."""
    headers = signer.headers(body, event_id=EVENT_ID)
    late = NOW + dt.timedelta(minutes=5, seconds=1)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_notification(SECRET, body, headers, now=late)
    wider = dt.timedelta(minutes=10)
    assert verify_notification(SECRET, body, headers, now=late, tolerance=wider) == EVENT_ID


def test_tampered_body_or_wrong_secret_is_refused(signer: NotificationSigner, body: bytes) -> None:
    """A changed body or another secret fails verification with 'signature mismatch'."""
    headers = signer.headers(body, event_id=EVENT_ID)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_notification(SECRET, body.replace(b"confirmed", b"canceled"), headers, now=NOW)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_notification(b"another", body, headers, now=NOW)


def test_swapping_the_event_id_header_is_refused(signer: NotificationSigner, body: bytes) -> None:
    """The id is also inside the signed body, so a replay cannot dodge dedupe with a new id."""
    headers = signer.headers(body, event_id=EVENT_ID)
    headers[EVENT_ID_HEADER] = "a-fresh-id"
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_notification(SECRET, body, headers, now=NOW)


def test_the_event_id_header_is_optional_for_the_receiver(
    signer: NotificationSigner, body: bytes
) -> None:
    """Without the event-id header, verification still returns the event id, read from the signed
    body."""
    headers = signer.headers(body, event_id=EVENT_ID)
    del headers[EVENT_ID_HEADER]
    assert verify_notification(SECRET, body, headers, now=NOW) == EVENT_ID


def test_header_names_are_matched_case_insensitively(
    signer: NotificationSigner, body: bytes
) -> None:
    """Lower-cased header names verify like the original ones."""
    headers = {k.lower(): v for k, v in signer.headers(body, event_id=EVENT_ID).items()}
    assert verify_notification(SECRET, body, headers, now=NOW) == EVENT_ID


def test_secret_rotation(body: bytes) -> None:
    """Receivers accept the old and the new secret during a rotation."""
    headers = NotificationSigner(b"new", clock=ManualClock(NOW)).headers(body, event_id=EVENT_ID)
    assert verify_notification([b"old", b"new"], body, headers, now=NOW) == EVENT_ID
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_notification([b"old"], body, headers, now=NOW)


def test_custom_signature_header(body: bytes) -> None:
    """A signer configured with another header name signs under it only; the receiver finds it when
    told the name (in any case) and reports a missing header otherwise."""
    signer = NotificationSigner(SECRET, header="Acme-Signature", clock=ManualClock(NOW))
    headers = signer.headers(body, event_id=EVENT_ID)
    assert "Acme-Signature" in headers
    assert SIGNATURE_HEADER not in headers
    assert signer.header == "Acme-Signature"
    assert verify_notification(SECRET, body, headers, now=NOW, header="acme-signature") == EVENT_ID
    with pytest.raises(WebhookVerificationError, match="missing signature header"):
        verify_notification(SECRET, body, headers, now=NOW)


def test_signer_refuses_an_id_that_is_not_the_bodys(
    signer: NotificationSigner, body: bytes
) -> None:
    """Caught at send time: the receiver would refuse the mismatch anyway."""
    with pytest.raises(ValidationError) as info:
        signer.headers(body, event_id="other")
    assert info.value.field == "event_id"
    with pytest.raises(ValidationError) as raw:
        signer.headers(b"not an envelope", event_id=EVENT_ID)
    assert raw.value.field == "event_id"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secret": b""}, "secret"),
        ({"secret": "text"}, "secret"),
        ({"secret": SECRET, "header": "Bad Header"}, "header"),
        ({"secret": SECRET, "header": "BookingCore-Event-Id"}, "header"),
        ({"secret": SECRET, "header": "content-type"}, "header"),
    ],
)
def test_signer_configuration_is_validated(kwargs: dict[str, Any], field: str) -> None:
    """An empty or text secret, an invalid header name, or a name that clashes with the event-id or
    Content-Type header raises ValidationError naming the argument."""
    with pytest.raises(ValidationError) as info:
        NotificationSigner(**kwargs)
    assert info.value.field == field


def test_signed_body_without_an_id_is_refused() -> None:
    """A correctly signed body that carries no event id is refused with 'no valid event id'."""
    body = b'{"type":"booking.confirmed","data":{}}'
    headers = {SIGNATURE_HEADER: signing.sign(SECRET, body, timestamp=T)}
    with pytest.raises(WebhookVerificationError, match="no valid event id"):
        verify_notification(SECRET, body, headers, now=NOW)


def test_the_default_clock_is_the_system_clock(body: bytes) -> None:
    """A signer without a clock signs with the current time, so its headers verify against
    datetime.now()."""
    headers = NotificationSigner(SECRET).headers(body, event_id=EVENT_ID)
    now = dt.datetime.now(dt.UTC)
    assert verify_notification(SECRET, body, headers, now=now) == EVENT_ID


@given(
    event_id=st.from_regex(r"[\x21-\x7e]{1,60}", fullmatch=True),
    payload=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4),
)
def test_round_trip_property(event_id: str, payload: dict[str, Any]) -> None:
    """For any printable event id and small payload, the encoded, signed notification verifies to
    its id and decodes to the same id, type and payload."""
    body = encode_notification("booking.held", event_id, payload)
    headers = NotificationSigner(SECRET).headers(body, event_id=event_id, timestamp=T)
    assert verify_notification(SECRET, body, headers, now=NOW) == event_id
    assert json.loads(body) == {"id": event_id, "type": "booking.held", "data": payload}


@given(header=st.text(max_size=200), event_header=st.text(max_size=50))
def test_arbitrary_headers_only_raise_verification_errors(header: str, event_header: str) -> None:
    """Any text in the signature and event-id headers fails with WebhookVerificationError, never
    another exception."""
    body = encode_notification("booking.held", "evt_1", {})
    with pytest.raises(WebhookVerificationError):
        verify_notification(
            SECRET, body, {SIGNATURE_HEADER: header, EVENT_ID_HEADER: event_header}, now=NOW
        )
