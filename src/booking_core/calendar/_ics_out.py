"""ICS out: a booking as an iCalendar (RFC 5545) attachment or invitation, and bookings as a feed.

Pure functions: they take the data and return bytes, query nothing and read no clock, so the
same input always gives the same bytes (a feed's ETag can be a hash of its body). icalendar
does the writing: it escapes TEXT (``\\``, ``;``, ``,``, newlines) and folds lines at 75 octets
without splitting a UTF-8 character. What it does not do, :func:`_clean` does first: it drops
control characters, which RFC 5545 forbids in TEXT and icalendar would write as they are.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from icalendar import Calendar, Event, vCalAddress, vDuration, vText

from booking_core.domain.model import (
    Booking,
    BookingStatus,
    Customer,
    FeedContents,
    Package,
    Resource,
)
from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_email

__all__ = ["DEFAULT_PRODID", "CalendarUser", "ItipMethod", "booking_ics", "feed_ics"]

#: The PRODID written unless the caller names its own product (RFC 5545 §3.7.3).
DEFAULT_PRODID = "-//booking_core//booking_core//EN"

#: What a booking without a known package is called in a feed.
_UNNAMED = "Booking"


class ItipMethod(enum.StrEnum):
    """The iTIP method (RFC 5546) of a single booking's calendar object."""

    #: An attachment or download: "here is the event", no reply expected.
    PUBLISH = "PUBLISH"
    #: An invitation from the ORGANIZER to the ATTENDEE; resending it with a higher SEQUENCE
    #: updates the event in the attendee's calendar.
    REQUEST = "REQUEST"
    #: Withdraws the event from the attendee's calendar (the booking was cancelled or expired).
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class CalendarUser:
    """An ORGANIZER or ATTENDEE: an email address (written as a ``mailto:`` URI) and a name
    (its ``CN``)."""

    email: str
    name: str = ""


_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.FULFILLED: "CONFIRMED",
    BookingStatus.CANCELED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}
#: The attendee's participation (RFC 5545 §3.2.12) that goes with each event status.
_PARTSTAT = {"TENTATIVE": "TENTATIVE", "CONFIRMED": "ACCEPTED", "CANCELLED": "DECLINED"}

# Every way text can break a line becomes "\n" (icalendar escapes it as the two characters
# \n); every other control character is dropped: RFC 5545 TEXT admits none, and a raw CR or
# NUL is what would let typed text end a content line. A lone surrogate cannot be encoded.
_LINE_BREAK = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
# mailto: keeps what addresses commonly hold readable; the rest (spaces, '?', '%', quotes,
# non-ASCII) is percent-encoded, so an address never carries a ';' or ':' into the line.
_MAILTO_SAFE = "@.+-_~!$&'*=^`{|}"


