"""Asking the calendar port about resources' time, once per search or hold."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence

from booking_core.domain.schedule import Interval
from booking_core.ports.calendar import NOTHING_BUSY, BusyIntervals, CalendarPort, NoCalendar

_warned: set[type] = set()


def busy_time(
    calendar: CalendarPort,
    tenant_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    window: Interval,
) -> BusyIntervals:
    """The port's busy intervals of ``resource_ids`` over ``window``, asked once.

    A port written before ``busy_intervals`` existed (dates only) keeps working for date
    packages; for timed ones it answers "nothing busy", with one DeprecationWarning per class.
    """
    if type(calendar) is NoCalendar or not resource_ids:
        return NOTHING_BUSY
    ask = getattr(calendar, "busy_intervals", None)
    if ask is None:
        kind = type(calendar)
        if kind not in _warned:
            _warned.add(kind)
            warnings.warn(
                f"{kind.__qualname__} implements CalendarPort.busy_dates only: timed packages "
                "see none of its busy time until it implements busy_intervals",
                DeprecationWarning,
                stacklevel=3,
            )
        return NOTHING_BUSY
    answer: BusyIntervals = ask(tenant_id, resource_ids, window)
    return answer
