"""Benchmark: each sanitizer's cost against input length, on adversarial patterns.

Run with ``.venv/bin/python benchmarks/bench_sanitize_linear.py`` (``--quick``: sizes up to 100k,
three rounds). For every pattern ("<" * n, "&" * n, nested tags, runs of combining marks, ...)
the sizes 1k, 10k, 100k and 1M characters run in interleaved rounds (the order reverses every
other round, so drift in CPU frequency or load hits every size alike); each cell is the median
per-call time over the rounds.

Linear cost shows as a ratio t(10n)/t(n) near 10 (below 10 where a fixed cost still dominates);
quadratic cost shows as near 100. The slope is a least-squares fit of time against length, in
nanoseconds per input character, over the sizes that took the same path as the largest (the
same result, or the same error message), or, when the largest was refused early, over those
that took the smallest's path: for a sanitizer with an input cap, that is the cost below the
cap. The last column says what happened at the largest size.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from _common import median, print_table

from booking_core.errors import ValidationError
from booking_core.sanitize import (
    sanitize_email,
    sanitize_html,
    sanitize_object,
    sanitize_phone,
    sanitize_plain_text,
    sanitize_slug,
    sanitize_url,
    slugify,
)

SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = SIZES[:3]
ROUNDS = 5
QUICK_ROUNDS = 3
MIN_BATCH_SECONDS = 0.02
#: A step t(10n)/t(n) above this, between two sizes that took the same path, is superlinear.
LINEAR_RATIO_LIMIT = 20.0


def rep(unit: str) -> Callable[[int], str]:
    """A maker of ``unit`` repeated to ``n`` characters."""
    return lambda n: unit * (n // len(unit))


def after(prefix: str, unit: str) -> Callable[[int], str]:
    """A maker of ``prefix`` followed by ``unit`` repeated to ``n`` characters in all."""
    return lambda n: prefix + unit * ((n - len(prefix)) // len(unit))


def before(unit: str, suffix: str) -> Callable[[int], str]:
    """A maker of ``unit`` repeated, then ``suffix``, ``n`` characters in all."""
    return lambda n: unit * ((n - len(suffix)) // len(unit)) + suffix


def in_object(make: Callable[[int], str]) -> Callable[[int], dict[str, str]]:
    """A maker of a one-field request body holding ``make(n)``."""
    return lambda n: {"n": make(n)}


@dataclass(frozen=True)
class Case:
    """One sanitizer on one adversarial pattern."""

    sanitizer: str
    pattern: str
    call: Callable[[Any], object]
    make: Callable[[int], Any]


def _object(rules: dict[str, Any]) -> Callable[[Any], object]:
    return lambda data: sanitize_object(data, rules, max_total_chars=10_000_000)


TEXT = sanitize_plain_text
LINES = functools.partial(sanitize_plain_text, multiline=True)
NAME = functools.partial(sanitize_plain_text, max_length=200)

CASES = [
    Case("text", '"<" * n', TEXT, rep("<")),
    Case("text", '"<a" * n', TEXT, rep("<a")),
    Case("text", '"<a>" * n', TEXT, rep("<a>")),
    Case("text", '"<b><i>" * n (nested)', TEXT, rep("<b><i>")),
    Case("text", '"<div>" * n (nested)', TEXT, rep("<div>")),
    Case("text", '"<script>" * n', TEXT, rep("<script>")),
    Case("text", '"<!--" * n', TEXT, rep("<!--")),
    Case("text", '"&" * n', TEXT, rep("&")),
    Case("text", '"javascript:" * n', TEXT, rep("javascript:")),
    Case("text", '"<\\u212a" * n (Kelvin)', TEXT, rep("<\u212a")),
    Case("text", '"\\u200b" * n', TEXT, rep("\u200b")),
    Case("text", '"a" + "\\u0301\\u0316" * n', TEXT, after("a", "\u0301\u0316")),
    Case("text", '"a" + "\\u0f73\\u0301" * n', TEXT, after("a", "\u0f73\u0301")),
    Case("text multiline", '"<p>x" * n', LINES, rep("<p>x")),
    Case("text multiline", '"\\n" * n', LINES, rep("\n")),
    Case("text max_length=200", '"<" * n', NAME, rep("<")),
    Case("html", '"<" * n', sanitize_html, rep("<")),
    Case("html", '"&" * n', sanitize_html, rep("&")),
    Case("html", '"<b>" * n (nested)', sanitize_html, rep("<b>")),
    Case("html", '"<div>" * n (nested)', sanitize_html, rep("<div>")),
    Case("html", '"javascript:" * n', sanitize_html, rep("javascript:")),
    Case("html", '"a" + "\\u0301\\u0316" * n', sanitize_html, after("a", "\u0301\u0316")),
    Case("url", '"javascript:" * n', sanitize_url, rep("javascript:")),
    Case("url", '"https://a.example/" + "%" * n', sanitize_url, after("https://a.example/", "%")),
    Case("email", '"a" * n + "@example.com"', sanitize_email, before("a", "@example.com")),
    Case("email", '"@" * n', sanitize_email, rep("@")),
    Case("email", '"a" + "\\u0301\\u0316" * n', sanitize_email, after("a", "\u0301\u0316")),
    Case("phone", '"1" * n', sanitize_phone, rep("1")),
    Case("phone", '"+1" * n', sanitize_phone, rep("+1")),
    Case("slug", '"a-" * n', sanitize_slug, rep("a-")),
    Case("slug", '" " * n + "abc"', sanitize_slug, before(" ", "abc")),
    Case("slugify", '"a" * n', slugify, rep("a")),
    Case("slugify", '"\\u00df" * n', slugify, rep("\u00df")),
    Case("slugify", '"a" + "\\u0301\\u0316" * n', slugify, after("a", "\u0301\u0316")),
    Case("object (text)", '{"n": "<" * n}', _object({}), in_object(rep("<"))),
    Case("object (html)", '{"n": "&" * n}', _object({"n": "html"}), in_object(rep("&"))),
]


def outcome(call: Callable[[], object]) -> str:
    """The path ``call`` took: ``"ok"``, or ``"refused: "`` and its message with numbers masked."""
    try:
        call()
    except ValidationError as exc:
        return "refused: " + re.sub(r"[0-9]+", "#", exc.message)
    return "ok"


def per_call(call: Callable[[], object]) -> float:
    """Seconds per call: calls are batched until a batch takes ``MIN_BATCH_SECONDS``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            outcome(call)
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_BATCH_SECONDS:
            return elapsed / number
        number *= 2