def _clean(text: str, *, single_line: bool = False) -> str:
    """``text`` fit for a TEXT value: line breaks as ``\\n`` (a space when ``single_line``),
    no other control characters, lone surrogates as U+FFFD."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    return _LINE_BREAK.sub(" ", text).strip() if single_line else _LINE_BREAK.sub("\n", text)


def _zone(name: str | None, field: str) -> zoneinfo.ZoneInfo | None:
    """The zone called ``name``; None (or UTC) means times are written in UTC."""
    if name is None or name == "UTC":
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(field, f"unknown IANA time zone {name!r}") from exc


def _checked_text(value: str, field: str) -> str:
    """An identifier the caller configures (PRODID): refused, not cleaned, when malformed."""
    if not value.strip() or _LINE_BREAK.search(value) or _CONTROL.search(value):
        raise ValidationError(field, "must be non-empty text without control characters")
    return value


def _uid(booking: Booking, domain: str | None) -> str:
    """The booking id, stable across versions; ``@domain`` when one is given (RFC 5545's
    older advice), else the bare UUID (RFC 7986 §5.3)."""
    if domain is None:
        return str(booking.id)
    if not _HOST.fullmatch(domain):
        raise ValidationError("uid_domain", "must be a host name such as bookings.example.com")
    return f"{booking.id}@{domain}"


def _address(user: CalendarUser, field: str) -> vCalAddress:
    email = sanitize_email(user.email, field=f"{field}.email")
    address = vCalAddress(f"mailto:{quote(email, safe=_MAILTO_SAFE)}")
    # A parameter value has no escapes in RFC 5545, yet readers (icalendar among them) take a
    # backslash as one: a CN ending in one would swallow the ':' and shift the address.
    name = _clean(user.name, single_line=True).replace("\\", "").strip()
    if name:
        address.params["CN"] = name
    return address


def _stamp(booking: Booking) -> dt.datetime:
    """The last change the booking records: what DTSTAMP says when the caller gives none."""
    changes = (booking.confirmed_at, booking.canceled_at, booking.fulfilled_at)
    return max((when for when in changes if when is not None), default=booking.created_at)


def _utc(when: dt.datetime, field: str) -> dt.datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationError(field, "must be an aware datetime")
    return when.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class _Text:
    """The words of one event: all of it is cleaned before it is written."""

    summary: str
    description: str = ""
    location: str = ""
    contact: str = ""
    resources: tuple[str, ...] = ()


def _event(
    booking: Booking,
    *,
    uid: str,
    status: str,
    zone: zoneinfo.ZoneInfo | None,
    text: _Text,
    stamp: dt.datetime,
) -> tuple[Event, tuple[dt.date, ...]]:
    """The VEVENT of ``booking`` and the local dates its zone must cover (a VTIMEZONE's span)."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(stamp, "stamp"))
    event.add("created", _utc(booking.created_at, "booking.created_at"))
    event.add("sequence", booking.version - 1)
    event.add("status", status)
    # A cancelled booking frees the time in free/busy lookups, even before it is deleted.
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    # vText, named each time: icalendar writes a value it does not know as TEXT verbatim.
    event.add("summary", vText(_clean(text.summary, single_line=True) or _UNNAMED))
    for name, value in (("description", text.description), ("location", text.location)):
        if cleaned := _clean(value).strip():
            event.add(name, vText(cleaned))
    if contact := _clean(text.contact, single_line=True):
        event.add("contact", vText(contact))
    for resource in text.resources:
        if cleaned := _clean(resource, single_line=True):
            event.add("resources", vText(cleaned))
    if booking.starts_at is None:
        # A whole date: an all-day event whose exclusive end is the next day (RFC 5545 §3.6.1).
        event.add("dtstart", booking.event_date)
        event.add("dtend", booking.event_date + dt.timedelta(days=1))
        return event, ()
    if booking.ends_at is None:
        raise ValidationError("booking.ends_at", "a timed booking needs its end")
    start = _utc(booking.starts_at, "booking.starts_at")
    end = _utc(booking.ends_at, "booking.ends_at")
    if zone is None or not (_nameable(start, zone) and _nameable(end, zone)):
        event.add("dtstart", start)
        event.add("dtend", end)
        return event, ()
    start, end = start.astimezone(zone), end.astimezone(zone)
    event.add("dtstart", start)
    event.add("dtend", end)
    return event, (start.date(), end.date())


def _nameable(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether a local time of ``zone`` names ``instant``: not so in the second pass of the
    hour a clock goes back, since RFC 5545 §3.3.5 reads a repeated local time as its first
    occurrence. Such an event is written in UTC instead."""
    return instant.astimezone(zone).replace(fold=0).astimezone(dt.UTC) == instant


def _calendar(prodid: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", _checked_text(prodid, "prodid"))
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _with_timezones(calendar: Calendar, days: Sequence[dt.date]) -> bytes:
    """The calendar as bytes, with one VTIMEZONE per zone its events name, each covering the
    years of ``days`` only (the whole 1970-2038 span would be kilobytes of transitions)."""
    if days:
        first, last = min(days), max(days)
        calendar.add_missing_timezones(
            first_date=dt.date(first.year, 1, 1), last_date=dt.date(last.year + 1, 1, 1)
        )
    return bytes(calendar.to_ical())


def booking_ics(
    booking: Booking,
    *,
    summary: str,
    timezone: str | None = None,
    description: str = "",
    location: str = "",
    method: ItipMethod | str = ItipMethod.PUBLISH,
    organizer: CalendarUser | None = None,
    attendee: CalendarUser | None = None,
    uid_domain: str | None = None,
    prodid: str = DEFAULT_PRODID,
    stamp: dt.datetime | None = None,
) -> bytes:
    """One VCALENDAR holding the one VEVENT of ``booking``: an attachment or an invitation.

    The UID is the booking's id (with ``@uid_domain`` when given), so every version of the
    booking is the same event; SEQUENCE is ``booking.version - 1`` (a new booking is 0, each
    change counts one up). STATUS is TENTATIVE for a hold (PENDING), CONFIRMED for a confirmed
    or fulfilled booking, CANCELLED for a cancelled or expired one. A timed booking is written
    in ``timezone`` with its VTIMEZONE (UTC when None); a date booking is an all-day event.

    Args:
        summary: the event's title, usually the package's name.
        timezone: the IANA zone to present a timed booking in (the resource's zone,
            ``resource.zone(tenant)``); None or ``"UTC"``: UTC times.
        description: free text for DESCRIPTION (line breaks kept).
        location: free text for LOCATION (an address, a room).
        method: PUBLISH (default, an attachment), REQUEST (an invitation) or CANCEL.
        organizer: who sends it (the tenant); required by REQUEST and CANCEL.
        attendee: who receives it (the customer); required by REQUEST and CANCEL, refused by
            PUBLISH (RFC 5546 §3.2.1).
        uid_domain: a host name appended to the UID.
        prodid: the PRODID of your product.
        stamp: DTSTAMP, when this version was written; default: the latest of the booking's
            ``created_at``, ``confirmed_at``, ``canceled_at`` and ``fulfilled_at``.

    Raises:
        ValidationError: an illegal combination or a malformed option; ``field`` names it
            (``method``, ``organizer``, ``attendee``, ``organizer.email``, ``timezone``, …).

    .. versionadded:: 0.1.0
    """
    try:
        method = ItipMethod(method)
    except ValueError as exc:
        raise ValidationError("method", "must be PUBLISH, REQUEST or CANCEL") from exc
    status = _STATUS[booking.status]
    _check_method(method, status, organizer=organizer, attendee=attendee)
    event, days = _event(
        booking,
        uid=_uid(booking, uid_domain),
        status=status,
        zone=_zone(timezone, "timezone"),
        text=_Text(summary, description, location),
        stamp=_stamp(booking) if stamp is None else stamp,
    )
    if organizer is not None:
        event.add("organizer", _address(organizer, "organizer"))
    if attendee is not None:
        address = _address(attendee, "attendee")
        address.params.update(
            {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": _PARTSTAT[status], "RSVP": "FALSE"}
        )
        event.add("attendee", address)
    calendar = _calendar(prodid)
    calendar.add("method", method.value)
    calendar.add_component(event)
    return _with_timezones(calendar, days)


def _check_method(
    method: ItipMethod,
    status: str,
    *,
    organizer: CalendarUser | None,
    attendee: CalendarUser | None,
) -> None:
    """Refuse what iTIP (RFC 5546 §3.2) does not allow for ``method`` and this status."""
    if method is ItipMethod.PUBLISH:
        if attendee is not None:
            raise ValidationError("attendee", "PUBLISH carries no ATTENDEE; use REQUEST")
        return
    if organizer is None:
        raise ValidationError("organizer", f"{method} needs an ORGANIZER")
    if attendee is None:
        raise ValidationError("attendee", f"{method} needs an ATTENDEE")
    if method is ItipMethod.REQUEST and status == "CANCELLED":
        raise ValidationError("method", "the booking is cancelled: send CANCEL, not REQUEST")
    if method is ItipMethod.CANCEL and status != "CANCELLED":
        raise ValidationError("method", "CANCEL needs a cancelled or expired booking")


def feed_ics(
    bookings: Iterable[Booking],
    *,
    name: str,
    timezone: str | None = None,
    packages: Iterable[Package] = (),
    resources: Iterable[Resource] = (),
    customers: Iterable[Customer] = (),
    include_holds: bool = False,
    include_contact: bool = False,
    now: dt.datetime | None = None,
    description: str = "",
    refresh_interval: dt.timedelta | None = None,
    uid_domain: str | None = None,
    prodid: str = DEFAULT_PRODID,
) -> bytes:
    """A subscribable calendar of ``bookings``: no METHOD, one VEVENT per booking shown, each
    VTIMEZONE it needs once.

    Shown are confirmed (and fulfilled) bookings, as STATUS:CONFIRMED; with
    ``include_holds``, holds too, as TENTATIVE; never cancelled or expired ones (a subscriber's
    calendar drops an event that leaves the feed). Events keep the order of ``bookings``, and
    each is written as :func:`booking_ics` writes it. The work is linear in the number of
    bookings: the lookups are dictionaries built once.

    Args:
        name: the calendar's name (``NAME`` and ``X-WR-CALNAME``).
        timezone: the tenant's IANA zone: timed bookings are written in it unless one of their
            ``resources`` has a zone of its own; also ``X-WR-TIMEZONE``. None: UTC.
        packages: the bookings' packages; an event's SUMMARY is its package's name.
        resources: the bookings' resources: their names go to RESOURCES, their zones apply.
        customers: the bookings' customers, read only with ``include_contact``.
        include_holds: show PENDING holds (TENTATIVE).
        include_contact: show the customer's name in SUMMARY, and name, email and phone in
            CONTACT and DESCRIPTION. Off by default: a feed URL leaks more easily than a login.
        now: read each booking ``as_of(now)``, so a lapsed hold leaves the feed.
        description: ``DESCRIPTION``/``X-WR-CALDESC`` of the calendar.
        refresh_interval: how often subscribers should poll (``REFRESH-INTERVAL`` and
            ``X-PUBLISHED-TTL``).
        uid_domain: a host name appended to each UID (as :func:`booking_ics`).
        prodid: the PRODID of your product.

    Raises:
        ValidationError: a malformed option, a booking listed twice (``bookings``), or a
            booking, package, resource or customer of another tenant than the first booking's
            (``bookings``, ``packages``, …): one feed never mixes tenants.

    .. versionadded:: 0.1.0
    """
    shown = {BookingStatus.CONFIRMED, BookingStatus.FULFILLED}
    if include_holds:
        shown.add(BookingStatus.PENDING)
    default_zone = _zone(timezone, "timezone")
    calendar = _calendar(prodid)
    _describe(calendar, name, timezone, description, refresh_interval)

    tenant_id: uuid.UUID | None = None  # the first booking's
    lookups = _Lookups(
        packages={p.id: p for p in packages},
        resources={r.id: r for r in resources},
        customers={c.id: c for c in customers} if include_contact else {},
    )
    seen: set[uuid.UUID] = set()
    days: list[dt.date] = []
    for listed in bookings:
        booking = listed if now is None else listed.as_of(now)
        if booking.id in seen:
            raise ValidationError("bookings", f"booking {booking.id} is listed twice")
        seen.add(booking.id)
        if tenant_id is None:
            tenant_id = booking.tenant_id
            lookups.check_tenant(tenant_id)
        elif booking.tenant_id != tenant_id:
            raise ValidationError("bookings", "the bookings belong to more than one tenant")
        if booking.status not in shown:
            continue
        zone, text = lookups.presentation(booking, default_zone, include_contact=include_contact)
        event, span = _event(
            booking,
            uid=_uid(booking, uid_domain),
            status=_STATUS[booking.status],
            zone=zone,
            text=text,
            stamp=_stamp(booking),
        )
        calendar.add_component(event)
        days.extend(span)
    return _with_timezones(calendar, days)


def _describe(
    calendar: Calendar,
    name: str,
    timezone: str | None,
    description: str,
    refresh_interval: dt.timedelta | None,
) -> None:
    """The feed's own properties, in RFC 7986 form and in the X-WR form most clients read."""
    title = _clean(name, single_line=True)
    if not title:
        raise ValidationError("name", "a feed needs a name")
    calendar.add("name", vText(title))
    calendar.add("x-wr-calname", vText(title))
    if timezone is not None:
        calendar.add("x-wr-timezone", vText(timezone))
    if about := _clean(description).strip():
        calendar.add("description", vText(about))
        calendar.add("x-wr-caldesc", vText(about))
    if refresh_interval is not None:
        if refresh_interval <= dt.timedelta(0):
            raise ValidationError("refresh_interval", "must be positive")
        calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(refresh_interval))


@dataclass(frozen=True, slots=True)
class _Lookups:
    """What a feed knows beyond the bookings, by id."""

    packages: Mapping[uuid.UUID, Package]
    resources: Mapping[uuid.UUID, Resource]
    customers: Mapping[uuid.UUID, Customer]

    def check_tenant(self, tenant_id: uuid.UUID) -> None:
        """Refuse a record of another tenant: a feed is one tenant's, whatever it was fed."""
        records: tuple[tuple[str, Iterable[Package | Resource | Customer]], ...] = (
            ("packages", self.packages.values()),
            ("resources", self.resources.values()),
            ("customers", self.customers.values()),
        )
        for field, values in records:
            if any(record.tenant_id != tenant_id for record in values):
                raise ValidationError(field, "holds a record of another tenant than the bookings")

    def presentation(
        self, booking: Booking, default_zone: zoneinfo.ZoneInfo | None, *, include_contact: bool
    ) -> tuple[zoneinfo.ZoneInfo | None, _Text]:
        """The zone ``booking`` is shown in and the words of its event."""
        package = self.packages.get(booking.package_id)
        summary = package.name if package is not None else _UNNAMED
        resources = [r for r in map(self.resources.get, booking.resource_ids) if r is not None]
        zone = default_zone
        own = next((r.timezone for r in resources if r.timezone), None)
        if own is not None:
            zone = _zone(own, "resources.timezone")
        customer = self.customers.get(booking.customer_id) if include_contact else None
        if customer is None:
            return zone, _Text(summary, resources=tuple(r.name for r in resources))
        name = _clean(customer.name, single_line=True)
        contact = (name, customer.email, customer.phone or "")
        details = [d for d in (_clean(c, single_line=True) for c in contact) if d]
        return zone, _Text(
            f"{summary} – {name}" if name else summary,
            description="\n".join(details),
            contact=", ".join(details),
            resources=tuple(r.name for r in resources),
        )


def feed_body(
    contents: FeedContents,
    *,
    name: str | None = None,
    refresh_interval: dt.timedelta | None = dt.timedelta(minutes=15),
    uid_domain: str | None = None,
    prodid: str = DEFAULT_PRODID,
) -> bytes:
    """The ICS body of a feed, from what
    :meth:`~booking_core.services.feeds.CalendarFeedService.contents` read: :func:`feed_ics`
    with the feed's own choices (holds, contact details) and the tenant's zone; ``name`` is the
    feed's label, else the tenant's name."""
    feed = contents.feed
    return feed_ics(
        contents.bookings,
        name=name or feed.label or contents.tenant.name,
        timezone=contents.tenant.timezone,
        packages=contents.packages,
        resources=contents.resources,
        customers=contents.customers,
        include_holds=feed.include_holds,
        include_contact=feed.include_contact,
        now=contents.now,
        refresh_interval=refresh_interval,
        uid_domain=uid_domain,
        prodid=prodid,
    )
