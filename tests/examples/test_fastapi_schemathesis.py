"""The FastAPI example's HTTP contract, checked by schemathesis against its own OpenAPI.

schemathesis runs in-process (ASGI, no network) as ``schemathesis run`` would: the examples,
coverage and fuzzing phases, every check, 50 examples per operation (``BOOKING_CORE_LONG=1``:
1000), on SQLite and on PostgreSQL. It must report no failure: no 5xx, no response outside the
OpenAPI, no valid request refused and no invalid one accepted. That holds the OpenAPI to what
the API accepts. On CI the seed is fixed (a run is reproducible); elsewhere it is random and
printed with any failure, and ``BOOKING_CORE_SCHEMATHESIS_SEED`` replays one.

JSON Schema cannot state five rules, so the generator is taught them instead of being left to
fail on them (each refusal has its own contract test in ``api_contract.py``):

- ``GET /v1/availability``: ``end`` from ``start`` to 1100 days later (no keyword relates two
  parameters);
- ``GET /v1/slots``: ``end`` after ``start``, at most 62 days later (the same);
- ``POST /v1/checkout``: only add-ons the package offers, and a ``date`` for a date package but
  a ``start`` for a timed one (both are data), and a fresh ``Idempotency-Key`` per request (that
  is state: a key reused for another body is refused).

``phone`` and ``iana-time-zone`` are custom formats (a number libphonenumber knows to be valid, a
zone the tz database holds): they are drawn from libphonenumber's own example numbers and from
the zones ``zoneinfo`` lists.

``GET /v1/bookings/{booking_id}.ics`` answers ``text/calendar``: schemathesis holds its status and
Content-Type to the OpenAPI and, having no deserializer for iCalendar, leaves the body to the
contract tests (which parse it with ``icalendar``). So does the public feed URL,
``GET /v1/feeds/{token}.ics``: any token it draws is a 404 problem, which the OpenAPI states.
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
import zoneinfo
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
from booking_core import BookingApp
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.testing import ManualClock
from booking_core.web.security import parse_csp_report
from tests.conftest import ON_CI, scratch_database

from .conftest import SECRET, START, load_example

example = load_example("fastapi_app")
main, seed = example.main, example.seed
MAX_RANGE_DAYS = example.schemas.MAX_RANGE_DAYS
MAX_SLOT_DAYS = example.schemas.MAX_SLOT_DAYS

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
    """What schemathesis cannot know: phone numbers, time zones, and that a CSP report body is
    JSON."""
    schemathesis.openapi.format("phone", _phone_numbers())
    schemathesis.openapi.format("iana-time-zone", st.sampled_from(_ZONES))
    schemathesis.serializer.alias("application/csp-report", "application/json")
    yield
    unregister_string_format("phone")
    unregister_string_format("iana-time-zone")


#: The zones the server's tz database holds (what ``?tz=`` accepts).
_ZONES = sorted(zoneinfo.available_timezones())


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


def _slot_rules(subject: Subject) -> Any:
    catalog = subject.booking.catalog
    packages = catalog.list_packages(subject.tenant_id)
    dated = {str(p.id) for p in packages if p.schedule is None}
    timed = next(str(p.id) for p in packages if p.schedule is not None)

    def rules(_ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
        """A timed package where a date package's id was drawn (from the API's own replies);
        ``end`` after ``start``, at most 62 days later (or, where a later end would leave the
        years 2000-2999, ``start`` before ``end``).

        Whatever the case's mode: schemathesis relabels a case by its values after the hooks
        (a negative case whose flaw it overrode is checked as positive), and a hook changes no
        value that makes a case negative (a value that does not parse is left alone).
        """
        query = case.query or {}
        drawn = query.get("package_id")
        if isinstance(drawn, str) and drawn in dated:
            query = {**query, "package_id": timed}
        try:
            start = dt.datetime.fromisoformat(query["start"])
            end = dt.datetime.fromisoformat(query["end"])
        except (KeyError, TypeError, ValueError):
            case.query = query
            return case
        limit = dt.timedelta(days=MAX_SLOT_DAYS).total_seconds()
        span = dt.timedelta(seconds=abs((end - start).total_seconds()) % limit or 60)
        if (start + span).year <= 2999:
            case.query = {**query, "end": _rfc3339(start + span)}
        else:
            case.query = {**query, "start": _rfc3339(end - span)}
        return case

    return rules


def _rfc3339(moment: dt.datetime) -> str:
    """The form the OpenAPI's pattern states: seconds always, at most six decimals."""
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def _checkout_rules(subject: Subject) -> Any:
    fresh = itertools.count()

    def package_of(slug: str) -> booking_core.PackageDetails | None:
        try:
            return subject.booking.catalog.get_package(subject.tenant_id, slug)
        except booking_core.BookingCoreError:  # unknown, or no slug at all (a negative case)
            return None

    def rules(_ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
        """A date or a start as the package needs (whatever the mode, as for slots), and in a
        valid case only offered add-ons and a key no earlier request used."""
        body = case.body
        if not isinstance(body, dict):
            return case
        slug = body.get("package")
        details = package_of(slug) if isinstance(slug, str) else None
        if details is not None:
            case.body = body = _date_or_start(body, timed=details.package.schedule is not None)
        if not _positive(case):
            return case
        allowed = set() if details is None else {add_on.slug for add_on in details.add_ons}
        add_ons = {k: v for k, v in body.get("add_ons", {}).items() if k in allowed}
        case.body = {**body, "add_ons": add_ons}
        key = (case.headers or {}).get("idempotency-key")
        if key is not None:
            suffix = f"~{next(fresh)}"
            case.headers = {**case.headers, "idempotency-key": key[: 255 - len(suffix)] + suffix}
        return case

    return rules


def _date_or_start(body: dict[str, Any], *, timed: bool) -> dict[str, Any]:
    """The body's other branch when its package needs it: a timed package's start at 10:00 on
    the body's date (Paris summer time), or a date package's date of the body's start. A body
    with neither, or with both, is left as it is (booking_core refuses it)."""
    date, start = body.get("date"), body.get("start")
    if timed and isinstance(date, str) and start is None:
        kept = {k: v for k, v in body.items() if k not in {"date", "venue_id"}}
        return {**kept, "start": f"{date}T10:00:00+02:00"}
    if not timed and isinstance(start, str) and date is None:
        kept = {k: v for k, v in body.items() if k not in {"start", "resource_id"}}
        return {**kept, "date": start[:10]}
    return body


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
    slot_rules = _slot_rules(subject)
    schema.hook("map_case").apply_to(method="GET", path="/v1/slots")(slot_rules)

    # the examples phase runs no map_case hooks: its cases get the same rules here
    @schema.hook("before_add_examples").apply_to(method="GET", path="/v1/slots")
    def slot_examples(ctx: schemathesis.HookContext, examples: list[schemathesis.Case]) -> None:
        for case in examples:
            slot_rules(ctx, case)

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
    assert len(outcome.operations) == 15
    assert all(outcome.cases[phase] for phase in PHASES), outcome.cases
    if not LONG:
        assert elapsed < BUDGET, f"{elapsed:.0f} s is over the {BUDGET:.0f} s budget"
