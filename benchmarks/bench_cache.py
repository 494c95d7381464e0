"""Cache benchmarks: adapter overhead, one-round-trip reads, O(1) invalidation, hit rate.

Run: ``.venv/bin/python benchmarks/bench_cache.py`` (Redis at ``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/15``; the Redis parts are skipped when it is unreachable).

Compared sides run interleaved (A, B, B, A, ...) in the same process, several rounds; the tables
show the median of the rounds and the ratio of the medians. Timings on shared machines jump
between levels, so only side-by-side numbers from one run mean anything.
"""

from __future__ import annotations

import copy
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import cachetools

from booking_core.adapters.cache import MemoryCache
from booking_core.ports.cache import read_through

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
ROUNDS = 9
NS = "catalog"

PACKAGE = {
    "id": "5b1c9a52-6f0e-4a44-9f38-0c9a9d1f7e21",
    "slug": "gold-wedding",
    "name": "Gold wedding package",
    "description": "Ceremony and reception, 8 hours, two photographers.",
    "base_price": 250000,
    "currency": "EUR",
    "active": True,
    "segment": "weddings",
    "add_ons": [
        {"id": f"addon-{i}", "name": f"Add-on {i}", "unit_price": 1500 * i, "active": True}
        for i in range(4)
    ],
}


