"""FakePaymentProvider webhooks: signed on emission, verified and strictly parsed on receipt."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core import BookingApp, Tenant
from booking_core.adapters.payments import MAX_WEBHOOK_BYTES, SIGNATURE_HEADER, FakePaymentProvider
from booking_core.errors import NotFoundError, ValidationError, WebhookVerificationError
from booking_core.ports.payments import PaymentEvent, PaymentEventType
from booking_core.testing import ManualClock
from booking_core.web import signing

AT = dt.datetime(2026, 3, 1, 12, 0, 7, tzinfo=dt.UTC)
TENANT = uuid.UUID("11111111-1111-4111-8111-111111111111")
BOOKING = uuid.UUID("22222222-2222-4222-8222-222222222222")
SECRET = b"fake-secret"


@pytest.fixture(name="provider")
def fixture_provider() -> FakePaymentProvider:
    return FakePaymentProvider(clock=ManualClock(AT))


def _webhook(
    provider: FakePaymentProvider,
    kind: PaymentEventType = PaymentEventType.PAYMENT_SUCCEEDED,
    **changes: Any,
) -> tuple[bytes, dict[str, str]]:
    kwargs: dict[str, Any] = {
        "tenant_id": TENANT,
        "booking_id": BOOKING,
        "payment_ref": "pay_abc",
        "amount": 10_000,
        "currency": "EUR",
    }
    if kind is PaymentEventType.REFUND_SUCCEEDED:
        kwargs["provider_refund_id"] = "re_1"
    kwargs.update(changes)
    return provider.make_webhook(kind, **kwargs)


def _signed(document: Any, *, raw: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    """A correctly signed body with arbitrary content: parsing must still refuse bad shapes."""
    body = raw if raw is not None else json.dumps(document).encode()
    t = int(AT.timestamp())
    return body, {SIGNATURE_HEADER: signing.sign(SECRET, body, timestamp=t)}


def _valid_document() -> dict[str, Any]:
    return {
        "id": "evt_1",
        "type": "payment.succeeded",
        "created": int(AT.timestamp()),
        "data": {
            "tenant_id": str(TENANT),
            "booking_id": str(BOOKING),
            "payment_ref": "pay_abc",
            "amount": 10_000,
            "currency": "EUR",
            "provider_refund_id": None,
        },
    }


@pytest.mark.parametrize("kind", list(PaymentEventType))
def test_round_trip_for_every_event_type(
    provider: FakePaymentProvider, kind: PaymentEventType
) -> None:
    """What the fake emits, it parses back into the same event."""
    body, headers = _webhook(provider, kind)
    event = provider.parse_webhook(body, headers, now=AT)
    refund_id = "re_1" if kind is PaymentEventType.REFUND_SUCCEEDED else None
    assert event == PaymentEvent(
        event_id=event.event_id,
        type=kind,
        tenant_id=TENANT,
        booking_id=BOOKING,
        payment_ref="pay_abc",
        amount=10_000,
        currency="EUR",
        created_at=AT.replace(microsecond=0),
        provider_refund_id=refund_id,
    )
    assert event.event_id.startswith("evt_")
    assert len(event.event_id) == 28


def test_body_is_compact_sorted_json_and_headers_are_complete(
    provider: FakePaymentProvider,
) -> None:
    """make_webhook writes compact, key-sorted JSON with the event type and creation time, and
    exactly a Content-Type and a Fake-Signature header signed over the body."""
    body, headers = _webhook(provider)
    document = json.loads(body)
    assert body == json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    assert document["type"] == "payment.succeeded"
    assert document["created"] == int(AT.timestamp())
    assert set(headers) == {"Content-Type", "Fake-Signature"}
    assert headers["Content-Type"] == "application/json"
    assert headers["Fake-Signature"] == signing.sign(SECRET, body, timestamp=int(AT.timestamp()))


def test_event_ids_are_deterministic_from_content(provider: FakePaymentProvider) -> None:
    """Emitting the same event twice is a redelivery (same id); another event gets another id."""
    first, _ = _webhook(provider)
    again, _ = _webhook(FakePaymentProvider(clock=ManualClock(AT)))
    failed, _ = _webhook(provider, PaymentEventType.PAYMENT_FAILED)
    other_refund, _ = _webhook(
        provider, PaymentEventType.REFUND_SUCCEEDED, provider_refund_id="re_2"
    )
    refund, _ = _webhook(provider, PaymentEventType.REFUND_SUCCEEDED)
    ids = [json.loads(b)["id"] for b in (first, again, failed, refund, other_refund)]
    assert ids[0] == ids[1]
    assert len(set(ids[1:])) == 4


def test_an_explicit_event_id_is_used(provider: FakePaymentProvider) -> None:
    """An event id given to make_webhook is the one parse_webhook returns."""
    body, headers = _webhook(provider, event_id="evt_custom")
    assert provider.parse_webhook(body, headers, now=AT).event_id == "evt_custom"


def test_at_sets_created_and_signature_timestamp(provider: FakePaymentProvider) -> None:
    """The at argument sets both the event's creation time and the signature timestamp; parsed at
    another time far off, it fails the tolerance check."""
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    body, headers = _webhook(provider, at=at)
    assert headers[SIGNATURE_HEADER].startswith(f"t={int(at.timestamp())},")
    assert provider.parse_webhook(body, headers, now=at).created_at == at
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        provider.parse_webhook(body, headers, now=AT)


def test_payment_webhooks_move_the_payment_status(provider: FakePaymentProvider) -> None:
    """A payment.succeeded webhook marks the payment succeeded, a refund event leaves it so, and
    payment.expired marks it expired."""
    from booking_core.ports.payments import PaymentRequest

    ref = provider.create_payment(
        PaymentRequest(TENANT, BOOKING, 10_000, "EUR", 1_000, "d", "hold-1")
    ).payment_ref
    _webhook(provider, payment_ref=ref)
    assert provider.payments[ref].status == "succeeded"
    _webhook(provider, PaymentEventType.REFUND_SUCCEEDED, payment_ref=ref)
    assert provider.payments[ref].status == "succeeded"
    _webhook(provider, PaymentEventType.PAYMENT_EXPIRED, payment_ref=ref)
    assert provider.payments[ref].status == "expired"


def test_make_webhook_refuses_incoherent_events(provider: FakePaymentProvider) -> None:
    """make_webhook refuses a refund event without a provider_refund_id, a naive at, and an unknown
    event type, each with ValidationError naming the argument."""
    with pytest.raises(ValidationError) as refund:
        _webhook(provider, PaymentEventType.REFUND_SUCCEEDED, provider_refund_id=None)
    assert refund.value.field == "provider_refund_id"
    with pytest.raises(ValidationError) as naive:
        _webhook(provider, at=AT.replace(tzinfo=None))
    assert naive.value.field == "at"
    with pytest.raises(ValidationError) as kind:
        provider.make_webhook(
            "payment.refunded",  # type: ignore[arg-type]
            tenant_id=TENANT,
            booking_id=BOOKING,
            payment_ref="p",
            amount=1,
            currency="EUR",
        )
    assert kind.value.field == "event_type"


@pytest.mark.parametrize(
    "rename", [str.lower, str.upper, lambda name: name], ids=["lower", "upper", "as-is"]
)
def test_header_lookup_is_case_insensitive(provider: FakePaymentProvider, rename: Any) -> None:
    """The signature header is found whatever its case."""
    body, headers = _webhook(provider)
    renamed = {rename(k): v for k, v in headers.items()}
    assert provider.parse_webhook(body, renamed, now=AT).amount == 10_000


def test_redelivery_within_tolerance_parses_to_the_same_event(
    provider: FakePaymentProvider,
) -> None:
    """Deduplication is the inbox's job; the provider parses a redelivery like the original."""
    body, headers = _webhook(provider)
    first = provider.parse_webhook(body, headers, now=AT)
    assert provider.parse_webhook(body, headers, now=AT + dt.timedelta(minutes=4)) == first


