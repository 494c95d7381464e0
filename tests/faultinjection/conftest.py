"""Collects the fault-injection figures and prints them after the run."""

from __future__ import annotations

from typing import Any

import pytest

from booking_core.testing.faults import FaultReport

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
