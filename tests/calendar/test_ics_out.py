"""ICS out: ``booking_ics`` and ``feed_ics`` write RFC 5545 that parses back to the booking.

Every document written here is read back with icalendar and, for the instants, with
recurring-ical-events, an implementation we did not write. Hostile text (CR/LF, control
characters, the XSS corpus) must come back as text in the one event it was written to, never as
a property or a component of its own.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from booking_core.calendar import (
    DEFAULT_PRODID,
    CalendarUser,
    ItipMethod,
    booking_ics,
    feed_ics,
)
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    Customer,
    Package,
    Resource,
)
from booking_core.errors import ValidationError
from booking_core.testing import strategies as bst

# recurring-ical-events ships no type information: imported as a plain module, its attributes
# are Any for mypy instead of an ignore that a later stub would make stale.
rie: ModuleType = importlib.import_module("recurring_ical_events")

TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
CREATED = dt.datetime(2030, 1, 2, 8, 0, tzinfo=dt.UTC)
START = dt.datetime(2030, 6, 17, 7, 30, tzinfo=dt.UTC)
SPA = CalendarUser("spa@example.com", "Spa")
ANN = CalendarUser("ann@example.com", "Ann")
ZERO = dt.timedelta(0)
HOSTILE = (
    "Ann\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:pwned",
    "lone\rCR",
    "lone\nLF",
    "NUL\x00here",
    "bell\x07 esc\x1b[31m del\x7f c1\x85\x9f",
    "ATTENDEE;CN=x:mailto:evil@example.com",
    'quote " semi ; comma , colon : backslash \\ caret ^',
    "\\nnot a newline\\,",
    "END:VCALENDAR",
    "tab\tkept",
    "\u2028line\u2029separators",
    "lone \ud800 surrogate",
)


def a_booking(**changes: Any) -> Booking:
    """A confirmed timed booking of an hour; ``changes`` override any field."""
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "package_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "event_date": START.date(),
        "status": BookingStatus.CONFIRMED,
        "package_price": 8_000,
        "total": 8_000,
        "commission": 800,
        "currency": "EUR",
        "created_at": CREATED,
        "expires_at": CREATED + dt.timedelta(minutes=15),
        "confirmed_at": CREATED + dt.timedelta(minutes=5),
        "starts_at": START,
        "ends_at": START + dt.timedelta(hours=1),
        "version": 2,
    }
    fields.update(changes)
    return Booking(**fields)


def a_date_booking(**changes: Any) -> Booking:
    """A confirmed booking of a whole date (14 July 2030 unless ``event_date`` is given)."""
    return a_booking(
        **{"starts_at": None, "ends_at": None, "event_date": dt.date(2030, 7, 14)} | changes
    )


# Read back as Any: icalendar types a property as the union of every value type, and the tests
# compare the values they know.
def parse(document: bytes) -> Any:
    return Calendar.from_ical(document)


def events(document: bytes) -> list[Any]:
    return list(parse(document).walk("VEVENT"))


def only_event(document: bytes) -> Any:
    (event,) = events(document)
    return event


def unfolded(document: bytes) -> list[bytes]:
    """The logical content lines (RFC 5545 §3.1 unfolding)."""
    return document.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").split(b"\r\n")


def expected_text(text: str, *, single_line: bool) -> str:
    """What a TEXT value reads after the documented cleaning, derived from Unicode categories
    (independently of the module's regular expressions): line breaks are one newline (a space
    in a one-line value), other controls are gone, surrogates are U+FFFD."""
    breaks = {"\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"}
    out = []
    for char in text.replace("\r\n", "\n"):
        category = unicodedata.category(char)
        if char in breaks:
            out.append(" " if single_line else "\n")
        elif category == "Cs":
            out.append("\ufffd")
        elif category != "Cc" or char == "\t":
            out.append(char)
    cleaned = "".join(out)
    return cleaned.strip() if single_line else cleaned


def as_utc(value: Any) -> Any:
    """An aware datetime as UTC (aware datetimes in a fold never compare equal across zones,
    PEP 495); a date as it is."""
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def utc_between(document: bytes, start: dt.date, end: dt.date) -> list[tuple[Any, Any]]:
    """(DTSTART, DTEND) of the events recurring-ical-events finds between ``start`` and
    ``end``, as UTC instants (dates stay dates)."""
    found = rie.of(parse(document)).between(start, end)
    return [(as_utc(e["DTSTART"].dt), as_utc(e["DTEND"].dt)) for e in found]


# --- one booking -------------------------------------------------------------------------


def test_a_timed_booking_is_one_event_in_its_zone_with_the_vtimezone_it_needs() -> None:
    """A timed booking written in Europe/Paris: METHOD:PUBLISH, one VEVENT whose DTSTART and
    DTEND carry TZID=Europe/Paris at the local wall-clock times, one VTIMEZONE of that zone,
    the booking's id as UID and the default PRODID."""
    booking = a_booking()
    document = booking_ics(booking, summary="Massage", timezone="Europe/Paris")
    calendar = parse(document)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["PRODID"] == DEFAULT_PRODID
    assert calendar["VERSION"] == "2.0"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    event = only_event(document)
    assert event["UID"] == str(booking.id)
    assert event["SUMMARY"] == "Massage"
    assert b"DTSTART;TZID=Europe/Paris:20300617T093000" in document
    assert b"DTEND;TZID=Europe/Paris:20300617T103000" in document
    assert event["DTSTART"].dt == START
    assert event["DTEND"].dt == START + dt.timedelta(hours=1)


