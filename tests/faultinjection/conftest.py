"""Collects the fault-injection figures and prints them after the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from booking_core import connect
from booking_core.testing.faults import FaultReport
from tests.conftest import scratch_database
from tests.faultinjection.lossy_proxy import LossyProxy

#: (suite, scenario, fault kind, report) of every contract test that ran.
FIGURES: list[tuple[str, str, str, FaultReport]] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES:
        return
    suites: dict[str, list[int]] = {}
    for suite, _scenario, _fault, report in FIGURES:
        runs, injected, unknown, broken = suites.setdefault(suite, [0, 0, 0, 0])
        suites[suite] = [
            runs + report.runs,
            injected + report.injected,
            unknown + report.unknown_outcomes,
            broken + len(report.broken),
        ]
    terminalreporter.write_sep("-", "fault injection")
    for suite, (runs, injected, unknown, broken) in sorted(suites.items()):
        terminalreporter.write_line(
            f"{suite}: {runs} faulted runs, {injected} faults injected, "
            f"{unknown} outcomes left unknown (typed error), {broken} broken invariants"
        )


@pytest.fixture(scope="module")
def lossy_pg(postgres_url: str) -> Iterator[tuple[str, LossyProxy]]:
    """A scratch database reached through a proxy that counts requests and can lose a reply."""
    parts = urlsplit(postgres_url.replace("+psycopg", ""))
    proxy = LossyProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    with scratch_database(postgres_url, "bc_lossy") as direct:
        url = make_url(direct).set(host="127.0.0.1", port=proxy.port)
        rendered = url.render_as_string(hide_password=False)
        connect(rendered, create_schema=True).close()
        try:
            yield rendered, proxy
        finally:
            proxy.close()
