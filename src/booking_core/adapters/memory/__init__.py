"""In-memory adapter: a supported backend for host test suites (same contract as SQL)."""

from booking_core.adapters.memory._store import MemoryDatabase
from booking_core.adapters.memory._uow import MemoryUnitOfWork, MemoryUnitOfWorkFactory

__all__ = ["MemoryDatabase", "MemoryUnitOfWork", "MemoryUnitOfWorkFactory"]