@pytest.mark.parametrize("zone", [None, "UTC"])
def test_without_a_zone_times_are_utc_and_no_vtimezone_is_written(zone: str | None) -> None:
    """``timezone=None`` (or "UTC"): DTSTART/DTEND end in Z and the calendar has no
    VTIMEZONE."""
    document = booking_ics(a_booking(), summary="Massage", timezone=zone)
    assert b"DTSTART:20300617T073000Z" in document
    assert b"DTEND:20300617T083000Z" in document
    assert b"VTIMEZONE" not in document
    assert b"TZID" not in document


def test_a_date_booking_is_an_all_day_event_ending_the_next_day() -> None:
    """A booking of a date: DTSTART;VALUE=DATE on it and DTEND;VALUE=DATE on the next day,
    whatever zone is asked for, and no VTIMEZONE."""
    document = booking_ics(a_date_booking(), summary="Wedding", timezone="Europe/Paris")
    assert b"DTSTART;VALUE=DATE:20300714" in document
    assert b"DTEND;VALUE=DATE:20300715" in document
    assert b"VTIMEZONE" not in document
    event = only_event(document)
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (dt.date(2030, 7, 14), dt.date(2030, 7, 15))


def test_the_uid_is_stable_across_versions_and_sequence_follows_the_version() -> None:
    """Every version of a booking has the same UID; SEQUENCE is version - 1 (0 when new)."""
    booking = a_booking(version=1, status=BookingStatus.PENDING)
    sequences, uids = [], set()
    for version in (1, 2, 7):
        event = only_event(booking_ics(replace(booking, version=version), summary="Massage"))
        uids.add(str(event["UID"]))
        sequences.append(event["SEQUENCE"])
    assert uids == {str(booking.id)}
    assert sequences == [0, 1, 6]


def test_a_uid_domain_is_appended_and_a_malformed_one_is_refused() -> None:
    """``uid_domain="bookings.example.com"`` gives ``<id>@bookings.example.com``; a domain with
    a space, a CR/LF or an @ is a ValidationError naming ``uid_domain``."""
    booking = a_booking()
    event = only_event(booking_ics(booking, summary="M", uid_domain="bookings.example.com"))
    assert event["UID"] == f"{booking.id}@bookings.example.com"
    for bad in ("a b", "x\r\nSUMMARY:y", "a@b", "", "-start"):
        with pytest.raises(ValidationError) as caught:
            booking_ics(booking, summary="M", uid_domain=bad)
        assert caught.value.field == "uid_domain"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (BookingStatus.PENDING, "TENTATIVE"),
        (BookingStatus.CONFIRMED, "CONFIRMED"),
        (BookingStatus.FULFILLED, "CONFIRMED"),
        (BookingStatus.CANCELED, "CANCELLED"),
        (BookingStatus.EXPIRED, "CANCELLED"),
    ],
)
def test_status_follows_the_booking(status: BookingStatus, expected: str) -> None:
    """A hold is TENTATIVE, confirmed and fulfilled bookings CONFIRMED, cancelled and expired
    ones CANCELLED (and TRANSPARENT, so they no longer block free/busy)."""
    event = only_event(booking_ics(a_booking(status=status), summary="Massage"))
    assert event["STATUS"] == expected
    assert event["TRANSP"] == ("TRANSPARENT" if expected == "CANCELLED" else "OPAQUE")


