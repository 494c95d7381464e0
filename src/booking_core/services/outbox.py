"""The outbox: domain events for host apps to deliver (emails, webhooks), at least once.

Events are written in the same transaction as the change they describe, so a change without
its event (or an event without its change) cannot exist. Workers lease batches; a worker that
dies leaves its lease to expire and the events go out again: handlers must be idempotent (each
event has a stable id to deduplicate on).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable

from booking_core.domain.model import OutboxEvent
from booking_core.errors import ValidationError
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v
from booking_core.services._base import Service

log = logging.getLogger("booking_core.outbox")

DEFAULT_LEASE = dt.timedelta(seconds=60)


class OutboxService(Service):
    """Lease, deliver and acknowledge domain events."""

    def claim(
        self,
        batch_size: int = 100,
        *,
        lease: dt.timedelta = DEFAULT_LEASE,
        tenant_id: uuid.UUID | None = None,
    ) -> list[OutboxEvent]:
        """Lease up to ``batch_size`` undelivered events, oldest first.

        A batch holds at most one event per booking, always that booking's earliest
        undelivered one, so several workers never deliver one booking's events out of order.
        Leased events are invisible to other workers until ``lease`` runs out.
        """
        batch_size = v.integer(batch_size, "batch_size", minimum=1, maximum=10_000)
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        if not isinstance(lease, dt.timedelta) or lease <= dt.timedelta(0):
            raise ValidationError("lease", "must be a positive timedelta")

        def work(uow: UnitOfWork) -> list[OutboxEvent]:
            now = self._clock.now()
            return uow.outbox.claim(
                now=now, lease_until=now + lease, limit=batch_size, tenant_id=tenant
            )

        return self._write(work)

    def mark_done(self, events: Iterable[OutboxEvent]) -> int:
        """Acknowledge delivered events; returns how many were still undelivered."""
        keys = [(event.tenant_id, event.id) for event in events]
        return self._write(lambda uow: uow.outbox.mark_done(keys, now=self._clock.now()))

    def release(self, event: OutboxEvent, *, error: str | None = None) -> None:
        """Give a leased event back at once (instead of waiting for the lease to run out)."""
        self._write(lambda uow: uow.outbox.release(event.tenant_id, event.id, error=error))

    def drain(
        self,
        handler: Callable[[OutboxEvent], object],
        *,
        batch_size: int = 100,
        lease: dt.timedelta = DEFAULT_LEASE,
        max_batches: int | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> int:
        """Deliver events with ``handler`` until none are ready; returns how many it delivered.

        A handler that raises gets its event released with the error recorded; that booking's
        later events wait behind it. Call again (e.g. from a periodic job) to retry.
        """
        delivered = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.claim(batch_size, lease=lease, tenant_id=tenant_id)
            if not batch:
                break
            batches += 1
            done = []
            for event in batch:
                try:
                    handler(event)
                except Exception as error:  # any handler failure means "retry later"
                    log.warning(
                        "outbox handler failed",
                        extra={"event_id": str(event.id), "event_type": event.type},
                    )
                    self.release(event, error=f"{type(error).__name__}: {error}")
                else:
                    done.append(event)
            delivered += self.mark_done(done)
            if len(done) < len(batch):
                break  # something failed: let the caller decide when to retry
        return delivered
