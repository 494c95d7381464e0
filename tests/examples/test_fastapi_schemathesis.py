"""The FastAPI example's HTTP contract, checked by schemathesis against its own OpenAPI.

schemathesis runs in-process (ASGI, no network) as ``schemathesis run`` would: the examples,
coverage and fuzzing phases, every check, 50 examples per operation (``BOOKING_CORE_LONG=1``:
1000), on SQLite and on PostgreSQL. It must report no failure: no 5xx, no response outside the
OpenAPI, no valid request refused and no invalid one accepted. That holds the OpenAPI to what
the API accepts. On CI the seed is fixed (a run is reproducible); elsewhere it is random and
printed with any failure, and ``BOOKING_CORE_SCHEMATHESIS_SEED`` replays one.

JSON Schema cannot state three rules, so the generator is taught them instead of being left to
fail on them (each refusal has its own contract test in ``api_contract.py``):

- ``GET /v1/availability``: ``end`` from ``start`` to 1100 days later (no keyword relates two
  parameters);
- ``POST /v1/checkout``: only add-ons the package offers (that is data), and a fresh
  ``Idempotency-Key`` per request (that is state: a key reused for another body is refused).

``phone`` is a custom format (a number libphonenumber knows to be valid): it is drawn from
libphonenumber's own example numbers.

"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi.formats import unregister_string_format

import booking_core
from booking_core import BookingApp, NotFoundError
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.testing import ManualClock
from booking_core.web.security import parse_csp_report
from tests.conftest import ON_CI, scratch_database

from .conftest import SECRET, START, load_example

example = load_example("fastapi_app")
main, seed = example.main, example.seed
MAX_RANGE_DAYS = example.schemas.MAX_RANGE_DAYS

LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"
EXAMPLES = 1000 if LONG else 50
#: Seconds one backend's run may take on CI (2 cores); a run takes about a third of it.
BUDGET = 150.0
PHASES = ("examples", "coverage", "fuzzing")


def _seed() -> int | None:
    """A fixed seed on CI (reproducible), a random one elsewhere, or the one to replay."""
    if os.environ.get("BOOKING_CORE_SCHEMATHESIS_SEED"):
        return int(os.environ["BOOKING_CORE_SCHEMATHESIS_SEED"])
    return 20300301 if ON_CI and not LONG else None


# -- the app under test, on each backend ----------------------------------------------------------


@pytest.fixture(name="database_url", params=["sqlite", "postgres"])
def _database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh database: a tmp SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'booking.db'}"
        return
    with scratch_database(request.getfixturevalue("postgres_url"), "bc_schemathesis") as url:
        yield url


@dataclass
class Subject:
    """The running example app, its seeded tenant's key, and the BookingApp behind it."""

    asgi: Any
    api_key: str
    booking: BookingApp
    tenant_id: uuid.UUID


@pytest.fixture(name="subject")
def _subject(database_url: str) -> Iterator[Subject]:
    clock = ManualClock(START)
    booking = booking_core.connect(
        database_url,
        cache_url="memory://",
        clock=clock,
        payments=FakePaymentProvider(SECRET, clock=clock),
        create_schema=True,
    )
    with booking:
        demo = seed.seed_demo(booking)
        # schemathesis runs the app's lifespan, which puts the BookingApp on app.state
        yield Subject(main.create_app(booking), demo.api_key, booking, demo.tenant.id)


@pytest.fixture(name="formats")
def _formats() -> Iterator[None]:
    """What schemathesis cannot know: phone numbers, and that a CSP report body is JSON."""
    schemathesis.openapi.format("phone", _phone_numbers())
    schemathesis.serializer.alias("application/csp-report", "application/json")
    yield
    unregister_string_format("phone")


def _phone_numbers() -> st.SearchStrategy[str]:
    """Numbers libphonenumber holds valid, as people write them, or empty (no phone)."""
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        if example is not None:
            numbers.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
            numbers.append(
                phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            )
    return st.sampled_from(["", *numbers])


# -- the rules the OpenAPI cannot state -----------------------------------------------------------


