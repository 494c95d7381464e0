"""The pytest plugin's fixtures, used directly (auto-loaded by the entry point) and from a host
test suite run by pytester with plugin autoloading off and ``-p booking_core.testing.plugin``."""

from __future__ import annotations

import datetime as dt

import pytest

from booking_core.adapters.cache import MemoryCache
from booking_core.adapters.memory import MemoryUnitOfWorkFactory
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingStatus, CustomerDetails, Tenant
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock
from booking_core.testing.plugin import CLOCK_START, BookingCatalog

pytest_plugins = ["pytester"]

ANN = CustomerDetails(name="Ann", email="ann@example.com")


def test_booking_clock_starts_at_a_fixed_instant(booking_clock: ManualClock) -> None:
    """booking_clock is a ManualClock at CLOCK_START that moves only when told."""
    assert booking_clock.now() == CLOCK_START == dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC)
    assert booking_clock.advance(dt.timedelta(hours=1)) == CLOCK_START + dt.timedelta(hours=1)


def test_booking_app_is_in_memory_with_cache_and_payments(
    booking_app: BookingApp, booking_clock: ManualClock
) -> None:
    """booking_app runs on the memory adapter, an in-memory cache and the fake provider, on
    the booking_clock."""
    assert isinstance(booking_app.uow, MemoryUnitOfWorkFactory)
    assert isinstance(booking_app.cache, MemoryCache)
    assert isinstance(booking_app.payments, FakePaymentProvider)
    assert booking_app.clock is booking_clock


def test_booking_tenant(booking_app: BookingApp, booking_tenant: Tenant) -> None:
    """booking_tenant is an active tenant of booking_app (Europe/Paris, EUR, 10 %)."""
    assert booking_app.tenants.get(booking_tenant.id) == booking_tenant
    assert booking_tenant.active is True
    assert (booking_tenant.timezone, booking_tenant.currency) == ("Europe/Paris", "EUR")
    assert booking_tenant.commission_percent == 10


def test_booking_catalog(
    booking_app: BookingApp, booking_tenant: Tenant, booking_catalog: BookingCatalog
) -> None:
    """booking_catalog: a segment, two packages each offering both add-ons, a venue of 2."""
    tid = booking_tenant.id
    assert booking_catalog.segment.slug == "weddings"
    assert [p.slug for p in booking_app.catalog.list_packages(tid)] == ["essential", "signature"]
    details = booking_app.catalog.get_package(tid, "signature")
    assert details.package.base_price == 290_000
    assert [a.slug for a in details.add_ons] == ["album", "second-shooter"]
    assert booking_catalog.venue.capacity == 2


def test_fixtures_book_and_the_clock_expires_holds(
    booking_app: BookingApp,
    booking_tenant: Tenant,
    booking_catalog: BookingCatalog,
    booking_clock: ManualClock,
) -> None:
    """A hold on the fixtures blocks its date until booking_clock passes its expiry."""
    package = booking_catalog.packages[0]
    album = booking_catalog.add_ons[0]
    date = dt.date(2030, 6, 1)
    held = booking_app.bookings.hold(
        booking_tenant.id, package_id=package.id, date=date, customer=ANN, add_ons={album.id: 1}
    )
    assert held.total == 150_000 + 45_000
    assert held.commission == 19_500
    with pytest.raises(BookingConflictError):
        booking_app.bookings.hold(booking_tenant.id, package_id=package.id, date=date, customer=ANN)
    booking_clock.advance(dt.timedelta(minutes=15))
    again = booking_app.bookings.hold(
        booking_tenant.id, package_id=package.id, date=date, customer=ANN
    )
    assert again.status is BookingStatus.PENDING


def test_booking_app_sqlite(booking_app_sqlite: BookingApp, booking_clock: ManualClock) -> None:
    """booking_app_sqlite runs the same services on a fresh SQLite file with the schema."""
    assert isinstance(booking_app_sqlite.uow, SqlUnitOfWorkFactory)
    assert booking_app_sqlite.uow.engine.dialect.name == "sqlite"
    assert booking_app_sqlite.clock is booking_clock
    tenant = booking_app_sqlite.tenants.create(
        slug="sqlite-shop", name="Shop", timezone="UTC", currency="USD"
    )
    assert booking_app_sqlite.tenants.get_by_slug("sqlite-shop") == tenant


HOST_TEST = """
import datetime as dt

from booking_core.domain.model import CustomerDetails


def test_checkout(booking_app, booking_tenant, booking_catalog, booking_clock):
    package = booking_catalog.packages[1]
    checkout = booking_app.bookings.checkout(
        booking_tenant.id,
        package_id=package.id,
        date=dt.date(2030, 2, 1),
        customer=CustomerDetails(name="Bob", email="bob@example.com"),
    )
    assert checkout.booking.total == 290_000
    assert checkout.session.redirect_url


def test_sqlite(booking_app_sqlite):
    assert booking_app_sqlite.uow.engine.dialect.name == "sqlite"
"""


def test_host_suite_with_explicit_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With autoloading off, ``-p booking_core.testing.plugin`` provides the fixtures."""
    pytester.makepyfile(test_host=HOST_TEST)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-p", "booking_core.testing.plugin", "-q")
    result.assert_outcomes(passed=2)


def test_host_suite_without_the_plugin_lacks_the_fixtures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With autoloading off and no ``-p``, the fixtures are unknown (the plugin is opt-in)."""
    pytester.makepyfile(test_host=HOST_TEST)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*fixture 'booking_app*' not found*"])


def test_host_suite_with_autoload(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With autoloading on, the ``pytest11`` entry point loads the plugin by itself."""
    pytester.makepyfile(test_host=HOST_TEST)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
