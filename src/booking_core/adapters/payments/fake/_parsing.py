"""Strict parsing of a fake-provider webhook body into a :class:`PaymentEvent`.

A valid signature proves who sent the bytes, not that they are well-formed, so parsing refuses
everything a lenient parser would guess at: invalid UTF-8, anything but one JSON object,
duplicate keys (two parsers can disagree on which one wins; msgspec, for one, silently keeps the
last), NaN and Infinity, and fields of the wrong type. The stdlib parser is used on purpose: it
is the one that lets us refuse duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from booking_core.adapters.payments.fake._rules import CURRENCY, MAX_AMOUNT, MAX_ID_LENGTH
from booking_core.errors import WebhookVerificationError
from booking_core.ports.payments import EVENT_ID_PATTERN, PaymentEvent, PaymentEventType

__all__ = ["parse_event"]

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _reject_constant(token: str) -> Any:
    raise WebhookVerificationError(f"webhook body contains {token}, which is not JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # two parsers can disagree on which duplicate wins; refusing them removes the ambiguity
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise WebhookVerificationError(f"webhook body repeats the key {key!r}")
        document[key] = value
    return document


def _load(raw_body: bytes) -> dict[str, Any]:
    try:
        text = raw_body.decode("utf-8")
        document = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("webhook body is not UTF-8") from exc
    except RecursionError as exc:
        raise WebhookVerificationError("webhook body is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, and ints beyond the digit limit
        raise WebhookVerificationError(f"webhook body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise WebhookVerificationError("webhook body must be a JSON object")
    return document


def _field(document: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in document:
        raise WebhookVerificationError(f"webhook {where}{key} is missing")
    value = document[key]
    # bool is an int in Python but never a valid amount or timestamp
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WebhookVerificationError(f"webhook {where}{key} must be a {kind.__name__}")
    return value


def _identifier(document: Mapping[str, Any], key: str, where: str) -> str:
    value: str = _field(document, key, str, where)
    if not EVENT_ID_PATTERN.fullmatch(value):
        raise WebhookVerificationError(
            f"webhook {where}{key} must be 1-{MAX_ID_LENGTH} printable ASCII characters"
        )
    return value


def _uuid(document: Mapping[str, Any], key: str) -> uuid.UUID:
    value: str = _field(document, key, str, "data.")
    # only the canonical form: uuid.UUID() would also take braces, "urn:uuid:" and no hyphens
    if not _CANONICAL_UUID.fullmatch(value.lower()):
        raise WebhookVerificationError(f"webhook data.{key} is not a UUID")
    return uuid.UUID(value)


def _optional_identifier(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _identifier(data, key, "data.")


def parse_event(raw_body: bytes) -> PaymentEvent:
    """The event of a body whose signature was already verified.

    Raises:
        WebhookVerificationError: the body is not a well-formed event of a known type.
    """
    document = _load(raw_body)
    event_id = _identifier(document, "id", "")
    type_name: str = _field(document, "type", str, "")
    try:
        kind = PaymentEventType(type_name)
    except ValueError:
        raise WebhookVerificationError(f"unknown webhook event type {type_name[:40]!r}") from None
    created: int = _field(document, "created", int, "")
    try:
        created_at = dt.datetime.fromtimestamp(created, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookVerificationError("webhook created is not a valid Unix time") from None
    data: dict[str, Any] = _field(document, "data", dict, "")
    amount: int = _field(data, "amount", int, "data.")
    if not 0 <= amount <= MAX_AMOUNT:
        raise WebhookVerificationError("webhook data.amount must be between 0 and 2**63-1")
    currency: str = _field(data, "currency", str, "data.")
    if not CURRENCY.fullmatch(currency):
        raise WebhookVerificationError("webhook data.currency must be 3 letters")
    refund_id = _optional_identifier(data, "provider_refund_id")
    if refund_id is None and kind is PaymentEventType.REFUND_SUCCEEDED:
        raise WebhookVerificationError("refund webhook without data.provider_refund_id")
    refund_key = _optional_identifier(data, "refund_key")
    return PaymentEvent(
        event_id=event_id,
        type=kind,
        tenant_id=_uuid(data, "tenant_id"),
        booking_id=_uuid(data, "booking_id"),
        payment_ref=_identifier(data, "payment_ref", "data."),
        amount=amount,
        currency=currency.upper(),
        created_at=created_at,
        provider_refund_id=refund_id,
        refund_key=refund_key,
    )
