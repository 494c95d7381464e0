"""IcsCalendar: busy time from ICS feeds reaches slot searches, timed holds and date answers;
feeds are read once per cache lifetime; unreadable feeds fail open or closed, visibly, and
never raise into a search."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking_core import TimeUnavailableError
from booking_core.adapters.cache.memory import MemoryCache
from booking_core.bootstrap import BookingApp, connect
from booking_core.calendar import FailMode, IcsCalendar, IcsFeed
from booking_core.domain.model import (
    BookingPolicy,
    CustomerDetails,
    PackageSchedule,
    Resource,
    SlotList,
    Tenant,
)
from booking_core.domain.schedule import Interval, SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import ValidationError
from booking_core.ports.cache import CachePort
from booking_core.ports.calendar import BusyIntervals
from booking_core.testing import ManualClock, in_memory_app
from tests.conftest import scratch_database

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2030, 6, 15, 9, tzinfo=dt.UTC)  # a Saturday
MONDAY = dt.date(2030, 6, 17)
HOUR = dt.timedelta(hours=1)
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(9), dt.time(17)) for d in range(5)))

#: Every Monday 10:00-11:30 Paris time from 3 June 2030, ten times; the 24 June one cancelled.
WEEKLY_MEETING = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20300101T000000Z\r
DTSTART;TZID=Europe/Paris:20300603T100000\r
DTEND;TZID=Europe/Paris:20300603T113000\r
RRULE:FREQ=WEEKLY;COUNT=10\r
EXDATE;TZID=Europe/Paris:20300624T100000\r
SUMMARY:Team meeting\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:offsite@example.com\r
DTSTAMP:20300101T000000Z\r
DTSTART;VALUE=DATE:20300619\r
DTEND;VALUE=DATE:20300620\r
SUMMARY:Offsite (all day)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:tentative-lunch@example.com\r
DTSTAMP:20300101T000000Z\r
DTSTART;TZID=Europe/Paris:20300617T130000\r
DTEND;TZID=Europe/Paris:20300617T140000\r
TRANSP:TRANSPARENT\r
SUMMARY:Free lunch (transparent)\r
END:VEVENT\r
END:VCALENDAR\r
"""


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@dataclass
class Feeds:
    """A feed registry the test fills once the resources exist, with a fetch counter."""

    documents: dict[tuple[uuid.UUID, uuid.UUID | None], bytes | Exception] = field(
        default_factory=dict
    )
    fail: FailMode = FailMode.CLOSED
    fetches: list[str] = field(default_factory=list)

    def __call__(self, tenant_id: uuid.UUID, resource_id: uuid.UUID | None) -> IcsFeed | None:
        source = self.documents.get((tenant_id, resource_id))
        if source is None:
            return None
        name = f"feed-{'tenant' if resource_id is None else resource_id.hex[:8]}"

        def fetch(timeout: float) -> bytes:
            assert timeout == 2.5
            self.fetches.append(name)
            if isinstance(source, Exception):
                raise source
            return source

        return IcsFeed(name=name, zone="Europe/Paris", fetch=fetch, fail=self.fail)


@dataclass
class Shop:
    app: BookingApp
    feeds: Feeds
    calendar: IcsCalendar
    tenant: Tenant
    adviser: Resource
    other: Resource
    package: Any


def _shop(app_factory: Any, *, cached: bool = True, cache: CachePort | None = None) -> Shop:
    feeds = Feeds()
    if cache is None and cached:
        cache = MemoryCache()
    calendar = IcsCalendar(feeds, cache=cache, timeout=2.5)
    app = app_factory(calendar, cache)
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}",
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        policy=BookingPolicy(min_notice_days=0),
    )
    adviser = app.catalog.create_resource(tenant.id, name="Ada", kind="staff", hours=HOURS)
    other = app.catalog.create_resource(tenant.id, name="Bo", kind="staff", hours=HOURS)
    package = app.catalog.create_package(
        tenant.id,
        slug="consult",
        name="Consultation",
        base_price=8_000,
        schedule=PackageSchedule(SlotTiming(duration=HOUR), resource_ids=(adviser.id, other.id)),
    )
    feeds.documents[tenant.id, adviser.id] = WEEKLY_MEETING
    return Shop(app, feeds, calendar, tenant, adviser, other, package)


def _memory(calendar: IcsCalendar, cache: CachePort | None) -> BookingApp:
    return in_memory_app(clock=ManualClock(NOW), calendar=calendar, cache=cache)


