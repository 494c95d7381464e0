"""Helpers for host test suites: an in-memory app, a clock you can move, retries that don't
sleep."""

from __future__ import annotations

import datetime as dt
import threading
from types import TracebackType
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

__all__ = ["ManualClock", "in_memory_app", "set_testing"]


class _RetryMode:
    """What :func:`set_testing` returns: as a context manager, restores the previous mode."""

    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from booking_core import _retry  # noqa: PLC0415 - lazy, as in set_testing

        _retry.set_testing(self._previous)


def set_testing(enabled: bool) -> _RetryMode:
    """Turn off (``True``) or back on the backoff sleeps between retried transactions.

    A write that fails transiently (a deadlock, a busy SQLite) is retried in a fresh transaction
    after a short jittered sleep; with testing on it is retried at once, so a suite that injects
    transient errors does not sleep. Retries still happen, as many as in production. The switch
    is process-wide (like ``stamina.set_testing``); use it as a context manager to restore the
    previous setting on exit::

        with booking_core.testing.set_testing(True):
            ...

    Keep the backoff for tests of real contention (threads or processes racing on one
    database): the sleeps are what lets the contenders' retries stop colliding.

    .. versionadded:: 0.1.0
    """
    # imported here: importing booking_core.testing (the pytest plugin does) loads nothing
    from booking_core import _retry  # noqa: PLC0415 - lazy

    return _RetryMode(_retry.set_testing(enabled))


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
