"""Helpers for host test suites: an in-memory app and a clock you can move."""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING

from booking_core.errors import ValidationError

if TYPE_CHECKING:
    # Only for annotations: importing this module (as the pytest plugin does at start-up) must
    # not load the library; in_memory_app imports what it needs when called.
    from booking_core.bootstrap import BookingApp
    from booking_core.ports.cache import CachePort
    from booking_core.ports.calendar import CalendarPort
    from booking_core.ports.clock import Clock
    from booking_core.ports.payments import PaymentProvider

__all__ = ["ManualClock", "in_memory_app"]


class ManualClock:
    """A clock that only moves when told to; thread-safe."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValidationError("start", "must be an aware datetime")
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by ``delta`` (never backwards) and return the new now."""
        if delta < dt.timedelta(0):
            raise ValidationError("delta", "a clock does not go backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to ``instant`` (aware)."""
        if instant.tzinfo is None:
            raise ValidationError("instant", "must be an aware datetime")
        with self._lock:
            self._now = instant.astimezone(dt.UTC)


def in_memory_app(
    *,
    clock: Clock | None = None,
    calendar: CalendarPort | None = None,
    cache: CachePort | None = None,
    payments: PaymentProvider | None = None,
) -> BookingApp:
    """A :class:`BookingApp` on the in-memory adapter: same behaviour, no database.

    Pass ``cache=MemoryCache()`` to exercise the cached read paths too.
    """
    from booking_core.adapters.memory import MemoryUnitOfWorkFactory  # noqa: PLC0415 - lazy
    from booking_core.bootstrap import BookingApp  # noqa: PLC0415 - lazy
    from booking_core.ports.calendar import NoCalendar  # noqa: PLC0415 - lazy
    from booking_core.ports.clock import SystemClock  # noqa: PLC0415 - lazy

    return BookingApp(
        uow=MemoryUnitOfWorkFactory(),
        clock=clock or SystemClock(),
        calendar=calendar or NoCalendar(),
        cache=cache,
        payments=payments,
    )
