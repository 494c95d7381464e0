"""The multi-process load run (benchmarks/load.py) in short: 4 workers x 5 s must keep every
invariant (capacity, seat claims, outbox order and delivery, expiries, cache = database) and
actually exercise every operation, with date collisions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def load_module():
    # Spawned workers import the module by name, so it must be importable from sys.path
    # (which multiprocessing hands to its children).
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    import load

    return load


def test_short_load_keeps_the_invariants(load_module, postgres_url, redis_url):
    """Five seconds of four workers against PostgreSQL and Redis break no invariant, run every
    operation, meet conflicts, confirm and expire holds, hit the cache, and raise no unexpected
    error."""
    report = load_module.run(workers=4, seconds=5.0, postgres_url=postgres_url, redis_url=redis_url)

    failed = [f"{c.name}: {c.detail}" for c in report.invariants if not c.ok]
    assert report.invariants, "no invariant was checked"
    assert not failed, failed + report.error_samples
    assert report.ok

    idle = [op for op, count in report.ops.items() if count == 0]
    assert not idle, f"operations that never ran: {idle} ({report.ops})"
    assert report.conflicts >= 1, report.outcomes
    assert report.outcomes["hold: placed"] >= 1
    assert report.outcomes["confirm: confirmed"] >= 1
    # The holds seeded as already lapsed are swept during the run or by the final sweep.
    expired = report.outcomes["expire_holds: expired"] + report.outcomes["final sweep: expired"]
    assert expired >= report.outcomes["setup: lapsed holds seeded"] > 0
    assert report.cache["hits"] > 0
    assert not report.errors, report.error_samples