@pytest.fixture(params=["memory", "memory+cache"])
def shop(request: pytest.FixtureRequest) -> Iterator[Shop]:
    built = _shop(_memory, cached=request.param == "memory+cache")
    yield built
    built.app.close()


def _day(shop: Shop, day: dt.date) -> SlotList:
    return shop.app.availability.slots(
        shop.tenant.id, shop.package.id, at(day, 0), at(day + dt.timedelta(days=1), 0)
    )


def _whose(slots: SlotList, resource: Resource) -> list[int]:
    return [s.start.astimezone(PARIS).hour for s in slots if resource.id in s.resource_ids]


def test_a_feeds_busy_time_removes_the_starts_it_overlaps(shop: Shop) -> None:
    """The weekly 10:00-11:30 meeting takes the 10:00 and 11:00 starts of the adviser with the
    feed (a transparent event takes nothing), the other adviser keeps every start, and nothing
    is flagged unreadable."""
    slots = _day(shop, MONDAY)
    assert _whose(slots, shop.adviser) == [9, 12, 13, 14, 15, 16]
    assert _whose(slots, shop.other) == [9, 10, 11, 12, 13, 14, 15, 16]
    assert slots.unreadable_calendars == frozenset()
    assert isinstance(slots, list)


def test_exdate_and_all_day_events_follow_the_feed(shop: Shop) -> None:
    """The cancelled 24 June occurrence frees its time; the all-day offsite blocks the whole
    local Wednesday 19 June; the series ends after ten Mondays (the cancelled one counted, as
    RFC 5545 counts COUNT before EXDATE)."""
    assert _whose(_day(shop, dt.date(2030, 6, 24)), shop.adviser) == list(range(9, 17))
    assert _whose(_day(shop, dt.date(2030, 6, 19)), shop.adviser) == []
    assert _whose(_day(shop, dt.date(2030, 6, 19)), shop.other) == list(range(9, 17))
    # COUNT=10 counts the excluded 24 June too: 5 August is the tenth, 12 August is free
    assert _whose(_day(shop, dt.date(2030, 8, 5)), shop.adviser) == [9, 12, 13, 14, 15, 16]
    assert _whose(_day(shop, dt.date(2030, 8, 12)), shop.adviser) == list(range(9, 17))


def test_a_timed_hold_refuses_busy_time_with_the_calendar_reason(shop: Shop) -> None:
    """A hold naming the busy adviser at 10:00 is refused with reason ``calendar``; an
    unassigned hold at 10:00 goes to the other adviser; 12:00 goes through for the adviser."""
    customer = CustomerDetails("Cy", "cy@example.com")
    tid, pid = shop.tenant.id, shop.package.id
    with pytest.raises(TimeUnavailableError) as refused:
        shop.app.bookings.hold(
            tid,
            package_id=pid,
            start=at(MONDAY, 10),
            customer=customer,
            resource_id=shop.adviser.id,
        )
    assert refused.value.reason == "calendar"
    assigned = shop.app.bookings.hold(tid, package_id=pid, start=at(MONDAY, 10), customer=customer)
    assert assigned.resource_ids == (shop.other.id,)
    named = shop.app.bookings.hold(
        tid, package_id=pid, start=at(MONDAY, 12), customer=customer, resource_id=shop.adviser.id
    )
    assert named.resource_ids == (shop.adviser.id,)


def test_a_reschedule_into_busy_time_is_refused(shop: Shop) -> None:
    """With both advisers in the meeting, moving a booking onto it is refused with reason
    ``calendar`` and the booking keeps its time; moving it to 12:00 works."""
    shop.feeds.documents[shop.tenant.id, shop.other.id] = WEEKLY_MEETING
    tid, pid = shop.tenant.id, shop.package.id
    booking = shop.app.bookings.hold(
        tid, package_id=pid, start=at(MONDAY, 14), customer=CustomerDetails("Cy", "cy@example.com")
    )
    with pytest.raises(TimeUnavailableError) as refused:
        shop.app.bookings.reschedule(tid, booking.id, new_start=at(MONDAY, 10))
    assert (refused.value.reason, refused.value.start) == ("calendar", at(MONDAY, 10))
    assert shop.app.bookings.get(tid, booking.id).starts_at == at(MONDAY, 14)
    moved = shop.app.bookings.reschedule(tid, booking.id, new_start=at(MONDAY, 12))
    assert moved.starts_at == at(MONDAY, 12)