def interleaved(calls: Mapping[int, Callable[[], object]], rounds: int) -> dict[int, float]:
    """Median seconds per call of each size, over ``rounds`` rounds in alternating order."""
    samples: dict[int, list[float]] = {size: [] for size in calls}
    order = list(calls)
    for round_no in range(rounds):
        for size in order if round_no % 2 == 0 else order[::-1]:
            samples[size].append(per_call(calls[size]))
    return {size: median(values) for size, values in samples.items()}


def slope_ns_per_char(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope of seconds against characters, in nanoseconds per character."""
    if len(points) < 2:
        return float("nan")
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    covariance = sum((n - mean_n) * (t - mean_t) for n, t in points)
    variance = sum((n - mean_n) ** 2 for n, _ in points)
    return covariance / variance * 1e9


def fmt_time(seconds: float) -> str:
    """``12.3 µs``, ``4.56 ms`` or ``1.23 s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


@dataclass(frozen=True)
class Result:
    """What one case measured."""

    case: Case
    seconds: dict[int, float]
    #: The path each size took (see :func:`outcome`).
    outcomes: dict[int, str]

    @property
    def ratios(self) -> list[float]:
        """t(10n)/t(n) for each step between consecutive sizes."""
        sizes = sorted(self.seconds)
        return [self.seconds[b] / self.seconds[a] for a, b in itertools.pairwise(sizes)]

    @property
    def superlinear_steps(self) -> list[str]:
        """The steps between sizes with the same path whose ratio exceeds the limit."""
        sizes = sorted(self.seconds)
        return [
            f"{label(a)}->{label(b)} x{ratio:.0f}"
            for (a, b), ratio in zip(itertools.pairwise(sizes), self.ratios, strict=True)
            if self.outcomes[a] == self.outcomes[b] and ratio > LINEAR_RATIO_LIMIT
        ]

    @property
    def slope(self) -> float:
        """ns per character over the sizes that took the largest's path (else the smallest's)."""
        sizes = sorted(self.seconds)
        for reference in (sizes[-1], sizes[0]):
            same_path = [n for n in sizes if self.outcomes[n] == self.outcomes[reference]]
            if len(same_path) >= 2:
                return slope_ns_per_char([(n, self.seconds[n]) for n in same_path])
        return float("nan")


def measure(case: Case, sizes: Sequence[int], rounds: int) -> Result:
    """Build the inputs once, then time every size of ``case`` in interleaved rounds."""
    inputs = {size: case.make(size) for size in sizes}
    calls = {size: functools.partial(case.call, inputs[size]) for size in sizes}
    outcomes = {size: outcome(calls[size]) for size in sizes}  # also warms up
    return Result(case, interleaved(calls, rounds), outcomes)


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1_000}k"


