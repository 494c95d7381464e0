#!/usr/bin/env python3
"""One entry point for newcomers: `python3 dev.py demo` and `python3 dev.py test`.

Each command first makes sure `.venv/` exists and holds the package (editable) with its dev
extras; it reinstalls only when `pyproject.toml` changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".booking_core-installed"


def _pyproject_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Create the virtualenv and install `booking_core[dev]` into it when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("booking_core needs Python 3.11 or newer")
    if not PYTHON.exists():
        print("dev: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = _pyproject_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("dev: installing booking_core[dev] into .venv (first run takes a minute)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


def run(args: list[str]) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, check=False).returncode


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
    if command == "setup":
        ensure_environment()
        return 0
    print("usage: python3 dev.py demo | test [pytest args] | setup")
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