def test_dtstamp_is_the_last_recorded_change_unless_given() -> None:
    """DTSTAMP defaults to the latest of created/confirmed/canceled/fulfilled (so the same
    booking always gives the same bytes); ``stamp=`` overrides it, converted to UTC."""
    canceled = CREATED + dt.timedelta(days=3)
    booking = a_booking(status=BookingStatus.CANCELED, canceled_at=canceled)
    assert only_event(booking_ics(booking, summary="M"))["DTSTAMP"].dt == canceled
    assert booking_ics(booking, summary="M") == booking_ics(booking, summary="M")
    paris = dt.datetime(2030, 2, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    document = booking_ics(booking, summary="M", stamp=paris)
    assert b"DTSTAMP:20300201T110000Z" in document
    with pytest.raises(ValidationError) as caught:
        booking_ics(booking, summary="M", stamp=dt.datetime(2030, 2, 1))
    assert caught.value.field == "stamp"


def test_description_and_location_are_written_when_given() -> None:
    """DESCRIPTION keeps its line breaks, LOCATION is written; empty ones are left out."""
    document = booking_ics(
        a_booking(), summary="M", description="Bring a towel.\nArrive early.", location="Room 2"
    )
    event = only_event(document)
    assert event["DESCRIPTION"] == "Bring a towel.\nArrive early."
    assert event["LOCATION"] == "Room 2"
    assert b"DESCRIPTION:Bring a towel.\\nArrive early." in document
    bare = only_event(booking_ics(a_booking(), summary="M"))
    assert "DESCRIPTION" not in bare
    assert "LOCATION" not in bare


# --- iTIP ------------------------------------------------------------------------------------


def test_request_carries_what_itip_requires() -> None:
    """METHOD:REQUEST has ORGANIZER and ATTENDEE (mailto: with CN), DTSTAMP, DTSTART,
    SEQUENCE, SUMMARY and UID (RFC 5546 §3.2.2); the attendee accepted a confirmed booking."""
    document = booking_ics(
        a_booking(), summary="Massage", method=ItipMethod.REQUEST, organizer=SPA, attendee=ANN
    )
    assert parse(document)["METHOD"] == "REQUEST"
    event = only_event(document)
    assert {"ORGANIZER", "ATTENDEE", "DTSTAMP", "DTSTART", "SEQUENCE", "SUMMARY", "UID"} <= set(
        event
    )
    assert event["ORGANIZER"] == "mailto:spa@example.com"
    assert event["ORGANIZER"].params["CN"] == "Spa"
    assert event["ATTENDEE"] == "mailto:ann@example.com"
    assert event["ATTENDEE"].params["CN"] == "Ann"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"


def test_a_hold_invitation_is_tentative() -> None:
    """A REQUEST for a hold: STATUS:TENTATIVE and the attendee's PARTSTAT=TENTATIVE."""
    event = only_event(
        booking_ics(
            a_booking(status=BookingStatus.PENDING),
            summary="M",
            method="REQUEST",
            organizer=SPA,
            attendee=ANN,
        )
    )
    assert (event["STATUS"], event["ATTENDEE"].params["PARTSTAT"]) == ("TENTATIVE", "TENTATIVE")


def test_cancel_withdraws_a_cancelled_booking_with_a_higher_sequence() -> None:
    """METHOD:CANCEL of a cancelled booking: same UID, STATUS:CANCELLED, its SEQUENCE above
    the REQUEST that announced it."""
    booking = a_booking()
    request = only_event(
        booking_ics(booking, summary="M", method="REQUEST", organizer=SPA, attendee=ANN)
    )
    canceled = replace(booking, status=BookingStatus.CANCELED, version=booking.version + 1)
    document = booking_ics(canceled, summary="M", method="CANCEL", organizer=SPA, attendee=ANN)
    assert parse(document)["METHOD"] == "CANCEL"
    event = only_event(document)
    assert event["UID"] == request["UID"]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] > request["SEQUENCE"]


@pytest.mark.parametrize(
    ("status", "method", "organizer", "attendee", "field"),
    [
        (BookingStatus.CONFIRMED, "REQUEST", None, ANN, "organizer"),
        (BookingStatus.CONFIRMED, "REQUEST", SPA, None, "attendee"),
        (BookingStatus.CANCELED, "CANCEL", None, ANN, "organizer"),
        (BookingStatus.CANCELED, "CANCEL", SPA, None, "attendee"),
        (BookingStatus.CANCELED, "REQUEST", SPA, ANN, "method"),
        (BookingStatus.EXPIRED, "REQUEST", SPA, ANN, "method"),
        (BookingStatus.CONFIRMED, "CANCEL", SPA, ANN, "method"),
        (BookingStatus.PENDING, "CANCEL", SPA, ANN, "method"),
        (BookingStatus.CONFIRMED, "PUBLISH", SPA, ANN, "attendee"),
        (BookingStatus.CONFIRMED, "REPLY", SPA, ANN, "method"),
        (BookingStatus.CONFIRMED, "publish\r\nX:1", None, None, "method"),
    ],
)
def test_illegal_method_combinations_are_typed_errors(
    status: BookingStatus,
    method: str,
    organizer: CalendarUser | None,
    attendee: CalendarUser | None,
    field: str,
) -> None:
    """REQUEST and CANCEL need an organizer and an attendee, REQUEST a live booking, CANCEL a
    cancelled or expired one, PUBLISH no attendee; an unknown method is refused: each a
    ValidationError whose ``field`` names what to fix."""
    with pytest.raises(ValidationError) as caught:
        booking_ics(
            a_booking(status=status),
            summary="M",
            method=method,
            organizer=organizer,
            attendee=attendee,
        )
    assert caught.value.field == field


