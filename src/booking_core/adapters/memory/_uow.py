"""The in-memory unit of work: a transaction is the database lock plus an undo journal."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from booking_core.adapters.memory._repositories import (
    MemoryAddOnRepository,
    MemoryApiKeyRepository,
    MemoryBlackoutRepository,
    MemoryBookingRepository,
    MemoryCalendarFeedRepository,
    MemoryCustomerRepository,
    MemoryIdempotencyRepository,
    MemoryInboxRepository,
    MemoryOutboxRepository,
    MemoryPackageRepository,
    MemoryRefundRepository,
    MemorySegmentRepository,
    MemoryTenantRepository,
    MemoryVenueRepository,
)
from booking_core.adapters.memory._scheduling import (
    MemoryResourceRepository,
    MemoryTimeOffRepository,
)
from booking_core.adapters.memory._store import MemoryDatabase
from booking_core.errors import LockTimeoutError


class MemoryUnitOfWork:
    """Serialisable transactions over a :class:`MemoryDatabase`; rolls back unless committed."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self.tenants = MemoryTenantRepository(db)
        self.api_keys = MemoryApiKeyRepository(db)
        self.calendar_feeds = MemoryCalendarFeedRepository(db)
        self.segments = MemorySegmentRepository(db)
        self.packages = MemoryPackageRepository(db)
        self.add_ons = MemoryAddOnRepository(db)
        self.venues = MemoryVenueRepository(db)
        self.resources = MemoryResourceRepository(db)
        self.time_off = MemoryTimeOffRepository(db)
        self.customers = MemoryCustomerRepository(db)
        self.bookings = MemoryBookingRepository(db)
        self.blackouts = MemoryBlackoutRepository(db)
        self.refunds = MemoryRefundRepository(db)
        self.idempotency = MemoryIdempotencyRepository(db)
        self.inbox = MemoryInboxRepository(db)
        self.outbox = MemoryOutboxRepository(db)

    def __enter__(self) -> Self:
        if not self._db.lock.acquire(timeout=self._db.lock_timeout):
            raise LockTimeoutError("in-memory database lock not acquired in time")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._db.lock.release()

    def commit(self) -> None:
        self._db.journal.forget()

    def rollback(self) -> None:
        self._db.journal.rollback()


class MemoryUnitOfWorkFactory:
    """Opens units of work on one shared :class:`MemoryDatabase`."""

    def __init__(self, db: MemoryDatabase | None = None) -> None:
        self.db = db or MemoryDatabase()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db)
