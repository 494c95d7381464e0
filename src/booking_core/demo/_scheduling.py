"""Sections 9 to 11: time slots. A studio's week as a grid built from ``availability.slots``, a
night crew's hours on London's spring-forward day (3 real hours, no start from 01:00 to 01:59),
and threads holding overlapping intervals of one studio at once (exactly one wins)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from booking_core.bootstrap import BookingApp
from booking_core.demo._format import day, format_table, short
from booking_core.domain.model import (
    Booking,
    CustomerDetails,
    Package,
    PackageSchedule,
    Resource,
    Slot,
    Tenant,
)
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import BookingConflictError, BookingCoreError, TimeUnavailableError

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour

LONDON_ZONE = "Europe/London"
LONDON = ZoneInfo(LONDON_ZONE)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

#: Studio 1's hours: weekdays 09:00-17:00, Saturday 10:00-14:00, closed on Sunday.
STUDIO_HOURS = WorkingHours(
    weekly=(
        *(WeeklyHours(weekday, dt.time(9), dt.time(17)) for weekday in range(5)),
        WeeklyHours(5, dt.time(10), dt.time(14)),
    )
)
#: The night-sky crew works 00:00-04:00 every night, London wall-clock time.
NIGHT_HOURS = WorkingHours(
    weekly=tuple(WeeklyHours(weekday, dt.time(0), dt.time(4)) for weekday in range(7))
)

#: One character per hourly start of the week grid.
FREE, TAKEN, CLOSED = ".", "#", "-"

#: Threads per interval of the race, and the intervals (minutes after 10:00, duration).
RACERS_PER_INTERVAL = 4
INTERVALS = ((0, 60), (30, 60), (59, 61))
INTERVAL_RACERS = RACERS_PER_INTERVAL * len(INTERVALS)
CONFLICT = "BookingConflictError"


@dataclass(frozen=True)
class Studio:
    """The scheduling sections' tenant: a London portrait studio selling time."""

    tenant: Tenant
    studio: Resource
    night_crew: Resource
    portrait: Package
    family: Package
    night_sky: Package
    #: Studio hire on a one-minute grid, by duration in minutes: any start from 09:00.
    hire: dict[int, Package]


def open_studio(app: BookingApp) -> Studio:
    """Soho Portrait Rooms: Studio 1 and a night-sky crew, with the packages that book them."""
    tenant = app.tenants.create(
        slug="soho-portraits",
        name="Soho Portrait Rooms",
        timezone=LONDON_ZONE,
        currency="GBP",
        commission_percent="10",
    )
    studio = app.catalog.create_resource(
        tenant.id, name="Studio 1", kind="room", timezone=LONDON_ZONE, hours=STUDIO_HOURS
    )
    crew = app.catalog.create_resource(
        tenant.id, name="Night-sky crew", kind="team", timezone=LONDON_ZONE, hours=NIGHT_HOURS
    )

    def timed(resource: Resource, slug: str, name: str, price: int, timing: SlotTiming) -> Package:
        schedule = PackageSchedule(timing, resource_ids=(resource.id,))
        return app.catalog.create_package(
            tenant.id, slug=slug, name=name, base_price=price, schedule=schedule
        )

    hire = {
        minutes: timed(
            studio,
            f"hire-{minutes}",
            f"Studio hire, {minutes} min",
            6_000 + 100 * (minutes - 60),
            SlotTiming(duration=minutes * MINUTE, slot_interval=MINUTE),
        )
        for minutes in sorted({duration for _, duration in INTERVALS})
    }
    return Studio(
        tenant,
        studio,
        crew,
        portrait=timed(studio, "portrait", "Portrait hour", 9_000, SlotTiming(duration=HOUR)),
        family=timed(
            studio,
            "family",
            "Family session",
            15_000,
            SlotTiming(duration=90 * MINUTE, buffer_after=30 * MINUTE, slot_interval=HOUR),
        ),
        night_sky=timed(
            crew,
            "night-sky",
            "Night-sky session",
            12_000,
            SlotTiming(duration=HOUR, horizon=dt.timedelta(days=400)),  # next year's changes
        ),
        hire=hire,
    )