def test_a_cached_feed_is_fetched_once_for_many_searches() -> None:
    """With a cache, ten searches over the same month fetch the feed once; a search of the
    next month fetches it once more; ``forget`` makes the next search read it again."""
    shop = _shop(_memory, cached=True)
    for _ in range(10):
        _day(shop, MONDAY)
    assert len(shop.feeds.fetches) == 1
    _day(shop, dt.date(2030, 7, 15))
    assert len(shop.feeds.fetches) == 2
    shop.calendar.forget(shop.tenant.id)
    _day(shop, MONDAY)
    assert len(shop.feeds.fetches) == 3


@pytest.mark.parametrize(
    ("fail", "adviser_hours"),
    [(FailMode.CLOSED, []), (FailMode.OPEN, list(range(9, 17)))],
)
def test_an_unreadable_feed_fails_by_the_tenants_choice_and_says_so(
    fail: FailMode, adviser_hours: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    """A fetcher that raises (its message naming a secret URL) never reaches the caller:
    closed offers none of the adviser's starts, open offers all; both name the adviser in
    ``unreadable_calendars``, keep the error and log the feed's name without the secret."""
    shop = _shop(_memory, cached=True)
    shop.feeds.fail = fail
    secret = "https://calendar.example/private/token-abc123/basic.ics"
    shop.feeds.documents[shop.tenant.id, shop.adviser.id] = ConnectionError(f"refused: {secret}")
    with caplog.at_level(logging.WARNING, logger="booking_core.calendar"):
        slots = _day(shop, MONDAY)
    assert _whose(slots, shop.adviser) == adviser_hours
    assert _whose(slots, shop.other) == list(range(9, 17))
    assert slots.unreadable_calendars == {shop.adviser.id}
    [(owner, error)] = shop.calendar.failures().items()
    assert owner == (shop.tenant.id, shop.adviser.id)
    assert (error.feed, error.reason) == (f"feed-{shop.adviser.id.hex[:8]}", "fetch")
    assert "token-abc123" not in caplog.text
    assert f"feed-{shop.adviser.id.hex[:8]}" in caplog.text
    _day(shop, MONDAY)  # the failure is cached for failure_ttl: no second fetch
    assert len(shop.feeds.fetches) == 1


def test_a_timeout_and_a_broken_document_are_typed_reasons() -> None:
    """A fetcher's TimeoutError is reason ``timeout``; bytes that are not iCalendar are
    ``parse``; either way the search answers."""
    for source, reason in ((TimeoutError("slow"), "timeout"), (b"<html>nope</html>", "parse")):
        shop = _shop(_memory, cached=False)
        shop.feeds.documents[shop.tenant.id, shop.adviser.id] = source
        slots = _day(shop, MONDAY)
        assert slots.unreadable_calendars == {shop.adviser.id}
        [error] = shop.calendar.failures().values()
        assert error.reason == reason


def test_the_tenants_own_feed_marks_dates_busy_for_date_packages() -> None:
    """The tenant-wide feed (resource None) makes the all-day offsite and the meeting Mondays
    ``calendar`` dates; a fail-closed unreadable tenant feed makes every date ``calendar``."""
    shop = _shop(_memory, cached=True)
    shop.feeds.documents[shop.tenant.id, None] = WEEKLY_MEETING
    dates = shop.app.availability.calendar(shop.tenant.id, MONDAY, dt.date(2030, 6, 25))
    busy = {d.date.day for d in dates if d.reason == "calendar"}
    assert busy == {17, 19}  # the 24th was cancelled (EXDATE)
    shop.feeds.documents[shop.tenant.id, None] = b"garbage"
    shop.calendar.forget(shop.tenant.id)
    dates = shop.app.availability.calendar(shop.tenant.id, MONDAY, dt.date(2030, 6, 21))
    assert {d.reason for d in dates} == {"calendar"}


def test_feeds_and_cache_entries_are_tenant_scoped() -> None:
    """Another tenant asking about the adviser's id gets nothing from the first tenant's feed,
    and a cache entry of another shape reads as a miss (the feed is fetched again)."""
    shop = _shop(_memory, cached=True)
    window = Interval(at(MONDAY, 0), at(MONDAY, 23))
    stranger = uuid.uuid4()
    assert shop.calendar.busy_intervals(stranger, [shop.adviser.id], window) == BusyIntervals()
    mine = shop.calendar.busy_intervals(shop.tenant.id, [shop.adviser.id], window)
    assert mine.intervals[shop.adviser.id] == (Interval(at(MONDAY, 10), at(MONDAY, 11, 30)),)
    assert len(shop.feeds.fetches) == 1


def test_a_feed_needs_a_source_and_a_real_zone() -> None:
    """IcsFeed takes exactly one of fetch and document and an IANA zone; IcsCalendar refuses
    a ttl out of range: typed errors naming the field."""
    with pytest.raises(ValidationError) as both:
        IcsFeed(name="x", zone="Europe/Paris", fetch=lambda _: b"", document=b"")
    assert both.value.field == "fetch"
    with pytest.raises(ValidationError) as zone:
        IcsFeed(name="x", zone="Mars/Olympus", document=b"")
    assert zone.value.field == "zone"
    with pytest.raises(ValidationError) as ttl:
        IcsCalendar({}, cache=None, ttl=0)
    assert ttl.value.field == "ttl"


def test_a_dates_only_port_keeps_working_and_warns_for_timed_packages() -> None:
    """A calendar port written before busy_intervals (busy_dates only) still answers dates;
    a timed search with it warns once (DeprecationWarning) and sees no external busy time."""

    class DatesOnly:
        def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
            return {MONDAY}

    app = in_memory_app(clock=ManualClock(NOW), calendar=DatesOnly())  # type: ignore[arg-type]
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}", name="S", timezone="Europe/Paris", currency="EUR"
    )
    adviser = app.catalog.create_resource(tenant.id, name="Ada", hours=HOURS)
    package = app.catalog.create_package(
        tenant.id,
        slug="c",
        name="C",
        base_price=100,
        schedule=PackageSchedule(SlotTiming(duration=HOUR), resource_ids=(adviser.id,)),
    )
    assert app.availability.check(tenant.id, MONDAY).reason == "calendar"
    with pytest.warns(DeprecationWarning, match="busy_intervals"):
        slots = app.availability.slots(tenant.id, package.id, at(MONDAY, 0), at(MONDAY, 23))
    assert len(slots) == 8


