"""Section 12: calendars (needs the calendar extra). A studio hold as the ``.ics`` attachment a
confirmation email would carry, and a weekly meeting imported from an external calendar: an
inline ICS document handed to ``IcsCalendar``, whose occurrences (less the one its EXDATE
removes) leave the slot search and refuse a hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import icalendar

from booking_core.adapters.cache.memory import MemoryCache
from booking_core.bootstrap import BookingApp, connect
from booking_core.calendar import FailMode, IcsCalendar, IcsFeed, booking_ics
from booking_core.demo._format import day, format_table, short
from booking_core.demo._scheduling import DAY, LONDON, LONDON_ZONE, Studio
from booking_core.domain.model import Booking, BookingStatus, CustomerDetails, Slot
from booking_core.domain.schedule import Interval
from booking_core.errors import TimeUnavailableError

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour

__all__ = ["calendars"]

#: The meeting: Thursdays 14:00-15:30 London time, the second occurrence cancelled.
MEETING_START, MEETING_END = dt.time(14), dt.time(15, 30)
MEETING_WEEKS = 8
#: Weeks searched (the meeting's first three: held, cancelled by EXDATE, held).
SEARCH_WEEKS = 3

#: An external calendar as a host would fetch it: a weekly RRULE, an EXDATE, a VTIMEZONE-less
#: TZID (the zone is the tz database's). The dates are filled in: the demo runs on today's clock.
_MEETING_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Soho Portrait Rooms//Shared calendar//EN\r
BEGIN:VEVENT\r
UID:team-meeting@soho-portraits.example\r
DTSTAMP:{stamp}Z\r
DTSTART;TZID={zone}:{first}T{start}\r
DTEND;TZID={zone}:{first}T{end}\r
RRULE:FREQ=WEEKLY;COUNT={count}\r
EXDATE;TZID={zone}:{skipped}T{start}\r
SUMMARY:Team meeting (Studio 1)\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _meeting_document(first: dt.date) -> bytes:
    """The shared calendar: ``MEETING_WEEKS`` Thursdays from ``first``, the second one off."""
    return _MEETING_ICS.format(
        stamp=f"{first - 7 * DAY:%Y%m%d}T090000",
        zone=LONDON_ZONE,
        first=f"{first:%Y%m%d}",
        skipped=f"{first + 7 * DAY:%Y%m%d}",
        start=f"{MEETING_START:%H%M%S}",
        end=f"{MEETING_END:%H%M%S}",
        count=MEETING_WEEKS,
    ).encode()


def calendars(tour: Tour, s: Studio, database_url: str) -> None:
    """Section 12: a booking's ICS, then busy time from an external calendar."""
    _booking_as_ics(tour, s)
    tour.out()
    _busy_time(tour, s, database_url)


# -- ICS out -------------------------------------------------------------------------------------


def _excerpt(document: bytes) -> list[str]:
    """The document's lines with the VTIMEZONE folded into one line: the part people read."""
    lines = document.decode().splitlines()
    if "BEGIN:VTIMEZONE" not in lines:  # a UTC or all-day event needs none
        return lines
    begin, end = lines.index("BEGIN:VTIMEZONE"), lines.index("END:VTIMEZONE")
    zone = next(line.removeprefix("TZID:") for line in lines[begin:end] if line.startswith("TZID"))
    folded = f"... VTIMEZONE {zone}: its offsets, {end - begin + 1} lines ..."
    return [*lines[:begin], folded, *lines[end + 1 :]]