def test_replay_after_the_tolerance_is_refused(provider: FakePaymentProvider) -> None:
    """A webhook parsed more than 300 s after it was signed is refused as outside the tolerance."""
    body, headers = _webhook(provider)
    with pytest.raises(WebhookVerificationError, match="outside the 300 s tolerance"):
        provider.parse_webhook(body, headers, now=AT + dt.timedelta(minutes=6))


def test_another_providers_secret_is_refused(provider: FakePaymentProvider) -> None:
    """A webhook signed with another secret is refused with 'signature mismatch'."""
    body, headers = _webhook(FakePaymentProvider(b"other", clock=ManualClock(AT)))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        provider.parse_webhook(body, headers, now=AT)


def test_tampered_body_is_refused(provider: FakePaymentProvider) -> None:
    """A body changed after signing is refused with 'signature mismatch'."""
    body, headers = _webhook(provider)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        provider.parse_webhook(body.replace(b"10000", b"99999"), headers, now=AT)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing signature header"),
        ({"Content-Type": "application/json"}, "missing signature header"),
        ({"Fake-Signature": "a", "fake-signature": "b"}, "more than one"),
        ({"Fake-Signature": ""}, "empty"),
    ],
)
def test_missing_or_ambiguous_signature_header(
    provider: FakePaymentProvider, headers: dict[str, str], message: str
) -> None:
    """A missing signature header, the header twice in two spellings, or an empty one is refused
    with a message saying which."""
    body, _ = _webhook(provider)
    with pytest.raises(WebhookVerificationError, match=message):
        provider.parse_webhook(body, headers, now=AT)


