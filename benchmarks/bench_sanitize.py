"""Benchmark: sanitize_html against nh3 itself, and sanitize_object on a booking request body.

Run with ``.venv/bin/python benchmarks/bench_sanitize.py``. The contenders run in interleaved
rounds (A, B, A, B, …) so drift in CPU frequency or load hits them equally; each cell is the
median per-call time over the rounds. The goal for sanitize_html is at most 1.2x the cost of
calling nh3 directly with the same configuration.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import nh3

from booking_core.sanitize import (
    DEFAULT_ALLOWED_ATTRIBUTES,
    DEFAULT_ALLOWED_TAGS,
    sanitize_html,
    sanitize_object,
    sanitize_phone,
)
from booking_core.sanitize._html import (
    _DROP_CONTENT_OF,
    LINK_SCHEMES,
    _filter_relative_url,
)

ROUNDS = 15
GOAL = 1.2

NH3_CONFIG: dict[str, Any] = {
    "tags": set(DEFAULT_ALLOWED_TAGS),
    "clean_content_tags": set(_DROP_CONTENT_OF),
    "attributes": {tag: set(names) for tag, names in DEFAULT_ALLOWED_ATTRIBUTES.items()},
    "url_schemes": set(LINK_SCHEMES),
    "url_relative": _filter_relative_url,
    "link_rel": "noopener noreferrer",
}
NH3_CLEANER = nh3.Cleaner(**NH3_CONFIG)

SHORT = "<p>Lovely venue, <b>great</b> staff! <a href='https://example.com'>site</a></p>"
DESCRIPTION = (
    "<h2>Wedding Deluxe</h2><p>Our <strong>all-day</strong> package includes:</p><ul>"
    + "".join(
        f"<li>Item {i} with <em>details</em> and a <a href='/x/{i}'>link</a></li>"
        for i in range(40)
    )
    + "</ul><script>alert(1)</script><img src=x onerror=alert(1)><p style='x'>Thanks!</p>"
)
HOSTILE = "<svg><g onload=alert(1)>" * 50 + "<a href='java&#1;script:alert(1)'>x</a>" * 50

BOOKING_BODY: dict[str, Any] = {
    "customer": {
        "name": "  Siobhán O'Brien <b>&</b> Co ",
        "email": "Siobhan.OBrien@Example.IE",
        "phone": "+353 1 234 5678",
    },
    "package": "wedding-deluxe",
    "date": "2026-06-20",
    "guests": 120,
    "notes": "<p>Please call <b>after 6pm</b>.<script>alert(1)</script></p>",
    "addons": [
        {"name": "Photo booth", "qty": 1},
        {"name": "Late bar <i>(2h)</i>", "qty": 2},
        {"name": "Vegan menu", "qty": 30},
    ],
    "website": "https://obrien.example/",
}
BOOKING_RULES: dict[str, Any] = {
    "name": "text",
    "email": "email",
    "phone": functools.partial(sanitize_phone, default_region="IE"),
    "package": "slug",
    "notes": "html",
    "addons.*.name": "text",
    "website": "url",
}


def per_call(fn: Callable[[], object], *, min_time: float = 0.02) -> float:
    """Seconds per call of ``fn``: calls are batched until a batch takes ``min_time``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / number
        number *= 2


def interleaved(contenders: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median seconds per call of each contender over ROUNDS interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm up caches and lazy initialization
        fn()
    for _ in range(ROUNDS):
        for name, fn in contenders.items():
            samples[name].append(per_call(fn))
    return {name: statistics.median(values) for name, values in samples.items()}


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:10.2f} µs"


def main() -> int:
    rows: list[tuple[str, ...]] = []
    worst = 0.0
    for label, html in (("short", SHORT), ("description", DESCRIPTION), ("hostile", HOSTILE)):
        assert sanitize_html(html) == nh3.clean(html, **NH3_CONFIG)
        result = interleaved(
            {
                "nh3.clean": lambda html=html: nh3.clean(html, **NH3_CONFIG),
                "nh3.Cleaner": lambda html=html: NH3_CLEANER.clean(html),
                "sanitize_html": lambda html=html: sanitize_html(html),
            }
        )
        ratio = result["sanitize_html"] / result["nh3.clean"]
        worst = max(worst, ratio)
        rows.append(
            (
                f"{label} ({len(html)} chars)",
                fmt(result["nh3.clean"]),
                fmt(result["nh3.Cleaner"]),
                fmt(result["sanitize_html"]),
                f"{ratio:5.2f}x",
                f"{result['sanitize_html'] / result['nh3.Cleaner']:5.2f}x",
            )
        )
    headers = ("input", "nh3.clean", "nh3.Cleaner", "sanitize_html", "ratio", "vs Cleaner")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(f"sanitize_html vs nh3, same config (median of {ROUNDS} interleaved rounds)")
    print("ratio = sanitize_html / nh3.clean; vs Cleaner = sanitize_html / prebuilt nh3.Cleaner")
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    print()

    obj = interleaved({"sanitize_object": lambda: sanitize_object(BOOKING_BODY, BOOKING_RULES)})
    print("sanitize_object on a booking request body (name, email, phone, slug, notes, 3 add-ons)")
    print(f"{'sanitize_object':<16}{fmt(obj['sanitize_object'])} per body")
    print()
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"goal sanitize_html <= {GOAL}x nh3.clean: {verdict} (worst {worst:.2f}x)")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
