"""Tenant API keys: issued once, stored as digests, resolved tenant-scoped, revocable."""

from __future__ import annotations

import uuid

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.errors import AuthenticationError, TenantInactiveError

from .conftest import Shop, make_shop


def test_issue_resolve_and_revoke(app: BookingApp, shop: Shop) -> None:
    """An issued key starts with bck_<tenant hex>_, only its SHA-256 digest is stored, it resolves
    to its tenant and is listed by label; revoking it returns True once, False after, and the key
    then fails with AuthenticationError."""
    record, key = app.tenants.create_api_key(shop.tenant.id, label="website")
    assert key.startswith(f"bck_{shop.tenant.id.hex}_")
    assert record.key_hash != key  # only a digest is stored
    assert len(record.key_hash) == 64
    assert app.tenants.resolve_api_key(key).id == shop.tenant.id
    assert [k.label for k in app.tenants.list_api_keys(shop.tenant.id)] == ["website"]
    assert app.tenants.revoke_api_key(shop.tenant.id, record.id) is True
    assert app.tenants.revoke_api_key(shop.tenant.id, record.id) is False
    with pytest.raises(AuthenticationError):
        app.tenants.resolve_api_key(key)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "nope",
        "bck_",
        "bck_xyz_abc",
        f"bck_{uuid.uuid4().hex}_guess",
        "bck_" + "0" * 32,
        None,
        42,
        "bck_" + "g" * 32 + "_x",
        "x" * 1000,
    ],
)
def test_bad_keys_are_refused_alike(app: BookingApp, shop: Shop, bad: object) -> None:
    """Every malformed, guessed, oversized or non-string key fails with AuthenticationError and the
    same message, 'invalid API key', so a refusal tells nothing about why."""
    with pytest.raises(AuthenticationError) as caught:
        app.tenants.resolve_api_key(bad)  # type: ignore[arg-type]
    assert str(caught.value) == "invalid API key"


def test_a_key_of_one_tenant_does_not_open_another(app: BookingApp, shop: Shop) -> None:
    """A key whose tenant part is swapped for another tenant's id is refused, and a valid key of a
    deactivated tenant raises TenantInactiveError."""
    other = make_shop(app)
    _, key = app.tenants.create_api_key(shop.tenant.id)
    forged = key.replace(shop.tenant.id.hex, other.tenant.id.hex)
    with pytest.raises(AuthenticationError):
        app.tenants.resolve_api_key(forged)
    app.tenants.deactivate(shop.tenant.id)
    with pytest.raises(TenantInactiveError):
        app.tenants.resolve_api_key(key)


def test_a_new_key_is_a_named_result(app: BookingApp, shop: Shop) -> None:
    """create_api_key names its parts (record, key) and still unpacks as a pair."""
    issued = app.tenants.create_api_key(shop.tenant.id, label="pos")
    record, key = issued
    assert (issued.record, issued.key) == (record, key)
    assert record.label == "pos"
    assert record.tenant_id == shop.tenant.id
    assert key.startswith(f"bck_{shop.tenant.id.hex}_")
    assert app.tenants.resolve_api_key(issued.key).id == shop.tenant.id