def test_oversized_body_is_refused_before_verification(provider: FakePaymentProvider) -> None:
    """Even correctly signed: the limit bounds what an unauthenticated sender can make us hash."""
    document = _valid_document()
    document["padding"] = "x" * MAX_WEBHOOK_BYTES
    body, headers = _signed(document)
    with pytest.raises(WebhookVerificationError, match="exceeds 65536"):
        provider.parse_webhook(body, headers, now=AT)


def test_body_at_the_limit_is_accepted(provider: FakePaymentProvider) -> None:
    """A signed body of exactly MAX_WEBHOOK_BYTES is accepted."""
    document = _valid_document()
    base = len(json.dumps({**document, "padding": ""}).encode())
    document["padding"] = "x" * (MAX_WEBHOOK_BYTES - base)
    body, headers = _signed(document)
    assert len(body) == MAX_WEBHOOK_BYTES
    assert provider.parse_webhook(body, headers, now=AT).event_id == "evt_1"


def test_unknown_fields_are_ignored(provider: FakePaymentProvider) -> None:
    """Providers add fields over time; a signed event with extras still parses."""
    document = _valid_document()
    document["livemode"] = False
    document["data"]["customer"] = {"email": "a@example.test"}
    body, headers = _signed(document)
    assert provider.parse_webhook(body, headers, now=AT).payment_ref == "pay_abc"


def test_lowercase_currency_is_normalized(provider: FakePaymentProvider) -> None:
    """A lowercase currency in the event is read back upper-cased."""
    document = _valid_document()
    document["data"]["currency"] = "eur"
    body, headers = _signed(document)
    assert provider.parse_webhook(body, headers, now=AT).currency == "EUR"


def _without(path: str) -> dict[str, Any]:
    document = _valid_document()
    *parents, leaf = path.split(".")
    target = document
    for parent in parents:
        target = target[parent]
    del target[leaf]
    return document


def _with(path: str, value: Any) -> dict[str, Any]:
    document = _valid_document()
    *parents, leaf = path.split(".")
    target = document
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    return document


MALFORMED_RAW = [
    (b"", "not valid JSON"),
    (b"not json", "not valid JSON"),
    (b'{"id": "evt_1",', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"\xef\xbb\xbf{}", "not valid JSON"),  # a BOM
    (b"[]", "JSON object"),
    (b'"text"', "JSON object"),
    (b"null", "JSON object"),
    (b"42", "JSON object"),
    (b'{"id":"a","id":"b"}', "repeats the key 'id'"),
    (b'{"amount": NaN}', "NaN"),
    (b'{"amount": Infinity}', "Infinity"),
    (b"[" * 50_000 + b"]" * 10, "nested too deeply|not valid JSON"),
    (b'{"a":' + b"9" * 5_000 + b"}", "not valid JSON"),  # beyond int's digit limit
]


@pytest.mark.parametrize(("raw", "message"), MALFORMED_RAW)
def test_signed_but_malformed_bodies_are_refused(
    provider: FakePaymentProvider, raw: bytes, message: str
) -> None:
    """Correctly signed bodies that are not one JSON object (empty, truncated, not UTF-8, a BOM, an
    array, a repeated key, NaN, too deep, a huge integer) are refused saying what is wrong."""
    body, headers = _signed(None, raw=raw)
    with pytest.raises(WebhookVerificationError, match=message):
        provider.parse_webhook(body, headers, now=AT)


