"""Each example runs from a copy of its folder, with the commands its README gives (slow).

The folder is copied into a temporary directory, and a fresh virtualenv gets what its README says
to install there: ``pip install /path/to/booking_core -r requirements.txt`` (the checkout is copied
as a clone would be; dependencies come from the package index). The commands then run with that
virtualenv in a clean environment: no ``PYTHONPATH``, no ``BOOKING_*`` variables, nothing of this
repository on ``sys.path``. The documented commands seed the SQLite database next to the copy's
``settings.py``, start the real server on a free port, and the test checks out over HTTP, pays
with ``pay.py`` and reads the booking CONFIRMED, and as an ``.ics`` file (the calendar extra
``requirements.txt`` names). Each example runs one command from the folder's
parent (as from the repository root) and the others from inside the folder. About 50 s for both,
most of it the install.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import EXAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT = EXAMPLES.parent
#: What a clone holds: the working tree less its ignored build and tool output.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".hypothesis",
    ".import_linter_cache", "*.db", "*.db-wal", "*.db-shm",
)  # fmt: skip
#: How long a server may take to answer its first request.
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Example:
    folder: str
    #: What requirements.txt must name besides booking_core's distribution.
    framework: frozenset[str]
    #: (command, run from the folder's parent?) with ``{port}`` filled in.
    seed: tuple[str, bool]
    serve: tuple[str, bool]
    #: Commands the README must show as they are run here.
    documented: tuple[str, ...]


FASTAPI = Example(
    "fastapi_app",
    frozenset({"fastapi", "uvicorn"}),
    seed=("python fastapi_app/seed.py", True),
    serve=("uvicorn main:app --port {port}", False),
    documented=("pip install -r requirements.txt", "python seed.py", "uvicorn main:app"),
)
FLASK = Example(
    "flask_app",
    frozenset({"flask"}),
    seed=("flask --app app seed", False),
    serve=("flask --app flask_app/app.py run --port {port}", True),
    documented=("pip install -r requirements.txt", "flask --app app seed", "flask --app app run"),
)


def distribution_name() -> str:
    """booking_core's distribution name, as pyproject.toml states it now."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return str(project["name"])


def parse_requirements(path: Path) -> dict[str, Requirement]:
    """The requirement lines of a requirements file, by canonical name (comments dropped)."""
    found: dict[str, Requirement] = {}
    for line in path.read_text().splitlines():
        text = line.split(" #")[0].strip()
        if text and not text.startswith("#"):
            requirement = Requirement(text)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding what the examples' READMEs install into one (its bin folder).

    One virtualenv serves both examples: each README's command, with both requirement files.
    """
    place = tmp_path_factory.mktemp("installed")
    checkout = place / "booking_core"
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CLONE)
    venv = place / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    requirements: list[str] = []
    for example in (FASTAPI, FLASK):
        requirements += ["-r", str(EXAMPLES / example.folder / "requirements.txt")]
    done = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", checkout, *requirements],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return venv / "bin"


def clean_environment(home: Path, bin_dir: Path) -> dict[str, str]:
    """PATH with the fresh virtualenv first; nothing else of this process's environment."""
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


