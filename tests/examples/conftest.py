"""Shared fixtures and helpers for the example apps' tests.

Each test module provides two fixtures of its own: ``seed`` (its example's ``seed_demo``) and
``api`` (an :class:`Api` over its framework's test client). Everything else is here: a tmp
SQLite BookingApp on a manual clock with the fake payment provider, two seeded tenants, and the
helpers that read responses the same way for both frameworks.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

import booking_core
from booking_core import BookingApp
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.ports.payments import PaymentEventType
from booking_core.testing import ManualClock

#: 1 March 2030, 10:00 in Paris (the demo tenant's timezone).
START = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)
#: 112 days after START: inside the horizon, far enough for a full refund.
EVENT_DATE = dt.date(2030, 6, 21)
#: The seed's timed package, its slug and its studio's hours (Tuesday to Saturday 10:00-18:00 in
#: Paris, a start every 30 minutes, an hour and 15 minutes to reset).
TIMED = "portrait-hour"
#: EVENT_DATE (a Friday) at 10:00 in Paris: the studio's first start that day (08:00 UTC).
TIMED_START = dt.datetime(2030, 6, 21, 8, 0, tzinfo=dt.UTC)
SECRET = b"test-webhook-secret"
PROBLEM_JSON = "application/problem+json"

#: Request headers: a mapping, or header lines (a name may repeat, as on the wire).
Headers = Mapping[str, str] | Sequence[tuple[str, str]]

#: The examples: plain folders (no packages), so that a copied folder runs as it is.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@functools.cache
def load_example(folder: str) -> SimpleNamespace:
    """Every module of ``examples/<folder>``, imported as its README runs them.

    An example is a plain folder whose modules import each other by bare name (``import
    settings``), with the folder first on ``sys.path``. Both examples have a ``settings``,
    ``seed``, ``api`` and ``pay``, so each is imported on its own: its modules are taken out of
    ``sys.modules`` again (they keep working: each holds its own imports) and returned by name.
    """
    root = EXAMPLES / folder
    names = sorted(path.stem for path in root.glob("*.py"))
    shadowed = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(root))
    try:
        modules: dict[str, ModuleType] = {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(root))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(shadowed)
    for name, module in modules.items():
        assert Path(module.__file__ or "").parent == root, (name, module.__file__)
    return SimpleNamespace(**modules)


@dataclass(frozen=True)
class Reply:
    """A response, the same shape whichever framework answered."""

    status: int
    headers: Mapping[str, str]  # lower-case names
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Api:
    """A test client of one example app: ``key`` becomes the ``X-Tenant-Key`` header."""

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Headers | None = None,
    ) -> Reply:
        raise NotImplementedError

    def _headers(self, key: str | None, headers: Headers | None) -> list[tuple[str, str]]:
        lines = list(headers.items() if isinstance(headers, Mapping) else headers or ())
        if key is not None:
            lines.append(("X-Tenant-Key", key))
        return lines

    def get(self, path: str, *, key: str | None = None, **options: Any) -> Reply:
        headers = self._headers(key, options.pop("headers", None))
        return self.send("GET", path, headers=headers, **options)

    def post(self, path: str, *, key: str | None = None, **options: Any) -> Reply:
        headers = self._headers(key, options.pop("headers", None))
        return self.send("POST", path, headers=headers, **options)

    def delete(self, path: str, *, key: str | None = None, **options: Any) -> Reply:
        headers = self._headers(key, options.pop("headers", None))
        return self.send("DELETE", path, headers=headers, **options)


def assert_problem(reply: Reply, status: int, slug: str | None = None) -> dict[str, Any]:
    """The reply is an RFC 9457 problem with ``status`` (and type ``…:problem:<slug>``)."""
    assert reply.status == status, reply.raw
    assert reply.content_type.startswith(PROBLEM_JSON), reply.content_type
    body: dict[str, Any] = reply.body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    if slug is not None:
        assert body["type"] == f"urn:booking-core:problem:{slug}", body
    return body


def checkout_body(
    *,
    date: dt.date = EVENT_DATE,
    package: str = "gold",
    email: str = "ann@example.com",
    add_ons: dict[str, int] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "package": package,
        "date": date.isoformat(),
        "customer": {"name": "Ann O'Brien", "email": email},
    }
    if add_ons is not None:
        body["add_ons"] = add_ons
    return body


def timed_body(
    start: dt.datetime | str = TIMED_START, *, email: str = "ann@example.com", **more: Any
) -> dict[str, Any]:
    """A checkout of the timed package at ``start`` (sent as given when a string)."""
    return {
        "package": TIMED,
        "start": start if isinstance(start, str) else start.isoformat(),
        "customer": {"name": "Ann O'Brien", "email": email},
        **more,
    }


def instant(value: str) -> dt.datetime:
    """An ISO 8601 date-time from a reply (``Z`` or an offset), as an aware datetime."""
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def signed_payment(
    provider: FakePaymentProvider,
    tenant: booking_core.Tenant,
    checkout: Mapping[str, Any],
    *,
    event: PaymentEventType = PaymentEventType.PAYMENT_SUCCEEDED,
    amount: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The provider's signed webhook for a checkout reply body: ``(raw body, headers)``."""
    booking = checkout["booking"]
    return provider.make_webhook(
        event,
        tenant_id=tenant.id,
        booking_id=booking["id"],
        payment_ref=checkout["payment"]["payment_ref"],
        amount=booking["total"] if amount is None else amount,
        currency=booking["currency"],
    )


@pytest.fixture(name="clock")
def _clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(name="booking")
def _booking(tmp_path: Path, clock: ManualClock) -> Iterator[BookingApp]:
    """A tmp SQLite BookingApp wired as the examples wire theirs, on the manual clock."""
    app = booking_core.connect(
        f"sqlite:///{tmp_path / 'booking.db'}",
        cache_url="memory://",
        clock=clock,
        payments=FakePaymentProvider(SECRET, clock=clock),
        create_schema=True,
    )
    with app:
        yield app


@pytest.fixture(name="provider")
def _provider(booking: BookingApp) -> FakePaymentProvider:
    assert isinstance(booking.payments, FakePaymentProvider)
    return booking.payments


@pytest.fixture(name="shop")
def _shop(booking: BookingApp, seed: Callable[..., Any]) -> Any:
    """Tenant A, seeded by the example's own seed helper."""
    return seed(booking, slug="lumiere", name="Atelier Lumière")


@pytest.fixture(name="rival")
def _rival(booking: BookingApp, seed: Callable[..., Any]) -> Any:
    """Tenant B: the same catalog slugs, none of A's data."""
    return seed(booking, slug="rival", name="Rival Studio")
