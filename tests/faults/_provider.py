"""One fake payment provider shared by every process of a test run.

``FakePaymentProvider`` keeps its payments and refunds in memory, so two worker processes with
their own copies would each refuse the other's refunds ("unknown payment"). A multiprocessing
manager serves a single instance; :class:`SharedProvider` is the ``PaymentProvider`` adapter each
process (parent included) talks to it through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from multiprocessing.managers import BaseManager
from typing import Any

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.errors import PaymentError, WebhookVerificationError
from booking_core.ports.payments import (
    PaymentEvent,
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)

SECRET = b"faults-shared-secret"
NAME = "fake"

_ERRORS: dict[str, type[PaymentError]] = {
    "PaymentError": PaymentError,
    "WebhookVerificationError": WebhookVerificationError,
}


class InspectableProvider(FakePaymentProvider):
    """The served provider: errors come back as values (not every booking_core error pickles),
    and its refunds can be read per payment."""

    def call(self, method: str, *args: Any, **kwargs: Any) -> tuple[Any, tuple[str, str] | None]:
        try:
            return getattr(self, method)(*args, **kwargs), None
        except PaymentError as error:
            return None, (type(error).__name__, str(error))

    def refunds_of(self, payment_ref: str) -> list[int]:
        """Amounts of the successful refunds of one payment, oldest first."""
        return [r.amount for r in self.refunds if r.payment_ref == payment_ref]


_SERVED: InspectableProvider | None = None


def _served() -> InspectableProvider:
    """The manager process's single provider (created on first use)."""
    global _SERVED  # noqa: PLW0603 - one instance per manager process, on purpose
    if _SERVED is None:
        _SERVED = InspectableProvider(SECRET, name=NAME)
    return _SERVED


class ProviderManager(BaseManager):
    """Serves :func:`_served` to every process that connects."""


ProviderManager.register("provider", callable=_served, exposed=("call", "refunds_of"))


class SharedProvider:
    """A ``PaymentProvider`` that forwards to the served provider."""

    def __init__(self, address: Any, authkey: bytes) -> None:
        manager = ProviderManager(address=address, authkey=authkey)
        manager.connect()
        self._remote: Any = manager.provider()  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        return NAME

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result, error = self._remote.call(method, *args, **kwargs)
        if error is not None:
            kind, message = error
            raise _ERRORS.get(kind, PaymentError)(message)
        return result

    def create_payment(self, request: PaymentRequest) -> PaymentSession:
        session: PaymentSession = self._call("create_payment", request)
        return session

    def refund(self, request: RefundRequest) -> RefundResult:
        result: RefundResult = self._call("refund", request)
        return result

    def parse_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], *, now: dt.datetime
    ) -> PaymentEvent:
        # verified locally: same secret, and no round trip for the hot path
        return FakePaymentProvider(SECRET, name=NAME).parse_webhook(raw_body, headers, now=now)

    def refunds_of(self, payment_ref: str) -> list[int]:
        amounts: list[int] = self._remote.refunds_of(payment_ref)
        return amounts


def start_manager() -> tuple[ProviderManager, bytes]:
    """Start the provider's server process (spawned, like the workers); returns its key too."""
    import multiprocessing
    import secrets

    authkey = secrets.token_bytes(16)
    manager = ProviderManager(authkey=authkey, ctx=multiprocessing.get_context("spawn"))
    manager.start()
    return manager, authkey