def test_publish_may_name_an_organizer() -> None:
    """PUBLISH writes an ORGANIZER when given (RFC 5546 expects one) and no ATTENDEE."""
    event = only_event(booking_ics(a_booking(), summary="M", organizer=SPA))
    assert event["ORGANIZER"] == "mailto:spa@example.com"
    assert "ATTENDEE" not in event


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"organizer": CalendarUser("not an email")}, "organizer.email"),
        ({"attendee": CalendarUser("ann@example.com\r\nX-EVIL:1")}, "attendee.email"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"prodid": "-//x//y\r\nBEGIN:VEVENT"}, "prodid"),
        ({"prodid": " "}, "prodid"),
    ],
)
def test_malformed_options_are_typed_errors(options: dict[str, Any], field: str) -> None:
    """A bad email, an unknown zone or a PRODID with a line break is refused, not cleaned:
    they come from configuration or a form that should have refused them already."""
    method = {"method": "REQUEST", "organizer": SPA, "attendee": ANN}
    with pytest.raises(ValidationError) as caught:
        booking_ics(a_booking(), summary="M", **{**method, **options})
    assert caught.value.field == field


def test_a_timed_booking_without_an_end_or_with_naive_times_is_refused() -> None:
    """A Booking built by hand with a naive start or no end is a ValidationError naming the
    field, never a silently shifted event."""
    naive = dt.datetime(2030, 6, 17, 9, 0)
    with pytest.raises(ValidationError) as caught:
        booking_ics(a_booking(starts_at=naive), summary="M")
    assert caught.value.field == "booking.starts_at"
    with pytest.raises(ValidationError) as caught:
        booking_ics(a_booking(ends_at=None), summary="M")
    assert caught.value.field == "booking.ends_at"


def test_an_email_outside_the_uri_alphabet_is_percent_encoded() -> None:
    """An internationalized address is written as a percent-encoded mailto: URI (only URI
    characters on the line) and reads back as the same address once decoded."""
    event = only_event(
        booking_ics(
            a_booking(),
            summary="M",
            method="REQUEST",
            organizer=SPA,
            attendee=CalendarUser("jürgen+tag@example.com", "Jürgen"),
        )
    )
    assert event["ATTENDEE"] == "mailto:j%C3%BCrgen+tag@example.com"
    assert event["ATTENDEE"].params["CN"] == "Jürgen"


# --- escaping, folding, hostile text ---------------------------------------------------------


def test_rfc_5545_special_characters_are_escaped_and_read_back() -> None:
    """``;``, ``,``, ``\\`` and a newline are escaped on the line (``\\;``, ``\\,``,
    ``\\\\``, ``\\n``) and parse back to the exact text."""
    text = "a;b,c\\d\ne"
    document = booking_ics(a_booking(), summary="M", description=text)
    assert b"DESCRIPTION:a\\;b\\,c\\\\d\\ne" in document
    assert only_event(document)["DESCRIPTION"] == text


def test_long_multibyte_text_is_folded_at_75_octets_between_characters() -> None:
    """Every physical line is at most 75 octets plus CRLF and is valid UTF-8 on its own (a
    fold never splits a character), and the unfolded text reads back exactly."""
    text = "é✓日本語🙂👩‍👩‍👧" * 40 + "end"
    document = booking_ics(a_booking(), summary=text, description=text, location=text)
    lines = document.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # raises on a split character
    assert sum(1 for line in lines if line.startswith(b" ")) > 30
    event = only_event(document)
    assert (event["SUMMARY"], event["DESCRIPTION"], event["LOCATION"]) == (text, text, text)


def property_names(document: bytes) -> list[bytes]:
    """The property name of every unfolded content line."""
    return [re.split(rb"[;:]", line, maxsplit=1)[0] for line in unfolded(document) if line]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_customer_text_cannot_inject_a_property_or_a_component(hostile: str) -> None:
    """Hostile text in every free-text option (summary, description, location, the
    attendee's and organizer's names) leaves the document's property lines exactly those of a
    harmless booking, writes no control byte but CRLF line ends, and reads back as the text
    with its control characters dropped and its line breaks kept (a space in one-line
    values)."""
    booking = a_booking()

    def document(text: str) -> bytes:
        return booking_ics(
            booking,
            summary=text,
            description=text,
            location=text,
            method="REQUEST",
            organizer=CalendarUser("spa@example.com", text),
            attendee=CalendarUser("ann@example.com", text),
            timezone="Europe/London",
        )

    written = document(hostile)
    assert property_names(written) == property_names(document("harmless"))
    assert re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", written.replace(b"\r\n", b"")) is None
    event = only_event(written)
    one_line = expected_text(hostile, single_line=True)
    assert event["SUMMARY"] == one_line
    assert event["DESCRIPTION"] == expected_text(hostile, single_line=False).strip()
    assert event["LOCATION"] == expected_text(hostile, single_line=False).strip()
    # A parameter has no escapes: backslashes are dropped from names written as CN.
    assert event["ATTENDEE"].params["CN"] == one_line.replace("\\", "").strip()
    assert event["ORGANIZER"].params["CN"] == one_line.replace("\\", "").strip()
    assert event["ATTENDEE"] == "mailto:ann@example.com"


