"""The calendar port: an external calendar (Google, iCal feed, ...) that may mark dates busy."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol


class CalendarPort(Protocol):
    """Answers which of a tenant's dates an external calendar reports as busy.

    Called once per range query, never once per date.
    """

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]: ...


class NoCalendar:
    """The default: no external calendar, nothing is busy."""

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
        return set()
