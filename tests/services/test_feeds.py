"""Calendar feeds: tokens issued once and stored hashed, revocable at once; a feed shows what
its tenant chose (confirmed bookings; holds and contact details only if asked), one resource's
or the whole tenant's, in a constant number of queries. On every backend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event

from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingStatus, CustomerDetails, PackageSchedule
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import (
    AuthenticationError,
    NotFoundError,
    TenantInactiveError,
    ValidationError,
)
from booking_core.services.feeds import FEED_TOKEN_PREFIX

from .conftest import Shop, make_shop

JUNE_20 = dt.date(2030, 6, 20)
FIRST, LAST = dt.date(2030, 6, 1), dt.date(2030, 7, 31)
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(9), dt.time(17)) for d in range(7)))


def _customer(n: int) -> CustomerDetails:
    return CustomerDetails(f"Guest {n}", f"guest{n}@example.com", "+33 6 12 34 56 78")


def _confirmed(app: BookingApp, shop: Shop, day: dt.date, n: int) -> Any:
    held = app.bookings.hold(
        shop.tenant.id, package_id=shop.package.id, date=day, customer=_customer(n)
    )
    return app.bookings.confirm(shop.tenant.id, held.id, payment_ref=f"pay-{n}")


def test_a_token_is_shown_once_and_stored_as_a_digest(app: BookingApp, shop: Shop) -> None:
    """create returns the token once; the stored record holds its SHA-256 digest, never the
    token; list shows the active feeds; the token names its tenant and feed."""
    record, token = app.feeds.create(shop.tenant.id, label="Office wall")
    assert token.startswith(f"{FEED_TOKEN_PREFIX}{shop.tenant.id.hex}_{record.id.hex}_")
    assert token not in repr(record)
    assert len(record.token_hash) == 64
    assert (record.include_holds, record.include_contact, record.resource_id) == (
        False,
        False,
        None,
    )
    assert [feed.id for feed in app.feeds.list(shop.tenant.id)] == [record.id]


def test_a_feed_shows_confirmed_bookings_only_by_default(app: BookingApp, shop: Shop) -> None:
    """Confirmed bookings in the window appear; a hold, a cancelled booking and a booking
    outside the window do not; no customer records are read without include_contact."""
    shown = _confirmed(app, shop, JUNE_20, 1)
    app.bookings.hold(
        shop.tenant.id, package_id=shop.package.id, date=dt.date(2030, 6, 22), customer=_customer(2)
    )
    gone = _confirmed(app, shop, dt.date(2030, 6, 21), 3)
    app.bookings.cancel(shop.tenant.id, gone.id)
    _confirmed(app, shop, dt.date(2030, 9, 1), 4)
    _, token = app.feeds.create(shop.tenant.id)
    contents = app.feeds.contents(token, start=FIRST, end=LAST)
    assert [b.id for b in contents.bookings] == [shown.id]
    assert contents.customers == ()
    assert contents.tenant.id == shop.tenant.id


def test_holds_and_contact_details_appear_only_when_the_feed_includes_them(
    app: BookingApp, shop: Shop
) -> None:
    """With include_holds a live hold appears (a lapsed one does not); with include_contact the
    customers of the shown bookings are read."""
    confirmed = _confirmed(app, shop, JUNE_20, 1)
    held = app.bookings.hold(
        shop.tenant.id, package_id=shop.package.id, date=dt.date(2030, 6, 22), customer=_customer(2)
    )
    _, token = app.feeds.create(shop.tenant.id, include_holds=True, include_contact=True)
    contents = app.feeds.contents(token, start=FIRST, end=LAST)
    assert {b.id: b.status for b in contents.bookings} == {
        confirmed.id: BookingStatus.CONFIRMED,
        held.id: BookingStatus.PENDING,
    }
    assert {c.email for c in contents.customers} == {"guest1@example.com", "guest2@example.com"}
    app.clock.advance(dt.timedelta(hours=2))  # type: ignore[attr-defined]  # the hold lapses
    later = app.feeds.contents(token, start=FIRST, end=LAST)
    assert [b.id for b in later.bookings] == [confirmed.id]


def test_a_resource_feed_shows_that_resources_bookings_only(app: BookingApp) -> None:
    """A feed of one adviser shows the timed bookings that hold that adviser, not the other's."""
    shop = make_shop(app)
    tid = shop.tenant.id
    ada = app.catalog.create_resource(tid, name="Ada", hours=HOURS)
    bo = app.catalog.create_resource(tid, name="Bo", hours=HOURS)
    package = app.catalog.create_package(
        tid,
        slug="consult",
        name="Consult",
        base_price=5_000,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(hours=1)), resource_ids=(ada.id, bo.id)
        ),
    )
    start = dt.datetime(2030, 6, 20, 10, tzinfo=dt.UTC)
    mine = app.bookings.hold(
        tid, package_id=package.id, start=start, customer=_customer(1), resource_id=ada.id
    )
    app.bookings.hold(
        tid, package_id=package.id, start=start, customer=_customer(2), resource_id=bo.id
    )
    _, token = app.feeds.create(tid, resource_id=ada.id, include_holds=True)
    contents = app.feeds.contents(token, start=FIRST, end=LAST)
    assert [b.id for b in contents.bookings] == [mine.id]
    assert {r.id for r in contents.resources} == {ada.id, bo.id}
    with pytest.raises(NotFoundError):
        app.feeds.create(tid, resource_id=make_shop(app).tenant.id)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # another secret
        lambda token: token.replace(FEED_TOKEN_PREFIX, "bck_", 1),  # an API key's prefix
        lambda token: token[: len(FEED_TOKEN_PREFIX) + 32],  # cut short
        lambda token: token + "\u00e9",  # not ASCII
        lambda token: 42,  # not text
        lambda token: "x" * 500,  # too long
    ],
)
def test_a_wrong_token_is_refused_indistinguishably(
    app: BookingApp, shop: Shop, mangle: Any
) -> None:
    """A mangled, foreign or malformed token raises AuthenticationError, never another error."""
    _, token = app.feeds.create(shop.tenant.id)
    with pytest.raises(AuthenticationError):
        app.feeds.contents(mangle(token), start=FIRST, end=LAST)