def xss_payloads(corpora_dir: Path) -> list[str]:
    """The corpus' exact strings (the JSON form: no line-escaping to undo)."""
    corpus = json.loads((corpora_dir / "xss_payloads.json").read_text(encoding="utf-8"))
    return [item["payload"] for item in corpus["items"]]


def test_the_xss_corpus_stays_text_in_its_own_event(corpora_dir: Path) -> None:
    """Each of the 1,628 XSS payloads, as a customer's name in a feed with contact details
    and as a booking's description: one VEVENT per booking, each with the same property
    names, and the payload reads back as its cleaned text in SUMMARY, CONTACT and
    DESCRIPTION."""
    payloads = xss_payloads(corpora_dir)
    assert len(payloads) == 1628
    bookings = [a_booking() for _ in payloads]
    package = Package(uuid.uuid4(), TENANT, "massage", "Massage", base_price=8_000)
    bookings = [replace(b, package_id=package.id) for b in bookings]
    customers = [
        Customer(b.customer_id, TENANT, payload, "ann@example.com", None, CREATED)
        for b, payload in zip(bookings, payloads, strict=True)
    ]
    document = feed_ics(
        bookings, name="Spa", packages=[package], customers=customers, include_contact=True
    )
    written = events(document)
    assert [str(e["UID"]) for e in written] == [str(b.id) for b in bookings]
    assert {tuple(e) for e in written} == {tuple(written[0])}
    for event, payload in zip(written, payloads, strict=True):
        name = expected_text(payload, single_line=True)
        assert event["SUMMARY"] == (f"Massage – {name}" if name else "Massage")
        if name:
            assert event["CONTACT"] == f"{name}, ann@example.com"
            assert event["DESCRIPTION"] == f"{name}\nann@example.com"
    for payload in payloads:
        event = only_event(booking_ics(bookings[0], summary="M", description=payload))
        assert event.get("DESCRIPTION", "") == expected_text(payload, single_line=False).strip()


# --- round trip --------------------------------------------------------------------------


def transitions(zone: str, year: int) -> list[dt.datetime]:
    """The UTC instants where ``zone``'s offset changes during ``year``, found by stepping
    through the year a quarter-hour at a time (independently of any iCalendar code)."""
    tz = ZoneInfo(zone)
    found = []
    step = dt.timedelta(minutes=15)
    moment = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    offset = moment.astimezone(tz).utcoffset()
    while moment.year == year:
        moment += step
        now = moment.astimezone(tz).utcoffset()
        if now != offset:
            found.append(moment)
            offset = now
    return found


@pytest.mark.parametrize("zone", ["Europe/London", "Australia/Lord_Howe", "America/Santiago"])
def test_timed_bookings_across_dst_changes_read_back_to_the_same_instants(zone: str) -> None:
    """For every offset change of 2030 in the zone, a booking starting 30 minutes before it
    and ending 45 minutes after, and one a day later: icalendar and recurring-ical-events
    both read the exact UTC start and end back (Lord Howe's half-hour DST included)."""
    changes = transitions(zone, 2030)
    assert len(changes) == 2
    for change in changes:
        for start in (change - dt.timedelta(minutes=30), change + dt.timedelta(days=1)):
            end = start + dt.timedelta(minutes=75)
            booking = a_booking(starts_at=start, ends_at=end)
            document = booking_ics(booking, summary="M", timezone=zone)
            event = only_event(document)
            assert (as_utc(event["DTSTART"].dt), as_utc(event["DTEND"].dt)) == (start, end)
            found = utc_between(document, start - dt.timedelta(hours=1), end)
            assert found == [(start, end)]


