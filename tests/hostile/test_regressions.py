"""The hostile inputs of issue 11, one test each, on every backend: each is a ValidationError
(or the typed error its kind calls for), and nothing is written.

At the end, the bugs the harness found in the time-slot scheduling of issue 15, all fixed: a
tzinfo that cannot give an offset, the last hour of 9999, endless resource-id lists (read only
up to the limit now) and a ZoneInfo subclass whose conversions raise (looked up again by key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import pytest

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import CustomerDetails, OutboxEvent, Package, PackageSchedule, Tenant
from booking_core.errors import (
    AuthenticationError,
    BookingCoreError,
    NotFoundError,
    TimeUnavailableError,
    ValidationError,
)

from ._backends import Backend
from ._shop import CUSTOMER, FIRST_DAY, FIRST_TIMED_DAY, HOURS, TIMING, fresh, local, window
from ._values import BrokenZone, Endless, Offset, RaisingOffset


def _tenant(backend: Backend, **overrides: object) -> Tenant:
    fields: dict[str, object] = {
        "slug": fresh("reg"),
        "name": "Regression Studio",
        "timezone": "Europe/Paris",
        "currency": "EUR",
    }
    return backend.app.tenants.create(**{**fields, **overrides})  # type: ignore[arg-type]


def _refused(error: pytest.ExceptionInfo[ValidationError], field: str) -> None:
    assert error.value.field == field


@pytest.mark.parametrize("zone", ["Europe", "America", "A" * 300, "Europe/" + "x" * 70, "../etc"])
def test_a_zone_that_names_a_directory_or_is_too_long_is_refused(
    backend: Backend, zone: str
) -> None:
    """A timezone naming a zoneinfo directory, escaping it or too long is refused on 'timezone' at
    creation and update, and the tenant keeps its zone."""
    with pytest.raises(ValidationError) as error:
        _tenant(backend, timezone=zone)
    _refused(error, "timezone")
    tenant = _tenant(backend)
    with pytest.raises(ValidationError):
        backend.app.tenants.update(tenant.id, timezone=zone)
    assert backend.app.tenants.get(tenant.id).timezone == "Europe/Paris"


@pytest.mark.parametrize(
    "day", [dt.date.max, dt.date(9999, 12, 1), dt.date(9999, 1, 1), dt.date.min]
)
def test_dates_at_the_ends_of_the_calendar_are_refused(backend: Backend, day: dt.date) -> None:
    """With a cache, December 9999 used to overflow the month arithmetic (OverflowError)."""
    app, tenant = backend.app, _tenant(backend)
    with pytest.raises(ValidationError) as error:
        app.availability.check(tenant.id, day)
    _refused(error, "date")
    with pytest.raises(ValidationError) as error:
        app.availability.calendar(tenant.id, min(day, dt.date(9998, 12, 1)), day)
    assert error.value.field in {"start", "end"}
    with pytest.raises(ValidationError):
        app.availability.add_blackout(tenant.id, day)
    assert app.availability.check(tenant.id, dt.date(9998, 12, 31)).reason is not None


def test_the_last_supported_month_is_answered(backend: Backend) -> None:
    """The calendar of December 9998, the last supported month, lists all 31 days, every one too far
    ahead."""
    tenant = _tenant(backend)
    days = backend.app.availability.calendar(tenant.id, dt.date(9998, 12, 1), dt.date(9998, 12, 31))
    assert [d.date.day for d in days] == list(range(1, 32))
    assert {d.reason.value for d in days if d.reason} == {"too_far"}


@pytest.mark.parametrize("key", ["\x00", "key\x00", "\ud800", "k\udfffey", "\u202ekey", " "])
def test_an_idempotency_key_with_nul_or_a_surrogate_is_refused(backend: Backend, key: str) -> None:
    """An idempotency key with NUL, a lone surrogate, a bidi override or only a space is refused on
    'idempotency_key' before any customer is written; a plain key works."""
    app, tenant = backend.app, _tenant(backend)
    package = app.catalog.create_package(tenant.id, slug="p", name="P", base_price=100)
    with pytest.raises(ValidationError) as error:
        app.bookings.hold(
            tenant.id,
            package_id=package.id,
            date=FIRST_DAY,
            customer=CUSTOMER,
            idempotency_key=key,
        )
    _refused(error, "idempotency_key")
    assert app.customers.list(tenant.id) == []
    held = app.bookings.hold(
        tenant.id, package_id=package.id, date=FIRST_DAY, customer=CUSTOMER, idempotency_key="k-1"
    )
    assert held.event_date == FIRST_DAY


@pytest.mark.parametrize("provider", ["\x00", "fake\x00", "\ud800", 7, b"fake"])
def test_a_provider_name_with_nul_a_surrogate_or_another_type_is_refused(
    backend: Backend, provider: object
) -> None:
    """A webhook provider name with NUL or a lone surrogate, or not a str, is refused on 'provider'.
    A webhook provider name with NUL or a lone surrogate, or not a str, is refused on 'provider'."""
    tenant = _tenant(backend)
    with pytest.raises(ValidationError) as error:
        backend.app.webhooks.receive(tenant.id, b"{}", {}, provider=provider)  # type: ignore[arg-type]
    _refused(error, "provider")


@pytest.mark.parametrize("country", ["\ufb03", "ß", "FRA", "F", "1A", 12])
def test_a_country_must_be_two_letters_before_uppercasing(
    backend: Backend, country: object
) -> None:
    """ "ﬃ".upper() is "FFI": three letters that a two-character column cannot hold."""
    app, tenant = backend.app, _tenant(backend)
    with pytest.raises(ValidationError) as error:
        app.catalog.create_venue(tenant.id, name="Hall", country=country)  # type: ignore[arg-type]
    _refused(error, "country")
    venue = app.catalog.create_venue(tenant.id, name="Hall", country=" fr ")
    assert venue.country == "FR"
    with pytest.raises(ValidationError):
        app.catalog.update_venue(tenant.id, venue.id, country=country)
    assert app.catalog.list_venues(tenant.id)[0].country == "FR"


@pytest.mark.parametrize("currency", ["\ufb03", "ßs", "€UR"])
def test_a_currency_must_be_three_letters_before_uppercasing(
    backend: Backend, currency: str
) -> None:
    """A currency that becomes three letters only when upper-cased (a ligature, ß, €) is refused on
    'currency'."""
    with pytest.raises(ValidationError) as error:
        _tenant(backend, currency=currency)
    _refused(error, "currency")


@pytest.mark.parametrize("flag", [1, 0, "", "yes", None, float("inf")])
def test_flags_must_be_bools(backend: Backend, flag: object) -> None:
    """include_inactive given as 1, 0, '', 'yes', None or inf is refused by every catalog listing.
    include_inactive given as 1, 0, '', 'yes', None or inf is refused by every catalog listing."""
    app, tenant = backend.app, _tenant(backend)
    listings = [
        app.catalog.list_segments,
        app.catalog.list_packages,
        app.catalog.list_add_ons,
        app.catalog.list_venues,
    ]
    for listing in listings:
        with pytest.raises(ValidationError) as error:
            listing(tenant.id, include_inactive=flag)  # type: ignore[operator]
        _refused(error, "include_inactive")


def _event(tenant: Tenant) -> OutboxEvent:
    return OutboxEvent(
        uuid.uuid4(), tenant.id, uuid.uuid4(), 1, "booking.held", {}, dt.datetime.now(dt.UTC)
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda app, e: app.outbox.claim(batch_size=10, lease=dt.timedelta.max), "lease"),
        (lambda app, e: app.outbox.claim(batch_size=10, lease=dt.timedelta(0)), "lease"),
        (lambda app, e: app.outbox.claim(batch_size=10, lease=60), "lease"),
        (lambda app, e: app.outbox.claim(batch_size=True), "batch_size"),
        (lambda app, e: app.outbox.mark_done([1]), "events.0"),
        (lambda app, e: app.outbox.mark_done(None), "events"),
        (lambda app, e: app.outbox.mark_done(e), "events"),
        (lambda app, e: app.outbox.release("x"), "event"),
        (lambda app, e: app.outbox.release(e, error=5), "error"),
        (lambda app, e: app.outbox.release(dataclass_with(e, id="x")), "event.id"),
        (lambda app, e: app.outbox.drain(None), "handler"),
        (lambda app, e: app.outbox.drain(print, max_batches=0), "max_batches"),
        (lambda app, e: app.outbox.drain(print, tenant_id=str(e.tenant_id)), "tenant_id"),
    ],
)
def test_wrong_types_to_the_outbox_are_refused(backend: Backend, call: object, field: str) -> None:
    """Out-of-range leases, a bool batch size, events that are not OutboxEvents, a non-str error, a
    missing handler, zero batches or a text tenant id are refused by the outbox with
    ValidationError naming the argument."""
    tenant = _tenant(backend)
    with pytest.raises(ValidationError) as error:
        call(backend.app, _event(tenant))  # type: ignore[operator]
    _refused(error, field)


def dataclass_with(event: OutboxEvent, **changes: object) -> OutboxEvent:
    import dataclasses

    return dataclasses.replace(event, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["bck_\ud800", "bck_" + "a" * 32 + "_\udfff", "bck_é"])
def test_an_api_key_that_is_not_ascii_is_unknown(backend: Backend, key: str) -> None:
    """An API key with lone surrogates or non-ASCII characters is refused with AuthenticationError,
    not a crash."""
    with pytest.raises(AuthenticationError):
        backend.app.tenants.resolve_api_key(key)


def test_the_tenant_wide_id_is_no_venue_with_or_without_a_cache(backend: Backend) -> None:
    """With a cache it used to read the tenant-wide entry and answer as if it were a venue."""
    app, tenant = backend.app, _tenant(backend)
    assert app.availability.check(tenant.id, FIRST_DAY).available  # fills the tenant-wide cache
    with pytest.raises(NotFoundError):
        app.availability.check(tenant.id, FIRST_DAY, venue_id=TENANT_WIDE)


@pytest.mark.parametrize("tenant_id", [bytearray(b"\xff"), [1], {}, str(uuid.uuid4()), None])
def test_a_tenant_id_of_another_type_is_refused_before_any_transaction(
    backend: Backend, tenant_id: object
) -> None:
    """A tenant_id that is bytes, a list, a dict, text or None is refused on 'tenant_id' by every
    service before any transaction commits."""
    app = backend.app
    calls = [
        lambda: app.tenants.get(tenant_id),
        lambda: app.tenants.deactivate(tenant_id),
        lambda: app.catalog.update_segment(tenant_id, uuid.uuid4(), name="x"),
        lambda: app.catalog.offer_add_on(tenant_id, uuid.uuid4(), uuid.uuid4()),
        lambda: app.customers.get(tenant_id, uuid.uuid4()),
        lambda: app.availability.remove_blackout(tenant_id, FIRST_DAY),
    ]
    before = backend.factory.commits
    for call in calls:
        with pytest.raises(ValidationError) as error:
            call()
        _refused(error, "tenant_id")
    assert backend.factory.commits == before


def test_customer_details_fields_of_another_type_are_refused(backend: Backend) -> None:
    """CustomerDetails with a non-str name, email or phone is refused on a customer.* field and no
    customer is written."""
    app, tenant = backend.app, _tenant(backend)
    package = app.catalog.create_package(tenant.id, slug="p", name="P", base_price=100)
    for customer in [
        CustomerDetails(None, "a@example.com"),  # type: ignore[arg-type]
        CustomerDetails("Ann", b"a@example.com"),  # type: ignore[arg-type]
        CustomerDetails("Ann", "a@example.com", 33612345678),  # type: ignore[arg-type]
    ]:
        with pytest.raises(ValidationError) as error:
            app.bookings.hold(tenant.id, package_id=package.id, date=FIRST_DAY, customer=customer)
        assert error.value.field.startswith("customer.")
    assert app.customers.list(tenant.id) == []


# --- time slots (issue 15) ----------------------------------------------------------------------


def _timed(backend: Backend) -> tuple[Tenant, Package]:
    """A tenant with a resource open 08:00-20:00 daily and a 60-minute package on it."""
    app, tenant = backend.app, _tenant(backend)
    resource = app.catalog.create_resource(tenant.id, name="Chair", hours=HOURS)
    schedule = PackageSchedule(TIMING, resource_ids=(resource.id,))
    package = app.catalog.create_package(
        tenant.id, slug="massage", name="Massage", base_price=100, schedule=schedule
    )
    return tenant, package


#: The last hour of the calendar: a 60-minute service from here ends in the year 10000.
LAST_HOUR = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "tzinfo",
    [Offset(dt.timedelta(hours=25)), Offset(3600), RaisingOffset()],
    ids=["offset 25 h", "offset int", "utcoffset raises"],
)
def test_a_start_whose_tzinfo_gives_no_usable_offset_is_refused(
    backend: Backend, tzinfo: dt.tzinfo
) -> None:
    """A start whose tzinfo gives an offset of 25 h or an int, or raises, is refused on 'start'."""
    app, (tenant, package) = backend.app, _timed(backend)
    start = local(FIRST_TIMED_DAY, 10).replace(tzinfo=tzinfo)
    with pytest.raises(ValidationError) as error:
        app.bookings.hold(tenant.id, package_id=package.id, start=start, customer=CUSTOMER)
    _refused(error, "start")


def test_a_hold_in_the_last_hour_of_9999_is_too_far(backend: Backend) -> None:
    """A timed hold at 9999-12-31 23:00 UTC is refused as too far, and nothing is written."""
    app, (tenant, package) = backend.app, _timed(backend)
    with pytest.raises((TimeUnavailableError, ValidationError)):
        app.bookings.hold(tenant.id, package_id=package.id, start=LAST_HOUR, customer=CUSTOMER)
    assert app.customers.list(tenant.id) == []


def test_a_reschedule_to_the_last_hour_of_9999_is_too_far(backend: Backend) -> None:
    """A reschedule to 9999-12-31 23:00 UTC is refused, and the booking keeps its start."""
    app, (tenant, package) = backend.app, _timed(backend)
    start = local(FIRST_TIMED_DAY, 10)
    held = app.bookings.hold(tenant.id, package_id=package.id, start=start, customer=CUSTOMER)
    with pytest.raises((TimeUnavailableError, ValidationError)):
        app.bookings.reschedule(tenant.id, held.id, new_start=LAST_HOUR)
    assert app.bookings.get(tenant.id, held.id).starts_at == start


def test_an_endless_resource_filter_is_refused_at_the_limit(backend: Backend) -> None:
    """slots(resource_ids=<endless iterable>) is refused on 'resource_ids' once past 50 ids."""
    app, (tenant, package) = backend.app, _timed(backend)
    start, end = window()
    with pytest.raises(ValidationError) as error:
        app.availability.slots(
            tenant.id, package.id, start, end, resource_ids=Endless(uuid.uuid4())
        )
    _refused(error, "resource_ids")


def test_an_endless_schedule_resource_list_is_refused_at_the_limit(backend: Backend) -> None:
    """A schedule whose resource_ids never end is refused once past 50 ids."""
    app, tenant = backend.app, _tenant(backend)
    schedule = PackageSchedule(TIMING, resource_ids=Endless(uuid.uuid4()))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as error:
        app.catalog.create_package(tenant.id, slug="p", name="P", base_price=100, schedule=schedule)
    assert error.value.field.startswith("schedule.resource_ids")


def test_a_zone_object_that_cannot_convert_is_refused(backend: Backend) -> None:
    """slots(tz=<a ZoneInfo subclass whose conversions raise>) raises only typed errors."""
    app, (tenant, package) = backend.app, _timed(backend)
    start, end = local(FIRST_TIMED_DAY, 0), local(FIRST_TIMED_DAY, 23)
    assert app.availability.slots(tenant.id, package.id, start, end)  # there are slots to show
    with contextlib.suppress(BookingCoreError):
        app.availability.slots(tenant.id, package.id, start, end, tz=BrokenZone("Europe/Paris"))
