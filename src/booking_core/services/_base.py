"""What every service shares: the unit-of-work factory, the clock and tenant checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from booking_core._retry import run_transaction
from booking_core.domain.model import Tenant
from booking_core.errors import NotFoundError, TenantInactiveError
from booking_core.ports.clock import Clock
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.services import _validate as v

T = TypeVar("T")


class Service:
    """Base of the application services (constructor injection of the ports)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def _write(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a write transaction, committed on success, retried when transient."""

        def attempt() -> T:
            with self._uow() as uow:
                result = work(uow)
                uow.commit()
                return result

        return run_transaction(attempt)

    def _read(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a read-only transaction (retried when transient)."""

        def attempt() -> T:
            with self._uow(read_only=True) as uow:
                return work(uow)

        return run_transaction(attempt)


def load_tenant(uow: UnitOfWork, tenant_id: uuid.UUID, *, require_active: bool = True) -> Tenant:
    """The tenant, or NotFoundError; TenantInactiveError when it is deactivated."""
    tenant = uow.tenants.get(v.uuid_(tenant_id, "tenant_id"))
    if tenant is None:
        raise NotFoundError("tenant", tenant_id)
    if require_active and not tenant.active:
        raise TenantInactiveError(tenant.id)
    return tenant