def _local(moment: dt.datetime) -> str:
    """``"10:00"`` in London."""
    return f"{moment.astimezone(LONDON):%H:%M}"


def _labelled(moment: dt.datetime) -> str:
    """``"02:00 BST"``: London's wall clock with the zone's abbreviation."""
    local = moment.astimezone(LONDON)
    return f"{local:%H:%M} {local.tzname()}"


def _slots(app: BookingApp, s: Studio, package: Package, first: dt.date, days: int) -> list[Slot]:
    start = dt.datetime.combine(first, dt.time(0), tzinfo=LONDON)
    end = dt.datetime.combine(first + days * DAY, dt.time(0), tzinfo=LONDON)
    return app.availability.slots(s.tenant.id, package.id, start, end, tz=LONDON_ZONE)


# -- section 9: a week as a grid -----------------------------------------------------------------

#: The grid's holds: weekday, hour, package attribute, customer.
_WEEK_HOLDS = (
    (0, 10, "portrait", "Olivia Hughes"),
    (1, 13, "family", "Amara Okafor"),
    (3, 9, "portrait", "Tom Price"),
    (5, 11, "portrait", "Priya Shah"),
)
#: The cells those holds take: the family session's 30-minute buffer takes Tuesday 14:00 too.
_EXPECTED_TAKEN = {(0, 10), (1, 13), (1, 14), (3, 9), (5, 11)}


def _cells(slots: Iterable[Slot], monday: dt.date) -> set[tuple[int, int]]:
    """``(weekday, hour)`` of each start that falls on the hour in London."""
    cells = set()
    for slot in slots:
        local = slot.start.astimezone(LONDON)
        if local.minute == 0:
            cells.add(((local.date() - monday).days, local.hour))
    return cells


def _grid(monday: dt.date, opened: set[tuple[int, int]], free: set[tuple[int, int]]) -> str:
    hours = range(min(h for _, h in opened), max(h for _, h in opened) + 1)
    rows = []
    for offset in range(7):
        marks = [
            FREE if (offset, h) in free else TAKEN if (offset, h) in opened else CLOSED
            for h in hours
        ]
        rows.append([day(monday + offset * DAY), *marks])
    table = format_table(["Day", *(f"{h:02d}" for h in hours)], rows, "l" + "r" * len(hours))
    legend = (
        f"Legend: {FREE} free, {TAKEN} taken (a hold, its buffer included), "
        f"{CLOSED} closed (outside the hours, or time off)"
    )
    return f"{table}\n{legend}"


