"""Errors say what they received and what to do; responses hold no surprising values.

Runs on every backend of the ``app`` fixture (memory, SQLite, PostgreSQL): the messages are
decided before storage is reached, or from the stored state, and must read the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import BookingStatus, CustomerDetails, PackageDetails
from booking_core.errors import InvalidTransitionError, ValidationError
from booking_core.services import _validate as v
from booking_core.testing import ManualClock

from .conftest import Shop, make_shop

DAY = dt.date(2030, 9, 12)
ANN = CustomerDetails("Ann", "ann@example.com")


def _refused(call: object, **kwargs: object) -> ValidationError:
    assert callable(call)
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value


def _hold(app: BookingApp, shop: Shop, **changes: object) -> ValidationError:
    kwargs: dict[str, object] = {
        "tenant_id": shop.tenant.id,
        "package_id": shop.package.id,
        "date": DAY,
        "customer": ANN,
        **changes,
    }
    return _refused(app.bookings.hold, **kwargs)


# --- what was received, and the fix --------------------------------------------------------


def test_a_date_given_as_text_names_the_text_and_the_parser(app: BookingApp, shop: Shop) -> None:
    """A date passed as an ISO string is refused on field 'date' with a message that quotes the
    string and suggests date.fromisoformat."""
    error = _hold(app, shop, date="2027-03-01")
    assert error.field == "date"
    assert (
        str(error) == "date: expected datetime.date, got str '2027-03-01'; use date.fromisoformat"
    )


def test_a_datetime_given_as_a_date_says_to_take_its_date(app: BookingApp, shop: Shop) -> None:
    """A datetime passed as the date is refused with a message saying to pass its .date() in the
    tenant's timezone."""
    error = _hold(app, shop, date=dt.datetime(2030, 9, 12, 10, 30))
    assert str(error) == (
        "date: expected datetime.date, got datetime.datetime 2030-09-12T10:30:00; "
        "pass a date, not a datetime (its .date() in the tenant's timezone)"
    )


def test_a_date_out_of_range_names_the_date(app: BookingApp, shop: Shop) -> None:
    """A date outside 1900-01-01..9998-12-31 is refused with a message giving the bounds and the
    date received."""
    error = _hold(app, shop, date=dt.date(1, 1, 1))
    assert str(error) == "date: must be between 1900-01-01 and 9998-12-31, got 0001-01-01"


def test_a_tenant_where_its_id_belongs_says_pass_tenant_id(app: BookingApp, shop: Shop) -> None:
    """Passing a Tenant object as tenant_id, to hold or to get, is refused on field tenant_id with
    the hint 'pass tenant.id'."""
    error = _hold(app, shop, tenant_id=shop.tenant)
    assert error.field == "tenant_id"
    assert str(error) == "tenant_id: expected uuid.UUID, got Tenant; pass tenant.id"
    error = _refused(app.bookings.get, tenant_id=shop.tenant, booking_id=uuid.uuid4())
    assert str(error) == "tenant_id: expected uuid.UUID, got Tenant; pass tenant.id"


def test_an_entity_where_an_id_belongs_says_which_attribute(app: BookingApp, shop: Shop) -> None:
    """Passing a Package, AddOn or PackageDetails where an id belongs names the attribute to pass
    instead (package.id, package.tenant_id, add_on.id, package_details.id)."""
    assert str(_hold(app, shop, package_id=shop.package)) == (
        "package_id: expected uuid.UUID, got Package; pass package.id"
    )
    assert str(_hold(app, shop, tenant_id=shop.package)) == (
        "tenant_id: expected uuid.UUID, got Package; pass package.tenant_id"
    )
    assert str(_hold(app, shop, venue_id=shop.package)) == (
        "venue_id: expected uuid.UUID, got Package; pass the venue's id, not a Package"
    )
    assert str(_hold(app, shop, add_ons={shop.album: 1})) == (
        "add_ons: expected uuid.UUID, got AddOn; pass add_on.id"
    )
    details = app.catalog.get_package(shop.tenant.id, "gold")
    assert str(_hold(app, shop, package_id=details)) == (
        "package_id: expected uuid.UUID, got PackageDetails; pass package_details.id"
    )


