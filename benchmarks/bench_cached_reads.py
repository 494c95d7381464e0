"""Service reads with and without a cache in front, on PostgreSQL (issue 4, part 5).

    .venv/bin/python benchmarks/bench_cached_reads.py [--quick]

``catalog.get_package`` and ``availability.unavailable_dates`` (a 31-day month) through three
apps sharing one PostgreSQL database: no cache, the in-memory cache and Redis. The sides are
interleaved round by round and compared by medians. Goals: get_package ≥ 50× faster with the
in-memory cache, ≥ 5× with Redis.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import uuid

import psycopg
from _common import fmt_ms, interleaved_rounds, print_table
from sqlalchemy.engine import make_url

from booking_core import BookingApp, CustomerDetails, connect
from booking_core.testing import ManualClock

PG = os.environ.get(
    "BOOKING_CORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("BOOKING_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NOW = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)
MONTH = (dt.date(2030, 3, 1), dt.date(2030, 3, 31))


def _admin_dsn() -> str:
    return make_url(PG).set(drivername="postgresql").render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    args = parser.parse_args(argv)
    rounds, ops = (3, 50) if args.quick else (9, 400)
    name = f"bc_bench_cache_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    apps: dict[str, BookingApp] = {}
    try:
        clock = ManualClock(NOW)
        prefix = f"bc-bench-{uuid.uuid4().hex[:8]}"
        apps = {
            "no cache": connect(url, clock=clock, create_schema=True),
            "memory": connect(url, clock=clock, cache_url="memory://"),
            "redis": connect(url, clock=clock, cache_url=f"{REDIS}?prefix={prefix}"),
        }
        setup = apps["no cache"]
        tenant = setup.tenants.create(
            slug="bench", name="Bench", timezone="Europe/Paris", currency="EUR"
        )
        package = setup.catalog.create_package(
            tenant.id, slug="gold", name="Gold", base_price=250_000, description="x" * 400
        )
        for n in range(3):
            add_on = setup.catalog.create_add_on(
                tenant.id, slug=f"extra-{n}", name=f"Extra {n}", price=1_000 * n
            )
            setup.catalog.offer_add_on(tenant.id, package.id, add_on.id)
        for day in (3, 9, 17):
            setup.bookings.hold(
                tenant.id,
                package_id=package.id,
                date=MONTH[0].replace(day=day),
                customer=CustomerDetails("Guest", f"g{day}@example.com"),
            )
        expected = setup.catalog.get_package(tenant.id, "gold")
        for app in apps.values():  # same answers everywhere before timing anything
            assert app.catalog.get_package(tenant.id, "gold") == expected
            assert len(app.availability.unavailable_dates(tenant.id, *MONTH)) == 3

        rows = []
        for label, call in (
            ("get_package", lambda app: app.catalog.get_package(tenant.id, "gold")),
            (
                "unavailable_dates",
                lambda app: app.availability.unavailable_dates(tenant.id, *MONTH),
            ),
        ):
            times = interleaved_rounds(
                {side: (lambda app=app, call=call: call(app)) for side, app in apps.items()},
                rounds=rounds,
                ops_per_round=ops,
                warmup=20,
            )
            base = times["no cache"].median_op
            for side in apps:
                median = times[side].median_op
                rows.append([label, side, fmt_ms(median, 4), f"{base / median:,.1f}x"])
        print_table(
            f"Cached vs uncached reads on PostgreSQL ({rounds} interleaved rounds x {ops} calls, "
            "median per call)",
            ["read", "cache", "median", "speed-up"],
            rows,
        )
        for side in ("memory", "redis"):
            stats = apps[side].cache.stats()  # type: ignore[union-attr]
            print(
                f"{side}: hits={stats.hits} misses={stats.misses} errors={stats.errors} "
                f"hit rate={stats.hit_rate:.1%}"
            )
        speed = {
            r[1]: float(r[3].rstrip("x").replace(",", "")) for r in rows if r[0] == "get_package"
        }
        print_table(
            "Goals",
            ["measure", "goal", "measured", "met"],
            [
                [
                    "get_package, memory cache",
                    ">= 50x",
                    f"{speed['memory']:.1f}x",
                    "yes" if speed["memory"] >= 50 else "NO",
                ],
                [
                    "get_package, Redis",
                    ">= 5x",
                    f"{speed['redis']:.1f}x",
                    "yes" if speed["redis"] >= 5 else "NO",
                ],
            ],
        )
    finally:
        for app in apps.values():
            app.close()
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