def week_grid(tour: Tour, s: Studio) -> None:
    """Section 9: time off and four holds, then the week of hourly starts, free or taken."""
    app, out, checks = tour.app, tour.out, tour.checks
    today = app.clock.now().astimezone(LONDON).date()
    monday = today + (7 - today.weekday()) * DAY  # next week's Monday, all of it ahead
    wednesday = monday + 2 * DAY
    app.catalog.add_time_off(
        s.tenant.id,
        s.studio.id,
        start=dt.datetime.combine(wednesday, dt.time(12), tzinfo=LONDON),
        end=dt.datetime.combine(wednesday, dt.time(14), tzinfo=LONDON),
    )
    opened = _cells(_slots(app, s, s.portrait, monday, 7), monday)
    holds: list[Booking] = []
    for weekday, hour, attribute, name in _WEEK_HOLDS:
        package: Package = getattr(s, attribute)
        start = dt.datetime.combine(monday + weekday * DAY, dt.time(hour), tzinfo=LONDON)
        email = f"{name.split()[0].lower()}@example.co.uk"
        holds.append(
            app.bookings.hold(
                s.tenant.id,
                package_id=package.id,
                start=start,
                customer=CustomerDetails(name, email),
            )
        )
    free = _cells(_slots(app, s, s.portrait, monday, 7), monday)

    out(f"{s.tenant.name} ({LONDON_ZONE}): {s.studio.name} opens Monday to Friday 09:00-17:00 and")
    out("Saturday 10:00-14:00, with time off on Wednesday 12:00-14:00. Four holds:")
    out()
    packages = {p.id: p for p in (s.portrait, s.family)}
    rows = []
    for booking in holds:
        assert booking.starts_at is not None
        assert booking.ends_at is not None
        timing = packages[booking.package_id].schedule
        assert timing is not None
        occupied_end = booking.ends_at + timing.timing.buffer_after
        rows.append(
            [
                short(booking.id),
                app.customers.get(s.tenant.id, booking.customer_id).name,
                packages[booking.package_id].name,
                day(booking.starts_at.astimezone(LONDON).date()),
                f"{_local(booking.starts_at)}-{_local(booking.ends_at)}",
                f"{_local(booking.starts_at)}-{_local(occupied_end)}",
            ]
        )
    out(format_table(["Hold", "Customer", "Package", "Day", "Service", "Occupied"], rows))
    out()
    out("The week from two calls of availability.slots (before and after the holds), one cell")
    out(f"per hourly start of {s.portrait.name}:")
    out()
    out(_grid(monday, opened, free))
    out()
    taken = opened - free
    out(f"{len(opened)} open starts this week: {len(free)} free, {len(taken)} taken by 4 holds.")
    tuesday_noon = (1, 12)
    if tuesday_noon in free:
        out("Tuesday 12:00 stays free: 12:00-13:00 touches the 13:00 hold, it does not overlap.")
    checks.expect(taken == _EXPECTED_TAKEN, "the week grid shows exactly the held starts taken")
    checks.expect(not {(2, 12), (2, 13)} & opened, "the time off closes Wednesday 12:00 and 13:00")
    checks.expect(tuesday_noon in free, "a start that only touches a hold stays free")
    checks.expect(not any(weekday == 6 for weekday, _ in opened), "Sunday has no starts")


# -- section 10: a DST day -----------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year + month // 12, month % 12 + 1, 1) - DAY
    return last - dt.timedelta(days=(last.weekday() - 6) % 7)


def next_change(after: dt.date, month: int) -> dt.date:
    """London's next clock change in ``month`` (3: spring forward, 10: fall back) after a date:
    the last Sunday of the month."""
    this_year = _last_sunday(after.year, month)
    return this_year if this_year > after else _last_sunday(after.year + 1, month)


def _real_hours(slots: Sequence[Slot]) -> float:
    """Elapsed hours from the first start to the last end (in UTC: two datetimes of one zone
    subtract as wall-clock times, which a clock change makes wrong)."""
    if not slots:
        return 0.0
    return (slots[-1].end.astimezone(dt.UTC) - slots[0].start.astimezone(dt.UTC)) / HOUR


def _instants(slots: Iterable[Slot]) -> set[dt.datetime]:
    """The starts in UTC (a repeated wall-clock time is two instants, though == says equal)."""
    return {slot.start.astimezone(dt.UTC) for slot in slots}


def _day_row(label: str, date: dt.date, slots: Sequence[Slot]) -> list[object]:
    starts = "  ".join(_labelled(slot.start) for slot in slots)
    return [f"{day(date)} {label}".rstrip(), starts, len(slots), f"{_real_hours(slots):g}"]