def report(results: Sequence[Result], sizes: Sequence[int], rounds: int) -> None:
    """Print the table."""
    steps = [f"x({label(b)}/{label(a)})" for a, b in itertools.pairwise(sizes)]
    headers = [
        "sanitizer",
        "pattern",
        *map(label, sizes),
        *steps,
        "ns/char",
        f"at {label(sizes[-1])}",
    ]
    rows = []
    for result in results:
        rows.append(
            [
                result.case.sanitizer,
                result.case.pattern,
                *(fmt_time(result.seconds[size]) for size in sizes),
                *(f"{ratio:.1f}" for ratio in result.ratios),
                f"{result.slope:.1f}",
                result.outcomes[sizes[-1]].partition(":")[0],
            ]
        )
    print_table(
        f"Sanitizer cost against input length (median of {rounds} interleaved rounds per call)",
        headers,
        rows,
    )


def refuses(case: Case, size: int) -> bool:
    """Whether ``case`` refuses an input of ``size`` characters (an input cap bounds its cost)."""
    value = case.make(size)
    return outcome(lambda: case.call(value)) != "ok"


def verdict(results: Sequence[Result], largest: int) -> int:
    """Print which cases are superlinear; 1 if one of them is not bounded by a refusal."""
    print()
    limit = f"every step t(10n)/t(n) <= {LINEAR_RATIO_LIMIT:.0f}"
    unbounded = 0
    for result in results:
        steps = result.superlinear_steps
        if not steps:
            continue
        bounded = refuses(result.case, 10 * largest)
        unbounded += not bounded
        kind = f"bounded: refused at {label(10 * largest)}" if bounded else "UNBOUNDED"
        name = f"{result.case.sanitizer} {result.case.pattern}"
        print(f"superlinear ({kind}): {name}: {', '.join(steps)}")
    if unbounded:
        print(f"linear ({limit}): NOT met by {unbounded} case(s)")
        return 1
    print(f"linear ({limit}): met, apart from the bounded cases above")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 100k, three rounds")
    parser.add_argument("--rounds", type=int, help=f"rounds per case (default {ROUNDS})")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else ROUNDS)
    results = []
    for case in CASES:
        results.append(measure(case, sizes, rounds))
        print(f"  measured {case.sanitizer}: {case.pattern}", file=sys.stderr, flush=True)
    report(results, sizes, rounds)
    return verdict(results, sizes[-1])


if __name__ == "__main__":
    sys.exit(main())
