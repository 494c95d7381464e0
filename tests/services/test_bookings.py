"""The booking lifecycle on every backend."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingPolicy, BookingStatus, CustomerDetails
from booking_core.errors import (
    BookingConflictError,
    DateUnavailableError,
    HoldExpiredError,
    InvalidTransitionError,
    NotFoundError,
    TenantInactiveError,
    ValidationError,
)
from booking_core.testing import ManualClock

from .conftest import Shop, make_shop

DAY = dt.date(2030, 9, 12)
ANN = CustomerDetails("Ann O'Brien", "Ann@Example.com", "+33 1 42 68 53 00")


def hold(app: BookingApp, shop: Shop, date: dt.date = DAY, email: str = "ann@example.com", **kw):  # type: ignore[no-untyped-def]
    return app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=date,
        customer=CustomerDetails("Ann", email),
        **kw,
    )


def test_hold_snapshots_price_commission_and_expiry(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """A hold is PENDING with package + add-on prices frozen, commission and a 15 min expiry."""
    booking = app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=DAY,
        customer=ANN,
        add_ons={shop.album.id: 2},
    )
    assert booking.status is BookingStatus.PENDING
    assert booking.package_price == 250_000
    assert [(a.name, a.unit_price, a.quantity) for a in booking.add_ons] == [("Album", 4_500, 2)]
    assert booking.total == 259_000
    assert booking.commission == 31_080  # ceil(259000 * 12 / 100)
    assert booking.currency == "EUR"
    assert booking.expires_at == clock.now() + dt.timedelta(minutes=15)
    assert app.bookings.get(shop.tenant.id, booking.id) == booking

    app.catalog.update_package(shop.tenant.id, shop.package.id, base_price=1)
    app.catalog.update_add_on(shop.tenant.id, shop.album.id, price=1)
    again = app.bookings.get(shop.tenant.id, booking.id)
    assert (again.total, again.package_price, again.add_ons[0].unit_price) == (
        259_000,
        250_000,
        4_500,
    )


def test_customer_is_reused_by_normalized_email(app: BookingApp, shop: Shop) -> None:
    """Booking twice with one email keeps one customer and updates the name and phone."""
    first = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=DAY, customer=ANN)
    second = app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=DAY + dt.timedelta(days=1),
        customer=CustomerDetails("Ann Smith", "ann@example.com", None),
    )
    assert first.customer_id == second.customer_id
    customer = app.customers.get(shop.tenant.id, first.customer_id)
    assert customer.name == "Ann Smith"
    assert customer.phone == "+33142685300"  # kept: no new phone given
    assert app.customers.find_by_email(shop.tenant.id, "ANN@example.com") == customer
    assert [c.id for c in app.customers.list(shop.tenant.id)] == [customer.id]


def test_plain_text_is_not_html_escaped(app: BookingApp, shop: Shop) -> None:
    """ "O'Brien & Sons <b>x</b>" is stored as "O'Brien & Sons x" (the seed stored O&#x27;Brien)."""
    booking = app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=DAY,
        customer=CustomerDetails("O'Brien & Sons <b>x</b>", "ob@example.com"),
    )
    assert app.customers.get(shop.tenant.id, booking.customer_id).name == "O'Brien & Sons x"


def test_second_hold_on_a_full_date_conflicts_and_writes_nothing(
    app: BookingApp, shop: Shop
) -> None:
    """Capacity 1: the second hold raises BookingConflictError naming the date; nothing is left."""
    hold(app, shop)
    with pytest.raises(BookingConflictError) as caught:
        hold(app, shop, email="late@example.com")
    assert caught.value.date == DAY
    assert app.customers.find_by_email(shop.tenant.id, "late@example.com") is None
    assert len(app.bookings.list_for_dates(shop.tenant.id, DAY, DAY)) == 1


def test_capacity_three_admits_exactly_three(app: BookingApp) -> None:
    """With capacity_per_date=3 three holds succeed and the fourth conflicts."""
    shop = make_shop(app, policy=BookingPolicy(capacity_per_date=3))
    for n in range(3):
        hold(app, shop, email=f"c{n}@example.com")
    with pytest.raises(BookingConflictError):
        hold(app, shop, email="c4@example.com")
    assert app.availability.check(shop.tenant.id, DAY).reason == "booked"


def test_cancel_frees_the_date_at_once(app: BookingApp, shop: Shop) -> None:
    """A CANCELED booking stops blocking its date (the seed's bug)."""
    booking = hold(app, shop)
    app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_1")
    assert not app.availability.check(shop.tenant.id, DAY).available
    canceled = app.bookings.cancel(shop.tenant.id, booking.id, reason="changed plans").booking
    assert canceled.status is BookingStatus.CANCELED
    assert canceled.cancel_reason == "changed plans"
    assert app.availability.check(shop.tenant.id, DAY).available
    assert hold(app, shop, email="next@example.com").status is BookingStatus.PENDING


