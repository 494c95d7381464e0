"""booking_core.testing.strategies draw values the services accept, on every backend."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingStatus, CustomerDetails
from booking_core.domain.rules import local_today
from booking_core.sanitize import sanitize_plain_text
from booking_core.testing import ManualClock, in_memory_app
from booking_core.testing import strategies as bst
from tests.conftest import scratch_database

NOW = dt.datetime(2030, 3, 30, 23, 30, tzinfo=dt.UTC)  # near a DST change and a date change


def create_everything(app: BookingApp, data: st.DataObject) -> None:
    """Create a tenant, a catalog, and hold a date from drawn values: nothing may raise."""
    kwargs = data.draw(bst.tenants(), label="tenant")
    tenant = app.tenants.create(**kwargs)
    assert tenant.name == sanitize_plain_text(kwargs["name"])
    assert tenant.name
    assert tenant.timezone == kwargs["timezone"]
    spec = data.draw(bst.catalogs(), label="catalog")
    catalog = bst.create_catalog(app, tenant.id, spec)
    assert [p.slug for p in catalog.packages] == [p["slug"] for p in spec.packages]
    assert [a.price for a in catalog.add_ons] == [a["price"] for a in spec.add_ons]
    assert catalog.venue.capacity == spec.venue["capacity"]
    package = data.draw(st.sampled_from(catalog.packages), label="package")
    request = data.draw(
        bst.booking_requests(
            tenant, now=NOW, package_id=package.id, add_on_ids=catalog.offers[package.id]
        ),
        label="request",
    )
    booking = app.bookings.hold(tenant.id, **request)
    assert booking.status is BookingStatus.PENDING
    assert booking.event_date == request["date"]
    assert {line.add_on_id: line.quantity for line in booking.add_ons} == request["add_ons"]
    unit = {a.id: a.price for a in catalog.add_ons}
    extras = sum(unit[a] * q for a, q in request["add_ons"].items())
    assert booking.total == package.base_price + extras
    customer = app.customers.get(tenant.id, booking.customer_id)
    assert customer.email == request["customer"].email.lower()


@pytest.fixture(scope="module")
def memory_app() -> Iterator[BookingApp]:
    with in_memory_app(clock=ManualClock(NOW)) as app:
        yield app


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BookingApp]:
    path: Path = tmp_path_factory.mktemp("strategies") / "strategies.db"
    with connect(f"sqlite:///{path}", clock=ManualClock(NOW), create_schema=True) as app:
        yield app


@pytest.fixture(scope="module")
def postgres_app(postgres_url: str) -> Iterator[BookingApp]:
    with (
        scratch_database(postgres_url, "bc_strategies") as url,
        connect(url, clock=ManualClock(NOW), create_schema=True) as app,
    ):
        yield app


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drawn_values_are_accepted_in_memory(memory_app: BookingApp, data: st.DataObject) -> None:
    """Tenants, catalogs, customers and booking requests drawn by the strategies are accepted:
    creating and holding from them never raises."""
    create_everything(memory_app, data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drawn_values_are_accepted_by_sqlite(sqlite_app: BookingApp, data: st.DataObject) -> None:
    """The same on SQLite: hostile and non-BMP text is stored and read back."""
    create_everything(sqlite_app, data)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drawn_values_are_accepted_by_postgres(
    postgres_app: BookingApp, data: st.DataObject
) -> None:
    """The same on PostgreSQL (which refuses NUL characters in text: none get through)."""
    create_everything(postgres_app, data)


@pytest.mark.parametrize(
    ("what", "present"),
    [
        ("markup", lambda s: "<script>" in s or "<img" in s),
        ("control", lambda s: any(ord(c) < 32 and c not in "\t\r\n" for c in s)),
        ("rtl", lambda s: "\u202e" in s),
        ("emoji", lambda s: any(ord(c) >= 0x1F300 for c in s)),
        ("zero-width", lambda s: "\u200b" in s),
    ],
)
def test_hostile_text_covers_each_kind(what: str, present: object) -> None:
    """hostile_text() produces markup, control characters, RTL overrides, emoji and
    zero-width characters."""
    thorough = settings(database=None, max_examples=5000)
    found = find(bst.hostile_text(), present, settings=thorough)  # type: ignore[arg-type]
    assert present(found)  # type: ignore[operator]


@settings(max_examples=80, deadline=None)
@given(name=bst.names(), short=bst.names(max_length=10))
def test_names_sanitize_to_non_empty_text_within_the_limit(name: str, short: str) -> None:
    """Every drawn name keeps a visible word and fits its limit once sanitized."""
    assert 0 < len(sanitize_plain_text(name)) <= 200
    assert 0 < len(sanitize_plain_text(short)) <= 10


@settings(max_examples=60, deadline=None)
@given(
    tenant_kwargs=bst.tenants(),
    customer=bst.customers(),
    slug=bst.slugs(),
    data=st.data(),
)
def test_values_have_the_documented_shapes(
    tenant_kwargs: bst.TenantKwargs, customer: CustomerDetails, slug: str, data: st.DataObject
) -> None:
    """Slugs are slug-shaped, tenant slugs carry a random suffix, policies are consistent and
    booking dates fall between the notice and the horizon in the tenant's timezone."""
    assert slug == slug.lower().strip("-")
    assert "--" not in slug
    assert tenant_kwargs["currency"] in bst.CURRENCIES
    policy = tenant_kwargs["policy"]
    assert policy.min_notice_days <= policy.horizon_days
    assert "@" in customer.email
    tenant = in_memory_app().tenants.create(**tenant_kwargs)
    date = data.draw(bst.booking_dates(tenant, now=NOW))
    today = local_today(NOW, tenant.timezone)
    assert policy.min_notice_days <= (date - today).days <= policy.horizon_days


def test_unique_slug_can_be_turned_off() -> None:
    """tenants(unique_slug=False) draws the slug as is (shrinkable, may repeat)."""
    drawn = find(bst.tenants(unique_slug=False), lambda t: True, settings=settings(database=None))
    assert drawn["slug"] == "0"


def test_strategies_need_hypothesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Hypothesis the module raises an ImportError that says what to install."""
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # type: ignore[arg-type]
    monkeypatch.delitem(sys.modules, "booking_core.testing.strategies")
    with pytest.raises(ImportError, match="pip install hypothesis"):
        importlib.import_module("booking_core.testing.strategies")


def test_plugin_and_contracts_do_not_import_hypothesis() -> None:
    """Only the strategies module needs Hypothesis: the plugin and the contracts load without."""
    code = (
        "import sys, booking_core.testing, booking_core.testing.plugin, "
        "booking_core.testing.contracts; print('hypothesis' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
