"""The pytest plugin costs nothing until a fixture is used.

booking_core registers a ``pytest11`` plugin, so pytest imports it at start-up in every project
where booking_core is installed. ``import booking_core`` and the plugin module must therefore not
load SQLAlchemy (or the services): the package's top level is lazy (PEP 562) and the fixtures
import what they use.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import booking_core

#: What pytest start-up may import from booking_core: the package, its errors, the plugin.
LIGHT = {
    "booking_core",
    "booking_core.errors",
    "booking_core.testing",
    "booking_core.testing.plugin",
}

PLUGIN_FIXTURES = (
    "booking_app",
    "booking_app_sqlite",
    "booking_catalog",
    "booking_clock",
    "booking_tenant",
)


def _env() -> dict[str, str]:
    """This environment without the outer run's PYTEST_* settings (plugin autoload off, addopts)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _imported(importtime_stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output (stderr)."""
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", importtime_stderr, re.M))


def _heavy(imported: set[str]) -> list[str]:
    return sorted(
        m
        for m in imported
        if m.partition(".")[0] == "sqlalchemy" or (m.startswith("booking_core") and m not in LIGHT)
    )


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """A project with one trivial test and its own (empty) pytest config."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_trivial.py").write_text("def test_trivial() -> None:\n    assert True\n")
    return tmp_path


def test_pytest_start_up_does_not_import_sqlalchemy(empty_project: Path) -> None:
    """``python -X importtime -m pytest --co`` in an empty project: the booking_core plugin is
    registered, yet neither SQLAlchemy nor the library beyond its errors is imported."""
    args = ["-X", "importtime", "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
    run = _run([*args, "--trace-config"], empty_project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "booking_core.testing.plugin" in run.stdout, "the pytest11 plugin is not registered"
    assert "1 test collected" in run.stdout
    imported = _imported(run.stderr)
    assert "_pytest.config" in imported, "no -X importtime output to check"
    assert _heavy(imported) == []


def test_plugin_fixtures_are_listed_without_loading_the_library(empty_project: Path) -> None:
    """``pytest --fixtures`` shows the plugin's fixtures; listing them imports nothing heavy."""
    run = _run(
        ["-X", "importtime", "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
        empty_project,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fixtures defined from booking_core.testing.plugin" in run.stdout, run.stdout
    listed = set(re.findall(r"^(\w+)(?: \[.*\])? -- .*plugin\.py", run.stdout, re.M))
    assert set(PLUGIN_FIXTURES) <= listed, run.stdout
    assert _heavy(_imported(run.stderr)) == []


_PROBE = """
import json, sys
seen = {}
import booking_core
seen["import booking_core"] = "sqlalchemy" in sys.modules
import booking_core.testing.plugin
seen["import booking_core.testing.plugin"] = "sqlalchemy" in sys.modules
booking_core.BookingCoreError
seen["booking_core.BookingCoreError"] = "sqlalchemy" in sys.modules
booking_core.connect
seen["booking_core.connect"] = "sqlalchemy" in sys.modules
print(json.dumps(seen))
"""


def test_import_booking_core_defers_sqlalchemy_until_used(tmp_path: Path) -> None:
    """``import booking_core`` (and the plugin) load no SQLAlchemy; ``booking_core.connect``
    does."""
    run = _run(["-c", _PROBE], tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "import booking_core": False,
        "import booking_core.testing.plugin": False,
        "booking_core.BookingCoreError": False,
        "booking_core.connect": True,
    }


def test_lazy_names_are_the_real_objects() -> None:
    """Every public name is listed by dir() and resolves to its defining module's object; an
    unknown name is still an AttributeError."""
    from booking_core import bootstrap
    from booking_core.domain import model

    assert set(booking_core.__all__) <= set(dir(booking_core))
    assert booking_core.connect is bootstrap.connect
    assert booking_core.BookingApp is bootstrap.BookingApp
    assert booking_core.Tenant is model.Tenant
    namespace: dict[str, object] = {}
    exec("from booking_core import *", namespace)
    assert set(booking_core.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'conect'"):
        booking_core.conect  # type: ignore[attr-defined]  # noqa: B018
