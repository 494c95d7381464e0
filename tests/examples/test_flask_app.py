"""The Flask example through Flask's test client: the shared contract plus Flask's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from booking_core import BookingApp

from .api_contract import ApiContract
from .conftest import Api, Headers, Reply, assert_problem, load_example

example = load_example("flask_app")
flask_app, seed, settings = example.app, example.seed, example.settings


class FlaskApi(Api):
    def __init__(self, client: FlaskClient) -> None:
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
        options: dict[str, Any] = {"method": method, "headers": headers or []}
        if json is not None:
            options["json"] = json
        if content is not None:
            options["data"] = content
        response = self.client.open(path, **options)
        return Reply(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            response.get_data(),
        )


@pytest.fixture(name="seed")
def _seed() -> Any:
    return seed.seed_demo


@pytest.fixture(name="api")
def _api(booking: BookingApp) -> FlaskApi:
    return FlaskApi(flask_app.create_app(booking).test_client())


class TestFlaskContract(ApiContract):
    """The shared behaviour, on Flask."""

    pay_helper = example.pay
    access_logger = "werkzeug"


def test_wrong_method_is_a_405_problem_with_allow(api: FlaskApi, shop: Any) -> None:
    """werkzeug's HTTP errors become problems and keep their headers."""
    reply = api.send("DELETE", "/v1/packages", headers={"X-Tenant-Key": shop.api_key})
    body = assert_problem(reply, 405)
    assert body["title"] == "Method Not Allowed"
    assert "GET" in reply.headers["allow"]


def test_oversized_body_is_a_413_problem(api: FlaskApi) -> None:
    """Bodies over MAX_CONTENT_LENGTH are refused before any parsing."""
    reply = api.post(
        "/v1/csp-report",
        content=b" " * (flask_app.MAX_CONTENT_LENGTH + 1),
        headers={"Content-Type": "application/csp-report"},
    )
    assert_problem(reply, 413)
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_settings_from_env(tmp_path: Path) -> None:
    """Unset variables fall back to SQLite next to the app, memory://, and the dev secret."""
    defaults = settings.Settings.from_env({})
    assert defaults.database_url.endswith("examples/flask_app/booking.db")
    assert defaults.cache_url == "memory://"
    assert defaults.fake_payment_secret == settings.DEV_PAYMENT_SECRET.encode()
    custom = settings.Settings.from_env({"BOOKING_CACHE_URL": "memory://?maxsize=10"})
    assert custom.cache_url == "memory://?maxsize=10"


def test_seed_command_and_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flask --app app seed` prints a key the same app accepts."""
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = flask_app.create_app()
    try:
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith("tenant lumiere-demo (")
        key = lines[1].removeprefix("X-Tenant-Key: ")
        assert key.startswith("bck_")
        reply = app.test_client().get("/v1/packages/gold", headers={"X-Tenant-Key": key})
        assert reply.status_code == 200
        assert reply.get_json()["package"]["name"] == "Gold"
    finally:
        app.extensions["booking_core"].close()


def test_seed_module_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running seed.main() without a Flask app seeds the database named by BOOKING_DATABASE_URL and
    prints the tenant and its X-Tenant-Key."""
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    seed.main()
    out = capsys.readouterr().out
    assert "tenant lumiere-demo (" in out
    assert "X-Tenant-Key: bck_" in out
