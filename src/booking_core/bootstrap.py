"""The composition root: build a :class:`BookingApp` from URLs or from adapters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from booking_core.adapters.cache import cache_from_url, guarded
from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory, make_engine
from booking_core.errors import ValidationError
from booking_core.ports.cache import CachePort
from booking_core.ports.calendar import CalendarPort, NoCalendar
from booking_core.ports.clock import Clock, SystemClock
from booking_core.ports.payments import PaymentProvider
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.services.availability import AvailabilityService
from booking_core.services.bookings import DEFAULT_IDEMPOTENCY_TTL, BookingService
from booking_core.services.catalog import CatalogService
from booking_core.services.customers import CustomerService
from booking_core.services.feeds import CalendarFeedService
from booking_core.services.outbox import OutboxService
from booking_core.services.series import SeriesService
from booking_core.services.settings import CacheSettings
from booking_core.services.tenants import TenantService
from booking_core.services.webhooks import WebhookService


@dataclass
class BookingApp:
    """The services of one booking_core instance, wired to one storage backend.

    Use it as a context manager (or call :meth:`close`) to release database connections.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    calendar: CalendarPort = field(default_factory=NoCalendar)
    cache: CachePort | None = None
    cache_settings: CacheSettings = field(default_factory=CacheSettings)
    payments: PaymentProvider | None = None
    idempotency_ttl: dt.timedelta = DEFAULT_IDEMPOTENCY_TTL

    def __post_init__(self) -> None:
        # one guard for all services: a raising adapter degrades to misses, never fails a call
        cache = None if self.cache is None else guarded(self.cache)
        shared: dict[str, Any] = {"cache": cache, "cache_settings": self.cache_settings}
        self.tenants = TenantService(self.uow, self.clock, **shared)
        self.catalog = CatalogService(self.uow, self.clock, **shared)
        self.customers = CustomerService(self.uow, self.clock, **shared)
        self.availability = AvailabilityService(self.uow, self.clock, self.calendar, **shared)
        self.bookings = BookingService(
            self.uow,
            self.clock,
            self.calendar,
            payments=self.payments,
            idempotency_ttl=self.idempotency_ttl,
            **shared,
        )
        self.webhooks = WebhookService(self.uow, self.clock, self.payments, **shared)
        self.outbox = OutboxService(self.uow, self.clock)
        self.feeds = CalendarFeedService(self.uow, self.clock, **shared)
        self.series = SeriesService(
            self.uow, self.clock, self.bookings, payments=self.payments, **shared
        )

    def create_schema(self) -> None:
        """Create the tables if missing (SQL backends; a no-op in memory). Idempotent."""
        create = getattr(self.uow, "create_schema", None)
        if create is not None:
            create()

    def close(self) -> None:
        """Release pooled connections (database and cache)."""
        dispose = getattr(self.uow, "dispose", None)
        if dispose is not None:
            dispose()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    database_url: str = "sqlite:///booking.db",
    *,
    cache_url: str | None = None,
    cache: CachePort | None = None,
    clock: Clock | None = None,
    calendar: CalendarPort | None = None,
    cache_settings: CacheSettings | None = None,
    payments: PaymentProvider | None = None,
    idempotency_ttl: dt.timedelta = DEFAULT_IDEMPOTENCY_TTL,
    create_schema: bool = False,
    **engine_options: Any,
) -> BookingApp:
    """Build an app on SQLite (the embedded default) or PostgreSQL.

    Args:
        database_url: ``sqlite:///file.db`` or ``postgresql+psycopg://user@host/db``.
        cache_url: ``redis://…`` (``redis+cluster://…`` for Redis Cluster), ``memory://`` or
            None for no cache. Options ride in the query string (see docs/caching.md).
        cache: a cache adapter the host built (instead of ``cache_url``), e.g. to share it
            with :class:`booking_core.calendar.IcsCalendar`.
        clock: where "now" comes from (default: the system clock, UTC).
        calendar: an external calendar port (default: none).
        cache_settings: TTLs of cached reads.
        payments: the payment provider adapter (checkout, refunds, webhooks).
        idempotency_ttl: how long idempotency keys are remembered (24 h by default).
        create_schema: create missing tables right away.
        engine_options: passed to :func:`booking_core.adapters.sqlalchemy.make_engine`.

    Raises:
        ValidationError: the URL is malformed or names an unsupported backend.
    """
    if cache is not None and cache_url is not None:
        raise ValidationError("cache", "give cache_url or cache, not both")
    if cache_url is not None:
        cache = cache_from_url(cache_url)
    factory = SqlUnitOfWorkFactory(make_engine(database_url, **engine_options))
    app = BookingApp(
        uow=factory,
        clock=clock or SystemClock(),
        calendar=calendar or NoCalendar(),
        cache=cache,
        cache_settings=cache_settings or CacheSettings(),
        payments=payments,
        idempotency_ttl=idempotency_ttl,
    )
    if create_schema:
        app.create_schema()
    return app