def dst_day(tour: Tour, s: Studio) -> None:
    """Section 10: hours 00:00-04:00 on an ordinary night, spring forward and fall back."""
    app, out, checks = tour.app, tour.out, tour.checks
    tomorrow = app.clock.now().astimezone(LONDON).date() + DAY
    spring = next_change(tomorrow, 3)  # so the night before it is ahead too
    autumn = next_change(tomorrow, 10)
    nights = [
        ("", spring - DAY),
        ("(spring forward)", spring),
        ("(fall back)", autumn),
    ]
    found = {date: _slots(app, s, s.night_sky, date, 1) for _, date in nights}
    out(
        f"{s.night_crew.name} works 00:00-04:00 on London's wall clock every night; "
        f"{s.night_sky.name}s"
    )
    out("last an hour. The starts availability.slots offers on three nights:")
    out()
    out(
        format_table(
            ["Night of", "Starts (London wall clock)", "Starts", "Real hours"],
            [_day_row(label, date, found[date]) for label, date in nights],
            "llrr",
        )
    )
    out()
    slots = found[spring]
    out(f"Spring forward, {day(spring)}: at 01:00 GMT the clocks jump to 02:00 BST.")
    out()
    out(
        format_table(
            ["Start (London)", "End (London)", "Start (UTC)"],
            [
                [
                    _labelled(slot.start),
                    _labelled(slot.end),
                    f"{slot.start.astimezone(dt.UTC):%H:%M}",
                ]
                for slot in slots
            ],
        )
    )
    out()
    real = _real_hours(slots)
    skipped = [slot for slot in slots if slot.start.astimezone(LONDON).hour == 1]
    out(
        f"{day(spring)}: {len(slots)} starts, {real:g} real hours; "
        f"{'no' if not skipped else len(skipped)} start between 01:00 and 01:59 "
        "(that hour does not exist)."
    )
    autumn_slots = found[autumn]
    repeated = [slot for slot in autumn_slots if slot.start.astimezone(LONDON).hour == 1]
    out(
        f"{day(autumn)}: {len(autumn_slots)} starts; 01:00 happens twice and is offered twice, "
        "as two different instants."
    )
    before = found[spring - DAY]
    checks.expect(len(before) == 4, "an ordinary night 00:00-04:00 has 4 hourly starts")
    checks.expect(
        all(len(_instants(found[date])) == len(found[date]) for _, date in nights),
        "no instant is offered twice",
    )
    checks.expect(len(slots) == 3, "the spring-forward night has 3 starts")
    checks.expect(real == 3, "the spring-forward night lasts 3 real hours")
    checks.expect(not skipped, "no start falls in the hour that does not exist")
    checks.expect(
        len(autumn_slots) == 5 and len(_instants(repeated)) == 2,
        "the fall-back night has 5 starts, two of them at 01:00",
    )


# -- section 11: a race on overlapping intervals ------------------------------------------------


@dataclass(frozen=True)
class IntervalAttempt:
    racer: int
    start: dt.datetime
    minutes: int
    outcome: str
    booking: Booking | None = None
    error: BaseException | None = None

    @property
    def interval(self) -> str:
        return f"{_local(self.start)}-{_local(self.start + self.minutes * MINUTE)}"


