"""FakePaymentProvider: deterministic payments and refunds, idempotent like a real provider."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
import uuid
from typing import Any

import pytest

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.errors import PaymentError, ValidationError
from booking_core.ports.payments import (
    PaymentProvider,
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)
from booking_core.testing import ManualClock

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
TENANT = uuid.UUID("11111111-1111-4111-8111-111111111111")
BOOKING = uuid.UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture(name="clock")
def fixture_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(name="provider")
def fixture_provider(clock: ManualClock) -> FakePaymentProvider:
    return FakePaymentProvider(clock=clock)


def _request(key: str = "hold-1", **changes: Any) -> PaymentRequest:
    request = PaymentRequest(
        tenant_id=TENANT,
        booking_id=BOOKING,
        amount=10_000,
        currency="EUR",
        application_fee=1_000,
        description="Wedding package",
        idempotency_key=key,
        metadata={"tenant_id": str(TENANT), "booking_id": str(BOOKING)},
    )
    return dataclasses.replace(request, **changes)


def _refund(payment_ref: str, key: str = "refund-1", amount: int = 4_000) -> RefundRequest:
    return RefundRequest(
        tenant_id=TENANT,
        booking_id=BOOKING,
        payment_ref=payment_ref,
        amount=amount,
        currency="EUR",
        reason="canceled 10 days before",
        idempotency_key=key,
    )


def test_it_satisfies_the_port(provider: FakePaymentProvider) -> None:
    """FakePaymentProvider is a PaymentProvider named 'fake' by default, or by the name it is given.
    FakePaymentProvider is a PaymentProvider named 'fake' by default, or by the name it is given."""
    port: PaymentProvider = provider
    assert port.name == "fake"
    assert FakePaymentProvider(name="fake-eu").name == "fake-eu"


def test_create_payment_is_derived_from_the_key(provider: FakePaymentProvider) -> None:
    """payment_ref = "pay_" + sha256(key)[:24]; the redirect URL and expiry follow from it."""
    session = provider.create_payment(_request())
    expected = "pay_" + hashlib.sha256(b"hold-1").hexdigest()[:24]
    assert session == PaymentSession(
        payment_ref=expected,
        redirect_url=f"https://pay.example.test/checkout/{expected}",
        expires_at=START + dt.timedelta(minutes=30),
    )


def test_create_payment_is_the_same_across_instances(clock: ManualClock) -> None:
    """Deterministic: the demo and tests see the same refs on every run."""
    first = FakePaymentProvider(clock=clock).create_payment(_request())
    second = FakePaymentProvider(clock=clock).create_payment(_request())
    assert first == second


def test_base_url_is_configurable(clock: ManualClock) -> None:
    """The checkout redirect URL is built on the configured base URL and ends with the payment ref.
    The checkout redirect URL is built on the configured base URL and ends with the payment ref."""
    provider = FakePaymentProvider(clock=clock, base_url="http://localhost:8000/pay/")
    session = provider.create_payment(_request())
    assert session.redirect_url == f"http://localhost:8000/pay/checkout/{session.payment_ref}"


def test_create_payment_records_the_payment(provider: FakePaymentProvider) -> None:
    """create_payment records a pending payment with its amount, currency, fee, metadata, tenant,
    booking and session, fully refundable."""
    session = provider.create_payment(_request())
    payment = provider.payments[session.payment_ref]
    assert (payment.amount, payment.currency, payment.application_fee) == (10_000, "EUR", 1_000)
    assert dict(payment.metadata) == {"tenant_id": str(TENANT), "booking_id": str(BOOKING)}
    assert (payment.tenant_id, payment.booking_id) == (TENANT, BOOKING)
    assert (payment.status, payment.refunded, payment.refundable) == ("pending", 0, 10_000)
    assert payment.session == session


def test_same_key_same_request_returns_the_identical_session(
    provider: FakePaymentProvider, clock: ManualClock
) -> None:
    """A retried creation (even later) gets the first session back, not a second payment."""
    first = provider.create_payment(_request())
    clock.advance(dt.timedelta(minutes=3))
    again = provider.create_payment(_request(metadata=dict(_request().metadata)))
    assert again == first
    assert len(provider.payments) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 9_999},
        {"currency": "USD"},
        {"application_fee": 0},
        {"booking_id": uuid.UUID(int=3)},
        {"tenant_id": uuid.UUID(int=4)},
        {"description": "other"},
        {"metadata": {"tenant_id": "x"}},
    ],
)
def test_same_key_different_request_is_refused(
    provider: FakePaymentProvider, change: dict[str, Any]
) -> None:
    """Reusing an idempotency key with any field of the request changed raises PaymentError and
    records no second payment."""
    provider.create_payment(_request())
    with pytest.raises(PaymentError, match="already used for a different payment"):
        provider.create_payment(_request(**change))
    assert len(provider.payments) == 1


def test_caller_mutating_its_metadata_changes_nothing(provider: FakePaymentProvider) -> None:
    """The provider keeps a copy of the metadata: the caller changing its dict afterwards alters
    nothing, and resending it under the same key is refused as a different request."""
    metadata = {"a": "1"}
    session = provider.create_payment(_request(metadata=metadata))
    metadata["a"] = "2"
    assert dict(provider.payments[session.payment_ref].metadata) == {"a": "1"}
    with pytest.raises(PaymentError):
        provider.create_payment(_request(metadata=metadata))


def test_different_keys_create_different_payments(provider: FakePaymentProvider) -> None:
    """Two idempotency keys create two payments with distinct refs."""
    one = provider.create_payment(_request("hold-1"))
    two = provider.create_payment(_request("hold-2"))
    assert one.payment_ref != two.payment_ref
    assert set(provider.payments) == {one.payment_ref, two.payment_ref}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 2**63}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "€€€"}, "currency"),
        ({"application_fee": -1}, "application_fee"),
        ({"application_fee": 10_001}, "application_fee"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 256}, "idempotency_key"),
    ],
)
def test_invalid_payment_requests_are_refused(
    provider: FakePaymentProvider, change: dict[str, Any], message: str
) -> None:
    """Non-positive, boolean or huge amounts, malformed currencies, fees outside 0..amount and empty
    or overlong keys raise PaymentError naming the field, and nothing is recorded."""
    with pytest.raises(PaymentError, match=message):
        provider.create_payment(_request(**change))
    assert provider.payments == {}


def test_concurrent_creations_with_one_key_make_one_payment(
    provider: FakePaymentProvider,
) -> None:
    """The lock makes check-and-record atomic: eight racing retries get one payment."""
    barrier = threading.Barrier(8)
    sessions: list[PaymentSession] = []

    def create() -> None:
        barrier.wait()
        sessions.append(provider.create_payment(_request()))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sessions) == 8
    assert len(set(sessions)) == 1
    assert len(provider.payments) == 1


# -- refunds ------------------------------------------------------------------------------------


def test_refund_is_derived_from_the_key_and_recorded(provider: FakePaymentProvider) -> None:
    """A refund's id is derived from its idempotency key; the refund is recorded with its payment,
    amount, currency and reason, and lowers what remains refundable."""
    ref = provider.create_payment(_request()).payment_ref
    result = provider.refund(_refund(ref))
    expected_id = "re_" + hashlib.sha256(b"refund-1").hexdigest()[:24]
    assert result == RefundResult(provider_refund_id=expected_id, succeeded=True)
    [recorded] = provider.refunds
    assert (recorded.provider_refund_id, recorded.payment_ref) == (expected_id, ref)
    assert (recorded.amount, recorded.currency, recorded.reason) == (
        4_000,
        "EUR",
        "canceled 10 days before",
    )
    assert provider.payments[ref].refunded == 4_000
    assert provider.payments[ref].refundable == 6_000


def test_same_refund_key_never_refunds_twice(provider: FakePaymentProvider) -> None:
    """Repeating a refund with the same key returns the first result and records one refund only."""
    ref = provider.create_payment(_request()).payment_ref
    first = provider.refund(_refund(ref))
    assert provider.refund(_refund(ref)) == first
    assert provider.refund(_refund(ref)) == first
    assert len(provider.refunds) == 1
    assert provider.payments[ref].refunded == 4_000


def test_same_refund_key_with_another_amount_is_refused(provider: FakePaymentProvider) -> None:
    """Reusing a refund key with another amount raises PaymentError and refunds nothing more."""
    ref = provider.create_payment(_request()).payment_ref
    provider.refund(_refund(ref, amount=4_000))
    with pytest.raises(PaymentError, match="different refund"):
        provider.refund(_refund(ref, amount=5_000))
    assert provider.payments[ref].refunded == 4_000


def test_partial_refunds_add_up_to_the_payment_and_no_further(
    provider: FakePaymentProvider,
) -> None:
    """Partial refunds may add up to the whole payment; one cent more raises PaymentError."""
    ref = provider.create_payment(_request()).payment_ref
    provider.refund(_refund(ref, "r1", 4_000))
    provider.refund(_refund(ref, "r2", 6_000))
    assert provider.payments[ref].refundable == 0
    with pytest.raises(PaymentError, match="exceeds the 0 still refundable"):
        provider.refund(_refund(ref, "r3", 1))
    assert [r.amount for r in provider.refunds] == [4_000, 6_000]


def test_refund_above_what_remains_is_refused(provider: FakePaymentProvider) -> None:
    """A refund above what remains refundable is refused, and exactly the remainder succeeds."""
    ref = provider.create_payment(_request()).payment_ref
    provider.refund(_refund(ref, "r1", 7_000))
    with pytest.raises(PaymentError, match="exceeds the 3000 still refundable"):
        provider.refund(_refund(ref, "r2", 3_001))
    assert provider.refund(_refund(ref, "r3", 3_000)).succeeded


@pytest.mark.parametrize("amount", [0, -1, True])
def test_refund_amount_must_be_positive(provider: FakePaymentProvider, amount: int) -> None:
    """A refund amount of 0, -1 or True raises PaymentError and records nothing."""
    ref = provider.create_payment(_request()).payment_ref
    with pytest.raises(PaymentError, match="refund amount"):
        provider.refund(_refund(ref, amount=amount))
    assert provider.refunds == []


def test_refund_of_unknown_payment_is_refused(provider: FakePaymentProvider) -> None:
    """Refunding an unknown payment ref raises PaymentError naming the ref."""
    with pytest.raises(PaymentError, match="unknown payment 'pay_nope'"):
        provider.refund(_refund("pay_nope"))


def test_refund_for_another_tenant_or_currency_is_refused(provider: FakePaymentProvider) -> None:
    """A refund naming another tenant or another currency than its payment raises PaymentError and
    records nothing."""
    ref = provider.create_payment(_request()).payment_ref
    with pytest.raises(PaymentError, match="another tenant or booking"):
        provider.refund(dataclasses.replace(_refund(ref), tenant_id=uuid.UUID(int=9)))
    with pytest.raises(PaymentError, match="currency"):
        provider.refund(dataclasses.replace(_refund(ref), currency="USD"))
    assert provider.refunds == []


def test_refund_of_a_failed_payment_is_refused(provider: FakePaymentProvider) -> None:
    """After a payment.failed webhook the payment is failed, and refunding it raises PaymentError.
    After a payment.failed webhook the payment is failed, and refunding it raises PaymentError."""
    from booking_core.ports.payments import PaymentEventType

    ref = provider.create_payment(_request()).payment_ref
    provider.make_webhook(
        PaymentEventType.PAYMENT_FAILED,
        tenant_id=TENANT,
        booking_id=BOOKING,
        payment_ref=ref,
        amount=10_000,
        currency="EUR",
    )
    assert provider.payments[ref].status == "failed"
    with pytest.raises(PaymentError, match="is failed"):
        provider.refund(_refund(ref))


def test_fail_next_refund_declines_once(provider: FakePaymentProvider) -> None:
    """fail_next_refund makes the next refund decline with the given reason and no money moved; the
    following refund succeeds, and replaying the declined key returns the decline."""
    ref = provider.create_payment(_request()).payment_ref
    provider.fail_next_refund("insufficient balance")
    declined = provider.refund(_refund(ref, "r1"))
    assert declined.succeeded is False
    assert declined.failure_reason == "insufficient balance"
    assert declined.provider_refund_id.startswith("re_")
    assert provider.refunds == []
    assert provider.payments[ref].refunded == 0
    # the next refund (new key) goes through; the declined key keeps its first result
    assert provider.refund(_refund(ref, "r2")).succeeded is True
    assert provider.refund(_refund(ref, "r1")) == declined
    assert [r.idempotency_key for r in provider.refunds] == ["r2"]


def test_fail_next_refund_is_not_consumed_by_a_replay_or_a_refusal(
    provider: FakePaymentProvider,
) -> None:
    """An armed decline is not used up by a replayed key or a refused request; it declines the next
    real refund with the default reason."""
    ref = provider.create_payment(_request()).payment_ref
    first = provider.refund(_refund(ref, "r1"))
    provider.fail_next_refund()
    assert provider.refund(_refund(ref, "r1")) == first  # replay: not a new refund
    with pytest.raises(PaymentError):
        provider.refund(_refund(ref, "r2", 10_000))  # refused before any attempt
    declined = provider.refund(_refund(ref, "r3", 1_000))
    assert declined == RefundResult(
        declined.provider_refund_id,
        succeeded=False,
        failure_reason="declined by the fake provider",
    )


def test_concurrent_refunds_never_exceed_the_payment(provider: FakePaymentProvider) -> None:
    """Twenty racing refunds of 1,000 on a 10,000 payment: exactly ten go through."""
    ref = provider.create_payment(_request()).payment_ref
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def refund(i: int) -> None:
        barrier.wait()
        try:
            provider.refund(_refund(ref, f"r{i}", 1_000))
            outcomes.append("ok")
        except PaymentError:
            outcomes.append("refused")

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] * 10 + ["refused"] * 10
    assert sum(r.amount for r in provider.refunds) == 10_000


def test_snapshots_are_copies(provider: FakePaymentProvider) -> None:
    """payments and refunds return copies: clearing them does not change the provider's records."""
    ref = provider.create_payment(_request()).payment_ref
    provider.payments.clear()
    provider.refunds.clear()
    assert list(provider.payments) == [ref]


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"secret": b""}, "secret"), ({"name": " "}, "name")]
)
def test_bad_configuration_is_refused(kwargs: dict[str, object], field: str) -> None:
    """An empty secret or blank name is refused with ValidationError naming the argument."""
    with pytest.raises(ValidationError) as info:
        FakePaymentProvider(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