def test_lapsed_hold_frees_the_date_before_the_sweep(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """Once its TTL passes a hold no longer blocks, reads EXPIRED, and cannot be confirmed."""
    first = hold(app, shop)
    clock.advance(dt.timedelta(minutes=15))
    assert app.availability.check(shop.tenant.id, DAY).available
    assert app.bookings.get(shop.tenant.id, first.id).status is BookingStatus.EXPIRED
    second = hold(app, shop, email="b@example.com")
    with pytest.raises(HoldExpiredError):
        app.bookings.confirm(shop.tenant.id, first.id, payment_ref="late")
    confirmed = app.bookings.confirm(shop.tenant.id, second.id, payment_ref="pay_2")
    assert confirmed.status is BookingStatus.CONFIRMED
    swept = app.bookings.expire_holds()
    assert first.id in {b.id for b in swept}
    assert app.bookings.expire_holds() == []
    assert app.bookings.get(shop.tenant.id, second.id).status is BookingStatus.CONFIRMED


def test_hold_ttl_is_per_tenant(app: BookingApp, clock: ManualClock) -> None:
    """A tenant's hold_ttl sets expires_at; an unexpired hold still blocks."""
    shop = make_shop(app, policy=BookingPolicy(hold_ttl=dt.timedelta(hours=2)))
    booking = hold(app, shop)
    assert booking.expires_at == clock.now() + dt.timedelta(hours=2)
    clock.advance(dt.timedelta(minutes=119))
    assert app.availability.check(shop.tenant.id, DAY).reason == "booked"
    clock.advance(dt.timedelta(minutes=1))
    assert app.availability.check(shop.tenant.id, DAY).available


def test_sweep_expires_only_lapsed_holds(app: BookingApp, shop: Shop, clock: ManualClock) -> None:
    """expire_holds marks lapsed PENDING holds EXPIRED and leaves fresh ones alone."""
    old = hold(app, shop)
    clock.advance(dt.timedelta(minutes=10))
    fresh = hold(app, shop, date=DAY + dt.timedelta(days=1), email="f@example.com")
    clock.advance(dt.timedelta(minutes=6))
    expired = app.bookings.expire_holds(tenant_id=shop.tenant.id)
    assert [b.id for b in expired] == [old.id]
    assert expired[0].status is BookingStatus.EXPIRED
    assert app.bookings.get(shop.tenant.id, fresh.id).status is BookingStatus.PENDING


def test_transitions_are_checked(app: BookingApp, shop: Shop, clock: ManualClock) -> None:
    """Only the documented transitions happen; repeats are no-ops; others raise."""
    booking = hold(app, shop)
    with pytest.raises(InvalidTransitionError):
        app.bookings.fulfil(shop.tenant.id, booking.id)
    confirmed = app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_1")
    assert app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_1") == confirmed
    with pytest.raises(InvalidTransitionError):
        app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="other")
    with pytest.raises(InvalidTransitionError):
        app.bookings.fulfil(shop.tenant.id, booking.id)  # the event is months ahead
    clock.set(dt.datetime(2030, 9, 12, 8, 0, tzinfo=dt.UTC))
    fulfilled = app.bookings.fulfil(shop.tenant.id, booking.id)
    assert fulfilled.status is BookingStatus.FULFILLED
    assert app.bookings.fulfil(shop.tenant.id, booking.id) == fulfilled
    with pytest.raises(InvalidTransitionError):
        app.bookings.cancel(shop.tenant.id, booking.id)
    assert not app.availability.check(shop.tenant.id, DAY).available


def test_cancel_twice_is_a_noop(app: BookingApp, shop: Shop) -> None:
    """Cancelling a cancelled booking returns the same booking unchanged, and confirming it
    afterwards raises InvalidTransitionError."""
    booking = hold(app, shop)
    first = app.bookings.cancel(shop.tenant.id, booking.id)
    assert app.bookings.cancel(shop.tenant.id, booking.id) == first
    with pytest.raises(InvalidTransitionError):
        app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="p")


