"""IcsCalendar: the calendar port answered from ICS documents (a feed per resource or tenant).

A slot search asks the port once; the port answers from the cache, so a search never fetches or
parses while the entries live. On a miss it fetches each feed once (through the host's fetcher,
with a timeout), expands the UTC months asked and caches one entry per feed and month, for
``ttl`` seconds (a failure for ``failure_ttl``). A feed that cannot be fetched or read is
answered by its tenant's choice: ``FailMode.CLOSED`` marks the whole window busy, ``OPEN``
marks nothing busy; either way the resource is named in ``BusyIntervals.unreadable``, the
error is kept (:meth:`IcsCalendar.failures`) and logged by the feed's name, never raised.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from booking_core.calendar._ics_in import read_busy
from booking_core.domain.schedule import Interval, epoch_micros, months_between
from booking_core.errors import CalendarFeedError, ValidationError
from booking_core.limits import MAX_ICS_BYTES
from booking_core.ports.cache import JSON, CachePort
from booking_core.ports.cache_guard import guarded
from booking_core.ports.calendar import NOTHING_BUSY, BusyDates, BusyIntervals

__all__ = ["FailMode", "IcsCalendar", "IcsFeed"]

log = logging.getLogger("booking_core.calendar")

_NAMESPACE = "ics"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
#: How many Intervals a calendar keeps for reuse (about 6 MB), forgotten all at once beyond.
_KNOWN_INTERVALS = 20_000


class FailMode(enum.StrEnum):
    """What a feed that cannot be read means for its resource's time."""

    #: Treat the window as busy: nothing is offered that the calendar might contradict.
    CLOSED = "closed"
    #: Treat the window as free: bookings go on, the calendar is ignored until it reads again.
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class IcsFeed:
    """One external calendar in iCalendar form.

    ``name`` identifies the feed in logs and errors: never put a URL or token in it. Give
    either ``document`` (bytes the host already fetched) or ``fetch`` (called with a timeout in
    seconds, returns the document's bytes). ``zone`` is where all-day events and floating
    times are read: the resource's (or the tenant's) IANA zone.
    """

    name: str
    zone: str
    fetch: Callable[[float], bytes] | None = None
    document: bytes | None = None
    fail: FailMode = FailMode.CLOSED

    def __post_init__(self) -> None:
        if (self.fetch is None) == (self.document is None):
            raise ValidationError("fetch", "give exactly one of fetch and document")
        try:
            zoneinfo.ZoneInfo(self.zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValidationError("zone", "must be an IANA time zone") from error
        if not isinstance(self.fail, FailMode):
            raise ValidationError("fail", "must be a FailMode")


#: Where the feeds are: ``(tenant_id, resource_id)`` to a feed, ``resource_id`` None for the
#: tenant's own calendar (date packages). A mapping, or a function answering the same.
FeedSource = (
    Mapping[tuple[uuid.UUID, uuid.UUID | None], IcsFeed]
    | Callable[[uuid.UUID, uuid.UUID | None], IcsFeed | None]
)


class IcsCalendar:
    """A :class:`~booking_core.ports.calendar.CalendarPort` reading ICS feeds.

    Args:
        feeds: which feed belongs to which resource (or tenant); see :data:`FeedSource`.
        cache: where expanded months are kept (the app's cache; tenant-scoped like every
            entry). None reads every feed on every question: for scripts and tests only.
        ttl: seconds an expanded month stays cached.
        failure_ttl: seconds a failure stays cached (the feed is not asked again before).
        timeout: seconds handed to a feed's ``fetch``.
    """

    def __init__(
        self,
        feeds: FeedSource,
        *,
        cache: CachePort | None,
        ttl: float = 300.0,
        failure_ttl: float = 60.0,
        timeout: float = 10.0,
    ) -> None:
        for field, value in (("ttl", ttl), ("failure_ttl", failure_ttl), ("timeout", timeout)):
            if not isinstance(value, int | float) or not 0 < value <= 86_400:
                raise ValidationError(field, "must be seconds in (0, 86400]")
        self._feeds = feeds
        # behind the services' guard: a cache failure reads as a miss, never as an error
        self._cache = None if cache is None else guarded(cache)
        self._ttl = float(ttl)
        self._failure_ttl = float(failure_ttl)
        self._timeout = float(timeout)
        self._lock = threading.Lock()
        self._failures: dict[tuple[uuid.UUID, uuid.UUID | None], CalendarFeedError] = {}
        # the Interval of each (start, end) this calendar answered, in epoch microseconds: a
        # cached search answers the same stretches again and again, and making an Interval
        # and its two datetimes costs several times finding it (values: safe to share)
        self._known: dict[tuple[int, int], Interval] = {}

    # --- the port -------------------------------------------------------------------------

    def busy_intervals(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> BusyIntervals:
        owned: dict[uuid.UUID | None, IcsFeed] = {}
        for resource_id in resource_ids:
            feed = self._feed(tenant_id, resource_id)
            if feed is not None:
                owned[resource_id] = feed
        if not owned:
            return NOTHING_BUSY
        months = months_between(window)
        entries = self._entries(tenant_id, owned, months)
        intervals: dict[uuid.UUID, tuple[Interval, ...]] = {}
        unreadable: set[uuid.UUID] = set()
        low, high = epoch_micros(window.start), epoch_micros(window.end)
        for owner, feed in owned.items():
            assert owner is not None  # every owner here is a resource
            resource_id = owner
            spans: list[Sequence[int]] = []
            closed = False
            for month in months:
                entry = entries[resource_id, month]
                if entry.error is not None:
                    unreadable.add(resource_id)
                    if feed.fail is FailMode.CLOSED:
                        closed = True
                        break
                    continue
                spans += entry.busy
            if closed:
                intervals[resource_id] = (window,)
                continue
            stretches = _stretches(spans, low, high, self._known)
            if stretches:
                intervals[resource_id] = stretches
        return BusyIntervals(intervals, frozenset(unreadable))

    def busy_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> set[dt.date]:
        """The tenant's dates its own feed (``resource_id`` None) reports busy: a date is busy
        when any busy stretch overlaps it in the feed's zone. An unreadable feed makes every
        date busy (fail closed) or none (fail open)."""
        feed = self._feed(tenant_id, None)
        if feed is None or end < start:
            return set()
        zone = zoneinfo.ZoneInfo(feed.zone)
        first = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
        last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
        window = Interval(first, last.astimezone(dt.UTC))
        months = months_between(window)
        entries = self._entries(tenant_id, {None: feed}, months)
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        if any(entries[None, month].error is not None for month in months):
            closed = days if feed.fail is FailMode.CLOSED else ()
            return BusyDates(closed, unreadable=True)
        busy: set[dt.date] = set()
        for month in months:
            for lo, hi in entries[None, month].busy:
                local_start = _instant(lo).astimezone(zone).date()
                local_end = (_instant(hi) - _MICROSECOND).astimezone(zone).date()
                day = max(local_start, start)
                while day <= min(local_end, end):
                    busy.add(day)
                    day += dt.timedelta(days=1)
        return busy

    def forget(self, tenant_id: uuid.UUID) -> None:
        """Drop the tenant's cached months (after a feed changed): the next question reads
        every feed again."""
        if self._cache is not None:
            self._cache.invalidate_namespace(tenant_id, _NAMESPACE)

    def failures(self) -> dict[tuple[uuid.UUID, uuid.UUID | None], CalendarFeedError]:
        """The last error of each feed that failed in this process (cleared when it reads)."""
        with self._lock:
            return dict(self._failures)

    # --- feeds, months and the cache --------------------------------------------------------

    def _feed(self, tenant_id: uuid.UUID, resource_id: uuid.UUID | None) -> IcsFeed | None:
        feeds = self._feeds
        if callable(feeds):
            return feeds(tenant_id, resource_id)
        return feeds.get((tenant_id, resource_id))

    def _entries(
        self,
        tenant_id: uuid.UUID,
        owned: Mapping[uuid.UUID | None, IcsFeed],
        months: Sequence[tuple[int, int]],
    ) -> dict[tuple[uuid.UUID | None, tuple[int, int]], _Month]:
        """Every (owner, month) entry: from the cache in one read, the misses fetched and
        expanded once per feed."""
        keys = {(owner, month): _key(owner, month) for owner in owned for month in months}
        found: dict[tuple[uuid.UUID | None, tuple[int, int]], _Month] = {}
        if self._cache is not None:
            lookups = self._cache.get_many(tenant_id, _NAMESPACE, keys.values())
            for pair, key in keys.items():
                lookup = lookups[key]
                entry = _Month.decode(lookup.value) if lookup.hit else None
                if entry is not None:
                    found[pair] = entry
        missing: dict[uuid.UUID | None, list[tuple[int, int]]] = {}
        for owner, month in keys:
            if (owner, month) not in found:
                missing.setdefault(owner, []).append(month)
        for owner, asked in missing.items():
            for month, entry in self._expand(tenant_id, owner, owned[owner], asked).items():
                found[owner, month] = entry
                if self._cache is not None:
                    ttl = self._ttl if entry.error is None else self._failure_ttl
                    key = keys[owner, month]
                    self._cache.set(tenant_id, _NAMESPACE, key, entry.encode(), ttl=ttl)
        return found

    def _expand(
        self,
        tenant_id: uuid.UUID,
        owner: uuid.UUID | None,
        feed: IcsFeed,
        months: Sequence[tuple[int, int]],
    ) -> dict[tuple[int, int], _Month]:
        """Fetch and read the feed once, over the months asked, split by month."""
        first, last = min(months), max(months)
        span = Interval(_month_start(*first), _month_start(*_next(last)))
        try:
            document = self._document(feed)
            read = read_busy(
                document,
                start=span.start,
                end=span.end,
                zone=zoneinfo.ZoneInfo(feed.zone),
                feed=feed.name,
            )
        except CalendarFeedError as error:
            self._record(tenant_id, owner, feed, error)
            return {month: _Month((), error.reason) for month in months}
        with self._lock:
            self._failures.pop((tenant_id, owner), None)
        if read.skipped:
            log.warning(
                "calendar feed %r: %d event(s) could not be read and are left out",
                feed.name,
                len(read.skipped),
            )
        spans = [(epoch_micros(i.start), epoch_micros(i.end)) for i in read.intervals]
        result = {}
        for month in months:
            low = epoch_micros(_month_start(*month))
            high = epoch_micros(_month_start(*_next(month)))
            result[month] = _Month(
                tuple((max(lo, low), min(hi, high)) for lo, hi in spans if lo < high and hi > low),
                None,
            )
        return result

    def _document(self, feed: IcsFeed) -> bytes:
        """The feed's bytes; a fetcher's failure as CalendarFeedError (its message, which may
        name a URL, is left out: only the exception's type is kept)."""
        if feed.document is not None:
            return feed.document
        assert feed.fetch is not None  # __post_init__: exactly one of the two
        try:
            document = feed.fetch(self._timeout)
        except TimeoutError as error:
            raise CalendarFeedError(feed.name, "timeout") from error
        except Exception as error:  # the host's fetcher: any failure is the feed's
            raise CalendarFeedError(feed.name, "fetch", type(error).__name__) from error
        if not isinstance(document, bytes | bytearray):
            raise CalendarFeedError(feed.name, "fetch", "the fetcher returned no bytes")
        if len(document) > MAX_ICS_BYTES:
            raise CalendarFeedError(feed.name, "too_large", f"more than {MAX_ICS_BYTES} bytes")
        return bytes(document)

    def _record(
        self,
        tenant_id: uuid.UUID,
        owner: uuid.UUID | None,
        feed: IcsFeed,
        error: CalendarFeedError,
    ) -> None:
        with self._lock:
            self._failures[tenant_id, owner] = error
        log.warning(
            "calendar feed %r could not be read (%s); failing %s",
            feed.name,
            error.reason,
            feed.fail,
        )


@dataclass(frozen=True, slots=True)
class _Month:
    """One feed's busy stretches in one UTC month (epoch microseconds), or why it failed."""

    #: ``(start, end)`` pairs in start order: tuples, or the lists a cached entry decoded to.
    busy: Sequence[Sequence[int]]
    error: str | None

    def encode(self) -> JSON:
        return {"busy": [[lo, hi] for lo, hi in self.busy], "error": self.error}

    @staticmethod
    def decode(value: JSON) -> _Month | None:
        """The entry, or None for a value of another shape (read as a miss)."""
        if not isinstance(value, dict):
            return None
        busy, error = value.get("busy"), value.get("error")
        if not isinstance(busy, list) or not (error is None or isinstance(error, str)):
            return None
        # the hot path of a cached search (every resource and month): the decoded lists are
        # kept, only checked; of JSON values only a list unpacks to two ints (a string or an
        # object of two items gives strings)
        try:
            for lo, hi in cast("list[list[JSON]]", busy):
                if not isinstance(lo, int) or not isinstance(hi, int):
                    return None
        except (TypeError, ValueError):
            return None
        return _Month(cast("list[list[int]]", busy), error)


def _key(owner: uuid.UUID | None, month: tuple[int, int]) -> str:
    who = "tenant" if owner is None else owner.hex
    return f"{who}.{month[0]:04d}{month[1]:02d}"


def _month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _next(month: tuple[int, int]) -> tuple[int, int]:
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def _instant(micros: int) -> dt.datetime:
    return _EPOCH + micros * _MICROSECOND


def _stretches(
    spans: Sequence[Sequence[int]], low: int, high: int, known: dict[tuple[int, int], Interval]
) -> tuple[Interval, ...]:
    """The ``(start, end)`` spans merged where they overlap or touch, clipped to ``[low,
    high)``: an Interval for each merged stretch the window keeps (clipping after merging keeps
    the same stretches as clipping first), taken from ``known`` when it was made before. The
    months come in order, each sorted, so one pass merges them; spans out of order (an entry
    another writer made) are sorted first."""
    found: list[Interval] = []
    run_lo = run_hi = None
    for lo, hi in spans:
        if run_lo is None or run_hi is None:
            run_lo, run_hi = lo, hi
        elif lo < run_lo:
            return _stretches(sorted([(lo, hi) for lo, hi in spans]), low, high, known)
        elif lo <= run_hi:
            run_hi = max(run_hi, hi)
        else:
            if run_hi > low and run_lo < high:
                found.append(_interval(max(run_lo, low), min(run_hi, high), known))
            run_lo, run_hi = lo, hi
    if run_lo is not None and run_hi is not None and run_hi > low and run_lo < high:
        found.append(_interval(max(run_lo, low), min(run_hi, high), known))
    return tuple(found)


def _interval(start: int, end: int, known: dict[tuple[int, int], Interval]) -> Interval:
    """The Interval ``[start, end)`` (epoch microseconds), reused from ``known``, where a new
    one is kept."""
    found = known.get((start, end))
    if found is None:
        if len(known) >= _KNOWN_INTERVALS:
            known.clear()
        found = known[start, end] = Interval(_instant(start), _instant(end))
    return found