WRONG_SHAPES = [
    (_without("id"), "id is missing"),
    (_with("id", 7), "id must be a str"),
    (_with("id", ""), "printable ASCII"),
    (_with("id", "evt 1"), "printable ASCII"),
    (_with("id", "evt\n1"), "printable ASCII"),
    (_with("id", "e" * 256), "printable ASCII"),
    (_without("type"), "type is missing"),
    (_with("type", "payment.refunded"), "unknown webhook event type"),
    (_with("type", None), "type must be a str"),
    (_without("created"), "created is missing"),
    (_with("created", "2026-03-01"), "created must be a int"),
    (_with("created", 1.5), "created must be a int"),
    (_with("created", True), "created must be a int"),
    (_with("created", 10**20), "valid Unix time"),
    (_without("data"), "data is missing"),
    (_with("data", []), "data must be a dict"),
    (_with("data", "x"), "data must be a dict"),
    (_without("data.tenant_id"), "data.tenant_id is missing"),
    (_with("data.tenant_id", 5), "data.tenant_id must be a str"),
    (_with("data.tenant_id", "not-a-uuid"), "data.tenant_id is not a UUID"),
    (_with("data.tenant_id", "{" + str(TENANT) + "}"), "data.tenant_id is not a UUID"),
    (_with("data.tenant_id", str(TENANT).replace("-", "")), "data.tenant_id is not a UUID"),
    (_with("data.booking_id", "urn:uuid:" + str(BOOKING)), "data.booking_id is not a UUID"),
    (_without("data.payment_ref"), "data.payment_ref is missing"),
    (_with("data.payment_ref", ""), "printable ASCII"),
    (_with("data.payment_ref", ["pay"]), "data.payment_ref must be a str"),
    (_without("data.amount"), "data.amount is missing"),
    (_with("data.amount", "10000"), "data.amount must be a int"),
    (_with("data.amount", 100.0), "data.amount must be a int"),
    (_with("data.amount", False), "data.amount must be a int"),
    (_with("data.amount", -1), "between 0 and"),
    (_with("data.amount", 2**63), "between 0 and"),
    (_without("data.currency"), "data.currency is missing"),
    (_with("data.currency", "EURO"), "3 letters"),
    (_with("data.currency", "E1R"), "3 letters"),
    (_with("data.currency", 978), "data.currency must be a str"),
    (_with("data.provider_refund_id", 3), "provider_refund_id must be a str"),
    (_with("type", "refund.succeeded"), "without data.provider_refund_id"),
]


@pytest.mark.parametrize(("document", "message"), WRONG_SHAPES)
def test_signed_but_wrong_typed_events_are_refused(
    provider: FakePaymentProvider, document: dict[str, Any], message: str
) -> None:
    """A valid signature proves who sent the bytes, not that they are a well-formed event."""
    body, headers = _signed(document)
    with pytest.raises(WebhookVerificationError, match=message):
        provider.parse_webhook(body, headers, now=AT)


def test_amount_zero_is_a_valid_event(provider: FakePaymentProvider) -> None:
    """An event with amount 0 parses, with amount 0."""
    body, headers = _signed(_with("data.amount", 0))
    assert provider.parse_webhook(body, headers, now=AT).amount == 0


@pytest.mark.parametrize("body", ["text", None, 42])
def test_non_bytes_body_is_refused(provider: FakePaymentProvider, body: Any) -> None:
    """A body that is text, None or a number is refused: webhooks must be verified on the raw bytes.
    A body that is text, None or a number is refused: webhooks must be verified on the raw bytes."""
    with pytest.raises(WebhookVerificationError, match="raw bytes"):
        provider.parse_webhook(body, {}, now=AT)


def test_non_mapping_headers_are_refused(provider: FakePaymentProvider) -> None:
    """Headers that are not a mapping are refused with WebhookVerificationError."""
    body, _ = _webhook(provider)
    with pytest.raises(WebhookVerificationError, match="mapping"):
        provider.parse_webhook(body, None, now=AT)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(body=st.binary(max_size=300))