def _booking_as_ics(tour: Tour, s: Studio) -> None:
    """A timed hold in the studio's zone, and a paid date booking as an all-day event."""
    app, out, checks = tour.app, tour.out, tour.checks
    held = [
        b
        for b in app.bookings.list_for_dates(s.tenant.id, tour.start, tour.last)
        if b.starts_at is not None and b.package_id == s.portrait.id
    ]
    if not checks.expect(bool(held), "the studio has a portrait hold to export"):
        return
    hold = min(held, key=lambda b: b.starts_at or b.created_at)
    assert hold.starts_at is not None
    customer = app.customers.get(s.tenant.id, hold.customer_id)
    document = booking_ics(hold, summary=s.portrait.name, timezone=s.tenant.timezone)
    out(
        f"booking_ics() writes {customer.name}'s hold ({short(hold.id)}, {s.portrait.name}) as "
        "the attachment of a"
    )
    out(f"confirmation email, in the tenant's zone ({s.tenant.timezone}):")
    out()
    for line in _excerpt(document):
        out(f"  {line}")
    out()
    (event,) = icalendar.Calendar.from_ical(document).walk("VEVENT")
    start = event.decoded("DTSTART")
    local = hold.starts_at.astimezone(LONDON)
    out(
        f"icalendar reads it back: {event['SUMMARY']}, {start.isoformat()} "
        f"({event['DTSTART'].params['TZID']}), {event['STATUS']}."
    )
    checks.expect(event["UID"] == str(hold.id), "the event's UID is the booking's id")
    checks.expect(
        start == hold.starts_at and start.tzinfo is not None,
        "the ICS parses back to the booking's start instant",
    )
    checks.expect(
        event["DTSTART"].params.get("TZID") == LONDON_ZONE
        and f"DTSTART;TZID={LONDON_ZONE}:{local:%Y%m%dT%H%M%S}" in document.decode(),
        "the start is written on London's wall clock, with its TZID",
    )
    checks.expect(event["STATUS"] == "TENTATIVE", "a hold is a TENTATIVE event")
    _date_booking(tour)


def _date_booking(tour: Tour) -> None:
    """The Paris shop's first paid booking: a date, so an all-day event."""
    app, out, checks = tour.app, tour.out, tour.checks
    paid = [
        b
        for b in app.bookings.list_for_dates(tour.paris.tenant.id, tour.start, tour.last)
        if b.status is BookingStatus.CONFIRMED
    ]
    if not checks.expect(bool(paid), "the Paris shop has a confirmed booking to export"):
        return
    booking = paid[0]
    package = next(
        p
        for p in app.catalog.list_packages(tour.paris.tenant.id, include_inactive=True)
        if p.id == booking.package_id
    )
    document = booking_ics(booking, summary=package.name, timezone=tour.paris.tenant.timezone)
    (event,) = icalendar.Calendar.from_ical(document).walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    dtstart = next(line for line in document.decode().splitlines() if line.startswith("DTSTART"))
    out(
        f"A date booking ({short(booking.id)}, {package.name}, {day(booking.event_date)}) is an "
        f"all-day event, {event['STATUS']}:"
    )
    out(f"  {dtstart}")
    checks.expect(
        not isinstance(start, dt.datetime)
        and start == booking.event_date
        and end == booking.event_date + DAY,
        "a date booking is an all-day event on its date",
    )
    checks.expect(event["STATUS"] == "CONFIRMED", "a paid booking is a CONFIRMED event")


# -- busy time in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Thursday:
    date: dt.date
    meeting: Interval | None  # None: the occurrence the EXDATE removes
    before: frozenset[dt.datetime]
    after: frozenset[dt.datetime]

    @property
    def gone(self) -> list[dt.datetime]:
        return sorted(self.before - self.after)