def test_a_slug_where_an_id_belongs_is_named(app: BookingApp, shop: Shop) -> None:
    """A package or tenant slug passed as an id is refused with a message saying a slug is not an id
    and naming the lookup that returns the id."""
    assert str(_hold(app, shop, package_id="gold")) == (
        "package_id: expected uuid.UUID, got str 'gold'; "
        "a slug is not an id: pass catalog.get_package(tenant_id, slug).id"
    )
    slug = shop.tenant.slug
    assert str(_hold(app, shop, tenant_id=slug)) == (
        f"tenant_id: expected uuid.UUID, got str {slug!r}; "
        "a slug is not an id: pass tenants.get_by_slug(slug).id"
    )


def test_an_id_as_text_says_to_parse_it(app: BookingApp, shop: Shop) -> None:
    """A UUID passed as text is refused with a message quoting it and saying to parse it with
    uuid.UUID(text)."""
    text = str(shop.package.id)
    assert str(_hold(app, shop, package_id=text)) == (
        f"package_id: expected uuid.UUID, got str {text!r}; parse it with uuid.UUID(text) first"
    )


def test_amounts_and_integers_name_what_was_received(app: BookingApp, shop: Shop) -> None:
    """A float, text or negative refund amount and a bool limit are refused with messages naming
    what was received and, for amounts, that they are int minor units."""
    booking = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=DAY, customer=ANN)
    refund = app.bookings.refund
    tid = shop.tenant.id
    assert str(_refused(refund, tenant_id=tid, booking_id=booking.id, amount=10.5)) == (
        "amount: expected an integer, got float 10.5; "
        "amounts are int minor units (cents): 10.50 is 1050"
    )
    assert str(_refused(refund, tenant_id=tid, booking_id=booking.id, amount="1050")) == (
        "amount: expected an integer, got str '1050'; use int(text)"
    )
    assert str(_refused(refund, tenant_id=tid, booking_id=booking.id, amount=-5)) == (
        "amount: must be between 0 and 1000000000000, got -5"
    )
    assert str(_refused(app.bookings.expire_holds, limit=True)) == (
        "limit: expected an integer, got bool True"
    )


def test_a_float_percent_says_what_to_pass_instead(app: BookingApp) -> None:
    """A float commission_percent is refused with a message saying to pass a decimal string or a
    Decimal."""
    error = _refused(
        app.tenants.create,
        slug="x",
        name="X",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10.5,
    )
    assert str(error) == (
        "commission_percent: expected an int, a decimal string or a Decimal, got float 10.5; "
        "use a str such as '12.5' or a Decimal"
    )


def test_huge_or_hostile_values_are_never_echoed_whole(app: BookingApp, shop: Shop) -> None:
    """Error messages truncate huge strings, escape control and bidi characters, give sizes of huge
    ints and lists, and never call a value's __repr__."""
    error = _hold(app, shop, package_id="x" * 1_000_000)
    assert str(error) == (
        "package_id: expected uuid.UUID, got str '" + "x" * 38 + "… (1000000 characters)"
    )
    error = _hold(app, shop, package_id="a\u202eb\x00")  # escaped, not written raw
    assert str(error) == r"package_id: expected uuid.UUID, got str 'a\u202eb\x00'"
    assert str(_hold(app, shop, package_id=10**5000)) == (
        "package_id: expected uuid.UUID, got int of 16610 bits"
    )

    class Secret:
        def __repr__(self) -> str:
            raise AssertionError("a message must not run the value's code")

    assert (
        str(_hold(app, shop, package_id=Secret())) == "package_id: expected uuid.UUID, got Secret"
    )
    assert str(_hold(app, shop, package_id=[1, 2, 3])) == (
        "package_id: expected uuid.UUID, got list of 3 items"
    )


def test_describe_is_brief() -> None:
    """describe() gives short, type-named descriptions: bytes and strings are truncated with their
    length, containers give their item count, and nothing exceeds 80 characters."""
    assert v.describe(None) == "None"
    assert (
        v.describe(b"\xff" * 100) == r"bytes b'\xff\xff\xff\xff\xff\xff\xff\xff\xff\… (100 bytes)"
    )
    assert v.describe(Decimal("1E+999999999")) == "decimal.Decimal 1E+999999999"
    assert v.describe({"a": 1}) == "dict of 1 item"
    assert all(len(v.describe(x)) < 80 for x in ("é" * 10**4, b"\x00" * 10**4, 7**10**4, 1e308))