def test_another_tenants_feed_id_with_my_tenant_is_refused(app: BookingApp) -> None:
    """A token built from one tenant's id and another tenant's feed id and secret opens
    nothing: feeds are looked up inside the named tenant."""
    mine, theirs = make_shop(app), make_shop(app)
    _, their_token = app.feeds.create(theirs.tenant.id)
    forged = their_token.replace(theirs.tenant.id.hex, mine.tenant.id.hex, 1)
    with pytest.raises(AuthenticationError):
        app.feeds.contents(forged, start=FIRST, end=LAST)


def test_revoking_stops_the_token_at_once(app: BookingApp, shop: Shop) -> None:
    """After revoke the token is refused and the feed leaves the list; a second revoke says
    it was not active."""
    record, token = app.feeds.create(shop.tenant.id)
    assert app.feeds.contents(token, start=FIRST, end=LAST).feed.id == record.id
    assert app.feeds.revoke(shop.tenant.id, record.id) is True
    with pytest.raises(AuthenticationError):
        app.feeds.contents(token, start=FIRST, end=LAST)
    assert app.feeds.list(shop.tenant.id) == []
    assert app.feeds.revoke(shop.tenant.id, record.id) is False


def test_a_deactivated_tenant_and_a_window_too_long_are_typed_errors(
    app: BookingApp, shop: Shop
) -> None:
    """A valid token of a deactivated tenant raises TenantInactiveError; a window over
    MAX_FEED_DAYS raises ValidationError naming ``end``."""
    _, token = app.feeds.create(shop.tenant.id)
    with pytest.raises(ValidationError) as long:
        app.feeds.contents(token, start=FIRST, end=FIRST + dt.timedelta(days=401))
    assert long.value.field == "end"
    app.tenants.deactivate(shop.tenant.id)
    with pytest.raises(TenantInactiveError):
        app.feeds.contents(token, start=FIRST, end=LAST)


def test_a_feed_reads_in_a_constant_number_of_statements(app: BookingApp, shop: Shop) -> None:
    """On the SQL backends a feed read costs the same statements with 1 booking or 25, with
    contact details included."""
    if not isinstance(app.uow, SqlUnitOfWorkFactory):
        pytest.skip("counts SQL statements")
    seen: list[str] = []
    event.listen(app.uow.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    _, token = app.feeds.create(shop.tenant.id, include_contact=True)
    counts = []
    for n in range(25):
        _confirmed(app, shop, JUNE_20 + dt.timedelta(days=n), n)
        if n in (0, 24):
            before = len(seen)
            contents = app.feeds.contents(token, start=FIRST, end=LAST)
            counts.append((len(seen) - before, len(contents.bookings), len(contents.customers)))
    assert counts[0][0] == counts[1][0] <= 9, counts
    assert [(b, c) for _, b, c in counts] == [(1, 1), (25, 25)]