def per_op_ns(action: Callable[[], object], count: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(count):
        action()
    return (time.perf_counter_ns() - started) / count


def interleaved(
    sides: dict[str, Callable[[], object]], count: int, rounds: int = ROUNDS, blocks: int = 40
) -> dict[str, float]:
    """Median ns/op of each side over ``rounds``.

    Each round alternates the sides in ``blocks`` short blocks (A B, B A, A B, ...), so a jump in
    network latency hits both sides alike instead of whichever side happened to run then.
    """
    names = list(sides)
    per_block = max(1, count // blocks)
    for action in sides.values():
        per_op_ns(action, per_block)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        totals = dict.fromkeys(names, 0.0)
        for block in range(blocks):
            for name in names if block % 2 == 0 else names[::-1]:
                totals[name] += per_op_ns(sides[name], per_block)
        for name in names:
            samples[name].append(totals[name] / blocks)
    return {name: statistics.median(values) for name, values in samples.items()}


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def fmt_us(ns: float) -> str:
    return f"{ns / 1000:.2f} µs"


# -- in-memory --------------------------------------------------------------------------------


def bench_copy_on_read() -> None:
    text = json.dumps(PACKAGE, separators=(",", ":"))
    result = interleaved(
        {
            "json.loads(text)": lambda: json.loads(text),
            "copy.deepcopy(obj)": lambda: copy.deepcopy(PACKAGE),
        },
        count=20_000,
    )
    base = result["json.loads(text)"]
    table(
        "Copy-on-read of a package dict (which copy MemoryCache uses)",
        ["copy", "median", "ratio"],
        [[name, fmt_us(ns), f"{ns / base:.2f}x"] for name, ns in result.items()],
    )


def bench_memory_get() -> None:
    tenant = uuid.uuid4()
    cache = MemoryCache(maxsize=10_000)
    cache.set(tenant, NS, "pkg", PACKAGE, ttl=3600)
    raw: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=10_000, ttl=3600)
    raw["pkg"] = json.dumps(PACKAGE, separators=(",", ":"))
    small_cache = MemoryCache(maxsize=10_000)
    small_cache.set(tenant, NS, "n", 42, ttl=3600)
    raw["n"] = "42"

    def raw_get(key: str) -> object:
        text = raw.get(key)
        return None if text is None else json.loads(text)

    rows = []
    for label, key in (("package dict", "pkg"), ("small int", "n")):
        target = cache if key == "pkg" else small_cache
        result = interleaved(
            {
                "TTLCache.get+json.loads": lambda key=key: raw_get(key),
                "MemoryCache.get": lambda target=target, key=key: target.get(tenant, NS, key),
            },
            count=50_000,
        )
        base, ours = result["TTLCache.get+json.loads"], result["MemoryCache.get"]
        rows.append([label, fmt_us(base), fmt_us(ours), f"{ours / base:.2f}x", "<= 1.5x"])
    table(
        "MemoryCache.get hit vs cachetools.TTLCache.get + the same copy-on-read",
        ["value", "TTLCache+loads", "MemoryCache", "ratio", "goal"],
        rows,
    )


# -- Redis ------------------------------------------------------------------------------------


def redis_cache():  # type: ignore[no-untyped-def]
    from booking_core.adapters.cache import RedisCache  # noqa: PLC0415 - redis is optional

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    cache = RedisCache.from_url(REDIS_URL, prefix=prefix)
    if not cache.ping():
        cache.close()
        return None
    return cache


def drop_prefix(cache) -> None:  # type: ignore[no-untyped-def]
    client = cache.client
    batch = []
    for name in client.scan_iter(match=f"{cache.keys.prefix}:*", count=10_000):
        batch.append(name)
        if len(batch) >= 10_000:
            client.unlink(*batch)
            batch.clear()
    if batch:
        client.unlink(*batch)


def bench_redis_get(cache) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid.uuid4()
    client = cache.client  # the same client and connection pool
    rows = []
    for label, value in (("package dict", PACKAGE), ("small int", 42)):
        cache.set(tenant, NS, label, value, ttl=3600)
        # a raw key as long as the adapter's entry key, so both sides send comparable commands
        raw_key = cache.keys.entry(tenant, "raw", label)
        client.set(raw_key, json.dumps(value, separators=(",", ":")), ex=3600)
        result = interleaved(
            {
                "GET+json.loads": lambda raw_key=raw_key: json.loads(client.get(raw_key)),
                "RedisCache.get": lambda label=label: cache.get(tenant, NS, label),
            },
            count=2_000,
            rounds=15,
        )
        base, ours = result["GET+json.loads"], result["RedisCache.get"]
        rows.append([label, fmt_us(base), fmt_us(ours), f"{ours / base:.2f}x", "<= 1.15x"])
    table(
        "RedisCache.get hit (MGET of 2 generations + entry) vs raw GET + json.loads, same pool",
        ["value", "GET+loads", "RedisCache", "ratio", "goal"],
        rows,
    )


def bench_invalidation(cache) -> None:  # type: ignore[no-untyped-def]
    client = cache.client
    keys = cache.keys
    rows = []
    flat: list[float] = []
    scans: list[float] = []
    for size in (1_000, 10_000, 100_000):
        tenant = uuid.uuid4()

        def populate(tenant: uuid.UUID = tenant, size: int = size) -> None:
            pipe = client.pipeline(transaction=False)
            for index in range(size):
                pipe.set(keys.entry(tenant, NS, f"k{index}"), "1:1:0", ex=600)
                if index % 5_000 == 4_999:
                    pipe.execute()
            pipe.execute()

        def scan_delete(tenant: uuid.UUID = tenant) -> int:
            deleted = 0
            batch = []
            for name in client.scan_iter(match=keys.tenant_pattern(tenant), count=1_000):
                batch.append(name)
                if len(batch) >= 1_000:
                    deleted += client.delete(*batch)
                    batch.clear()
            if batch:
                deleted += client.delete(*batch)
            return deleted

        invalidate_samples, scan_samples = [], []
        for _ in range(3):
            populate()
            invalidate_samples.append(
                per_op_ns(lambda tenant=tenant: cache.invalidate_tenant(tenant), 200)
            )
            started = time.perf_counter_ns()
            deleted = scan_delete()
            scan_samples.append(time.perf_counter_ns() - started)
            assert deleted >= size, (deleted, size)  # + the generation key INCR created
        inv, scan = statistics.median(invalidate_samples), statistics.median(scan_samples)
        flat.append(inv)
        scans.append(scan)
        rows.append([f"{size:,}", fmt_us(inv), f"{scan / 1e6:.1f} ms", f"{scan / inv:,.0f}x"])
    table(
        "invalidate_tenant (one INCR) vs SCAN+DEL of the tenant's keys",
        ["cached keys", "invalidate_tenant", "SCAN+DEL", "SCAN+DEL / invalidate"],
        rows,
    )
    print(
        f"invalidate_tenant 100k/1k: {flat[-1] / flat[0]:.2f}x (goal: flat, within 2x); "
        f"SCAN+DEL 100k/1k: {scans[-1] / scans[0]:.0f}x"
    )


# -- hit rate ---------------------------------------------------------------------------------


def workload(
    seed: int, operations: int, tenants: list[uuid.UUID]
) -> list[tuple[str, uuid.UUID, str]]:
    """95 % reads of Zipf-popular keys (200 per tenant), 5 % writes to one of those keys."""
    rng = random.Random(seed)
    keys = [f"pkg-{index}" for index in range(200)]
    weights = [1 / (rank + 1) for rank in range(len(keys))]
    ops = []
    for _ in range(operations):
        tenant = rng.choice(tenants)
        key = rng.choices(keys, weights)[0]
        ops.append(("write" if rng.random() < 0.05 else "read", tenant, key))
    return ops


def replay(cache, ops, policy: str) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Replay ``ops`` read-through; a write deletes its key or invalidates the namespace."""
    loads = 0

    def loader() -> dict[str, object]:
        nonlocal loads
        loads += 1
        return PACKAGE

    before = cache.stats()
    started = time.perf_counter()
    for op, tenant, key in ops:
        if op == "read":
            read_through(cache, tenant, NS, key, loader, ttl=300)
        elif policy == "delete key":
            cache.delete(tenant, NS, key)
        else:
            cache.invalidate_namespace(tenant, NS)
    elapsed = time.perf_counter() - started
    after = cache.stats()
    hits, misses = after.hits - before.hits, after.misses - before.misses
    return hits / (hits + misses), elapsed, loads


def bench_hit_rate(redis_available: bool) -> None:
    tenants = [uuid.uuid4() for _ in range(5)]
    ops = workload(4, 20_000, tenants)
    reads = sum(op == "read" for op, _, _ in ops)
    rows = []
    for policy in ("delete key", "invalidate namespace"):
        adapters = [("MemoryCache", MemoryCache(maxsize=10_000))]
        if redis_available:
            adapters.append(("RedisCache", redis_cache()))
        for name, cache in adapters:
            rate, elapsed, loads = replay(cache, ops, policy)
            if name == "RedisCache":
                drop_prefix(cache)
            cache.close()
            rows.append(
                [
                    name,
                    policy,
                    f"{len(ops):,}",
                    f"{reads / len(ops):.0%}",
                    f"{rate:.1%}",
                    f"{loads:,}",
                    f"{elapsed:.2f} s",
                ]
            )
    table(
        "Hit rate, replayed read-heavy workload (5 tenants x 200 Zipf keys, 95 % reads)",
        ["adapter", "a write...", "ops", "reads", "hit rate", "loader calls", "time"],
        rows,
    )


def main() -> int:
    print(f"python {sys.version.split()[0]}, rounds={ROUNDS}, medians; Redis: {REDIS_URL}")
    bench_copy_on_read()
    bench_memory_get()
    try:
        rcache = redis_cache()
    except ImportError:
        rcache = None
    if rcache is None:
        print("\nRedis unreachable or redis not installed: Redis benchmarks skipped")
    else:
        try:
            bench_redis_get(rcache)
            bench_invalidation(rcache)
        finally:
            drop_prefix(rcache)
    if rcache is not None:
        rcache.close()
    bench_hit_rate(rcache is not None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
