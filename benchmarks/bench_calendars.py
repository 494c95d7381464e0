"""External calendars (issue 16, section 5): busy time read from an ICS document.

    .venv/bin/python benchmarks/bench_calendars.py [--quick] [--parts 1]

1. Import and expand a busy calendar: 1,000 events, 200 of them recurring weekly, over a
   62-day window. ``booking_core.calendar._ics_in.read_busy`` (parse, X-WR-TIMEZONE, bounding
   the rules, expansion, the mapping to merged UTC intervals) against recurring-ical-events
   alone, ``of(Calendar.from_ical(doc)).between(start, end)`` (parse included on both sides),
   interleaved rounds, medians. The goal: at most 1.2x recurring-ical-events alone.

Each part is a ``bench_*`` function returning rows and a ``report_*`` one printing them; a
part 2 (a slot search with a cached external calendar against none) slots in beside part 1
in :data:`PARTS`. No database is needed. ``--quick`` runs a few rounds (a few seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from _common import interleaved_rounds, median, print_table

import booking_core
from booking_core.calendar._ics_in import read_busy

PARIS = ZoneInfo("Europe/Paris")
#: The 62-day window: local midnights in Paris, across the October DST change.
WINDOW_START = dt.datetime(2030, 9, 1, tzinfo=PARIS)
WINDOW_END = WINDOW_START + dt.timedelta(days=62)
EVENTS = 1_000
RECURRING = 200
#: What part 1 reports ours against: recurring-ical-events alone times this.
IMPORT_GOAL = 1.2


@dataclass(frozen=True)
class Sizes:
    import_rounds: int
    imports_per_round: int
    warmup: int


FULL = Sizes(import_rounds=11, imports_per_round=5, warmup=2)
QUICK = Sizes(import_rounds=3, imports_per_round=2, warmup=1)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def progress(message: str) -> None:
    print(f"... {message} ({load()})", file=sys.stderr, flush=True)


# --- the busy calendar -------------------------------------------------------------------------

_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def busy_calendar(seed: int = 16) -> bytes:
    """A calendar as a busy person's export looks: 800 single events over the four months
    around the window (a tenth all-day, a tenth transparent) and 200 weekly series that began
    up to a year before it (some with an UNTIL or a COUNT, some with an EXDATE or an edited
    occurrence), times in Europe/Paris with its VTIMEZONE."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//booking_core//bench//EN", _VTIMEZONE]
    stamp = "DTSTAMP:20300101T000000Z"
    first_day = (WINDOW_START - dt.timedelta(days=30)).date()
    for n in range(EVENTS - RECURRING):
        day = first_day + dt.timedelta(days=rng.randrange(122))
        lines += ["BEGIN:VEVENT", f"UID:single-{n}@bench", stamp, f"SUMMARY:Meeting {n}"]
        if n % 10 == 0:
            lines += [
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
            ]
        else:
            begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 19), rng.choice((0, 30))))
            finish = begin + dt.timedelta(minutes=rng.choice((30, 60, 90)))
            lines += [
                f"DTSTART;TZID=Europe/Paris:{begin:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Europe/Paris:{finish:%Y%m%dT%H%M%S}",
            ]
        if n % 10 == 5:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    for n in range(RECURRING):
        day = WINDOW_START.date() - dt.timedelta(days=rng.randrange(7, 365))
        begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 19)))
        rule = "FREQ=WEEKLY"
        if n % 5 == 1:
            rule += f";UNTIL={(WINDOW_END + dt.timedelta(days=60)):%Y%m%dT000000Z}"
        elif n % 5 == 2:
            rule += ";COUNT=60"
        uid = f"weekly-{n}@bench"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            stamp,
            f"SUMMARY:Weekly {n}",
            f"DTSTART;TZID=Europe/Paris:{begin:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Paris:{begin + dt.timedelta(hours=1):%Y%m%dT%H%M%S}",
            f"RRULE:{rule}",
        ]
        weeks_in = (WINDOW_START.date() - day).days // 7 + 2
        moved = begin + dt.timedelta(weeks=weeks_in)
        if n % 4 == 0:
            lines.append(f"EXDATE;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}")
        lines.append("END:VEVENT")
        if n % 4 == 1:
            later = moved + dt.timedelta(hours=2)
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                stamp,
                f"RECURRENCE-ID;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}",
                f"DTSTART;TZID=Europe/Paris:{later:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Europe/Paris:{later + dt.timedelta(hours=1):%Y%m%dT%H%M%S}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- 1. import and expand ----------------------------------------------------------------------


def ours(document: bytes) -> Callable[[], object]:
    def run() -> object:
        return read_busy(
            document, start=WINDOW_START, end=WINDOW_END, zone=PARIS, feed="bench"
        ).intervals

    return run


def library_alone(document: bytes) -> Callable[[], object]:
    def run() -> object:
        calendar = icalendar.Calendar.from_ical(document)
        return recurring_ical_events.of(calendar).between(WINDOW_START, WINDOW_END)

    return run


def bench_import(sizes: Sizes) -> list[list[str]]:
    document = busy_calendar()
    occurrences = len(library_alone(document)())
    busy = read_busy(document, start=WINDOW_START, end=WINDOW_END, zone=PARIS, feed="bench")
    sides = {
        "recurring-ical-events alone": library_alone(document),
        "booking_core read_busy": ours(document),
    }
    times = interleaved_rounds(
        sides,
        rounds=sizes.import_rounds,
        ops_per_round=sizes.imports_per_round,
        warmup=sizes.warmup,
    )
    base = median(times["recurring-ical-events alone"].op_seconds)
    mine = median(times["booking_core read_busy"].op_seconds)
    ratio = mine / base
    verdict = "meets" if ratio <= IMPORT_GOAL else "MISSES"
    print(
        f"   document {len(document):,} bytes; {occurrences:,} occurrences in the window"
        f" (recurring-ical-events), {len(busy.intervals):,} merged busy intervals (ours)"
    )
    return [
        ["recurring-ical-events alone", f"{base * 1000:.1f} ms", "1.00x", ""],
        [
            "booking_core read_busy",
            f"{mine * 1000:.1f} ms",
            f"{ratio:.2f}x",
            f"{verdict} <= {IMPORT_GOAL}x",
        ],
    ]


def report_import(rows: list[list[str]], sizes: Sizes) -> None:
    print_table(
        f"1. Import and expand: {EVENTS:,} events ({RECURRING} weekly series), 62-day window;"
        f" median of {sizes.import_rounds} x {sizes.imports_per_round} imports, interleaved",
        ["side", "per import", "ratio", "goal"],
        rows,
    )


#: The parts by number: what runs them and what prints them.
PARTS: dict[str, tuple[Callable[[Sizes], list[list[str]]], Callable[..., None]]] = {
    "1": (bench_import, report_import),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds (seconds)")
    parser.add_argument("--parts", default="".join(PARTS), help="which parts, e.g. 1")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    started = time.perf_counter()
    print(f"bench_calendars ({mode} run), {dt.datetime.now():%Y-%m-%d %H:%M}, {load()} at start")
    print(f"booking_core {booking_core.__file__}")
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("icalendar", "recurring-ical-events", "x-wr-timezone", "python-dateutil")
    )
    print(f"Python {platform.python_version()}, {versions}, {os.cpu_count()} CPUs")
    for number, (bench, report) in PARTS.items():
        if number in args.parts:
            progress(f"part {number}")
            rows = bench(sizes)
            print(f"\n[{load()}]")
            report(rows, sizes)
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s, {load()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
