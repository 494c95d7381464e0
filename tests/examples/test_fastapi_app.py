"""The FastAPI example through Starlette's TestClient: the shared contract plus FastAPI's own."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking_core import BookingApp

from .api_contract import ApiContract
from .conftest import Api, Headers, Reply, assert_problem, checkout_body

with warnings.catch_warnings():
    # Starlette 1.x asks for the "httpx2" package and warns when the TestClient runs on httpx;
    # the client works the same, and the project pins httpx.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from .conftest import load_example

example = load_example("fastapi_app")
main, seed, settings = example.main, example.seed, example.settings


class FastApiClient(Api):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Headers | None = None,
    ) -> Reply:
        response = self.client.request(method, path, json=json, content=content, headers=headers)
        return Reply(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            response.content,
        )


@pytest.fixture(name="seed")
def _seed() -> Any:
    return seed.seed_demo


@pytest.fixture(name="api")
def _api(booking: BookingApp) -> Iterator[FastApiClient]:
    with TestClient(main.create_app(booking)) as client:  # runs the lifespan
        yield FastApiClient(client)


class TestFastApiContract(ApiContract):
    """The shared behaviour, on FastAPI."""

    # the OpenAPI states the slug rule, so FastAPI checks ?segment= itself and names it
    FIELD_NAMES = {"segment_slug": "segment"}
    pay_helper = example.pay
    access_logger = "uvicorn.access"


def test_openapi_documents_the_api(api: FastApiClient) -> None:
    """/openapi.json lists every /v1 route, the request models and the X-Tenant-Key scheme."""
    reply = api.get("/openapi.json")
    assert reply.status == 200
    document = reply.body
    assert set(document["paths"]) == {
        "/v1/packages",
        "/v1/packages/{slug}",
        "/v1/availability/{date}",
        "/v1/availability",
        "/v1/slots",
        "/v1/checkout",
        "/v1/bookings/{booking_id}",
        "/v1/bookings/{booking_id}.ics",
        "/v1/bookings/{booking_id}/cancel",
        "/v1/feeds",
        "/v1/feeds/{feed_id}",
        "/v1/feeds/{token}.ics",
        "/v1/webhooks/{provider}",
        "/v1/csp-report",
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tenant-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    checkout = document["paths"]["/v1/checkout"]["post"]
    assert checkout["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckoutIn"
    }
    assert {p["name"] for p in checkout["parameters"]} == {"idempotency-key"}
    assert "application/problem+json" in checkout["responses"]["409"]["content"]


def test_openapi_describes_slots_and_timed_checkout(api: FastApiClient) -> None:
    """/v1/slots declares its parameters and reply; a checkout body takes a date or a start."""
    document = api.get("/openapi.json").body
    slots = document["paths"]["/v1/slots"]["get"]
    parameters = {p["name"]: p for p in slots["parameters"]}
    assert set(parameters) == {"package_id", "start", "end", "resource_id", "tz"}
    assert {name for name, p in parameters.items() if p["required"]} == {
        "package_id",
        "start",
        "end",
    }
    for name in ("start", "end"):
        schema = parameters[name]["schema"]
        assert schema["format"] == "date-time"
        assert schema["pattern"].endswith("(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
    resource = parameters["resource_id"]["schema"]["anyOf"][0]
    assert resource["type"] == "array"
    assert resource["maxItems"] == 50
    assert resource["items"]["format"] == "uuid"
    assert parameters["tz"]["schema"]["anyOf"][0]["format"] == "iana-time-zone"
    reply = slots["responses"]["200"]["content"]["application/json"]["schema"]
    assert reply["items"] == {"$ref": "#/components/schemas/SlotOut"}
    schemas = document["components"]["schemas"]
    assert set(schemas["SlotOut"]["properties"]) == {"start", "end", "resource_ids"}
    body = schemas["CheckoutIn"]
    assert [branch["required"] for branch in body["oneOf"]] == [["date"], ["start"]]
    assert "date" not in body.get("required", [])
    assert {"start", "resource_id"} <= set(body["properties"])
    booking = schemas["BookingOut"]["properties"]
    assert {"starts_at", "ends_at", "resource_ids"} <= set(booking)


def test_openapi_declares_the_ics_route_as_text_calendar(api: FastApiClient) -> None:
    """The .ics route answers text/calendar (a string, no JSON schema) and its problems as
    problem+json: never a problem documented under text/calendar."""
    document = api.get("/openapi.json").body
    route = document["paths"]["/v1/bookings/{booking_id}.ics"]["get"]
    assert route["security"] == [{"APIKeyHeader": []}]
    assert route["responses"]["200"]["content"] == {"text/calendar": {"schema": {"type": "string"}}}
    for status in ("401", "403", "404", "422"):
        assert route["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }


def test_openapi_declares_the_feed_url_public_and_text_calendar(api: FastApiClient) -> None:
    """The feed URL needs no API key (its token is the credential), answers text/calendar and
    states its problems as problem+json; managing feeds needs the key."""
    document = api.get("/openapi.json").body
    paths = document["paths"]
    route = paths["/v1/feeds/{token}.ics"]["get"]
    assert "security" not in route
    assert [p["name"] for p in route["parameters"]] == ["token"]
    assert route["responses"]["200"]["content"] == {"text/calendar": {"schema": {"type": "string"}}}
    assert route["responses"]["404"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert set(paths["/v1/feeds"]) == {"get", "post"}
    assert set(paths["/v1/feeds/{feed_id}"]) == {"delete"}
    for operation in (*paths["/v1/feeds"].values(), paths["/v1/feeds/{feed_id}"]["delete"]):
        assert operation["security"] == [{"APIKeyHeader": []}]
    revoke = paths["/v1/feeds/{feed_id}"]["delete"]
    assert revoke["parameters"][0]["schema"]["format"] == "uuid"
    assert "204" in revoke["responses"]
    issued = document["components"]["schemas"]["IssuedFeedOut"]["properties"]
    assert "url" in issued
    assert "url" not in document["components"]["schemas"]["FeedOut"]["properties"]
    flags = document["components"]["schemas"]["FeedIn"]["properties"]
    assert flags["include_holds"]["type"] == flags["include_contact"]["type"] == "boolean"


def test_docs_page_is_served_with_its_own_csp(api: FastApiClient) -> None:
    """/docs is Swagger UI; its CSP allows the CDN bundle, the API's stays 'none'."""
    reply = api.get("/docs")
    assert reply.status == 200
    assert b"swagger-ui" in reply.raw
    csp = reply.headers["content-security-policy"]
    assert "script-src 'self' https://cdn.jsdelivr.net" in csp
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_framework_validation_lists_every_error(api: FastApiClient, shop: Any) -> None:
    """Pydantic's errors arrive as one 422 problem with an ``errors`` list, inputs not echoed."""
    reply = api.post(
        "/v1/checkout", key=shop.api_key, json={"package": "gold", "customer": {"nme": "x"}}
    )
    body = assert_problem(reply, 422, "validation")
    fields = {e["field"] for e in body["errors"]}
    # no "date": a body names a date or a start, which booking_core checks once the body parses
    assert fields == {"customer.name", "customer.email", "customer.nme"}
    assert all(set(e) == {"field", "message", "type"} for e in body["errors"])