def test_arbitrary_signed_bytes_only_raise_verification_errors(body: bytes) -> None:
    """Signed garbage never escapes as KeyError, TypeError or JSONDecodeError."""
    provider = FakePaymentProvider(clock=ManualClock(AT))
    _, headers = _signed(None, raw=body)
    with pytest.raises(WebhookVerificationError):
        provider.parse_webhook(body, headers, now=AT)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(
    key=st.sampled_from(
        [
            "id",
            "type",
            "created",
            "data",
            "data.tenant_id",
            "data.booking_id",
            "data.payment_ref",
            "data.amount",
            "data.currency",
            "data.provider_refund_id",
        ]
    ),
    value=json_values,
)
def test_any_json_in_any_field_parses_or_raises_a_verification_error(key: str, value: Any) -> None:
    """Replacing one field by any JSON value either still parses or fails the documented way."""
    provider = FakePaymentProvider(clock=ManualClock(AT))
    body, headers = _signed(_with(key, value))
    event: PaymentEvent | None = None
    refusal = ""
    try:
        event = provider.parse_webhook(body, headers, now=AT)
    except WebhookVerificationError as exc:
        refusal = str(exc)
    if event is None:
        assert refusal.startswith(("webhook ", "unknown webhook", "refund webhook"))
    else:
        assert event.amount >= 0
        assert event.currency.isupper()
        assert len(event.currency) == 3


# --- receive: a repeated signature header is refused, never collapsed to one ---------------------


def _werkzeug(lines: list[tuple[str, str]]) -> Any:
    from werkzeug.datastructures import Headers

    return Headers(lines)


def _starlette(lines: list[tuple[str, str]]) -> Any:
    # what FastAPI's request.headers is: names arrive in lower case from the ASGI server
    from starlette.datastructures import Headers

    return Headers(raw=[(name.lower().encode(), value.encode()) for name, value in lines])


# the shapes a host app passes to receive(): framework headers, or any multi-valued mapping
HEADER_SHAPES = {
    "werkzeug": _werkzeug,
    "starlette": _starlette,
    "lines": signing.HeaderLines,
}


def _paid_webhook(app: BookingApp, tenant: Tenant) -> tuple[bytes, str]:
    """A correctly signed payment.succeeded: its body and its one signature header value."""
    assert isinstance(app.payments, FakePaymentProvider)
    body, headers = app.payments.make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=tenant.id,
        booking_id=BOOKING,
        payment_ref="pay_abc",
        amount=10_000,
        currency="EUR",
    )
    return body, headers[SIGNATURE_HEADER]


@pytest.mark.parametrize("shape", sorted(HEADER_SHAPES))
@pytest.mark.parametrize(
    "copies",
    [
        pytest.param(("Fake-Signature", "Fake-Signature"), id="same-spelling"),
        pytest.param(("fake-signature", "FAKE-SIGNATURE"), id="other-case"),
    ],
)
@pytest.mark.parametrize("first_is_valid", [True, False], ids=["valid-twice", "junk-then-valid"])
def test_receive_refuses_a_repeated_signature_header(
    booking_app: BookingApp,
    booking_tenant: Tenant,
    shape: str,
    copies: tuple[str, str],
    first_is_valid: bool,
) -> None:
    """Two signature lines, whichever is valid: WebhookVerificationError and nothing written.

    Before the fix ``receive`` built a dict, so the last line won and the event was recorded.
    """
    body, signature = _paid_webhook(booking_app, booking_tenant)
    first = signature if first_is_valid else f"t=1,v1={'0' * 64}"
    lines = [("Content-Type", "application/json"), (copies[0], first), (copies[1], signature)]
    headers = HEADER_SHAPES[shape](lines)
    with pytest.raises(WebhookVerificationError, match="more than one Fake-Signature header"):
        booking_app.webhooks.receive(booking_tenant.id, body, headers)
    with pytest.raises(NotFoundError):
        booking_app.webhooks.get(booking_tenant.id, json.loads(body)["id"])


@pytest.mark.parametrize("shape", sorted(HEADER_SHAPES))
def test_receive_accepts_one_signature_header_next_to_other_repeated_headers(
    booking_app: BookingApp, booking_tenant: Tenant, shape: str
) -> None:
    """Only the headers the provider reads must be single: a proxy's repeated Via is fine."""
    body, signature = _paid_webhook(booking_app, booking_tenant)
    lines = [("Via", "1.1 a"), ("FAKE-SIGNATURE", signature), ("Via", "1.1 b")]
    receipt = booking_app.webhooks.receive(booking_tenant.id, body, HEADER_SHAPES[shape](lines))
    assert receipt.event_id == json.loads(body)["id"]  # verified and recorded (no booking: FAILED)