@pytest.mark.parametrize("zone", ["Europe/London", "Australia/Lord_Howe", "America/Santiago"])
def test_the_repeated_hour_is_written_in_utc(zone: str) -> None:
    """When the clock goes back, the second pass of the repeated hour has no local name of
    its own (RFC 5545 reads a repeated local time as the first): a booking that starts or ends
    in it is written in UTC, and one that stays clear of it keeps its TZID."""

    def offset_before(change: dt.datetime) -> dt.timedelta:
        return (change - dt.timedelta(days=1)).astimezone(ZoneInfo(zone)).utcoffset() or ZERO

    back = max(transitions(zone, 2030), key=offset_before)
    inside = back + dt.timedelta(minutes=10)
    assert inside.astimezone(ZoneInfo(zone)).fold == 1
    for start, end, tzid in [
        (inside, inside + dt.timedelta(hours=2), False),
        (back - dt.timedelta(hours=2), inside, False),
        (back - dt.timedelta(hours=2), back - dt.timedelta(minutes=40), True),
        (back + dt.timedelta(hours=1), back + dt.timedelta(hours=2), True),
    ]:
        document = booking_ics(a_booking(starts_at=start, ends_at=end), summary="M", timezone=zone)
        assert (f"DTSTART;TZID={zone}:".encode() in document) is tzid
        assert (b"VTIMEZONE" in document) is tzid
        assert utc_between(document, start, end) == [(start, end)]


def test_a_date_booking_reads_back_as_its_date() -> None:
    """recurring-ical-events finds the all-day event on its date, and not on the next one."""
    document = booking_ics(a_date_booking(), summary="Wedding")
    assert utc_between(document, dt.date(2030, 7, 14), dt.date(2030, 7, 15)) == [
        (dt.date(2030, 7, 14), dt.date(2030, 7, 15))
    ]
    assert utc_between(document, dt.date(2030, 7, 15), dt.date(2030, 7, 16)) == []


@st.composite
def bookings_to_write(draw: st.DrawFn) -> Booking:
    """Random bookings: timed (any length up to two days, 1990-2037) or a date; any status
    and version."""
    status = draw(st.sampled_from(BookingStatus))
    version = draw(st.integers(1, 10_000))
    if draw(st.booleans()):
        day = draw(st.dates(dt.date(1990, 1, 1), dt.date(2037, 12, 31)))
        return a_date_booking(status=status, version=version, event_date=day)
    start = draw(
        st.datetimes(
            dt.datetime(1990, 1, 1),
            dt.datetime(2037, 12, 30),
            timezones=st.just(dt.UTC),
        )
    ).replace(microsecond=0, second=0)
    length = dt.timedelta(minutes=draw(st.integers(1, 48 * 60)))
    return a_booking(status=status, version=version, starts_at=start, ends_at=start + length)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    booking=bookings_to_write(),
    zone=st.one_of(st.none(), bst.timezones()),
    text=bst.hostile_text(),
)
def test_any_booking_in_any_zone_with_any_text_reads_back(
    booking: Booking, zone: str | None, text: str
) -> None:
    """Property: whatever the booking, zone and text, the document has one VEVENT, lines of
    at most 75 octets, every TZID it names has its VTIMEZONE, SUMMARY and DESCRIPTION read
    back cleaned, and the instants (or the date) read back exactly with icalendar and with
    recurring-ical-events."""
    document = booking_ics(booking, summary=text, description=text, timezone=zone)
    assert max(len(line) for line in document.split(b"\r\n")) <= 75
    calendar = parse(document)
    assert calendar.get_missing_tzids() == set()
    event = only_event(document)
    assert event.get("SUMMARY") == (expected_text(text, single_line=True) or "Booking")
    assert event.get("DESCRIPTION", "") == expected_text(text, single_line=False).strip()
    assert event["SEQUENCE"] == booking.version - 1
    if booking.starts_at is None:
        day = booking.event_date
        assert event["DTSTART"].dt == day
        assert utc_between(document, day, day + dt.timedelta(days=1)) == [
            (day, day + dt.timedelta(days=1))
        ]
        return
    assert booking.ends_at is not None
    instants = (as_utc(event["DTSTART"].dt), as_utc(event["DTEND"].dt))
    assert instants == (booking.starts_at, booking.ends_at)
    found = utc_between(document, booking.starts_at, booking.ends_at)
    assert found == [(booking.starts_at, booking.ends_at)]


# --- feeds -------------------------------------------------------------------------------


