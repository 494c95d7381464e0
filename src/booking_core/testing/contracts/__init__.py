"""Contract test suites for adapter authors: run booking_core's adapter contracts on yours.

This module is for *test suites*: it imports pytest (and, for the property tests, Hypothesis when
it is installed). Subclass a contract in a test module, override one fixture, and pytest runs
every behaviour the services rely on against your adapter::

    import pytest
    from booking_core.testing.contracts import CacheContract, UnitOfWorkContract

    class TestMyUow(UnitOfWorkContract):
        @pytest.fixture
        def uow_factory(self):
            return MyUowFactory(...)

    class TestMyCache(CacheContract):
        @pytest.fixture
        def cache(self):
            return MyCache(...)

The suites are what booking_core's own adapters (memory, SQLite, PostgreSQL; in-memory and
Redis caches) are tested with. Each behaviour is one test method with a docstring that says what
must happen. Tests create fresh random tenants and assert only on them, so a factory may share
one database across tests (and with other test suites); nothing is wiped.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from booking_core.testing.contracts._bookings import BookingsContract
from booking_core.testing.contracts._catalog import CatalogContract
from booking_core.testing.contracts._messages import MessagesContract
from booking_core.testing.contracts._records import RecordsContract
from booking_core.testing.contracts._scheduling import SchedulingContract
from booking_core.testing.contracts._transactions import TransactionsContract
from booking_core.testing.contracts.cache import CacheContract

__all__ = ["CacheContract", "UnitOfWorkContract"]


class UnitOfWorkContract(
    TransactionsContract,
    CatalogContract,
    BookingsContract,
    RecordsContract,
    MessagesContract,
    SchedulingContract,
):
    """Behaviour every :class:`~booking_core.ports.repositories.UnitOfWorkFactory` must have.

    Override the ``uow_factory`` fixture to return your factory. The suite exercises the
    repositories directly (not through the services): tenant scoping, per-tenant unique keys,
    rollback unless commit, atomic seat claims, status compare-and-swap, hold expiry, the
    idempotency, inbox and outbox tables, refunds, and scheduling (resources, time off, timed
    packages and bookings, time claims that never overlap past a resource's capacity, buffers
    and day limits included). Each aggregate's behaviour lives in its own module of this package
    (and class, which a suite may also subclass alone).
    """
