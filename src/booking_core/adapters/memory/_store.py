"""Storage and transactions of the in-memory adapter.

One re-entrant lock serialises transactions (the memory adapter is SERIALIZABLE by construction),
and every write records how to undo itself, so a rollback is O(changes), not O(data).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from booking_core.errors import AlreadyExistsError

if TYPE_CHECKING:
    from booking_core.domain.model import HeldTime

T = TypeVar("T")
UniqueKey = Callable[[Any], Hashable]


class Journal:
    """Undo actions of the running transaction, replayed in reverse on rollback."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def record(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def forget(self) -> None:
        self._undo.clear()


class Table(Generic[T]):
    """Rows keyed by (tenant id, row id) with per-tenant unique keys, like the SQL schema."""

    def __init__(self, entity: str, journal: Journal, unique: dict[str, UniqueKey]) -> None:
        self.entity = entity
        self._journal = journal
        self._rows: dict[uuid.UUID, dict[uuid.UUID, T]] = {}
        self._unique = unique
        self._indexes: dict[str, dict[Hashable, uuid.UUID]] = {name: {} for name in unique}

    def get(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> T | None:
        return self._rows.get(tenant_id, {}).get(row_id)

    def find(self, index: str, tenant_id: uuid.UUID, key: Hashable) -> T | None:
        row_id = self._indexes[index].get((tenant_id, key))
        return None if row_id is None else self.get(tenant_id, row_id)

    def rows(self, tenant_id: uuid.UUID) -> Iterator[T]:
        return iter(list(self._rows.get(tenant_id, {}).values()))

    def all_rows(self) -> Iterator[T]:
        return (row for rows in list(self._rows.values()) for row in list(rows.values()))

    def put(self, tenant_id: uuid.UUID, row_id: uuid.UUID, row: T) -> None:
        """Insert or replace a row, enforcing unique keys against the tenant's other rows."""
        previous = self.get(tenant_id, row_id)
        for name, key_of in self._unique.items():
            key = (tenant_id, key_of(row))
            owner = self._indexes[name].get(key)
            if owner is not None and owner != row_id:
                raise AlreadyExistsError(self.entity, name, key[1])
        tenant_rows = self._rows.setdefault(tenant_id, {})
        if previous is not None:
            self._unindex(tenant_id, previous)
        tenant_rows[row_id] = row
        self._index(tenant_id, row_id, row)

        def undo() -> None:
            self._unindex(tenant_id, row)
            if previous is None:
                del tenant_rows[row_id]
            else:
                tenant_rows[row_id] = previous
                self._index(tenant_id, row_id, previous)

        self._journal.record(undo)

    def delete(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> T | None:
        """Remove a row (journaled); the removed row, or None when there was none."""
        tenant_rows = self._rows.get(tenant_id, {})
        previous = tenant_rows.pop(row_id, None)
        if previous is None:
            return None
        self._unindex(tenant_id, previous)

        def undo() -> None:
            self._rows.setdefault(tenant_id, {})[row_id] = previous
            self._index(tenant_id, row_id, previous)

        self._journal.record(undo)
        return previous

    def _index(self, tenant_id: uuid.UUID, row_id: uuid.UUID, row: T) -> None:
        for name, key_of in self._unique.items():
            self._indexes[name][(tenant_id, key_of(row))] = row_id

    def _unindex(self, tenant_id: uuid.UUID, row: T) -> None:
        for name, key_of in self._unique.items():
            self._indexes[name].pop((tenant_id, key_of(row)), None)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class JournaledDict(Generic[K, V]):
    """A dict whose writes are undone on rollback."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self.data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self.data.get(key)

    def set(self, key: K, value: V) -> None:
        self._restore_later(key)
        self.data[key] = value

    def pop(self, key: K) -> V | None:
        if key not in self.data:
            return None
        self._restore_later(key)
        return self.data.pop(key)

    def _restore_later(self, key: K) -> None:
        had, old = key in self.data, self.data.get(key)

        def undo() -> None:
            if had:
                self.data[key] = old  # type: ignore[assignment]
            else:
                self.data.pop(key, None)

        self._journal.record(undo)


@dataclass(frozen=True, slots=True)
class Claim:
    booking_id: uuid.UUID
    expires_at: dt.datetime | None

    def is_live(self, now: dt.datetime) -> bool:
        """Whether the claim still holds its seat at ``now`` (None: for good)."""
        return self.expires_at is None or self.expires_at > now


ClaimKey = tuple[uuid.UUID, uuid.UUID, dt.date, int]


@dataclass(frozen=True, slots=True)
class TimeClaimRow:
    """A stored time claim: what :class:`HeldTime` shows, and its seat of the package's day
    limit (None when the package has none)."""

    held: HeldTime
    day_seat: int | None


class TimeClaims:
    """Time claims keyed by (tenant, booking, resource), indexed per (tenant, resource) for the
    claims and reads of one resource and per (tenant, booking) for releasing and settling."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._by_resource: dict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, TimeClaimRow]] = {}
        self._by_booking: dict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, TimeClaimRow]] = {}

    def get(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, booking_id: uuid.UUID
    ) -> TimeClaimRow | None:
        return self._by_resource.get((tenant_id, resource_id), {}).get(booking_id)

    def of_resource(self, tenant_id: uuid.UUID, resource_id: uuid.UUID) -> list[TimeClaimRow]:
        return list(self._by_resource.get((tenant_id, resource_id), {}).values())

    def of_booking(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> list[TimeClaimRow]:
        return list(self._by_booking.get((tenant_id, booking_id), {}).values())

    def put(self, tenant_id: uuid.UUID, row: TimeClaimRow) -> None:
        """Insert or replace the claim of ``row``'s booking on ``row``'s resource (journaled)."""
        booking_id, resource_id = row.held.booking_id, row.held.resource_id
        previous = self._by_resource.get((tenant_id, resource_id), {}).get(booking_id)
        self._set(tenant_id, row)

        def undo() -> None:
            if previous is None:
                self._unset(tenant_id, resource_id, booking_id)
            else:
                self._set(tenant_id, previous)

        self._journal.record(undo)

    def delete(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, booking_id: uuid.UUID
    ) -> TimeClaimRow | None:
        """Remove the booking's claim on the resource (journaled); the removed row, if any."""
        previous = self._unset(tenant_id, resource_id, booking_id)
        if previous is not None:
            self._journal.record(lambda: self._set(tenant_id, previous))
        return previous

    def _set(self, tenant_id: uuid.UUID, row: TimeClaimRow) -> None:
        booking_id, resource_id = row.held.booking_id, row.held.resource_id
        self._by_resource.setdefault((tenant_id, resource_id), {})[booking_id] = row
        self._by_booking.setdefault((tenant_id, booking_id), {})[resource_id] = row

    def _unset(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, booking_id: uuid.UUID
    ) -> TimeClaimRow | None:
        of_resource = self._by_resource.get((tenant_id, resource_id), {})
        row = of_resource.pop(booking_id, None)
        if row is None:
            return None
        of_booking = self._by_booking[(tenant_id, booking_id)]
        del of_booking[resource_id]
        if not of_resource:  # keep the indexes as small as the claims
            del self._by_resource[(tenant_id, resource_id)]
        if not of_booking:
            del self._by_booking[(tenant_id, booking_id)]
        return row


@dataclass
class MemoryDatabase:
    """All data of one in-memory app; share it between UoWs (and threads) of that app."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    journal: Journal = field(default_factory=Journal)
    lock_timeout: float = 10.0

    def __post_init__(self) -> None:
        j = self.journal
        self.tenants: Table[Any] = Table("tenant", j, {"slug": lambda t: t.slug})
        self.segments: Table[Any] = Table("segment", j, {"slug": lambda s: s.slug})
        self.packages: Table[Any] = Table("package", j, {"slug": lambda p: p.slug})
        self.add_ons: Table[Any] = Table("add_on", j, {"slug": lambda a: a.slug})
        self.venues: Table[Any] = Table("venue", j, {"name": lambda v: v.name})
        self.resources: Table[Any] = Table("resource", j, {"name": lambda r: r.name})
        self.time_off: Table[Any] = Table("resource_time_off", j, {})
        self.time_claims = TimeClaims(j)
        self.customers: Table[Any] = Table("customer", j, {"email": lambda c: c.email})
        self.bookings: Table[Any] = Table("booking", j, {})
        self.offers: JournaledDict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], bool] = JournaledDict(j)
        self.blackouts: JournaledDict[tuple[uuid.UUID, dt.date], Any] = JournaledDict(j)
        self.claims: JournaledDict[ClaimKey, Claim] = JournaledDict(j)
        self.refunds: Table[Any] = Table("refund", j, {})
        self.api_keys: Table[Any] = Table("api_key", j, {"key_hash": lambda k: k.key_hash})
        self.calendar_feeds: Table[Any] = Table(
            "calendar_feed", j, {"token_hash": lambda f: f.token_hash}
        )
        self.idempotency: JournaledDict[tuple[uuid.UUID, str], Any] = JournaledDict(j)
        self.inbox: JournaledDict[tuple[uuid.UUID, str, str], Any] = JournaledDict(j)
        self.outbox: Table[Any] = Table("outbox_event", j, {})