def unescaped(value: object) -> str:
    """RFC 5545 TEXT unescaping of a value icalendar kept verbatim."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(value))


def a_shop() -> tuple[Package, Resource, Customer]:
    package = Package(uuid.uuid4(), TENANT, "massage", "Massage", base_price=8_000)
    ana = Resource(uuid.uuid4(), TENANT, "Ana", kind="therapist")
    customer = Customer(
        uuid.uuid4(), TENANT, "Ann Smith", "ann@example.com", "+33612345678", CREATED
    )
    return package, ana, customer


def feed_bookings(package: Package, ana: Resource, customer: Customer) -> Iterator[Booking]:
    for status in BookingStatus:
        yield a_booking(
            status=status,
            package_id=package.id,
            customer_id=customer.id,
            resource_ids=(ana.id,),
        )


def test_a_feed_has_no_method_and_names_itself() -> None:
    """The feed is a VCALENDAR without METHOD, with NAME and X-WR-CALNAME (escaped),
    X-WR-TIMEZONE, and REFRESH-INTERVAL/X-PUBLISHED-TTL when asked."""
    document = feed_ics(
        [],
        name="Spa; Ana, the\r\nEND:VCALENDAR",
        timezone="Europe/Paris",
        description="All bookings",
        refresh_interval=dt.timedelta(hours=1),
    )
    calendar = parse(document)
    assert "METHOD" not in calendar
    # icalendar reads X-WR-CALNAME and NAME verbatim (vUnknown): unescape them as TEXT.
    assert unescaped(calendar["X-WR-CALNAME"]) == "Spa; Ana, the END:VCALENDAR"
    assert unescaped(calendar["NAME"]) == "Spa; Ana, the END:VCALENDAR"
    assert b"\r\nX-WR-CALNAME:Spa\\; Ana\\, the END:VCALENDAR\r\n" in document
    assert calendar["X-WR-TIMEZONE"] == "Europe/Paris"
    assert calendar["X-WR-CALDESC"] == "All bookings"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in document
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in document
    assert list(calendar.walk("VEVENT")) == []


def test_a_feed_shows_confirmed_bookings_and_holds_only_when_asked() -> None:
    """By default only CONFIRMED and FULFILLED bookings appear (STATUS:CONFIRMED); with
    ``include_holds`` the PENDING one appears too, TENTATIVE; cancelled and expired never."""
    package, ana, customer = a_shop()
    bookings = list(feed_bookings(package, ana, customer))
    by_id = {b.id: b.status for b in bookings}
    default = events(feed_ics(bookings, name="Spa", packages=[package]))
    assert sorted(by_id[uuid.UUID(str(e["UID"]))] for e in default) == [
        BookingStatus.CONFIRMED,
        BookingStatus.FULFILLED,
    ]
    assert {e["STATUS"] for e in default} == {"CONFIRMED"}
    with_holds = events(feed_ics(bookings, name="Spa", packages=[package], include_holds=True))
    statuses = {by_id[uuid.UUID(str(e["UID"]))]: e["STATUS"] for e in with_holds}
    assert statuses == {
        BookingStatus.PENDING: "TENTATIVE",
        BookingStatus.CONFIRMED: "CONFIRMED",
        BookingStatus.FULFILLED: "CONFIRMED",
    }


def test_a_lapsed_hold_leaves_the_feed_when_now_is_given() -> None:
    """With ``now=`` past a hold's expiry, the hold reads as EXPIRED and is not shown."""
    hold = a_booking(status=BookingStatus.PENDING)
    assert hold.expires_at is not None
    before = feed_ics([hold], name="Spa", include_holds=True, now=hold.expires_at - dt.timedelta(1))
    after = feed_ics([hold], name="Spa", include_holds=True, now=hold.expires_at)
    assert [e["STATUS"] for e in events(before)] == ["TENTATIVE"]
    assert events(after) == []


def test_contact_details_appear_only_when_asked() -> None:
    """Without ``include_contact`` neither the customer's name, email nor phone is anywhere
    in the feed; with it they are in SUMMARY, CONTACT and DESCRIPTION."""
    package, _, customer = a_shop()
    bookings = [a_booking(package_id=package.id, customer_id=customer.id)]
    options: dict[str, Any] = {"name": "Spa", "packages": [package], "customers": [customer]}
    hidden = feed_ics(bookings, **options)
    for secret in (b"Ann", b"ann@example.com", b"+33612345678"):
        assert secret not in hidden
    assert only_event(hidden)["SUMMARY"] == "Massage"
    shown = only_event(feed_ics(bookings, include_contact=True, **options))
    assert shown["SUMMARY"] == "Massage – Ann Smith"
    assert shown["CONTACT"] == "Ann Smith, ann@example.com, +33612345678"
    assert shown["DESCRIPTION"] == "Ann Smith\nann@example.com\n+33612345678"


