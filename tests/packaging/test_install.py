"""The documented install (docs/quickstart.md, section 1) puts *this* project in a fresh venv.

A clone's user runs ``pip install "/path/to/booking_core[postgres,redis]"``: pip must build the
distribution ``booking-core-sdk`` (not ``booking_core``, which on the package index is an unrelated
``booking-core``) and ``import booking_core`` must then load it from the venv's site-packages.

Kept fast and offline where it can be: the venv is made without pip (the running pip installs
into it with ``--python``) and the install takes ``--no-deps``, so pip downloads nothing but the
build backend for its isolated build (``setuptools>=77``, from the configured index or its cache).
The runtime dependencies are then borrowed from the running environment by a ``.pth`` line, added
after the install: such a line puts a folder on ``sys.path`` without running that folder's own
``.pth`` files, so the editable install of the development venv stays out of the fresh one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "booking-core-sdk"
#: What a clone holds: the working tree less its ignored build and tool output.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".*_cache",
    ".hypothesis",
    ".import_linter_cache",
    "*.db",
    "*.db-wal",
    "*.db-shm",
)

CHECK = """
import importlib.metadata as md, json, sys
from pathlib import Path
import booking_core
dist = md.distribution(sys.argv[1])
plugin = [ep for ep in dist.entry_points if ep.group == "pytest11"]
print(json.dumps({
    "module": booking_core.__file__,
    "dist_at": str(dist.locate_file("")),
    "name": dist.metadata["Name"],
    "top_level": dist.read_text("top_level.txt").split(),
    "files": sorted(str(f) for f in dist.files or () if f.parts[0] == "booking_core")[:3],
    "extras": dist.metadata.get_all("Provides-Extra"),
    "requires": dist.requires,
    "plugin": [(ep.name, ep.value, ep.load().__name__) for ep in plugin],
    "old_name": [str(d.locate_file("")) for d in md.distributions(name="booking_core")],
}))
"""


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def test_the_checkout_installs_as_booking_core_sdk_in_a_fresh_venv(tmp_path: Path) -> None:
    """A copy of the checkout installs into a fresh virtualenv as booking-core-sdk with the
    booking_core package, its extras and its pytest plugin, and no distribution under the old
    name."""
    checkout = tmp_path / "booking_core"  # the folder name the docs use
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CLONE)
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]

    # The git-URL line of the docs names the distribution: pip refuses a name that differs
    # from what the checkout builds ("inconsistent name"). A file URL checks the same rule.
    report = tmp_path / "report.json"
    direct = f"{DISTRIBUTION}[postgres,redis] @ {checkout.as_uri()}"
    _run(*pip, "install", "--dry-run", "--no-deps", "--report", report, direct, cwd=tmp_path)
    planned = json.loads(report.read_text())["install"]
    assert [item["metadata"]["name"] for item in planned] == [DISTRIBUTION]

    # The path line, as a clone's user types it.
    _run(*pip, "install", "--no-deps", f"{checkout}[postgres,redis]", cwd=tmp_path)
    site_packages = Path(
        _run(
            python,
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            cwd=tmp_path,
        ).stdout.strip()
    )
    assert (site_packages / "booking_core" / "__init__.py").is_file()
    (site_packages / "zz_borrowed_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )

    seen = json.loads(_run(python, "-I", "-c", CHECK, DISTRIBUTION, cwd=tmp_path).stdout)
    assert Path(seen["module"]).is_relative_to(site_packages), seen["module"]
    assert Path(seen["dist_at"]) == site_packages
    assert seen["name"] == DISTRIBUTION
    assert seen["top_level"] == ["booking_core"]
    assert seen["files"], "the wheel's RECORD lists no booking_core/ files"
    assert {"postgres", "redis", "migrations", "docs", "calendar", "dev"} <= set(seen["extras"])
    dev = f'{DISTRIBUTION}[calendar,docs,migrations,postgres,redis]; extra == "dev"'
    assert dev in seen["requires"]
    assert seen["plugin"] == [
        ["booking_core", "booking_core.testing.plugin", "booking_core.testing.plugin"]
    ]
    assert seen["old_name"] == [], "a distribution under the old name is still installed"
