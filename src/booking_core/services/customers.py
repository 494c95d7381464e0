"""Customers of a tenant. They are created by holds; this service reads them."""

from __future__ import annotations

import uuid

from booking_core.domain.model import Customer
from booking_core.errors import NotFoundError
from booking_core.limits import MAX_COUNT, MAX_PAGE
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v
from booking_core.services._base import Service, load_tenant

__all__ = ["CustomerService"]


class CustomerService(Service):
    """Look up a tenant's customers."""

    def get(self, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer:
        """The customer, or NotFoundError (also for another tenant's customer)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        customer_id = v.uuid_(customer_id, "customer_id")

        def work(uow: UnitOfWork) -> Customer:
            load_tenant(uow, tenant_id)
            customer = uow.customers.get(tenant_id, customer_id)
            if customer is None:
                raise NotFoundError("customer", customer_id)
            return customer

        return self._read(work)

    def find_by_email(self, tenant_id: uuid.UUID, email: str) -> Customer | None:
        """The customer with that email (normalized first), or None."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        clean = v.customer_email(email)

        def work(uow: UnitOfWork) -> Customer | None:
            load_tenant(uow, tenant_id)
            return uow.customers.find_by_email(tenant_id, clean)

        return self._read(work)

    def list(self, tenant_id: uuid.UUID, *, limit: int = 100, offset: int = 0) -> list[Customer]:
        """Customers in creation order, paginated."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        limit = v.integer(limit, "limit", minimum=1, maximum=MAX_PAGE)
        offset = v.integer(offset, "offset", minimum=0, maximum=MAX_COUNT)

        def work(uow: UnitOfWork) -> list[Customer]:
            load_tenant(uow, tenant_id)
            return uow.customers.list(tenant_id, limit=limit, offset=offset)

        return self._read(work)
