"""Calendars: bookings as iCalendar (RFC 5545) objects and feeds.

Needs the optional extra ``pip install "booking-core-sdk[calendar]"`` (icalendar,
recurring-ical-events, x-wr-timezone); ``import booking_core`` never loads it, and the core
layers never import this module (an import-linter contract says so).

    booking_ics   one booking as an attachment (PUBLISH) or an invitation (REQUEST, CANCEL)
    feed_ics      a subscribable feed body: the bookings a window shows, no METHOD
    feed_body     feed_ics of what ``app.feeds.contents(token, ...)`` read (a feed URL's body)
    ItipMethod    PUBLISH, REQUEST, CANCEL
    CalendarUser  an ORGANIZER or ATTENDEE: email and name
    read_busy     an ICS document's busy intervals over a window (recurrences expanded)
    IcsCalendar   the calendar port answered from ICS feeds (cached; fail open or closed)
    IcsFeed       one feed: a name for logs, its zone, a fetcher or the bytes, a FailMode

See ``docs/calendars.md`` for what each option writes and why.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import importlib


def _require_the_extra() -> None:
    """The extra is one unit: whichever of its packages is missing, say how to get it."""
    for name in ("icalendar", "recurring_ical_events", "x_wr_timezone"):
        try:
            importlib.import_module(name)
        except ImportError as error:
            msg = (
                f"booking_core.calendar needs {name}, from the calendar extra: "
                'pip install "booking-core-sdk[calendar]"'
            )
            raise ImportError(msg) from error


_require_the_extra()

# --- ICS out ------------------------------------------------------------------------------
# --- ICS in: busy time from external calendars ----------------------------------------------
from booking_core.calendar._ics_calendar import (  # noqa: E402
    FailMode,
    IcsCalendar,
    IcsFeed,
)
from booking_core.calendar._ics_in import BusyTime, read_busy  # noqa: E402
from booking_core.calendar._ics_out import (  # noqa: E402  # after the check above
    DEFAULT_PRODID,
    CalendarUser,
    ItipMethod,
    booking_ics,
    feed_body,
    feed_ics,
)

__all__ = [
    "DEFAULT_PRODID",
    "BusyTime",
    "CalendarUser",
    "FailMode",
    "IcsCalendar",
    "IcsFeed",
    "ItipMethod",
    "booking_ics",
    "feed_body",
    "feed_ics",
    "read_busy",
]