def _positive(case: schemathesis.Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _within_range(_ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A valid ``[start, end]`` keeps its dates but ends at most 1100 days after its start."""
    query = case.query or {}
    if not _positive(case) or not {"start", "end"} <= set(query):
        return case
    start, end = dt.date.fromisoformat(query["start"]), dt.date.fromisoformat(query["end"])
    span = abs((end - start).days) % (MAX_RANGE_DAYS + 1)
    end = min(start + dt.timedelta(days=span), dt.date(2999, 12, 31))
    case.query = {**query, "end": end.isoformat()}
    return case


def _checkout_rules(subject: Subject) -> Any:
    fresh = itertools.count()

    def offered(package: str) -> set[str]:
        try:
            details = subject.booking.catalog.get_package(subject.tenant_id, package)
        except NotFoundError:
            return set()
        return {add_on.slug for add_on in details.add_ons}

    def rules(_ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
        """Only offered add-ons, and a key no earlier request used."""
        body = case.body
        if not _positive(case) or not isinstance(body, dict):
            return case
        allowed = offered(body["package"])
        add_ons = {k: v for k, v in body.get("add_ons", {}).items() if k in allowed}
        case.body = {**body, "add_ons": add_ons}
        key = (case.headers or {}).get("idempotency-key")
        if key is not None:
            suffix = f"~{next(fresh)}"
            case.headers = {**case.headers, "idempotency-key": key[: 255 - len(suffix)] + suffix}
        return case

    return rules


def test_a_whole_number_written_with_a_fraction_is_an_integer() -> None:
    """JSON has one number type, so no schema can tell ``12.0`` from ``12``: the CSP report
    parser reads both as 12 (schemathesis found it refusing ``2.0``)."""
    report = {"document-uri": "https://shop.example/", "effective-directive": "img-src"}
    body = json.dumps({"csp-report": {**report, "line-number": 12.0}}).encode()
    (parsed,) = parse_csp_report(body, "application/csp-report")
    assert parsed.line_number == 12
    half = json.dumps({"csp-report": {**report, "line-number": 12.5}}).encode()
    with pytest.raises(booking_core.ValidationError, match="non-negative integer"):
        parse_csp_report(half, "application/csp-report")


# -- running schemathesis -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run saw: cases per phase, operations tested, failures and errors (as text)."""

    seed: int
    cases: collections.Counter[str] = field(default_factory=collections.Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.cases[event.phase.value] += len(recorder.cases)
        for case_id, node in recorder.cases.items():
            self.operations.add(node.value.operation.label)
            for check in recorder.checks.get(case_id, []):
                if check.failure_info is not None:
                    self.failures.append(_describe(recorder, case_id, check))


def _describe(recorder: Any, case_id: str, check: Any) -> str:
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = "" if response is None else f"\n  -> {response.status_code} {response.text[:300]}"
    info = check.failure_info
    return f"{recorder.label} [{check.name}] {info.failure.title}\n{info.code_sample}{answer}"


def run_schemathesis(subject: Subject, *, seed: int | None, examples: int) -> Outcome:
    """The engine ``schemathesis run`` drives, on the ASGI app, every failure collected."""
    settings: dict[str, Any] = {
        "headers": {"X-Tenant-Key": subject.api_key},
        "phases": {**{name: {"enabled": True} for name in PHASES}, "stateful": {"enabled": False}},
        "checks": {"enabled": True},
        "generation": {"max-examples": examples},
    }
    if seed is not None:
        settings["seed"] = seed
    config = schemathesis.Config.from_dict(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", subject.asgi, config=config)
    schema.hook("map_case").apply_to(method="GET", path="/v1/availability")(_within_range)
    schema.hook("map_case").apply_to(method="POST", path="/v1/checkout")(_checkout_rules(subject))
    outcome = Outcome(seed=config.seed)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            outcome.record(event)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            outcome.failures.extend(f"after the run: {failure.title}" for failure in event.failures)
    return outcome


@pytest.mark.slow
@pytest.mark.usefixtures("formats")
def test_schemathesis_finds_nothing(
    subject: Subject, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Every operation, every phase: no failure, no error, and the run fits the CI budget."""
    caplog.set_level(logging.CRITICAL, logger="booking_core")  # CSP reports, failed webhooks
    began = time.perf_counter()
    outcome = run_schemathesis(subject, seed=_seed(), examples=EXAMPLES)
    elapsed = time.perf_counter() - began
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(outcome.operations)} operations, cases {dict(outcome.cases)},"
            f" {elapsed:.1f} s, seed {outcome.seed}"
        )
    replay = f"(BOOKING_CORE_SCHEMATHESIS_SEED={outcome.seed} replays this run)"
    if outcome.errors:
        pytest.fail("\n".join([f"errors {replay}", *outcome.errors]), pytrace=False)
    if outcome.failures:
        found = f"{len(outcome.failures)} failures {replay}"
        pytest.fail("\n\n".join([found, *outcome.failures]), pytrace=False)
    assert len(outcome.operations) == 9
    assert all(outcome.cases[phase] for phase in PHASES), outcome.cases
    if not LONG:
        assert elapsed < BUDGET, f"{elapsed:.0f} s is over the {BUDGET:.0f} s budget"