def test_a_feed_writes_each_needed_vtimezone_once() -> None:
    """Many bookings in the tenant's zone and one of a resource with its own zone: one
    VTIMEZONE per zone used, every TZID covered; resource names go to RESOURCES; a booking
    with no package known is called "Booking"."""
    package, ana, _ = a_shop()
    tokyo = Resource(uuid.uuid4(), TENANT, "Kenji", timezone="Asia/Tokyo")
    bookings = [
        a_booking(
            package_id=package.id,
            resource_ids=(ana.id,),
            starts_at=START + dt.timedelta(days=i),
            ends_at=START + dt.timedelta(days=i, hours=1),
        )
        for i in range(50)
    ]
    bookings.append(a_booking(resource_ids=(tokyo.id,)))
    bookings.append(a_date_booking())
    document = feed_ics(
        bookings, name="Spa", timezone="Europe/Paris", packages=[package], resources=[ana, tokyo]
    )
    calendar = parse(document)
    assert sorted(tz["TZID"] for tz in calendar.walk("VTIMEZONE")) == [
        "Asia/Tokyo",
        "Europe/Paris",
    ]
    assert calendar.get_missing_tzids() == set()
    written = events(document)
    assert len(written) == 52
    assert written[0]["RESOURCES"] == "Ana"
    assert b"DTSTART;TZID=Asia/Tokyo:20300617T163000" in document
    assert written[-2]["SUMMARY"] == "Booking"
    for event, booking in zip(written, bookings, strict=True):
        if booking.starts_at is not None:
            assert as_utc(event["DTSTART"].dt) == booking.starts_at


def test_a_feed_never_mixes_tenants_or_lists_a_booking_twice() -> None:
    """A booking, package, resource or customer of another tenant, or one booking listed
    twice, is a ValidationError naming the argument: the feed is written for one tenant."""
    package, ana, customer = a_shop()
    booking = a_booking(package_id=package.id)
    other = uuid.uuid4()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"bookings": [booking, a_booking(tenant_id=other)]}, "bookings"),
        ({"bookings": [booking, booking]}, "bookings"),
        ({"packages": [replace(package, tenant_id=other)]}, "packages"),
        ({"resources": [replace(ana, tenant_id=other)]}, "resources"),
        ({"customers": [replace(customer, tenant_id=other)], "include_contact": True}, "customers"),
    ]
    for options, field in cases:
        arguments: dict[str, Any] = {"bookings": [booking], "name": "Spa", **options}
        with pytest.raises(ValidationError) as caught:
            feed_ics(arguments.pop("bookings"), **arguments)
        assert caught.value.field == field


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"name": " \r\n "}, "name"),
        ({"timezone": "Nowhere/Atlantis"}, "timezone"),
        ({"refresh_interval": dt.timedelta(0)}, "refresh_interval"),
        ({"prodid": ""}, "prodid"),
    ],
)
def test_malformed_feed_options_are_typed_errors(options: dict[str, Any], field: str) -> None:
    """An empty name, an unknown zone, a non-positive refresh interval or an empty PRODID is a
    ValidationError naming the option."""
    arguments: dict[str, Any] = {"name": "Spa", **options}
    with pytest.raises(ValidationError) as caught:
        feed_ics([a_booking()], **arguments)
    assert caught.value.field == field


def test_a_feed_is_built_in_linear_time() -> None:
    """Four times the bookings take well under sixteen times as long (a quadratic build would
    take sixteen): the best of three runs at 250 and at 1,000 bookings, within 8x."""
    package, ana, _ = a_shop()

    def best(n: int) -> float:
        bookings = [
            a_booking(
                package_id=package.id,
                resource_ids=(ana.id,),
                starts_at=START + dt.timedelta(hours=i),
                ends_at=START + dt.timedelta(hours=i, minutes=45),
            )
            for i in range(n)
        ]
        times = []
        for _ in range(3):
            began = time.perf_counter()
            document = feed_ics(
                bookings, name="Spa", timezone="Europe/Paris", packages=[package], resources=[ana]
            )
            times.append(time.perf_counter() - began)
        assert document.count(b"BEGIN:VEVENT") == n
        return min(times)

    assert best(1_000) < 8 * best(250)


# --- the optional import -----------------------------------------------------------------


def test_import_booking_core_does_not_load_icalendar(tmp_path: Path) -> None:
    """``import booking_core`` (and its lazy names) never import icalendar or the calendar
    module; ``import booking_core.calendar`` does."""
    probe = (
        "import sys, booking_core\n"
        "booking_core.Booking\n"
        "before = sorted(m for m in ('icalendar', 'booking_core.calendar') if m in sys.modules)\n"
        "import booking_core.calendar\n"
        "print(before, 'icalendar' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[]", "True"]


@pytest.mark.parametrize("missing", ["icalendar", "recurring_ical_events", "x_wr_timezone"])
def test_without_the_extra_the_import_error_says_how_to_install_it(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With any package of the extra absent, ``import booking_core.calendar`` raises an
    ImportError whose message names it and says ``pip install "booking-core-sdk[calendar]"``."""
    monkeypatch.setitem(sys.modules, missing, None)  # None in sys.modules: "not installed"
    for name in [n for n in sys.modules if n.startswith("booking_core.calendar")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError) as caught:
        importlib.import_module("booking_core.calendar")
    assert 'pip install "booking-core-sdk[calendar]"' in str(caught.value)
    assert missing in str(caught.value)
