"""The calendar port: external calendars (an ICS feed, Google, CalDAV, ...) that mark time busy.

Two questions, each asked once per query (never once per date or per resource):

- :meth:`CalendarPort.busy_dates`: which of a tenant's dates are busy (date packages);
- :meth:`CalendarPort.busy_intervals`: which stretches of some resources' time are busy (timed
  packages), and whose calendars could not be read.

An adapter that cannot read a calendar never raises into a search: it answers by the tenant's
choice (fail closed: the resource's whole window is busy; fail open: nothing is) and names the
resource in :attr:`BusyIntervals.unreadable`, which the slot search passes on to its caller.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from booking_core.domain.schedule import Interval


@dataclass(frozen=True, slots=True)
class BusyIntervals:
    """What external calendars say about some resources over a window.

    ``intervals`` maps a resource to its busy stretches (sorted, disjoint, aware UTC); a
    resource without any is absent. ``unreadable`` names the resources whose calendar could not
    be fetched or read (already answered by the tenant's fail-open or fail-closed choice).
    """

    intervals: Mapping[uuid.UUID, tuple[Interval, ...]] = field(default_factory=dict)
    unreadable: frozenset[uuid.UUID] = frozenset()


class BusyDates(set[dt.date]):
    """The answer of :meth:`CalendarPort.busy_dates` when it can say more than a set: the busy
    dates, and ``unreadable`` when the calendar could not be read (already answered by the
    tenant's fail-open or fail-closed choice). A plain ``set`` means it was read."""

    __slots__ = ("unreadable",)

    def __init__(self, dates: Iterable[dt.date] = (), *, unreadable: bool = False) -> None:
        super().__init__(dates)
        self.unreadable = unreadable


NOTHING_BUSY = BusyIntervals()
"""The answer of a port with no calendars: nothing busy, everything read."""


class CalendarPort(Protocol):
    """Answers what external calendars report busy for a tenant.

    Called once per range query, never once per date or per resource.
    """

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
        """The tenant's dates in ``[start, end]`` its calendar reports busy (date packages)."""
        ...

    def busy_intervals(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> BusyIntervals:
        """The busy stretches of ``resource_ids`` overlapping ``window`` (timed packages)."""
        ...


class NoCalendar:
    """The default: no external calendar, nothing is busy."""

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
        return set()

    def busy_intervals(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> BusyIntervals:
        return NOTHING_BUSY