@dataclass
class Copy:
    """An example folder copied to ``parent/<folder>``, and how to run commands there."""

    path: Path
    env: dict[str, str]

    def argv(self, command: str, **values: object) -> list[str]:
        words = shlex.split(command.format(**values))
        resolved = shutil.which(words[0], path=self.env["PATH"])
        assert resolved, f"{words[0]} not found"
        return [resolved, *words[1:]]

    def cwd(self, from_parent: bool) -> Path:
        return self.path.parent if from_parent else self.path

    def run(self, command: str, *, from_parent: bool = False) -> str:
        done = subprocess.run(
            self.argv(command),
            check=False,  # checked below, with the output
            cwd=self.cwd(from_parent),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    @contextmanager
    def server(self, command: str, *, from_parent: bool) -> Iterator[str]:
        """Start the server on a free port; yield its base URL; stop it."""
        port = free_port()
        log = self.path.parent / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                self.argv(command, port=port),
                cwd=self.cwd(from_parent),
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            yield f"http://127.0.0.1:{port}"
        except BaseException:
            process.terminate()
            process.wait(10)
            print(log.read_text(errors="replace"))  # shown with the failure
            raise
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_until_up(client: httpx.Client, key: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            reply = client.get("/v1/packages", headers={"X-Tenant-Key": key})
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
            continue
        assert reply.status_code == 200, reply.text
        return


@pytest.fixture(name="example_copy")
def _example_copy(request: pytest.FixtureRequest, tmp_path: Path, installed: Path) -> Copy:
    example: Example = request.param
    target = tmp_path / "host" / example.folder
    shutil.copytree(
        EXAMPLES / example.folder,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.db-*"),
    )
    return Copy(target, clean_environment(tmp_path, installed))


@pytest.mark.parametrize(
    ("example", "example_copy"),
    [(FASTAPI, FASTAPI), (FLASK, FLASK)],
    ids=[FASTAPI.folder, FLASK.folder],
    indirect=["example_copy"],
)
def test_a_copied_example_seeds_serves_and_confirms_a_paid_booking(
    example: Example, example_copy: Copy
) -> None:
    """A copied example folder names the library in requirements.txt and documents its commands; it
    seeds a tenant, serves, checks out, pay.py's signed webhook confirms the booking (its .ics
    says CONFIRMED), and a slot of the timed package can be booked."""
    copy = example_copy
    requirements = parse_requirements(copy.path / "requirements.txt")
    name = canonicalize_name(distribution_name())
    assert name in requirements, f"requirements.txt does not name {name}"
    assert example.framework <= set(requirements)
    readme = (copy.path / "README.md").read_text()
    for command in (*example.documented, "python pay.py"):
        assert command in readme, command

    seeded = copy.run(example.seed[0], from_parent=example.seed[1]).splitlines()
    assert seeded[0].startswith("tenant lumiere-demo ("), seeded
    key = seeded[1].removeprefix("X-Tenant-Key: ")
    assert (copy.path / "booking.db").exists()  # the copy's settings.py chose the database

    with (
        copy.server(example.serve[0], from_parent=example.serve[1]) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        wait_until_up(client, key)
        date = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=60)
        checkout = client.post(
            "/v1/checkout",
            headers={"X-Tenant-Key": key},
            json={
                "package": "gold",
                "date": date.isoformat(),
                "customer": {"name": "Ann", "email": "ann@example.com"},
            },
        )
        assert checkout.status_code == 201, checkout.text
        booking_id = checkout.json()["booking"]["id"]
        payment_ref = checkout.json()["payment"]["payment_ref"]

        curl = shlex.split(copy.run(f"python pay.py {booking_id} --url {url} --curl"))
        webhook_url = f"{url}/v1/webhooks/fake?tenant=lumiere-demo"
        assert curl[:5] == ["curl", "-sS", "-X", "POST", webhook_url]
        assert payment_ref in curl[-1]  # the body names the checkout's payment

        paid = copy.run(f"python pay.py {booking_id} --url {url}")
        assert paid.startswith("HTTP 200 "), paid
        assert '"outcome":"confirmed"' in paid.replace(" ", ""), paid

        booking = client.get(f"/v1/bookings/{booking_id}", headers={"X-Tenant-Key": key})
        assert booking.status_code == 200, booking.text
        assert booking.json()["status"] == "CONFIRMED"
        assert booking.json()["payment_ref"] == payment_ref
        # requirements.txt brings the calendar extra: the booking downloads as an .ics file
        ics = client.get(f"/v1/bookings/{booking_id}.ics", headers={"X-Tenant-Key": key})
        assert ics.status_code == 200, ics.text
        assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
        assert "\r\nSTATUS:CONFIRMED\r\n" in ics.text

        book_a_slot(client, key)


def book_a_slot(client: httpx.Client, key: str) -> None:
    """The seed's timed package: a week ahead, its studio's first free start is booked."""
    headers = {"X-Tenant-Key": key}
    packages = client.get("/v1/packages", headers=headers).json()
    package_id = next(p["id"] for p in packages if p["slug"] == "portrait-hour")
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    while day.weekday() not in range(1, 6):  # the studio opens Tuesday to Saturday
        day += dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo("Europe/Paris"))
    window = {"start": midnight.isoformat(), "end": (midnight + dt.timedelta(days=1)).isoformat()}
    slots = client.get("/v1/slots", headers=headers, params={"package_id": package_id, **window})
    assert slots.status_code == 200, slots.text
    assert slots.json(), "the studio offers no start"
    start = slots.json()[0]["start"]
    timed = client.post(
        "/v1/checkout",
        headers=headers,
        json={
            "package": "portrait-hour",
            "start": start,
            "customer": {"name": "Ben", "email": "ben@example.com"},
        },
    )
    assert timed.status_code == 201, timed.text
    booked = timed.json()["booking"]
    assert dt.datetime.fromisoformat(booked["starts_at"]) == dt.datetime.fromisoformat(start)
