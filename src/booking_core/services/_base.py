"""What every service shares: the unit-of-work factory, the clock, the cache, tenant checks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from booking_core._retry import assert_rerunnable, run_transaction
from booking_core.domain.model import Booking, Tenant
from booking_core.domain.schedule import Interval, months_between
from booking_core.errors import NotFoundError, TenantInactiveError
from booking_core.ports.cache import JSON, CachePort, EncodedJSON, read_through
from booking_core.ports.cache_guard import guarded
from booking_core.ports.clock import Clock
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _codec
from booking_core.services import _validate as v

# The services import it from here with the rest of their base: an explicit re-export.
from booking_core.services.settings import (
    CacheSettings as CacheSettings,  # noqa: PLC0414 - re-export (mypy no_implicit_reexport)
)

T = TypeVar("T")

#: (tenant, namespace) to invalidate after a commit; namespace None means the whole tenant.
Invalidation = tuple[uuid.UUID, str | None]

CATALOG = "catalog"


def availability_namespace(resource_id: uuid.UUID, date: dt.date) -> str:
    """The cache namespace of one month of one capacity pool: a hold invalidates only that."""
    return f"av.{resource_id.hex}.{date.year:04d}{date.month:02d}"


def time_namespace(resource_id: uuid.UUID, year: int, month: int) -> str:
    """The cache namespace of one UTC month of one resource's claimed time."""
    return f"tm.{resource_id.hex}.{year:04d}{month:02d}"


#: How far past its start and end a timed booking's claim may reach (buffers are at most a
#: day) and a cached month of claims looks (two days each side): what a change makes stale.
_TIME_REACH = dt.timedelta(days=3)


def months_of(booking: Booking) -> list[Invalidation]:
    """The cached availability a change of this booking's seat or time makes stale: its
    pool's month, or each of its resources' months its time touches."""
    if booking.starts_at is None or booking.ends_at is None:
        return [
            (booking.tenant_id, availability_namespace(booking.resource_id, booking.event_date))
        ]
    months = months_between(
        Interval(booking.starts_at - _TIME_REACH, booking.ends_at + _TIME_REACH)
    )
    return [
        (booking.tenant_id, time_namespace(resource, year, month))
        for resource in booking.resource_ids
        for year, month in months
    ]


class Service:
    """Base of the application services (constructor injection of the ports)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        cache: CachePort | None = None,
        cache_settings: CacheSettings | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        # guarded: a raising adapter degrades to misses and never fails a committed write
        self._cache = None if cache is None else guarded(cache)
        self._cache_settings = cache_settings or CacheSettings()

    def _write(
        self,
        work: Callable[[UnitOfWork], T],
        *,
        invalidates: Callable[[T], Iterable[Invalidation]] | None = None,
        landed: Callable[[UnitOfWork], T | None] | None = None,
        idempotent: bool = False,
        outcome_unknown: bool = False,
    ) -> T:
        """Run ``work`` in a write transaction, committed on success, retried when transient.

        ``work`` may run more than once: it returns its effects and mutates nothing outside
        itself (ids it writes are chosen before the first attempt and captured).

        When a COMMIT reply is lost, the next attempt first calls ``landed(uow)``: the result of
        the earlier attempt if it committed (found by those pre-chosen ids), else None and
        ``work`` runs again. An ``idempotent`` work (running it twice has the effect and result
        of running it once) simply runs again. Any other work raises
        :class:`~booking_core.errors.CommitOutcomeUnknownError`.

        ``outcome_unknown`` says an earlier write of the caller (a hold's one statement) lost
        its reply: the first attempt calls ``landed`` too.

        After the commit (never before, never after a failure) the cache entries named by
        ``invalidates(result)`` are invalidated.
        """
        assert_rerunnable(work)

        def attempt(outcome_unknown: bool) -> T:
            with self._uow() as uow:
                if outcome_unknown and landed is not None:
                    found = landed(uow)
                    if found is not None:
                        return found
                result = work(uow)
                uow.commit()
                return result

        result = run_transaction(
            attempt,
            recoverable=landed is not None or idempotent,
            outcome_unknown=outcome_unknown and landed is not None,
        )
        if invalidates is not None:
            self._invalidate(invalidates(result))
        return result

    def _invalidate(self, invalidations: Iterable[Invalidation]) -> None:
        """Drop cache entries a committed write made stale (guarded: never raises)."""
        if self._cache is None:
            return
        for tenant_id, namespace in invalidations:
            if namespace is None:
                self._cache.invalidate_tenant(tenant_id)
            else:
                self._cache.invalidate_namespace(tenant_id, namespace)

    def _read(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a read-only transaction (retried when transient)."""

        def attempt(_outcome_unknown: bool) -> T:
            with self._uow(read_only=True) as uow:
                return work(uow)

        return run_transaction(attempt)

    def _cached(
        self,
        tenant_id: uuid.UUID,
        namespace: str,
        key: str,
        kind: Any,
        loader: Callable[[], T],
        *,
        ttl: float,
    ) -> T:
        """Read through the cache when there is one; entries are JSON (see ``_codec``)."""
        if self._cache is None:
            return loader()
        decode: Callable[[JSON], T] = _codec.decoder(kind)
        encode: Callable[[T], EncodedJSON] = _codec.encode
        return read_through(
            self._cache,
            tenant_id,
            namespace,
            key,
            loader,
            ttl=ttl,
            encode=encode,
            decode=decode,
        )


def load_tenant(uow: UnitOfWork, tenant_id: uuid.UUID, *, require_active: bool = True) -> Tenant:
    """The tenant, or NotFoundError; TenantInactiveError when it is deactivated."""
    tenant = uow.tenants.get(v.uuid_(tenant_id, "tenant_id"))
    if tenant is None:
        raise NotFoundError("tenant", tenant_id)
    if require_active and not tenant.active:
        raise TenantInactiveError(tenant.id)
    return tenant


def whole_tenant(tenant_id: uuid.UUID) -> Callable[[object], list[Invalidation]]:
    """An ``invalidates`` callback dropping every cached entry of the tenant."""
    return lambda _result: [(tenant_id, None)]


def catalog_of(tenant_id: uuid.UUID) -> Callable[[object], list[Invalidation]]:
    """An ``invalidates`` callback dropping the tenant's cached catalog."""
    return lambda _result: [(tenant_id, CATALOG)]
