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
from typing import Any

from booking_core.domain.model import OutboxEvent
from booking_core.errors import BookingCoreError, ValidationError
from booking_core.limits import MAX_BATCH, MAX_COUNT
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v
from booking_core.services._base import Service

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ERROR_LENGTH",
    "MAX_EVENTS",
    "MAX_LEASE",
    "OutboxService",
    "describe",
]

log = logging.getLogger("booking_core.outbox")

DEFAULT_LEASE = dt.timedelta(seconds=60)
#: A lease longer than this is a mistake (a dead worker would hide its events for that long).
MAX_LEASE = dt.timedelta(days=7)
#: How many events one call claims or acknowledges at most.
MAX_EVENTS = MAX_BATCH
#: Characters of a handler's error kept with its event.
MAX_ERROR_LENGTH = 2000


def _lease(value: Any) -> dt.timedelta:
    if not isinstance(value, dt.timedelta) or not dt.timedelta(0) < value <= MAX_LEASE:
        raise ValidationError("lease", f"must be a timedelta above 0 and at most {MAX_LEASE}")
    return value


def _event(value: Any, field: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant id, event id) of an event this outbox handed out (built by ``claim``)."""
    if not isinstance(value, OutboxEvent):
        raise ValidationError(field, "must be an OutboxEvent returned by claim()")
    return v.uuid_(value.tenant_id, f"{field}.tenant_id"), v.uuid_(value.id, f"{field}.id")


def _events(values: Any) -> tuple[tuple[uuid.UUID, uuid.UUID], ...]:
    if isinstance(values, str | bytes | OutboxEvent) or not isinstance(values, Iterable):
        raise ValidationError("events", "must be an iterable of OutboxEvent")
    keys = []
    for index, value in enumerate(values):
        if index >= MAX_EVENTS:
            raise ValidationError("events", f"at most {MAX_EVENTS} events at once")
        keys.append(_event(value, f"events.{index}"))
    return tuple(keys)  # immutable: the retried work captures it


def _error_text(error: object) -> str | None:
    if error is None:
        return None
    if not isinstance(error, str):
        raise ValidationError("error", "must be a str or None")
    return v.storable(error, max_length=MAX_ERROR_LENGTH)


def describe(error: BaseException) -> str:
    """``"Type: message"`` of a handler's exception, storable whatever its message holds.

    An exception whose ``__str__`` itself fails is described by its type alone: the event must
    still be released.
    """
    try:
        message = f"{type(error).__name__}: {error}"
    except Exception:
        message = f"{type(error).__name__}: (message could not be read)"
    return v.storable(message, max_length=MAX_ERROR_LENGTH)


class OutboxService(Service):
    """Lease, deliver and acknowledge domain events."""

    def claim(
        self,
        *,
        batch_size: int = 100,
        lease: dt.timedelta = DEFAULT_LEASE,
        tenant_id: uuid.UUID | None = None,
    ) -> list[OutboxEvent]:
        """Lease up to ``batch_size`` undelivered events, oldest first.

        A batch holds at most one event per booking, always that booking's earliest
        undelivered one, so several workers never deliver one booking's events out of order.
        Leased events are invisible to other workers until ``lease`` (at most 7 days) runs out.
        """
        batch_size = v.integer(batch_size, "batch_size", minimum=1, maximum=MAX_EVENTS)
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        lease = _lease(lease)

        def work(uow: UnitOfWork) -> list[OutboxEvent]:
            now = self._clock.now()
            return uow.outbox.claim(
                now=now, lease_until=now + lease, limit=batch_size, tenant_id=tenant
            )

        return self._write(work)

    def mark_done(self, events: Iterable[OutboxEvent]) -> int:
        """Acknowledge delivered events; returns how many were still undelivered.

        Raises:
            ValidationError: ``events`` is not an iterable of at most 10,000 OutboxEvent.
        """
        keys = _events(events)
        if not keys:
            return 0
        return self._write(lambda uow: uow.outbox.mark_done(keys, now=self._clock.now()))

    def release(self, event: OutboxEvent, *, error: str | None = None) -> None:
        """Give a leased event back at once (instead of waiting for the lease to run out).

        ``error`` is kept with the event, made storable first (see
        :func:`booking_core.services._validate.storable`) and cut to 2000 characters.
        """
        tenant_id, event_id = _event(event, "event")
        text = _error_text(error)
        self._write(lambda uow: uow.outbox.release(tenant_id, event_id, error=text))

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
        later events wait behind it. Call again (e.g. from a periodic job) to retry. Each event
        is handled on its own: the delivered events of a batch are acknowledged first, even when
        the handler raised on others or recording an error failed (such an event comes back
        when its lease runs out).
        """
        if not callable(handler):
            raise ValidationError("handler", "must be a callable taking an OutboxEvent")
        batch_size = v.integer(batch_size, "batch_size", minimum=1, maximum=MAX_EVENTS)
        lease = _lease(lease)
        if max_batches is not None:
            max_batches = v.integer(max_batches, "max_batches", minimum=1, maximum=MAX_COUNT)
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        delivered = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.claim(batch_size=batch_size, lease=lease, tenant_id=tenant)
            if not batch:
                break
            batches += 1
            done, failed = self._deliver(handler, batch)
            delivered += done
            if failed:
                break  # something failed: let the caller decide when to retry
        return delivered

    def _deliver(
        self, handler: Callable[[OutboxEvent], object], batch: list[OutboxEvent]
    ) -> tuple[int, int]:
        """Hand each event to ``handler``; returns (acknowledged, released or left leased)."""
        done: list[OutboxEvent] = []
        failures: list[tuple[OutboxEvent, str]] = []
        try:
            for event in batch:
                try:
                    handler(event)
                except Exception as error:  # any handler failure means "retry later"
                    failures.append((event, describe(error)))
                else:
                    done.append(event)
        finally:  # even a KeyboardInterrupt in a handler acknowledges what was delivered
            acknowledged = self.mark_done(done)
        for event, message in failures:
            self._release_failed(event, message)
        return acknowledged, len(failures)

    def _release_failed(self, event: OutboxEvent, message: str) -> None:
        log.warning(
            "outbox handler failed",
            extra={"event_id": str(event.id), "event_type": event.type, "error": message},
        )
        try:
            self.release(event, error=message)
        except BookingCoreError:  # e.g. the database is down: the lease returns the event later
            log.exception("outbox event could not be released", extra={"event_id": str(event.id)})
