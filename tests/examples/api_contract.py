"""The behaviour both example apps share, written once (subclassed per framework).

The subclass lives in the framework's test module, which provides the ``api`` and ``seed``
fixtures; see ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest

from booking_core import BookingApp
from booking_core.adapters.payments import SIGNATURE_HEADER, FakePaymentProvider
from booking_core.ports.payments import PaymentEventType
from booking_core.testing import ManualClock

from .conftest import (
    EVENT_DATE,
    TIMED,
    TIMED_START,
    Api,
    Reply,
    assert_problem,
    checkout_body,
    instant,
    signed_payment,
    timed_body,
)

HOUR = dt.timedelta(hours=1)
HALF_HOUR = dt.timedelta(minutes=30)
#: EVENT_DATE in Paris, from midnight to midnight: the day the slot tests search.
DAY_START, DAY_END = "2030-06-21T00:00:00+02:00", "2030-06-22T00:00:00+02:00"

LEGACY_REPORT = {
    "csp-report": {
        "document-uri": "https://shop.example/book",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/x.js",
        "original-policy": "default-src 'none'",
        "disposition": "enforce",
        "line-number": 12,
    }
}
REPORTING_BATCH = [
    {
        "type": "csp-violation",
        "url": "https://shop.example/book",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://shop.example/book",
            "effectiveDirective": "img-src",
            "blockedURL": "https://tracker.example/p.gif",
            "disposition": "report",
        },
    },
    {"type": "deprecation", "url": "https://shop.example/", "body": {"id": "x"}},
]


class ApiContract:
    """What every example app must do over HTTP."""

    #: The field a problem names, where an app checks a parameter itself rather than leaving it
    #: to the library (which names its own argument, e.g. ``segment_slug`` for ``?segment=``).
    FIELD_NAMES: dict[str, str] = {}
    #: The example's ``pay.py`` module (the subclass sets it).
    pay_helper: Any = None

    # -- helpers ---------------------------------------------------------------------------------

    def checkout(self, api: Api, key: str, **options: Any) -> dict[str, Any]:
        reply = api.post("/v1/checkout", key=key, json=checkout_body(**options))
        assert reply.status == 201, reply.raw
        body: dict[str, Any] = reply.body
        return body

    def pay(self, api: Api, provider: FakePaymentProvider, shop: Any, checkout: Any) -> Any:
        raw, headers = signed_payment(provider, shop.tenant, checkout)
        reply = api.post(
            f"/v1/webhooks/fake?tenant={shop.tenant.slug}", content=raw, headers=headers
        )
        assert reply.status == 200, reply.raw
        return reply.body

    # -- the happy path --------------------------------------------------------------------------

    def test_full_booking_flow(
        self, api: Api, shop: Any, provider: FakePaymentProvider, clock: ManualClock
    ) -> None:
        """list → package → availability → checkout → signed webhook → confirmed → cancel:
        the refund and commission follow the tenant's policy (50 % ten days before)."""
        key = shop.api_key
        listed = api.get("/v1/packages", key=key)
        assert listed.status == 200
        assert sorted(p["slug"] for p in listed.body) == [
            "gold",
            "portrait-hour",
            "silver",
            "studio",
        ]
        weddings = api.get("/v1/packages?segment=weddings", key=key).body
        assert [p["slug"] for p in weddings] == ["gold", "silver"]

        gold = api.get("/v1/packages/gold", key=key)
        assert gold.status == 200
        assert gold.body["package"]["base_price"] == 250_000
        assert gold.body["currency"] == "EUR"
        assert [a["slug"] for a in gold.body["add_ons"]] == ["album"]

        day = api.get(f"/v1/availability/{EVENT_DATE}", key=key)
        assert day.body == {"date": "2030-06-21", "available": True, "reason": None}

        done = api.post(
            "/v1/checkout",
            key=key,
            json=checkout_body(add_ons={"album": 1}),
            headers={"Idempotency-Key": "order-1"},
        )
        assert done.status == 201, done.raw
        held = done.body["booking"]
        assert held["status"] == "PENDING"
        assert held["event_date"] == "2030-06-21"
        assert held["total"] == 295_000  # 250 000 + one album at 45 000
        assert held["commission"] == 35_400  # 12 %
        assert held["add_ons"][0]["quantity"] == 1
        assert held["starts_at"] is None  # a date booking: no time, no resources
        assert held["resource_ids"] == []
        payment = done.body["payment"]
        assert payment["redirect_url"].endswith(payment["payment_ref"])

        receipt = self.pay(api, provider, shop, done.body)
        assert receipt["state"] == "PROCESSED"
        assert receipt["outcome"] == "confirmed"
        assert receipt["duplicate"] is False

        confirmed = api.get(f"/v1/bookings/{held['id']}", key=key).body
        assert confirmed["status"] == "CONFIRMED"
        assert confirmed["amount_paid"] == 295_000
        assert confirmed["payment_ref"] == payment["payment_ref"]
        taken = api.get(f"/v1/availability/{EVENT_DATE}", key=key).body
        assert taken == {"date": "2030-06-21", "available": False, "reason": "booked"}
        closed = api.get("/v1/availability?start=2030-06-20&end=2030-06-22", key=key).body
        assert closed["unavailable"] == [
            {"date": "2030-06-21", "available": False, "reason": "booked"}
        ]

        clock.set(dt.datetime(2030, 6, 11, 10, 0, tzinfo=dt.UTC))  # 10 days before: 50 %
        cancel = api.post(f"/v1/bookings/{held['id']}/cancel", key=key, json={"reason": "ill"})
        assert cancel.status == 200, cancel.raw
        assert cancel.body["booking"]["status"] == "CANCELED"
        assert cancel.body["refund_amount"] == 147_500
        assert cancel.body["commission_refund"] == math.ceil(35_400 * 147_500 / 295_000)
        assert cancel.body["refund"]["state"] == "SUCCEEDED"
        assert cancel.body["refund"]["amount"] == 147_500
        assert provider.payments[payment["payment_ref"]].refunded == 147_500
        free = api.get(f"/v1/availability/{EVENT_DATE}", key=key).body
        assert free["available"] is True

        again = api.post(f"/v1/bookings/{held['id']}/cancel", key=key)
        assert again.status == 200
        assert again.body["refund_amount"] == 0
        assert again.body["booking"]["amount_refunded"] == 147_500

    def test_checkout_is_idempotent(self, api: Api, shop: Any) -> None:
        """The same Idempotency-Key returns the same booking; reused for another request: 422."""
        first = api.post(
            "/v1/checkout", key=shop.api_key, json=checkout_body(), headers={"Idempotency-Key": "k"}
        )
        replay = api.post(
            "/v1/checkout", key=shop.api_key, json=checkout_body(), headers={"Idempotency-Key": "k"}
        )
        assert first.status == replay.status == 201
        assert replay.body["booking"]["id"] == first.body["booking"]["id"]
        assert replay.body["payment"] == first.body["payment"]
        other = api.post(
            "/v1/checkout",
            key=shop.api_key,
            json=checkout_body(date=EVENT_DATE + dt.timedelta(days=1)),
            headers={"Idempotency-Key": "k"},
        )
        assert_problem(other, 422, "idempotency-key-reused")

    # -- conflicts -------------------------------------------------------------------------------

    def test_conflict_names_the_date(self, api: Api, shop: Any) -> None:
        """A second checkout of a full date is a 409 problem carrying the date."""
        self.checkout(api, shop.api_key)
        second = api.post(
            "/v1/checkout", key=shop.api_key, json=checkout_body(email="bob@example.com")
        )
        body = assert_problem(second, 409, "date-full")
        assert body["date"] == "2030-06-21"
        assert body["instance"] == "/v1/checkout"

    def test_a_closed_date_is_a_409_with_the_reason(self, api: Api, shop: Any) -> None:
        """A date in the past cannot be held: 409 date-unavailable, reason past."""
        reply = api.post(
            "/v1/checkout", key=shop.api_key, json=checkout_body(date=dt.date(2030, 2, 1))
        )
        body = assert_problem(reply, 409, "date-unavailable")
        assert body["date"] == "2030-02-01"
        assert body["reason"] == "past"

    def test_pay_helper_confirms_a_checkout(
        self, api: Api, shop: Any, provider: FakePaymentProvider, booking: BookingApp
    ) -> None:
        """pay.py finds the checkout's payment from the booking alone; its webhook confirms it."""
        done = self.checkout(api, shop.api_key)
        held = booking.bookings.get(shop.tenant.id, uuid.UUID(done["booking"]["id"]))
        ref = self.pay_helper.checkout_payment_ref(held)
        assert ref == done["payment"]["payment_ref"]
        raw, headers = self.pay_helper.signed_webhook(provider, held, payment_ref=ref)
        reply = api.post(
            f"/v1/webhooks/fake?tenant={shop.tenant.slug}", content=raw, headers=headers
        )
        assert reply.status == 200, reply.raw
        assert reply.body["outcome"] == "confirmed"
        paid = api.get(f"/v1/bookings/{held.id}", key=shop.api_key).body
        assert paid["status"] == "CONFIRMED"
        assert paid["payment_ref"] == ref
        assert (
            self.pay_helper.checkout_payment_ref(booking.bookings.get(shop.tenant.id, held.id))
            == ref
        )

    # -- time slots ------------------------------------------------------------------------------

    def slots_url(self, shop: Any, **query: Any) -> str:
        """``/v1/slots`` for the seed's timed package on EVENT_DATE; None drops a parameter."""
        params = {
            "package_id": str(shop.packages[TIMED].id),
            "start": DAY_START,
            "end": DAY_END,
            **query,
        }
        present = {name: value for name, value in params.items() if value is not None}
        return f"/v1/slots?{urlencode(present, doseq=True)}"

    def starts(self, api: Api, shop: Any, **query: Any) -> list[dt.datetime]:
        reply = api.get(self.slots_url(shop, **query), key=shop.api_key)
        assert reply.status == 200, reply.raw
        return [instant(slot["start"]) for slot in reply.body]

    def resources(self, shop: Any) -> list[str]:
        """The ids of the resources the seed's timed package books (its one studio)."""
        return [str(r) for r in shop.packages[TIMED].schedule.resource_ids]

    def test_slots_are_listed(self, api: Api, shop: Any) -> None:
        """GET /v1/slots lists a day's starts, ends and resources, in UTC or in the zone asked."""
        reply = api.get(self.slots_url(shop), key=shop.api_key)
        assert reply.status == 200, reply.raw
        slots = reply.body
        assert len(slots) == 15  # 10:00, 10:30 … 17:00 in Paris, each an hour long
        assert [set(slot) for slot in slots] == [{"start", "end", "resource_ids"}] * 15
        assert instant(slots[0]["start"]) == TIMED_START
        assert instant(slots[0]["start"]).utcoffset() == dt.timedelta(0)  # UTC by default
        assert instant(slots[0]["end"]) == TIMED_START + HOUR
        assert instant(slots[-1]["start"]) == TIMED_START + 7 * HOUR
        assert all(slot["resource_ids"] == self.resources(shop) for slot in slots)

        paris = api.get(self.slots_url(shop, tz="Europe/Paris"), key=shop.api_key).body
        assert [instant(s["start"]) for s in paris] == [instant(s["start"]) for s in slots]
        assert paris[0]["start"].startswith("2030-06-21T10:00:00")
        assert instant(paris[0]["start"]).utcoffset() == 2 * HOUR

        sunday = {"start": "2030-06-23T00:00:00+02:00", "end": "2030-06-24T00:00:00+02:00"}
        assert self.starts(api, shop, **sunday) == []  # the studio opens Tuesday to Saturday
        assert len(self.starts(api, shop, resource_id=self.resources(shop))) == 15
        assert self.starts(api, shop, resource_id=[str(uuid.UUID(int=9))]) == []

    def test_timed_checkout_books_the_slot(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """A checkout with start books the time: starts_at, ends_at, resource, overlaps gone."""
        done = api.post(
            "/v1/checkout", key=shop.api_key, json=timed_body(), headers={"Idempotency-Key": "t-1"}
        )
        assert done.status == 201, done.raw
        held = done.body["booking"]
        assert held["status"] == "PENDING"
        assert instant(held["starts_at"]) == TIMED_START
        assert instant(held["ends_at"]) == TIMED_START + HOUR
        assert held["resource_ids"] == self.resources(shop)
        assert held["event_date"] == "2030-06-21"
        assert held["total"] == 15_000
        replay = api.post(
            "/v1/checkout", key=shop.api_key, json=timed_body(), headers={"Idempotency-Key": "t-1"}
        )
        assert replay.status == 201
        assert replay.body["booking"]["id"] == held["id"]

        left = self.starts(api, shop)
        assert len(left) == 12
        # 10:00-11:15 taken: 10:00, 10:30 and 11:00 would overlap it; 11:30 is clear
        assert not {TIMED_START + n * HALF_HOUR for n in range(3)} & set(left)
        assert left[0] == TIMED_START + 3 * HALF_HOUR

        self.pay(api, provider, shop, done.body)
        paid = api.get(f"/v1/bookings/{held['id']}", key=shop.api_key).body
        assert paid["status"] == "CONFIRMED"
        assert instant(paid["starts_at"]) == TIMED_START
        day = api.get(f"/v1/availability/{EVENT_DATE}", key=shop.api_key).body
        assert day["available"] is True  # a timed booking takes its resource, not the date
        self.checkout(api, shop.api_key, email="dana@example.com")

    def test_a_taken_slot_is_a_409_with_the_start(self, api: Api, shop: Any) -> None:
        """A second checkout of the same or an overlapping start is a 409 naming the start."""
        first = api.post("/v1/checkout", key=shop.api_key, json=timed_body())
        assert first.status == 201, first.raw
        for n, start in enumerate((TIMED_START, TIMED_START + HALF_HOUR)):
            reply = api.post(
                "/v1/checkout", key=shop.api_key, json=timed_body(start, email=f"b{n}@example.com")
            )
            body = assert_problem(reply, 409, "time-taken")
            assert instant(body["start"]) == start
            assert body["date"] == "2030-06-21"
            assert body["reason"] == "booked"
            assert "resource_id" not in body
        (room,) = self.resources(shop)
        named = api.post(
            "/v1/checkout",
            key=shop.api_key,
            json=timed_body(email="cy@example.com", resource_id=room),
        )
        assert assert_problem(named, 409, "time-taken")["resource_id"] == room
        assert len(self.starts(api, shop)) == 12  # only the first hold took time

    @pytest.mark.parametrize(
        ("start", "reason"),
        [
            ("2030-06-21T09:00:00+02:00", "outside_hours"),  # before opening
            ("2030-06-21T10:10:00+02:00", "outside_hours"),  # off the 30-minute grid
            ("2030-06-23T10:00:00+02:00", "outside_hours"),  # a Sunday
            ("2030-02-01T10:00:00+01:00", "past"),
        ],
    )
    def test_an_unavailable_time_is_a_409_with_the_reason(
        self, api: Api, shop: Any, start: str, reason: str
    ) -> None:
        """A start the studio does not offer: 409 time-unavailable with the reason and start."""
        reply = api.post("/v1/checkout", key=shop.api_key, json=timed_body(start))
        body = assert_problem(reply, 409, "time-unavailable")
        assert body["reason"] == reason
        assert instant(body["start"]) == instant(start)
        assert body["date"] == start[:10]

    @pytest.mark.parametrize(
        ("query", "status", "slug", "field"),
        [
            ({"start": "2030-06-21T00:00:00"}, 422, "validation", "start"),  # naive
            ({"end": "2030-06-22T00:00:00"}, 422, "validation", "end"),  # naive
            ({"start": "tomorrow"}, 422, "validation", "start"),
            ({"start": None}, 422, "validation", "start"),
            ({"end": "2030-06-20T00:00:00+02:00"}, 422, "validation", "end"),  # before start
            ({"end": "2030-08-23T00:00:00+02:00"}, 422, "validation", "end"),  # 63 days
            ({"package_id": "portrait-hour"}, 422, "validation", "package_id"),
            ({"package_id": None}, 422, "validation", "package_id"),
            ({"package_id": str(uuid.UUID(int=7))}, 404, "not-found", None),
            ({"resource_id": ["not-a-uuid"]}, 422, "validation", None),
            ({"tz": "Mars/Olympus_Mons"}, 422, "validation", "tz"),
        ],
    )
    def test_bad_slot_queries_are_problems(
        self,
        api: Api,
        shop: Any,
        query: dict[str, Any],
        status: int,
        slug: str,
        field: str | None,
    ) -> None:
        """A naive time, a bad range, id or zone is a 422 naming it; an unknown package a 404."""
        body = assert_problem(
            api.get(self.slots_url(shop, **query), key=shop.api_key), status, slug
        )
        if field is not None:
            assert body["field"] == field

    def test_slots_of_a_date_package_or_another_tenant_are_refused(
        self, api: Api, shop: Any, rival: Any
    ) -> None:
        """A date package's slots are a 422 (package_id); another tenant's package is a 404."""
        gold = str(shop.packages["gold"].id)
        body = assert_problem(
            api.get(self.slots_url(shop, package_id=gold), key=shop.api_key), 422, "validation"
        )
        assert body["field"] == "package_id"
        assert_problem(api.get(self.slots_url(shop), key=rival.api_key), 404, "not-found")

    @pytest.mark.parametrize(
        ("change", "status", "slug", "field"),
        [
            ({"start": "2030-06-21T10:00:00"}, 422, "validation", "start"),  # naive
            ({"start": "21/06/2030 10:00"}, 422, "validation", "start"),
            ({"start": 0}, 422, "validation", "start"),  # not the Unix epoch
            ({"start": None}, 422, "validation", "date"),  # neither date nor start
            ({"date": "2030-06-21"}, 422, "validation", "date"),  # both
            ({"package": "gold"}, 422, "validation", "package_id"),  # a date package
            ({"venue_id": str(uuid.UUID(int=3))}, 422, "validation", "venue_id"),
            ({"resource_id": "not-a-uuid"}, 422, "validation", "resource_id"),
            ({"resource_id": str(uuid.UUID(int=5))}, 404, "not-found", None),
        ],
    )
    def test_bad_timed_checkouts_are_problems(
        self,
        api: Api,
        shop: Any,
        change: dict[str, Any],
        status: int,
        slug: str,
        field: str | None,
    ) -> None:
        """A naive start, a start mixed with date or venue, a bad resource: a problem, no hold."""
        problem = assert_problem(
            api.post("/v1/checkout", key=shop.api_key, json={**timed_body(), **change}),
            status,
            slug,
        )
        if field is not None:
            assert problem["field"] == field
        assert TIMED_START in self.starts(api, shop)

    def test_date_checkouts_refuse_times(self, api: Api, shop: Any) -> None:
        """A timed package given a date, or a date package given a resource: 422 naming it."""
        timed = {**checkout_body(package=TIMED)}
        assert (
            assert_problem(
                api.post("/v1/checkout", key=shop.api_key, json=timed), 422, "validation"
            )["field"]
            == "date"
        )
        room = self.resources(shop)[0]
        resourced = {**checkout_body(), "resource_id": room}
        assert (
            assert_problem(
                api.post("/v1/checkout", key=shop.api_key, json=resourced), 422, "validation"
            )["field"]
            == "resource_id"
        )

    # -- bookings as iCalendar -------------------------------------------------------------------

    def ics_event(self, reply: Reply, booking_id: str) -> icalendar.Event:
        """The one VEVENT of an ``.ics`` reply, after checking it is the booking's attachment."""
        assert reply.status == 200, reply.raw
        assert reply.content_type == "text/calendar; charset=utf-8"
        disposition = reply.headers["content-disposition"]
        assert disposition == f'attachment; filename="booking-{booking_id}.ics"'
        assert reply.headers["x-content-type-options"] == "nosniff"
        calendar = icalendar.Calendar.from_ical(reply.raw)
        assert calendar["METHOD"] == "PUBLISH"
        (event,) = calendar.walk("VEVENT")
        assert event["UID"] == booking_id
        return event

    def test_a_date_booking_downloads_as_an_all_day_event(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """GET /v1/bookings/{id}.ics is an attachment whose one event is the booking: the
        package's name, all day on its date, TENTATIVE while held and CONFIRMED once paid (the
        same UID, SEQUENCE one up)."""
        done = self.checkout(api, shop.api_key)
        booking_id = done["booking"]["id"]
        held = self.ics_event(
            api.get(f"/v1/bookings/{booking_id}.ics", key=shop.api_key), booking_id
        )
        assert held["SUMMARY"] == shop.packages["gold"].name == "Gold"
        assert held["STATUS"] == "TENTATIVE"
        assert held["SEQUENCE"] == 0
        assert held.decoded("DTSTART") == EVENT_DATE
        assert not isinstance(held.decoded("DTSTART"), dt.datetime)  # VALUE=DATE: all day
        assert held.decoded("DTEND") == EVENT_DATE + dt.timedelta(days=1)

        self.pay(api, provider, shop, done)
        paid = self.ics_event(
            api.get(f"/v1/bookings/{booking_id}.ics", key=shop.api_key), booking_id
        )
        assert paid["STATUS"] == "CONFIRMED"
        assert paid["SEQUENCE"] == 1

    def test_a_timed_booking_downloads_in_the_tenants_zone(self, api: Api, shop: Any) -> None:
        """A timed booking's event starts and ends at its instants, written in the tenant's zone
        (Europe/Paris, with its VTIMEZONE) so that 10:00 reads 10:00 in any calendar app."""
        done = api.post("/v1/checkout", key=shop.api_key, json=timed_body())
        assert done.status == 201, done.raw
        booking_id = done.body["booking"]["id"]
        reply = api.get(f"/v1/bookings/{booking_id}.ics", key=shop.api_key)
        event = self.ics_event(reply, booking_id)
        assert event["SUMMARY"] == shop.packages[TIMED].name == "Portrait hour"
        assert event["STATUS"] == "TENTATIVE"
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == TIMED_START
        assert end == TIMED_START + HOUR
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        assert start.astimezone(ZoneInfo("Europe/Paris")).hour == 10
        assert b"DTSTART;TZID=Europe/Paris:20300621T100000" in reply.raw
        (zone,) = icalendar.Calendar.from_ical(reply.raw).walk("VTIMEZONE")
        assert zone["TZID"] == "Europe/Paris"

    def test_a_cancelled_booking_downloads_as_cancelled(self, api: Api, shop: Any) -> None:
        """After a cancel the same event (same UID) says STATUS:CANCELLED, so a calendar that
        imported it drops it."""
        booking_id = self.checkout(api, shop.api_key)["booking"]["id"]
        assert api.post(f"/v1/bookings/{booking_id}/cancel", key=shop.api_key).status == 200
        event = self.ics_event(
            api.get(f"/v1/bookings/{booking_id}.ics", key=shop.api_key), booking_id
        )
        assert event["STATUS"] == "CANCELLED"

    def test_ics_of_another_tenant_or_an_unknown_id_is_a_404(
        self, api: Api, shop: Any, rival: Any
    ) -> None:
        """Another tenant's booking is a 404 exactly like an id that does not exist; a malformed
        id is a 422 naming booking_id. Problems, never a calendar."""
        booking_id = self.checkout(api, shop.api_key)["booking"]["id"]
        stolen = assert_problem(
            api.get(f"/v1/bookings/{booking_id}.ics", key=rival.api_key), 404, "not-found"
        )
        unknown = assert_problem(
            api.get(f"/v1/bookings/{uuid.UUID(int=7)}.ics", key=shop.api_key), 404, "not-found"
        )
        assert stolen["title"] == unknown["title"]
        assert stolen["instance"] == f"/v1/bookings/{booking_id}.ics"
        malformed = api.get("/v1/bookings/not-a-uuid.ics", key=shop.api_key)
        field = assert_problem(malformed, 422, "validation")["field"]
        assert field == self.FIELD_NAMES.get("booking_id", "booking_id")

    @pytest.mark.parametrize("key", [None, "", "nonsense", f"bck_{uuid.UUID(int=1).hex}_guessed"])
    def test_ics_without_a_valid_key_is_401(self, api: Api, shop: Any, key: str | None) -> None:
        """No key, a malformed or an unknown one: the same 401 problem as every other endpoint,
        and no calendar data."""
        booking_id = self.checkout(api, shop.api_key)["booking"]["id"]
        reply = api.get(f"/v1/bookings/{booking_id}.ics", key=key)
        assert_problem(reply, 401, "unauthenticated")
        assert b"BEGIN:VCALENDAR" not in reply.raw

    # -- calendar feeds --------------------------------------------------------------------------

    #: The logger the example's server writes its request lines to (the subclass sets it).
    access_logger = ""

    def create_feed(self, api: Api, key: str, **body: Any) -> dict[str, Any]:
        """POST /v1/feeds with ``body``; the reply's feed, after checking its shape."""
        reply = api.post("/v1/feeds", key=key, json=body)
        assert reply.status == 201, reply.raw
        feed: dict[str, Any] = reply.body
        assert set(feed) == {
            "id",
            "url",
            "label",
            "resource_id",
            "include_holds",
            "include_contact",
            "created_at",
        }
        return feed

    def feed_path(self, feed: dict[str, Any]) -> str:
        """The path of a feed's absolute URL, which the test client requests."""
        url = urlsplit(feed["url"])
        assert url.scheme in {"http", "https"}
        assert url.netloc
        assert url.path.startswith("/v1/feeds/bcf_")
        assert url.path.endswith(".ics")
        assert not url.query
        return url.path

    def feed_events(self, api: Api, feed: dict[str, Any]) -> dict[str, icalendar.Event]:
        """The events a feed's URL serves without any key, by UID, after checking the reply."""
        reply = api.get(self.feed_path(feed))
        assert reply.status == 200, reply.raw
        assert reply.content_type == "text/calendar; charset=utf-8"
        assert reply.headers["cache-control"] == "private, max-age=300"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "content-disposition" not in reply.headers  # subscribed to, not downloaded
        calendar = icalendar.Calendar.from_ical(reply.raw)
        return {str(event["UID"]): event for event in calendar.walk("VEVENT")}

    def confirmed(self, api: Api, provider: FakePaymentProvider, shop: Any, **options: Any) -> str:
        """A date booking checked out and paid: its id."""
        done = self.checkout(api, shop.api_key, **options)
        self.pay(api, provider, shop, done)
        booking_id: str = done["booking"]["id"]
        return booking_id

    def test_a_feed_url_serves_the_confirmed_bookings(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """POST /v1/feeds answers 201 with the subscribe URL; the URL, with no key, is a
        text/calendar body (cacheable privately for 5 minutes) holding the confirmed booking,
        not an unpaid hold, and no customer details."""
        paid = self.confirmed(api, provider, shop)
        self.checkout(api, shop.api_key, date=EVENT_DATE + dt.timedelta(days=1), email="b@x.org")
        feed = self.create_feed(api, shop.api_key, label="Weddings")
        assert feed["label"] == "Weddings"
        assert feed["resource_id"] is None
        assert feed["include_holds"] is feed["include_contact"] is False
        events = self.feed_events(api, feed)
        assert set(events) == {paid}
        event = events[paid]
        assert event["SUMMARY"] == "Gold"
        assert event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTART") == EVENT_DATE
        raw = api.get(self.feed_path(feed)).raw
        assert b"X-WR-CALNAME:Weddings" in raw
        assert b"ann@example.com" not in raw
        assert b"Ann O" not in raw

    def test_a_feed_shows_holds_only_when_it_includes_them(self, api: Api, shop: Any) -> None:
        """An unpaid hold is left out of a feed, and shown TENTATIVE in one with
        include_holds."""
        held = self.checkout(api, shop.api_key)["booking"]["id"]
        assert self.feed_events(api, self.create_feed(api, shop.api_key)) == {}
        feed = self.create_feed(api, shop.api_key, include_holds=True)
        assert feed["include_holds"] is True
        events = self.feed_events(api, feed)
        assert set(events) == {held}
        assert events[held]["STATUS"] == "TENTATIVE"

    def test_a_feed_shows_the_customer_only_when_it_includes_contact(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """The customer's name and email are in a feed with include_contact, in no other."""
        self.confirmed(api, provider, shop, email="ann.contact@example.com")
        plain = api.get(self.feed_path(self.create_feed(api, shop.api_key))).raw
        assert plain.count(b"BEGIN:VEVENT") == 1
        assert b"ann.contact@example.com" not in plain
        feed = self.create_feed(api, shop.api_key, include_contact=True)
        assert feed["include_contact"] is True
        detailed = api.get(self.feed_path(feed)).raw
        assert b"ann.contact@example.com" in detailed
        assert b"Ann O" in detailed

    def test_a_resource_feed_shows_only_that_resources_bookings(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """A feed of one resource shows the timed booking on it and not the date booking; an
        unknown resource is a 404 when the feed is created."""
        self.confirmed(api, provider, shop)
        done = api.post("/v1/checkout", key=shop.api_key, json=timed_body())
        assert done.status == 201, done.raw
        self.pay(api, provider, shop, done.body)
        (studio,) = self.resources(shop)
        feed = self.create_feed(api, shop.api_key, resource_id=studio)
        assert feed["resource_id"] == studio
        events = self.feed_events(api, feed)
        assert set(events) == {done.body["booking"]["id"]}
        assert events[done.body["booking"]["id"]].decoded("DTSTART") == TIMED_START
        unknown = api.post(
            "/v1/feeds", key=shop.api_key, json={"resource_id": str(uuid.UUID(int=9))}
        )
        assert_problem(unknown, 404, "not-found")

    def test_a_feed_serves_from_31_days_ago_to_366_days_ahead(
        self, api: Api, shop: Any, provider: FakePaymentProvider, clock: ManualClock
    ) -> None:
        """The window follows the app's clock: a booking 31 days past is still shown, one 32
        days past no longer."""
        paid = self.confirmed(api, provider, shop)
        feed = self.create_feed(api, shop.api_key)
        clock.set(dt.datetime.combine(EVENT_DATE + dt.timedelta(days=31), dt.time(12), dt.UTC))
        assert set(self.feed_events(api, feed)) == {paid}
        clock.set(dt.datetime.combine(EVENT_DATE + dt.timedelta(days=32), dt.time(12), dt.UTC))
        assert self.feed_events(api, feed) == {}

    def test_feeds_are_listed_without_their_urls(self, api: Api, shop: Any) -> None:
        """GET /v1/feeds lists the active feeds with their choices, never a URL or token."""
        first = self.create_feed(api, shop.api_key, label="All")
        second = self.create_feed(api, shop.api_key, include_holds=True)
        reply = api.get("/v1/feeds", key=shop.api_key)
        assert reply.status == 200, reply.raw
        listed = {feed["id"]: feed for feed in reply.body}
        assert set(listed) == {first["id"], second["id"]}
        for issued in (first, second):
            shown = listed[issued["id"]]
            assert shown == {name: value for name, value in issued.items() if name != "url"}
            token = self.feed_path(issued).removeprefix("/v1/feeds/").removesuffix(".ics")
            assert token.encode() not in reply.raw
        assert b"bcf_" not in reply.raw

    def test_a_revoked_feed_url_is_a_404(self, api: Api, shop: Any) -> None:
        """DELETE /v1/feeds/{id} answers 204 and the URL is a 404 at once; revoking it again, or
        an unknown id, is a 404 too (nothing active to revoke)."""
        feed = self.create_feed(api, shop.api_key)
        path = self.feed_path(feed)
        assert api.get(path).status == 200
        revoked = api.delete(f"/v1/feeds/{feed['id']}", key=shop.api_key)
        assert revoked.status == 204, revoked.raw
        assert revoked.raw == b""
        gone = api.get(path)
        assert_problem(gone, 404, "not-found")
        assert b"BEGIN:VCALENDAR" not in gone.raw
        assert api.get("/v1/feeds", key=shop.api_key).body == []
        again = api.delete(f"/v1/feeds/{feed['id']}", key=shop.api_key)
        assert_problem(again, 404, "not-found")
        unknown = api.delete(f"/v1/feeds/{uuid.UUID(int=5)}", key=shop.api_key)
        assert_problem(unknown, 404, "not-found")
        assert api.delete("/v1/feeds/not-a-uuid", key=shop.api_key).status == 404

    def test_a_mangled_or_unknown_token_is_the_same_404(
        self, api: Api, shop: Any, booking: BookingApp
    ) -> None:
        """A token with a changed, missing or extra character, a made-up one, or one of a
        deactivated tenant: the same 404 problem as a revoked one, never a 401 that would tell
        a real token from a guess, and never the token echoed back."""
        path = self.feed_path(self.create_feed(api, shop.api_key))
        token = path.removeprefix("/v1/feeds/").removesuffix(".ics")
        last = "A" if token[-1] != "A" else "B"
        guesses = [
            token[:-1] + last,
            token[:-1],
            token + "A",
            token.replace("bcf_", "bck_", 1),
            f"bcf_{uuid.UUID(int=1).hex}_{uuid.UUID(int=2).hex}_guessed",
            "nonsense",
        ]
        bodies = []
        for guess in guesses:
            # a tenant's API key changes nothing: the URL's token is the only credential
            reply = api.get(f"/v1/feeds/{guess}.ics", key=shop.api_key)
            bodies.append(assert_problem(reply, 404, "not-found"))
            assert guess.encode() not in reply.raw
        assert all(body == bodies[0] for body in bodies)
        assert bodies[0]["instance"] == "/v1/feeds/{token}.ics"
        booking.tenants.deactivate(shop.tenant.id)
        assert assert_problem(api.get(path), 404, "not-found") == bodies[0]

    def test_another_tenant_can_neither_list_nor_revoke_a_feed(
        self, api: Api, shop: Any, rival: Any
    ) -> None:
        """Tenant B does not see A's feeds, and revoking one is a 404 that leaves it working."""
        feed = self.create_feed(api, shop.api_key)
        assert api.get("/v1/feeds", key=rival.api_key).body == []
        stolen = api.delete(f"/v1/feeds/{feed['id']}", key=rival.api_key)
        assert_problem(stolen, 404, "not-found")
        assert api.get(self.feed_path(feed)).status == 200
        assert [f["id"] for f in api.get("/v1/feeds", key=shop.api_key).body] == [feed["id"]]

    def test_other_methods_on_a_feed_url_are_405(self, api: Api, shop: Any) -> None:
        """DELETE or POST on a feed's URL is a 405 problem allowing GET: the revoke route takes
        only a UUID, so a token never reaches it. PUT on /v1/feeds is a 405 allowing GET and
        POST."""
        path = self.feed_path(self.create_feed(api, shop.api_key))
        for method in ("DELETE", "POST"):
            reply = api.send(method, path, headers={"X-Tenant-Key": shop.api_key})
            assert_problem(reply, 405)
            assert "GET" in reply.headers["allow"]
            assert b"BEGIN:VCALENDAR" not in reply.raw
        assert api.get(path).status == 200
        # /v1/feeds is served with two methods, and a 405 there names both
        other = api.send("PUT", "/v1/feeds", headers={"X-Tenant-Key": shop.api_key})
        assert_problem(other, 405)
        assert {"GET", "POST"} <= {m.strip() for m in other.headers["allow"].split(",")}

    @pytest.mark.parametrize("key", [None, "", "nonsense", f"bck_{uuid.UUID(int=1).hex}_guessed"])
    def test_managing_feeds_without_a_valid_key_is_401(
        self, api: Api, shop: Any, key: str | None
    ) -> None:
        """Creating, listing and revoking feeds need the tenant's key: the same 401 problem as
        every other endpoint, and no feed is created."""
        feed = self.create_feed(api, shop.api_key)
        reply = api.post("/v1/feeds", key=key, json={})
        assert_problem(reply, 401, "unauthenticated")
        assert b"bcf_" not in reply.raw
        assert_problem(api.get("/v1/feeds", key=key), 401, "unauthenticated")
        assert_problem(api.delete(f"/v1/feeds/{feed['id']}", key=key), 401, "unauthenticated")
        assert len(api.get("/v1/feeds", key=shop.api_key).body) == 1
        assert api.get(self.feed_path(feed)).status == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"include_holds": "true"}, "include_holds"),
            ({"include_contact": 1}, "include_contact"),
            ({"label": 7}, "label"),
            ({"resource_id": "studio"}, "resource_id"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_bad_feed_bodies_are_422(
        self, api: Api, shop: Any, body: dict[str, Any], field: str
    ) -> None:
        """A flag that is not a JSON boolean, a label that is not a string, a malformed
        resource id or an unknown field: a 422 problem naming it, and no feed."""
        reply = api.post("/v1/feeds", key=shop.api_key, json=body)
        assert assert_problem(reply, 422, "validation")["field"] == field
        assert api.get("/v1/feeds", key=shop.api_key).body == []

    def test_a_feed_token_reaches_no_log_line(
        self,
        api: Api,
        shop: Any,
        booking: BookingApp,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A feed URL's token is a credential: the unhandled-error log and the 500 problem name
        the path without it, and the server's request log line has it taken out."""
        path = self.feed_path(self.create_feed(api, shop.api_key))
        token = path.removeprefix("/v1/feeds/").removesuffix(".ics")

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr(booking.feeds, "contents", broken)
        with caplog.at_level(logging.DEBUG):
            reply = api.get(path)
        assert assert_problem(reply, 500)["instance"] == "/v1/feeds/{token}.ics"
        assert token.encode() not in reply.raw
        # the example's own records (the test client logs the URL it requested: not the app's)
        written = [record for record in caplog.records if record.name.startswith("booking_core")]
        assert [getattr(record, "path", None) for record in written] == ["/v1/feeds/{token}.ics"]
        for record in written:
            assert token not in record.getMessage()
            assert token not in repr(vars(record))

        line = logging.LogRecord(
            self.access_logger,
            logging.INFO,
            __file__,
            1,
            '"%s" %s',
            (f"GET {path} HTTP/1.1", 200),
            None,
        )
        assert logging.getLogger(self.access_logger).filter(line)
        assert line.getMessage() == '"GET /v1/feeds/{token}.ics HTTP/1.1" 200'

    # -- webhooks --------------------------------------------------------------------------------

    def test_webhook_replay_is_a_duplicate_without_effect(
        self, api: Api, shop: Any, provider: FakePaymentProvider, booking: BookingApp
    ) -> None:
        """The provider redelivers the same event: 200, duplicate, the booking is unchanged."""
        done = self.checkout(api, shop.api_key)
        first = self.pay(api, provider, shop, done)
        after_first = api.get(f"/v1/bookings/{done['booking']['id']}", key=shop.api_key).body
        second = self.pay(api, provider, shop, done)
        assert first["duplicate"] is False
        assert second["duplicate"] is True
        assert second["event_id"] == first["event_id"]
        assert second["state"] == "PROCESSED"
        after_second = api.get(f"/v1/bookings/{done['booking']['id']}", key=shop.api_key).body
        assert after_second == after_first
        assert after_second["status"] == "CONFIRMED"
        event = booking.webhooks.get(shop.tenant.id, first["event_id"])
        assert event.attempts == 1

    def test_failed_webhook_answers_500_so_the_provider_redelivers(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """A payment of the wrong amount is recorded FAILED: 500 with the receipt, no effect."""
        done = self.checkout(api, shop.api_key)
        raw, headers = signed_payment(provider, shop.tenant, done, amount=1)
        reply = api.post("/v1/webhooks/fake?tenant=lumiere", content=raw, headers=headers)
        assert reply.status == 500
        assert reply.body["state"] == "FAILED"
        assert reply.body["error"]
        status = api.get(f"/v1/bookings/{done['booking']['id']}", key=shop.api_key).body
        assert status["status"] == "PENDING"

    def test_payment_failed_webhook_releases_the_date(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """payment.failed cancels the hold and frees its date."""
        done = self.checkout(api, shop.api_key)
        raw, headers = signed_payment(
            provider, shop.tenant, done, event=PaymentEventType.PAYMENT_FAILED
        )
        reply = api.post("/v1/webhooks/fake?tenant=lumiere", content=raw, headers=headers)
        assert reply.status == 200
        assert reply.body["outcome"] == "hold_released"
        day = api.get(f"/v1/availability/{EVENT_DATE}", key=shop.api_key).body
        assert day["available"] is True

    def test_tampered_webhook_is_rejected(
        self, api: Api, shop: Any, provider: FakePaymentProvider
    ) -> None:
        """Bytes that differ from the signed ones: 400 problem, the booking stays PENDING."""
        done = self.checkout(api, shop.api_key)
        raw, headers = signed_payment(provider, shop.tenant, done)
        tampered = json.dumps(json.loads(raw), indent=1).encode()  # same JSON, other bytes
        reply = api.post("/v1/webhooks/fake?tenant=lumiere", content=tampered, headers=headers)
        assert_problem(reply, 400, "webhook-verification")
        unsigned = api.post(
            "/v1/webhooks/fake?tenant=lumiere",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert_problem(unsigned, 400, "webhook-verification")
        status = api.get(f"/v1/bookings/{done['booking']['id']}", key=shop.api_key).body
        assert status["status"] == "PENDING"

    @pytest.mark.parametrize(
        ("first_name", "first_value"),
        [
            ("Fake-Signature", None),  # the same line twice
            ("fake-signature", f"t=1,v1={'0' * 64}"),  # a bad copy first, the good one last
        ],
        ids=["same-line-twice", "bad-copy-first"],
    )
    def test_repeated_signature_header_is_rejected(
        self,
        api: Api,
        shop: Any,
        provider: FakePaymentProvider,
        first_name: str,
        first_value: str | None,
    ) -> None:
        """The docs promise exactly one signature header: two copies are a 400, never paid.

        FastAPI hands every header line to ``receive``; a WSGI server joins repeated lines into
        one value, which the signature parser refuses too.
        """
        done = self.checkout(api, shop.api_key)
        raw, headers = signed_payment(provider, shop.tenant, done)
        signature = headers.pop(SIGNATURE_HEADER)
        lines = [*headers.items(), (first_name, first_value or signature)]
        lines.append((SIGNATURE_HEADER, signature))
        reply = api.post("/v1/webhooks/fake?tenant=lumiere", content=raw, headers=lines)
        assert_problem(reply, 400, "webhook-verification")
        status = api.get(f"/v1/bookings/{done['booking']['id']}", key=shop.api_key).body
        assert status["status"] == "PENDING"

    # -- bad input -------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("path", "status", "slug", "field"),
        [
            ("/v1/packages?segment=Not%20A%20Slug!", 422, "validation", "segment_slug"),
            ("/v1/packages?segment=unknown", 404, "not-found", None),
            ("/v1/packages/nope", 404, "not-found", None),
            ("/v1/packages/NOT%20a%20slug", 422, "validation", "slug"),
            ("/v1/availability/2030-13-01", 422, "validation", "date"),
            ("/v1/availability/tomorrow", 422, "validation", "date"),
            ("/v1/availability/0", 422, "validation", "date"),  # not the Unix epoch
            ("/v1/availability?start=2030-06-01", 422, "validation", "end"),
            ("/v1/availability?start=june&end=2030-06-02", 422, "validation", "start"),
            ("/v1/availability?start=2030-06-02&end=2030-06-01", 422, "validation", None),
            ("/v1/availability?start=2030-01-01&end=2035-01-01", 422, "validation", None),
            ("/v1/bookings/not-a-uuid", 422, "validation", "booking_id"),
            (f"/v1/bookings/{uuid.UUID(int=7)}", 404, "not-found", None),
        ],
    )
    def test_bad_reads_are_problems(
        self, api: Api, shop: Any, path: str, status: int, slug: str, field: str | None
    ) -> None:
        """Malformed or unknown parameters of every GET endpoint: a 422 or 404 problem."""
        body = assert_problem(api.get(path, key=shop.api_key), status, slug)
        if field is not None:
            assert body["field"] == self.FIELD_NAMES.get(field, field)

    @pytest.mark.parametrize(
        ("change", "status", "slug", "field"),
        [
            ({"customer": None}, 422, "validation", "customer"),
            ({"customer": {"name": "Ann", "email": "not-an-email"}}, 422, "validation", None),
            ({"customer": {"name": "", "email": "ann@example.com"}}, 422, "validation", None),
            ({"date": "21/06/2030"}, 422, "validation", "date"),
            ({"date": None}, 422, "validation", "date"),
            ({"date": 0}, 422, "validation", "date"),  # not the Unix epoch
            ({"package": 5}, 422, "validation", "package"),
            ({"package": "nope"}, 404, "not-found", None),
            ({"add_ons": {"unknown": 1}}, 422, "validation", "add_ons"),
            ({"add_ons": {"album": 0}}, 422, "validation", None),
            ({"add_ons": {"album": "1"}}, 422, "validation", None),  # a string, not a number
            ({"add_ons": ["album"]}, 422, "validation", "add_ons"),
            ({"venue_id": "not-a-uuid"}, 422, "validation", "venue_id"),
            ({"surprise": True}, 422, "validation", "surprise"),
        ],
    )
    def test_bad_checkouts_are_problems(
        self,
        api: Api,
        shop: Any,
        change: dict[str, Any],
        status: int,
        slug: str,
        field: str | None,
    ) -> None:
        """Every malformed checkout body is a 422 (or 404 for an unknown package), no booking."""
        body = {**checkout_body(), **change}
        problem = assert_problem(
            api.post("/v1/checkout", key=shop.api_key, json=body), status, slug
        )
        if field is not None:
            assert problem["field"] == field
        day = api.get(f"/v1/availability/{EVENT_DATE}", key=shop.api_key).body
        assert day["available"] is True

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b"{not json", "application/json"),
            (b'["a", "list"]', "application/json"),
            (b"", "application/json"),
            (b"\xff\xfe", "application/json"),
            (b"\x80{", "application/json"),  # not UTF-8
        ],
    )
    def test_unparsable_checkout_bodies_are_422(
        self, api: Api, shop: Any, content: bytes, content_type: str
    ) -> None:
        """Bad JSON, a JSON array, an empty body: a 422 validation problem, never a 500."""
        reply = api.post(
            "/v1/checkout",
            key=shop.api_key,
            content=content,
            headers={"Content-Type": content_type},
        )
        assert_problem(reply, 422, "validation")

    @pytest.mark.parametrize(
        ("path", "payload", "status", "slug"),
        [
            ("/v1/bookings/not-a-uuid/cancel", None, 422, "validation"),
            (f"/v1/bookings/{uuid.UUID(int=7)}/cancel", None, 404, "not-found"),
            ("/v1/bookings/{id}/cancel", {"reason": 5}, 422, "validation"),
            ("/v1/bookings/{id}/cancel", {"why": "x"}, 422, "validation"),
            ("/v1/bookings/{id}/cancel", b"\x80{", 422, "validation"),  # JSON, but not UTF-8
        ],
    )
    def test_bad_cancels_are_problems(
        self,
        api: Api,
        shop: Any,
        path: str,
        payload: Any,
        status: int,
        slug: str,
    ) -> None:
        """A malformed id or body is a 422, an unknown booking a 404; nothing is cancelled."""
        held = self.checkout(api, shop.api_key)["booking"]
        url = path.format(id=held["id"])
        if isinstance(payload, bytes):
            headers = {"Content-Type": "application/json"}
            reply = api.post(url, key=shop.api_key, content=payload, headers=headers)
        else:
            reply = api.post(url, key=shop.api_key, json=payload)
        assert_problem(reply, status, slug)
        assert api.get(f"/v1/bookings/{held['id']}", key=shop.api_key).body["status"] == "PENDING"

    def test_cancelling_an_expired_hold_is_a_409(
        self, api: Api, shop: Any, clock: ManualClock
    ) -> None:
        """A hold past its expiry cannot be cancelled any more: 409 invalid-transition."""
        held = self.checkout(api, shop.api_key)["booking"]
        clock.advance(dt.timedelta(hours=1))
        reply = api.post(f"/v1/bookings/{held['id']}/cancel", key=shop.api_key)
        body = assert_problem(reply, 409, "invalid-transition")
        assert body["current"] == "EXPIRED"

    @pytest.mark.parametrize(
        ("path", "status", "slug"),
        [
            ("/v1/webhooks/fake", 422, "validation"),  # no ?tenant=
            ("/v1/webhooks/fake?tenant=nobody", 404, "not-found"),
            ("/v1/webhooks/fake?tenant=Bad%20Slug", 422, "validation"),
            ("/v1/webhooks/stripe?tenant=lumiere", 422, "validation"),  # no such provider
            ("/v1/webhooks/fake?tenant=lumiere", 400, "webhook-verification"),
        ],
    )
    def test_bad_webhooks_are_problems(
        self, api: Api, shop: Any, path: str, status: int, slug: str
    ) -> None:
        """A webhook without a known tenant, for an unknown provider or unsigned: a problem."""
        reply = api.post(
            path, content=b'{"id": "evt_1"}', headers={"Content-Type": "application/json"}
        )
        assert_problem(reply, status, slug)

    def test_unknown_route_is_a_problem(self, api: Api, shop: Any) -> None:
        """Even the framework's own 404 speaks problem+json."""
        body = assert_problem(api.get("/v1/nowhere", key=shop.api_key), 404)
        assert body["type"] == "about:blank"

    def test_unexpected_errors_are_500_problems(
        self, api: Api, shop: Any, booking: BookingApp, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A bug is a 500 problem that reveals nothing, with the security headers still on."""

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr(booking.catalog, "list_packages", broken)
        reply = api.get("/v1/packages", key=shop.api_key)
        body = assert_problem(reply, 500)
        assert "secret" not in reply.raw.decode()
        assert body["detail"] == "the service could not complete the request"
        assert reply.headers["x-content-type-options"] == "nosniff"

    # -- tenants ---------------------------------------------------------------------------------

    def test_tenant_isolation(
        self, api: Api, shop: Any, rival: Any, provider: FakePaymentProvider
    ) -> None:
        """Tenant B's key can neither see nor cancel A's booking (404), nor pay it by webhook."""
        done = self.checkout(api, shop.api_key)
        booking_id = done["booking"]["id"]
        assert_problem(api.get(f"/v1/bookings/{booking_id}", key=rival.api_key), 404, "not-found")
        cancel = api.post(f"/v1/bookings/{booking_id}/cancel", key=rival.api_key)
        assert_problem(cancel, 404, "not-found")
        raw, headers = signed_payment(provider, shop.tenant, done)
        stolen = api.post("/v1/webhooks/fake?tenant=rival", content=raw, headers=headers)
        assert_problem(stolen, 400, "webhook-verification")

        mine = {p["id"] for p in api.get("/v1/packages", key=shop.api_key).body}
        theirs = {p["id"] for p in api.get("/v1/packages", key=rival.api_key).body}
        assert len(mine) == len(theirs) == 4
        assert not mine & theirs
        # B's calendar knows nothing of A's booking
        day = api.get(f"/v1/availability/{EVENT_DATE}", key=rival.api_key).body
        assert day["available"] is True
        mine_now = api.get(f"/v1/bookings/{booking_id}", key=shop.api_key).body
        assert mine_now["status"] == "PENDING"

    @pytest.mark.parametrize(
        "key",
        [
            None,
            "",
            "nonsense",
            f"bck_{uuid.UUID(int=1).hex}_guessed",
        ],
    )
    def test_missing_or_unknown_key_is_401(self, api: Api, shop: Any, key: str | None) -> None:
        """No key, a malformed or an unknown one: the same 401 problem."""
        for path in ("/v1/packages", f"/v1/availability/{EVENT_DATE}", "/v1/packages/gold"):
            assert_problem(api.get(path, key=key), 401, "unauthenticated")
        assert_problem(api.post("/v1/checkout", key=key, json=checkout_body()), 401)

    def test_a_forged_key_of_a_real_tenant_is_401(self, api: Api, shop: Any) -> None:
        """The right tenant prefix with a wrong secret is refused like any unknown key."""
        forged = shop.api_key[:-4] + "AAAA"
        assert_problem(api.get("/v1/packages", key=forged), 401, "unauthenticated")

    def test_revoked_key_is_401(self, api: Api, shop: Any, booking: BookingApp) -> None:
        """A revoked key stops working at once."""
        (record,) = booking.tenants.list_api_keys(shop.tenant.id)
        booking.tenants.revoke_api_key(shop.tenant.id, record.id)
        assert_problem(api.get("/v1/packages", key=shop.api_key), 401, "unauthenticated")

    def test_inactive_tenant_is_403(self, api: Api, shop: Any, booking: BookingApp) -> None:
        """A valid key of a deactivated tenant: 403 tenant-inactive."""
        booking.tenants.deactivate(shop.tenant.id)
        assert_problem(api.get("/v1/packages", key=shop.api_key), 403, "tenant-inactive")

    # -- security headers and CSP reports --------------------------------------------------------

    def test_security_headers_on_every_response(self, api: Api, shop: Any) -> None:
        """Success, problems and 204s all carry the security headers."""
        replies = [
            api.get("/v1/packages", key=shop.api_key),
            api.get("/v1/packages"),
            api.get("/v1/nowhere"),
            api.post(
                "/v1/csp-report",
                content=json.dumps(LEGACY_REPORT).encode(),
                headers={"Content-Type": "application/csp-report"},
            ),
        ]
        assert [r.status for r in replies] == [200, 401, 404, 204]
        for reply in replies:
            headers = reply.headers
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["strict-transport-security"].startswith("max-age=31536000")
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert headers["cross-origin-opener-policy"] == "same-origin"
            csp = headers["content-security-policy"]
            assert "default-src 'none'" in csp
            assert "frame-ancestors 'none'" in csp
            assert "report-uri /v1/csp-report" in csp
            assert headers["reporting-endpoints"] == 'csp="/v1/csp-report"'

    @pytest.mark.parametrize(
        ("payload", "content_type"),
        [
            (LEGACY_REPORT, "application/csp-report"),
            (REPORTING_BATCH, "application/reports+json"),
            (LEGACY_REPORT, "application/json; charset=utf-8"),
        ],
    )
    def test_csp_report_is_accepted(self, api: Api, payload: Any, content_type: str) -> None:
        """Both report formats, without any API key: 204 and an empty body."""
        reply = api.post(
            "/v1/csp-report",
            content=json.dumps(payload).encode(),
            headers={"Content-Type": content_type},
        )
        assert reply.status == 204
        assert reply.raw == b""

    @pytest.mark.parametrize(
        ("content", "content_type", "field"),
        [
            (b"{not json", "application/csp-report", "body"),
            (b'{"csp-report": "nope"}', "application/csp-report", "csp-report"),
            (
                b'{"csp-report": {"document-uri": "https://x"}}',
                "application/csp-report",
                "csp-report",
            ),
            (json.dumps(LEGACY_REPORT).encode(), "text/plain", "content_type"),
            (b"[1]", "application/reports+json", "reports.0"),
            (b" " * (64 * 1024 + 1), "application/csp-report", "body"),
        ],
    )
    def test_malformed_csp_report_is_422(
        self, api: Api, content: bytes, content_type: str, field: str
    ) -> None:
        """Anything that is not a CSP report: a 422 validation problem naming the field."""
        reply = api.post("/v1/csp-report", content=content, headers={"Content-Type": content_type})
        body = assert_problem(reply, 422, "validation")
        assert body["field"] == field