# --- confirm with another payment ------------------------------------------------------------


def test_confirming_with_another_payment_ref_says_the_ref_differs(
    app: BookingApp, shop: Shop
) -> None:
    """Confirming a confirmed booking again with the same payment_ref is a no-op; with another one
    it raises a plain InvalidTransitionError whose message names both refs and whose attributes
    give the booking and both states."""
    booking = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=DAY, customer=ANN)
    app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_first")
    assert app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_first").status is (
        BookingStatus.CONFIRMED
    )
    with pytest.raises(InvalidTransitionError) as caught:
        app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_second")
    assert str(caught.value) == (
        f"booking {booking.id} is already CONFIRMED with payment_ref 'pay_first'; the payment_ref "
        "differs ('pay_second'): confirming again is a no-op only with the same one"
    )
    assert (caught.value.booking_id, caught.value.current, caught.value.requested) == (
        booking.id,
        "CONFIRMED",
        "CONFIRMED",
    )
    assert type(caught.value) is InvalidTransitionError


def test_confirming_a_cancelled_booking_keeps_the_status_message(
    app: BookingApp, shop: Shop
) -> None:
    """Confirming a cancelled booking raises InvalidTransitionError with the message 'booking <id>
    is CANCELED; cannot become CONFIRMED'."""
    booking = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=DAY, customer=ANN)
    app.bookings.cancel(shop.tenant.id, booking.id)
    with pytest.raises(InvalidTransitionError) as caught:
        app.bookings.confirm(shop.tenant.id, booking.id, payment_ref="pay_first")
    assert str(caught.value) == f"booking {booking.id} is CANCELED; cannot become CONFIRMED"


# --- values a reader expects -----------------------------------------------------------------


def test_a_confirmed_booking_keeps_its_holds_expiry_for_the_record(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """Documented on Booking: ``expires_at`` is the hold's, and no longer applies once paid."""
    held = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=DAY, customer=ANN)
    confirmed = app.bookings.confirm(shop.tenant.id, held.id, payment_ref="pay_1")
    assert confirmed.expires_at == held.expires_at
    assert confirmed.confirmed_at == clock.now()
    clock.advance(dt.timedelta(days=1))  # long past the hold's expiry
    seen = app.bookings.get(shop.tenant.id, held.id)
    assert seen.status is BookingStatus.CONFIRMED
    assert not seen.is_lapsed(clock.now())


@pytest.mark.parametrize(
    ("given", "shown"),
    [(10, "10"), ("10.00", "10"), (Decimal("1E+1"), "10"), ("7.50", "7.5"), (0, "0"), (50, "50")],
)
def test_commission_percent_is_a_plain_decimal(
    app: BookingApp, given: int | str | Decimal, shown: str
) -> None:
    """Validated and read back from every backend, a percent prints as written: 10, not 1E+1."""
    shop = make_shop(app, commission=given)  # type: ignore[arg-type]
    assert str(shop.tenant.commission_percent) == shown
    assert repr(shop.tenant.commission_percent) == f"Decimal('{shown}')"
    assert str(app.tenants.get(shop.tenant.id).commission_percent) == shown


def test_get_package_reads_like_the_package(app: BookingApp, shop: Shop) -> None:
    """get_package returns PackageDetails whose attributes (id, slug, name, price, tenant, segment,
    description, photos …) read like the package's own, plus its offered add-ons."""
    details = app.catalog.get_package(shop.tenant.id, "gold")
    assert isinstance(details, PackageDetails)
    assert details.package == shop.package
    package = shop.package
    assert (details.id, details.slug, details.name, details.base_price) == (
        package.id,
        package.slug,
        package.name,
        package.base_price,
    )
    assert (details.tenant_id, details.segment_id, details.active) == (
        package.tenant_id,
        package.segment_id,
        package.active,
    )
    assert (details.description, details.grouping, details.group_order, details.photo_urls) == (
        package.description,
        package.grouping,
        package.group_order,
        package.photo_urls,
    )
    assert [a.slug for a in details.add_ons] == ["album"]