def test_closed_dates_refuse_holds_with_their_reason(app: BookingApp, shop: Shop) -> None:
    """Blackout, past and too-far dates raise DateUnavailableError with the reason."""
    app.availability.add_blackout(shop.tenant.id, DAY, reason="holiday")
    with pytest.raises(DateUnavailableError) as caught:
        hold(app, shop)
    assert (caught.value.reason, caught.value.date) == ("blackout", DAY)
    with pytest.raises(DateUnavailableError) as caught:
        hold(app, shop, date=dt.date(2030, 6, 14))
    assert caught.value.reason == "past"
    with pytest.raises(DateUnavailableError) as caught:
        hold(app, shop, date=dt.date(2033, 1, 1))
    assert caught.value.reason == "too_far"
    assert (
        app.bookings.list_for_dates(shop.tenant.id, dt.date(2030, 1, 1), dt.date(2033, 12, 31))
        == []
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("package_id", {"package_id": "not-a-uuid"}),
        ("date", {"date": "2030-09-12"}),
        ("date", {"date": dt.datetime(2030, 9, 12, tzinfo=dt.UTC)}),
        ("customer.email", {"customer": CustomerDetails("Ann", "not-an-email")}),
        ("customer.name", {"customer": CustomerDetails("   ", "a@example.com")}),
        ("customer.phone", {"customer": CustomerDetails("Ann", "a@example.com", "12")}),
        ("customer", {"customer": {"name": "Ann"}}),
        ("add_ons", {"add_ons": [1, 2]}),
        ("venue_id", {"venue_id": 7}),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(
    app: BookingApp, shop: Shop, field: str, kwargs: dict[str, object]
) -> None:
    """Each malformed hold argument raises ValidationError whose field names that argument (or a
    part of it, such as customer.email), and no booking is written."""
    args: dict[str, object] = {
        "package_id": shop.package.id,
        "date": DAY,
        "customer": CustomerDetails("Ann", "a@example.com"),
    }
    args.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        app.bookings.hold(shop.tenant.id, **args)  # type: ignore[arg-type]
    assert caught.value.field.startswith(field)
    assert app.bookings.list_for_dates(shop.tenant.id, DAY, DAY) == []


def test_add_on_quantity_bounds(app: BookingApp, shop: Shop) -> None:
    """An add-on quantity of 0, -1, 1.5 or True is refused with a ValidationError on add_ons."""
    for quantity in (0, -1, 1.5, True):
        with pytest.raises(ValidationError) as caught:
            hold(app, shop, add_ons={shop.album.id: quantity})
        assert caught.value.field.startswith("add_ons")


def test_add_ons_must_be_offered_and_active(app: BookingApp, shop: Shop) -> None:
    """An add-on not offered by the package, inactive, or unknown is NotFound; nothing written."""
    with pytest.raises(NotFoundError):
        hold(app, shop, add_ons={shop.drone.id: 1})
    app.catalog.deactivate_add_on(shop.tenant.id, shop.album.id)
    with pytest.raises(NotFoundError):
        hold(app, shop, add_ons={shop.album.id: 1})
    with pytest.raises(NotFoundError):
        hold(app, shop, add_ons={uuid.uuid4(): 1})
    assert app.bookings.list_for_dates(shop.tenant.id, DAY, DAY) == []


def test_inactive_package_and_tenant_are_refused(app: BookingApp, shop: Shop) -> None:
    """A deactivated package cannot be held (NotFoundError) until reactivated; a deactivated tenant
    refuses holds and reads with TenantInactiveError, and reads work again once it is
    reactivated."""
    app.catalog.deactivate_package(shop.tenant.id, shop.package.id)
    with pytest.raises(NotFoundError):
        hold(app, shop)
    app.catalog.update_package(shop.tenant.id, shop.package.id, active=True)
    booking = hold(app, shop)
    app.tenants.deactivate(shop.tenant.id)
    with pytest.raises(TenantInactiveError):
        hold(app, shop, date=DAY + dt.timedelta(days=3))
    with pytest.raises(TenantInactiveError):
        app.bookings.get(shop.tenant.id, booking.id)
    app.tenants.activate(shop.tenant.id)
    assert app.bookings.get(shop.tenant.id, booking.id).id == booking.id


def test_venue_bookings_use_the_venue_capacity(app: BookingApp, shop: Shop) -> None:
    """A venue of capacity 2 takes two bookings a date, independently of the tenant-wide pool."""
    hall = app.catalog.create_venue(shop.tenant.id, name="Grand Hall", city="Lyon", capacity=2)
    hold(app, shop, venue_id=hall.id, email="v1@example.com")
    hold(app, shop, venue_id=hall.id, email="v2@example.com")
    with pytest.raises(BookingConflictError):
        hold(app, shop, venue_id=hall.id, email="v3@example.com")
    assert app.availability.check(shop.tenant.id, DAY, venue_id=hall.id).reason == "booked"
    assert app.availability.check(shop.tenant.id, DAY).available
    hold(app, shop, email="tenantwide@example.com")
    with pytest.raises(NotFoundError):
        hold(app, shop, venue_id=uuid.uuid4())


def test_unknown_booking_is_not_found(app: BookingApp, shop: Shop) -> None:
    """get, confirm and cancel of a booking id that does not exist, in a known or an unknown tenant,
    raise NotFoundError."""
    for call in (
        lambda: app.bookings.get(shop.tenant.id, uuid.uuid4()),
        lambda: app.bookings.confirm(shop.tenant.id, uuid.uuid4(), payment_ref="p"),
        lambda: app.bookings.cancel(shop.tenant.id, uuid.uuid4()),
        lambda: app.bookings.get(uuid.uuid4(), uuid.uuid4()),
    ):
        with pytest.raises(NotFoundError):
            call()