def _at(date: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(date, time, tzinfo=LONDON)


def _starts(slots: Sequence[Slot], date: dt.date) -> frozenset[dt.datetime]:
    return frozenset(slot.start for slot in slots if slot.start.astimezone(LONDON).date() == date)


def _all_starts(slots: Sequence[Slot]) -> set[dt.datetime]:
    return {slot.start for slot in slots}


def _hhmm(moments: Sequence[dt.datetime]) -> str:
    """``"14:00 15:00"``: London wall-clock times."""
    return " ".join(f"{m.astimezone(LONDON):%H:%M}" for m in moments) or "none"


def _span(interval: Interval) -> str:
    """``"14:00-15:30"``."""
    return "-".join(f"{m.astimezone(LONDON):%H:%M}" for m in (interval.start, interval.end))


def _busy_time(tour: Tour, s: Studio, database_url: str) -> None:
    """The meeting's document given to IcsCalendar for Studio 1; one search before, one after."""
    app, out, checks = tour.app, tour.out, tour.checks
    today = app.clock.now().astimezone(LONDON).date()
    monday = today + (14 - today.weekday()) * DAY  # the week after next: nothing held there
    first = monday + 3 * DAY  # its Thursday
    window = Interval(_at(monday, dt.time(0)), _at(monday + 7 * SEARCH_WEEKS * DAY, dt.time(0)))
    document = _meeting_document(first)
    feed = IcsFeed(
        name="studio-1-shared", zone=LONDON_ZONE, document=document, fail=FailMode.CLOSED
    )
    cache = MemoryCache()  # expanded months live here: a search never parses the document again
    calendar = IcsCalendar({(s.tenant.id, s.studio.id): feed}, cache=cache)

    out(f"{s.studio.name}'s shared calendar, as the host fetched it (an inline document here):")
    out()
    for line in document.decode().splitlines()[3:-1]:
        out(f"  {line}")
    out()
    busy = calendar.busy_intervals(s.tenant.id, [s.studio.id], window)
    meetings = busy.intervals.get(s.studio.id, ())
    out(f"IcsCalendar expands it over {SEARCH_WEEKS} weeks from {day(monday)}: busy")
    out(
        "; ".join(f"{day(i.start.astimezone(LONDON).date())} {_span(i)}" for i in meetings)
        + f" ({day(first + 7 * DAY)} is the EXDATE)."
    )
    expected = [
        Interval(
            _at(first + 7 * week * DAY, MEETING_START), _at(first + 7 * week * DAY, MEETING_END)
        )
        for week in range(SEARCH_WEEKS)
        if week != 1
    ]
    checks.expect(
        list(meetings) == expected,
        "the weekly rule expands to its Thursdays 14:00-15:30, less the EXDATE",
    )

    # the same database, wired with the calendar: how a host connects once it has feeds
    with connect(database_url, cache=cache, clock=app.clock, calendar=calendar) as wired:
        before = app.availability.slots(
            s.tenant.id, s.portrait.id, window.start, window.end, tz=LONDON_ZONE
        )
        after = wired.availability.slots(
            s.tenant.id, s.portrait.id, window.start, window.end, tz=LONDON_ZONE
        )
        refused = _hold_in_the_meeting(wired, s, expected[0].start)

    thursdays = [
        _Thursday(
            date,
            next((m for m in meetings if m.start.astimezone(LONDON).date() == date), None),
            _starts(before, date),
            _starts(after, date),
        )
        for date in (first + 7 * week * DAY for week in range(SEARCH_WEEKS))
    ]
    out()
    out(f"{s.portrait.name} starts on the three Thursdays, without and with the calendar:")
    out()
    out(
        format_table(
            ["Thursday", "Meeting", "Starts before", "After", "Gone"],
            [
                [
                    day(t.date),
                    "cancelled (EXDATE)" if t.meeting is None else _span(t.meeting),
                    len(t.before),
                    len(t.after),
                    _hhmm(t.gone),
                ]
                for t in thursdays
            ],
            "llrrl",
        )
    )
    out()
    out(
        f"{len(before) - len(after)} of {len(before)} starts in {SEARCH_WEEKS} weeks are gone; "
        f"unreadable calendars: {len(after.unreadable_calendars)}."
    )
    assert s.portrait.schedule is not None
    duration = s.portrait.schedule.timing.duration
    overlapping = {
        start
        for t in thursdays
        if t.meeting is not None
        for start in t.before
        if start < t.meeting.end and start + duration > t.meeting.start
    }
    checks.expect(
        _all_starts(before) - _all_starts(after) == overlapping and bool(overlapping),
        "exactly the starts that overlap a meeting leave the search (14:00 and 15:00)",
    )
    checks.expect(
        thursdays[1].before == thursdays[1].after and bool(thursdays[1].before),
        "the Thursday the EXDATE cancels keeps every start",
    )
    checks.expect(not after.unreadable_calendars, "the feed was read: no unreadable calendar")
    if refused is not None:
        out(
            f"A hold at {_hhmm([expected[0].start])} on {day(first)} is refused: "
            f"{type(refused).__name__}, reason {refused.reason}."
        )
    checks.expect(
        refused is not None and refused.reason == "calendar",
        "a hold inside a meeting is refused with the reason calendar",
    )


def _hold_in_the_meeting(
    wired: BookingApp, s: Studio, start: dt.datetime
) -> TimeUnavailableError | None:
    """Try to hold the portrait hour at the meeting's start: the refusal, or None (the
    unexpected hold is cancelled again, so the tour's totals stay as they were)."""
    try:
        booking: Booking = wired.bookings.hold(
            s.tenant.id,
            package_id=s.portrait.id,
            start=start,
            customer=CustomerDetails("Jade Evans", "jade@example.co.uk"),
        )
    except TimeUnavailableError as error:
        return error
    wired.bookings.cancel(s.tenant.id, booking.id, reason="the demo expected a refusal")
    return None
