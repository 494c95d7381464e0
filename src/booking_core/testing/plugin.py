"""pytest plugin for host test suites: ready-made booking_core fixtures.

Installed with booking_core and loaded automatically through the ``pytest11`` entry point (or
explicitly with ``-p booking_core.testing.plugin`` when plugin autoloading is off). Fixtures:

- ``booking_clock``: a :class:`~booking_core.testing.ManualClock` at a fixed instant.
- ``booking_app``: an in-memory app (with an in-memory cache and the fake payment provider).
- ``booking_app_sqlite``: the same services on a throwaway SQLite file.
- ``booking_tenant``: an active tenant of ``booking_app``.
- ``booking_catalog``: a small catalog of ``booking_tenant``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from booking_core.testing import ManualClock

if TYPE_CHECKING:
    # pytest imports this module at start-up in every project where booking_core is installed,
    # so it loads nothing heavy (no SQLAlchemy, no services): each fixture imports what it uses.
    from collections.abc import Iterator
    from pathlib import Path

    from booking_core.bootstrap import BookingApp
    from booking_core.domain.model import AddOn, Package, Segment, Tenant, Venue

#: Where ``booking_clock`` starts: a fixed, unremarkable instant.
CLOCK_START = dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class BookingCatalog:
    """What ``booking_catalog`` creates: a segment, two packages, two add-ons, a venue."""

    segment: Segment
    packages: tuple[Package, ...]
    add_ons: tuple[AddOn, ...]
    venue: Venue


@pytest.fixture
def booking_clock() -> ManualClock:
    """A clock that only moves when the test says so."""
    return ManualClock(CLOCK_START)


@pytest.fixture
def booking_app(booking_clock: ManualClock) -> Iterator[BookingApp]:
    """booking_core on in-memory storage, cache and payments: fast, isolated per test."""
    from booking_core.adapters.cache import MemoryCache  # noqa: PLC0415 - lazy
    from booking_core.adapters.payments import FakePaymentProvider  # noqa: PLC0415 - lazy
    from booking_core.testing import in_memory_app  # noqa: PLC0415 - lazy

    with in_memory_app(
        clock=booking_clock,
        cache=MemoryCache(),
        payments=FakePaymentProvider(clock=booking_clock),
    ) as app:
        yield app


@pytest.fixture
def booking_app_sqlite(tmp_path: Path, booking_clock: ManualClock) -> Iterator[BookingApp]:
    """booking_core on a fresh SQLite file (real SQL, real transactions)."""
    from booking_core.adapters.payments import FakePaymentProvider  # noqa: PLC0415 - lazy
    from booking_core.bootstrap import connect  # noqa: PLC0415 - lazy

    with connect(
        f"sqlite:///{tmp_path / 'booking_core.db'}",
        clock=booking_clock,
        payments=FakePaymentProvider(clock=booking_clock),
        create_schema=True,
    ) as app:
        yield app


@pytest.fixture
def booking_tenant(booking_app: BookingApp) -> Tenant:
    """An active tenant (Europe/Paris, EUR, 10 % commission) of ``booking_app``."""
    return booking_app.tenants.create(
        slug=f"tenant-{uuid.uuid4().hex[:8]}",
        name="Test Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
    )


@pytest.fixture
def booking_catalog(booking_app: BookingApp, booking_tenant: Tenant) -> BookingCatalog:
    """A segment with two packages offering two add-ons, and a venue of capacity 2."""
    catalog = booking_app.catalog
    tid = booking_tenant.id
    segment = catalog.create_segment(tid, slug="weddings", name="Weddings")
    packages = (
        catalog.create_package(
            tid, slug="essential", name="Essential", base_price=150_000, segment_id=segment.id
        ),
        catalog.create_package(
            tid, slug="signature", name="Signature", base_price=290_000, segment_id=segment.id
        ),
    )
    add_ons = (
        catalog.create_add_on(tid, slug="album", name="Album", price=45_000),
        catalog.create_add_on(tid, slug="second-shooter", name="Second shooter", price=60_000),
    )
    for package in packages:
        for add_on in add_ons:
            catalog.offer_add_on(tid, package.id, add_on.id)
    venue = catalog.create_venue(tid, name="Grand Hall", city="Lyon", capacity=2)
    return BookingCatalog(segment, packages, add_ons, venue)