@pytest.mark.postgres
@pytest.mark.redis
def test_on_postgresql_with_redis_the_feed_is_cached_in_redis(
    postgres_url: str, redis_url: str
) -> None:
    """On PostgreSQL, with one Redis cache shared by the app and its calendar (``connect(...,
    cache=...)``), searches read the feed once, and a second process's calendar (its own Redis
    client) finds the expanded months there and does not fetch at all."""
    from booking_core.adapters.cache import cache_from_url

    with scratch_database(postgres_url, "bc_ics") as url:

        def factory(calendar: IcsCalendar, cache: CachePort | None) -> BookingApp:
            return connect(
                url, cache=cache, calendar=calendar, clock=ManualClock(NOW), create_schema=True
            )

        shop = _shop(factory, cache=cache_from_url(redis_url))
        elsewhere = cache_from_url(redis_url)
        try:
            for _ in range(3):
                assert _whose(_day(shop, MONDAY), shop.adviser) == [9, 12, 13, 14, 15, 16]
            assert len(shop.feeds.fetches) == 1
            second = IcsCalendar(shop.feeds, cache=elsewhere, timeout=2.5)
            window = Interval(at(MONDAY, 0), at(MONDAY, 23))
            seen = second.busy_intervals(shop.tenant.id, [shop.adviser.id], window)
            assert seen.intervals[shop.adviser.id] == (
                Interval(at(MONDAY, 10), at(MONDAY, 11, 30)),
            )
            assert len(shop.feeds.fetches) == 1
        finally:
            shop.calendar.forget(shop.tenant.id)
            elsewhere.close()
            shop.app.close()


@pytest.mark.parametrize("fail", list(FailMode))
def test_date_answers_say_when_the_tenant_calendar_could_not_be_read(fail: FailMode) -> None:
    """An unreadable tenant feed flags every date answer ``calendar_unreadable``: fail closed,
    each reads ``calendar``; fail open, each stays available. A readable feed flags none."""
    shop = _shop(_memory, cached=True)
    shop.feeds.fail = fail
    shop.feeds.documents[shop.tenant.id, None] = OSError("unreachable")
    first, last = dt.date(2030, 6, 24), dt.date(2030, 6, 26)
    dates = shop.app.availability.calendar(shop.tenant.id, first, last)
    assert {d.calendar_unreadable for d in dates} == {True}
    expected = {"calendar"} if fail is FailMode.CLOSED else {None}
    assert {d.reason for d in dates} == expected
    shop.feeds.documents[shop.tenant.id, None] = WEEKLY_MEETING
    shop.calendar.forget(shop.tenant.id)
    dates = shop.app.availability.calendar(shop.tenant.id, first, last)
    assert {d.calendar_unreadable for d in dates} == {False}
    assert [d.date for d in dates if d.reason == "calendar"] == []  # 24 June was cancelled
