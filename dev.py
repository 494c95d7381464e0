#!/usr/bin/env python3
"""One entry point for newcomers: `python3 dev.py demo` and `python3 dev.py test`.

`python3 dev.py docs` builds the documentation site into `site/` (`docs serve` serves it with
live reload at the address it prints).

Each command first makes sure `.venv/` exists and holds the package (editable) with its dev
extras; it reinstalls only when `pyproject.toml` changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".booking_core-installed"
#: The distribution (what pip installs); the import package stays ``booking_core``.
DISTRIBUTION = "booking-core-sdk"
#: Its former name: on the package index, that name (and booking-core) is another project.
OLD_DISTRIBUTION = "booking_core"


def _pyproject_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Create the virtualenv and install `booking-core-sdk[dev]` into it when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("booking_core needs Python 3.11 or newer")
    if not PYTHON.exists():
        print("dev: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = _pyproject_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print(f"dev: installing {DISTRIBUTION}[dev] into .venv (first run takes a minute)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    _drop_old_distribution(pip)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


def _drop_old_distribution(pip: list[str]) -> None:
    """Uninstall a .venv's install under the old name, so one distribution owns `booking_core`."""
    # The editable install puts src/ on sys.path, so its stale egg-info would still be found.
    shutil.rmtree(ROOT / "src" / f"{OLD_DISTRIBUTION}.egg-info", ignore_errors=True)
    shown = subprocess.run([*pip, "show", OLD_DISTRIBUTION], capture_output=True, check=False)
    if shown.returncode == 0:
        subprocess.run([*pip, "uninstall", "-y", OLD_DISTRIBUTION], check=True)


def run(args: list[str]) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, check=False).returncode


def _docs(args: list[str]) -> int:
    """Build the site strictly (any warning fails), or serve it with `docs serve`."""
    mkdocs = [str(BIN / "mkdocs")]
    # Material prints a banner about MkDocs 2 on every run; it is not about this site.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if args[:1] == ["serve"]:
        command = [*mkdocs, "serve", *args[1:]]
    else:
        command = [*mkdocs, "build", "--strict", *args]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "demo":
        ensure_environment()
        return run(["-m", "booking_core.demo", *rest])
    if command == "test":
        ensure_environment()
        code = run(["-m", "pytest", *rest])
        if code == 5:
            print("dev: pytest collected no tests; that is a failure", file=sys.stderr)
            return 1
        return code
    if command == "docs":
        ensure_environment()
        return _docs(rest)
    if command == "setup":
        ensure_environment()
        return 0
    print("usage: python3 dev.py demo | test [pytest args] | docs [serve] | setup")
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