def test_settings_from_env(tmp_path: Path) -> None:
    """Unset variables fall back to SQLite next to the app, memory://, and the dev secret."""
    defaults = settings.Settings.from_env({})
    assert defaults.database_url.endswith("examples/fastapi_app/booking.db")
    assert defaults.database_url.startswith("sqlite:///")
    assert defaults.cache_url == "memory://"
    assert defaults.fake_payment_secret == settings.DEV_PAYMENT_SECRET.encode()
    custom = settings.Settings.from_env(
        {
            "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "BOOKING_CACHE_URL": "",
            "BOOKING_FAKE_PAYMENT_SECRET": "s3cret",
        }
    )
    assert custom.database_url == f"sqlite:///{tmp_path}/x.db"
    assert custom.cache_url == "memory://"
    assert custom.fake_payment_secret == b"s3cret"


def test_seed_cli_and_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python seed.py` prints a key that the env-built app accepts; a rerun says it reused."""
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("BOOKING_FAKE_PAYMENT_SECRET", "env-secret")
    seed.main()
    seed.main()  # again: same tenant, another key
    lines = capsys.readouterr().out.splitlines()
    keys = [line.removeprefix("X-Tenant-Key: ") for line in lines if line.startswith("X-Tenant")]
    assert len(keys) == 2
    tenant = lines[0].split(")")[0] + ")"
    assert tenant.startswith("tenant lumiere-demo (")
    assert lines[0].endswith("created with packages gold, portrait-hour, silver, studio")
    assert lines[2] == (  # the same tenant, and the rerun says so
        f"{tenant} already existed: reused as it is, catalog not recreated "
        "(packages: gold, portrait-hour, silver, studio)"
    )
    with TestClient(main.create_app()) as client:
        for key in keys:
            reply = client.get("/v1/packages", headers={"X-Tenant-Key": key})
            assert reply.status_code == 200
            slugs = sorted(p["slug"] for p in reply.json())
            assert slugs == ["gold", "portrait-hour", "silver", "studio"]


#: A checkout of the seed's timed package instead of the date package.
TIMED_CHANGE = {"package": "portrait-hour", "date": None}
#: /v1/slots of a package that does not exist: only a parameter the OpenAPI refuses is a 422.
SLOTS = f"/v1/slots?package_id={uuid.UUID(int=1)}"


@pytest.mark.parametrize(
    ("path", "change", "status"),
    [
        ("/v1/checkout", {"add_ons": {"album": 1.0}}, 201),  # JSON's 1.0 is the integer 1
        ("/v1/checkout", {"package": "GOLD"}, 422),  # a slug is lower case
        ("/v1/checkout", {"venue_id": uuid.UUID(int=3).hex}, 422),  # a UUID has its hyphens
        ("/v1/checkout", {"date": "3000-01-01"}, 422),  # outside the years 2000-2999
        ("/v1/packages/" + "a" * 65, None, 422),  # slugs have at most 64 characters
        # a start is an RFC 3339 date-time: seconds and an offset, years 2000-2999
        ("/v1/checkout", {**TIMED_CHANGE, "start": "2030-06-21T08:00:00.000000Z"}, 201),
        ("/v1/checkout", {**TIMED_CHANGE, "start": "2030-06-21T10:00+02:00"}, 422),
        ("/v1/checkout", {**TIMED_CHANGE, "start": "2030-06-21 10:00:00+02:00"}, 422),
        ("/v1/checkout", {**TIMED_CHANGE, "start": "3000-06-21T10:00:00Z"}, 422),
        ("/v1/checkout", {**TIMED_CHANGE, "start": "2030-02-30T10:00:00Z"}, 422),
        (f"{SLOTS}&start=2030-06-21T00:00:00Z&end=2030-06-22T00:00:00Z", None, 404),  # no such
        (f"{SLOTS}&start=0&end=2030-06-22T00:00:00Z", None, 422),  # not the Unix epoch
        (f"{SLOTS}&start=2030-06-21T00:00:00Z&end=2030-06-22T00:00:00Z&tz=../etc", None, 422),
    ],
)
def test_requests_are_checked_as_the_openapi_states(
    api: FastApiClient, shop: Any, path: str, change: dict[str, Any] | None, status: int
) -> None:
    """The OpenAPI's rules, no more lenient (Pydantic alone reads "GOLD" or hex UUIDs)."""
    if change is None:
        reply = api.get(path, key=shop.api_key)
    else:
        reply = api.post(path, key=shop.api_key, json={**checkout_body(), **change})
    assert reply.status == status, reply.raw