def race_intervals(app: BookingApp, s: Studio, day_: dt.date) -> list[IntervalAttempt]:
    """INTERVAL_RACERS threads wait on one barrier, then hold their interval of Studio 1."""
    barrier = threading.Barrier(INTERVAL_RACERS)
    results: list[IntervalAttempt] = []
    lock = threading.Lock()
    ten = dt.datetime.combine(day_, dt.time(10), tzinfo=LONDON)

    def racer(n: int) -> None:
        offset, minutes = INTERVALS[n % len(INTERVALS)]
        start = ten + offset * MINUTE
        customer = CustomerDetails(f"Renter {n:02d}", f"renter{n:02d}@example.co.uk")
        try:
            barrier.wait(timeout=30)
            booking = app.bookings.hold(
                s.tenant.id, package_id=s.hire[minutes].id, start=start, customer=customer
            )
            attempt = IntervalAttempt(n, start, minutes, "won the hold", booking=booking)
        except BookingConflictError as error:
            attempt = IntervalAttempt(n, start, minutes, CONFLICT, error=error)
        except TimeUnavailableError as error:
            outcome = f"TimeUnavailableError ({error.reason})"
            attempt = IntervalAttempt(n, start, minutes, outcome, error=error)
        except BookingCoreError as error:
            attempt = IntervalAttempt(n, start, minutes, type(error).__name__, error=error)
        except Exception as error:  # a raw driver error escaping would be a bug: show it
            outcome = f"unexpected {type(error).__name__}"
            attempt = IntervalAttempt(n, start, minutes, outcome, error=error)
        with lock:
            results.append(attempt)

    threads = [
        threading.Thread(target=racer, args=(n,), name=f"interval-racer-{n}")
        for n in range(1, INTERVAL_RACERS + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results, key=lambda a: a.racer)


def interval_race(tour: Tour, s: Studio) -> None:
    """Section 11: threads hold 10:00-11:00, 10:30-11:30 and 10:59-12:00 at once; one wins."""
    app, out, checks = tour.app, tour.out, tour.checks
    today = app.clock.now().astimezone(LONDON).date()
    friday = today + (11 - today.weekday()) * DAY  # next week's Friday: free in the grid
    began = time.perf_counter()
    attempts = race_intervals(app, s, friday)
    elapsed = time.perf_counter() - began
    by_interval: dict[str, Counter[str]] = {}
    for attempt in sorted(attempts, key=lambda a: a.start):
        by_interval.setdefault(attempt.interval, Counter())[attempt.outcome] += 1
    outcomes = sorted({a.outcome for a in attempts}, key=lambda o: (o != "won the hold", o))
    out(
        f"{s.studio.name} on {day(friday)} (capacity 1), {RACERS_PER_INTERVAL} threads per "
        "interval, all released by one barrier:"
    )
    out()
    rows = [
        [interval, *(tally[outcome] for outcome in outcomes)]
        for interval, tally in by_interval.items()
    ]
    out(format_table(["Interval", *outcomes], rows, "l" + "r" * len(outcomes)))
    out()
    winners = [a for a in attempts if a.booking is not None]
    conflicts = sum(1 for a in attempts if a.outcome == CONFLICT)
    out(
        f"{len(attempts)} interval holds in {elapsed:.2f} s: winners: {len(winners)}, "
        f"conflicts: {conflicts}"
    )
    checks.expect(
        len(attempts) == INTERVAL_RACERS, f"all {INTERVAL_RACERS} interval racers finished"
    )
    checks.expect(len(winners) == 1, "exactly one overlapping interval won")
    checks.expect(
        conflicts == INTERVAL_RACERS - 1,
        f"{INTERVAL_RACERS - 1} interval racers got BookingConflictError",
    )
    if len(winners) != 1:
        return
    winner = winners[0]
    booking = winner.booking
    assert booking is not None
    out()
    out(
        f"Winner: Renter {winner.racer:02d}, {winner.interval} ({s.hire[winner.minutes].name}), "
        f"holding it until {booking.expires_at:%H:%M:%S} UTC."
    )
    loser = next((a for a in attempts if a.error is not None), None)
    if loser is not None:
        error = f'{type(loser.error).__name__}("{loser.error}")'
        out(f"A loser, Renter {loser.racer:02d} ({loser.interval}), got {error}")
    starts = ", ".join(sorted({_local(a.start) for a in attempts}))
    out(
        f"The starts differ ({starts}): a unique key on the start time would have let all "
        f"{len(INTERVALS)} in."
    )
    out("The claim compares intervals, so the database refuses any overlap.")
    offered = {
        slot.start
        for minutes, package in s.hire.items()
        for slot in _slots(app, s, package, friday, 1)
        if any(a.minutes == minutes and a.start == slot.start for a in attempts)
    }
    checks.expect(not offered, "no raced interval is offered any more")
