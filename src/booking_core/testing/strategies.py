"""Hypothesis strategies for host test suites: valid input for every booking_core service.

This module needs `Hypothesis <https://hypothesis.readthedocs.io>`_, a development dependency
of *your* test suite (``pip install hypothesis``); booking_core itself does not depend on it, and
nothing else in :mod:`booking_core.testing` imports it. Importing this module without Hypothesis
raises an :class:`ImportError` that says so.

Every strategy draws values the services accept as they are (a test proves it for many
examples), so a property test can focus on behaviour instead of on getting past validation::

    from hypothesis import given
    from booking_core.testing import strategies as bst

    @given(tenant=bst.tenants(), spec=bst.catalogs(), customer=bst.customers())
    def test_hold_never_exceeds_capacity(tenant, spec, customer): ...

Text fields mix ordinary Unicode with :func:`hostile_text` (markup, control characters, bidi
overrides, emoji) that still sanitizes to a non-empty value of the allowed length.

Kwargs strategies (``tenants``, ``segments``, ``packages``, ``add_ons``, ``venues``) draw
``TypedDict`` s you unpack into the matching service call: ``app.tenants.create(**kwargs)``,
``app.catalog.create_package(tenant.id, **kwargs)``. :func:`catalogs` draws a whole
:class:`CatalogSpec` and :func:`create_catalog` writes it; :func:`booking_requests` draws the
keyword arguments of ``app.bookings.hold``/``checkout`` for a given tenant and catalog.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Final, TypedDict

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised in a subprocess-free test
    msg = (
        "booking_core.testing.strategies needs Hypothesis, a development dependency of your "
        "test suite: pip install hypothesis"
    )
    raise ImportError(msg) from error

from booking_core.domain.model import (
    AddOn,
    BookingPolicy,
    CancellationPolicy,
    CustomerDetails,
    Package,
    RefundTier,
    Segment,
    Tenant,
    Venue,
)
from booking_core.domain.rules import local_today
from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_plain_text

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from booking_core.bootstrap import BookingApp

__all__ = [
    "CURRENCIES",
    "AddOnKwargs",
    "BookingRequest",
    "CatalogSpec",
    "CreatedCatalog",
    "PackageKwargs",
    "SegmentKwargs",
    "TenantKwargs",
    "VenueKwargs",
    "add_ons",
    "booking_dates",
    "booking_requests",
    "cancellation_policies",
    "catalogs",
    "commission_percents",
    "create_catalog",
    "currencies",
    "customers",
    "emails",
    "hostile_text",
    "names",
    "packages",
    "phones",
    "policies",
    "prices",
    "segments",
    "slugs",
    "tenants",
    "timezones",
    "venues",
]

#: ISO 4217 codes drawn by :func:`currencies` (zero-, two- and three-decimal currencies).
CURRENCIES: Final = (
    "EUR", "USD", "GBP", "CHF", "JPY", "KRW", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
    "PLN", "CZK", "HUF", "BRL", "MXN", "INR", "ZAR", "SGD", "HKD", "KWD", "BHD", "TND",
)  # fmt: skip

#: Fragments :func:`hostile_text` strings together: markup and script injection, control and
#: invisible characters, bidi overrides, combining marks, emoji sequences, SQL and format strings.
_HOSTILE_FRAGMENTS: Final = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg/onload=alert(document.domain)>',
    "<b>bold</b>",
    "<!-- comment -->",
    "<!--",
    "<p>para</p><p>graph</p>",
    "</textarea>",
    "<<b>b>",
    "<a href='javascript:alert(1)'>x</a>",
    "javascript:alert(1)",
    "&lt;&amp;&#x3C;",
    "{{7*7}}${7*7}%s%n",
    "'; DROP TABLE bc_tenants; --",
    '" OR 1=1 --',
    "\x00",
    "\x07\x08\x1b[31m",
    "\r\n",
    "\t",
    "\x7f\x85\x9f",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u202e",
    "\u202egnp.exe\u202c",
    "\u2066\u2067\u2068\u2069",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u05e9\u05dc\u05d5\u05dd",
    "e\u0301\u0308\u0323",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f",
    "\U0001f600",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1eb\U0001f1f7",
    "\U0001f44d\U0001f3fd",
    "\u2028\u2029",
    "\u212a",
    "\ufdfd",
    "\U0001d54f\U0001d552\U0001d55d",
    "\ud800",
    "  ",
)

#: Words that survive sanitization in many scripts (a name always has at least one of them).
_WORDS: Final = (
    "Anna", "O'Brien", "Zoë", "José", "Søren", "Łukasz", "Ñandú", "Müller", "Straße",
    "Ολυμπία", "Дарья", "Nguyễn", "أحمد", "דוד", "李小龍", "さくら", "서연", "अनिल",
    "Studio", "Atelier & Co", "Fête", "3 Brothers", "Café Crème", "🎉 Party",
)  # fmt: skip

_SLUG_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_EMAIL_LOCAL_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EMAIL_UNICODE_LETTERS: Final = "éüñøåçžłß"
_TLDS: Final = ("com", "org", "net", "fr", "de", "io", "co", "uk", "shop", "studio")
_PHONE_REGIONS: Final = ("FR", "GB", "DE", "US", "ES", "IT", "BE", "CH", "CA", "AU", "JP", "BR")
_NAME_MAX: Final = 200
_CATALOG_TEXT_MAX: Final = 5000


class TenantKwargs(TypedDict):
    """Keyword arguments of ``app.tenants.create``."""

    slug: str
    name: str
    timezone: str
    currency: str
    commission_percent: int | str | Decimal
    policy: BookingPolicy
    cancellation: CancellationPolicy


class SegmentKwargs(TypedDict):
    """Keyword arguments of ``app.catalog.create_segment`` (after the tenant id)."""

    slug: str
    name: str
    heading: str
    description: str
    sort_order: int


class PackageKwargs(TypedDict):
    """Keyword arguments of ``app.catalog.create_package`` (after the tenant id)."""

    slug: str
    name: str
    base_price: int
    description: str
    grouping: str
    group_order: int


class AddOnKwargs(TypedDict):
    """Keyword arguments of ``app.catalog.create_add_on`` (after the tenant id)."""

    slug: str
    name: str
    price: int
    description: str


class VenueKwargs(TypedDict):
    """Keyword arguments of ``app.catalog.create_venue`` (after the tenant id)."""

    name: str
    address: str
    city: str
    postal_code: str
    country: str
    capacity: int


class BookingRequest(TypedDict):
    """Keyword arguments of ``app.bookings.hold`` and ``checkout`` (after the tenant id)."""

    package_id: uuid.UUID
    date: dt.date
    customer: CustomerDetails
    add_ons: dict[uuid.UUID, int]
    venue_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    """A catalog to create: one segment, packages and add-ons (unique slugs), one venue.

    ``offers[i]`` lists the indexes of the add-ons package ``i`` offers.
    """

    segment: SegmentKwargs
    packages: tuple[PackageKwargs, ...]
    add_ons: tuple[AddOnKwargs, ...]
    offers: tuple[tuple[int, ...], ...]
    venue: VenueKwargs


@dataclass(frozen=True, slots=True)
class CreatedCatalog:
    """What :func:`create_catalog` stored; ``offers`` maps a package id to its add-on ids."""

    segment: Segment
    packages: tuple[Package, ...]
    add_ons: tuple[AddOn, ...]
    offers: dict[uuid.UUID, tuple[uuid.UUID, ...]]
    venue: Venue


# --- text -------------------------------------------------------------------------------------


def hostile_text(*, max_fragments: int = 6) -> SearchStrategy[str]:
    """Strings built to break naive code: markup and script tags, ``javascript:`` URLs, control
    characters (NUL, ESC, C1), zero-width and bidi-override characters (RTL spoofing), combining
    marks, emoji (ZWJ sequences, flags, skin tones), SQL and template injection, a lone
    surrogate, mixed with arbitrary Unicode.

    They are *not* valid input on their own (they may sanitize to nothing); :func:`names` wraps
    them around a visible word. Use them directly against sanitizers, renderers and caches.

    Args:
        max_fragments: how many fragments (hostile snippets or random text) one string joins.
    """
    fragment = st.one_of(
        st.sampled_from(_HOSTILE_FRAGMENTS),
        st.text(max_size=8),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8),
    )
    return st.lists(fragment, max_size=max_fragments).map("".join)


def _sanitizes_within(text: str, *, max_length: int, required: bool) -> bool:
    try:
        cleaned = sanitize_plain_text(text, max_length=max_length)
    except ValidationError:
        return False
    return bool(cleaned) or not required


def names(*, max_length: int = _NAME_MAX, hostile: bool = True) -> SearchStrategy[str]:
    """Display names (tenants, catalog items, customers, venues): a visible word from one of
    many scripts, often wrapped in :func:`hostile_text`; always non-empty and at most
    ``max_length`` characters once sanitized, so a service accepts it.

    Args:
        max_length: the field's limit after sanitization (200 for names, 100 for a city).
        hostile: wrap words in hostile text (``False``: plain Unicode words only).
    """
    plain = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(" ".join)
    if not hostile:
        return plain.filter(lambda s: len(s) <= max_length)
    around = hostile_text(max_fragments=3)
    wrapped = st.tuples(around, plain, around).map("".join)
    return st.one_of(plain, wrapped).filter(
        lambda s: _sanitizes_within(s, max_length=max_length, required=True)
    )


def _optional_text(*, max_length: int = _CATALOG_TEXT_MAX) -> SearchStrategy[str]:
    """Optional descriptive text: empty, plain words or hostile text (it may sanitize to "")."""
    return st.one_of(
        st.just(""),
        names(max_length=max_length, hostile=False),
        hostile_text().filter(
            lambda s: _sanitizes_within(s, max_length=max_length, required=False)
        ),
    )


def slugs(*, max_length: int = 40) -> SearchStrategy[str]:
    """Valid slugs: ``a-z0-9`` words joined by single hyphens, at most ``max_length`` chars."""
    word = st.text(alphabet=_SLUG_ALPHABET, min_size=1, max_size=12)
    return (
        st.lists(word, min_size=1, max_size=4).map("-".join).filter(lambda s: len(s) <= max_length)
    )


def _unique(slug: str) -> str:
    # A random suffix (not drawn by Hypothesis): tenant slugs are unique platform-wide, and
    # Hypothesis replays and shrinks to the same slugs, which would collide in a shared database.
    return f"{slug[:50]}-{secrets.token_hex(4)}"


# --- tenants ----------------------------------------------------------------------------------


@cache
def _timezone_names() -> tuple[str, ...]:
    loadable = []
    for name in sorted(zoneinfo.available_timezones()):
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover - tzdata quirk
            continue
        loadable.append(name)
    return tuple(loadable)


def timezones() -> SearchStrategy[str]:
    """IANA timezone names (all of them, from UTC-12 to Pacific/Kiritimati at UTC+14)."""
    return st.sampled_from(_timezone_names())


def currencies() -> SearchStrategy[str]:
    """ISO 4217 currency codes from :data:`CURRENCIES`."""
    return st.sampled_from(CURRENCIES)


def commission_percents() -> SearchStrategy[int | str | Decimal]:
    """Commission percents in every accepted form: ``int``, decimal string and ``Decimal``
    (0-50, at most two decimal places)."""
    exact = st.decimals(min_value=0, max_value=50, places=2, allow_nan=False)
    return st.one_of(st.integers(0, 50), exact, exact.map(str))


def policies() -> SearchStrategy[BookingPolicy]:
    """Booking policies: capacity 1-5, hold TTL 1 minute to 7 days, notice and horizon."""

    @st.composite
    def draw_policy(draw: st.DrawFn) -> BookingPolicy:
        notice = draw(st.integers(0, 30))
        return BookingPolicy(
            capacity_per_date=draw(st.integers(1, 5)),
            hold_ttl=dt.timedelta(minutes=draw(st.integers(1, 7 * 24 * 60))),
            min_notice_days=notice,
            horizon_days=draw(st.integers(notice, 3650)),
        )

    return draw_policy()


def cancellation_policies() -> SearchStrategy[CancellationPolicy]:
    """Refund tiers from the most days before the event to the fewest, never refunding more
    for a later cancellation, and a fee in minor units."""

    @st.composite
    def draw_cancellation(draw: st.DrawFn) -> CancellationPolicy:
        days = sorted(draw(st.lists(st.integers(0, 365), unique=True, max_size=4)), reverse=True)
        percents = sorted(
            draw(st.lists(st.integers(0, 100), min_size=len(days), max_size=len(days))),
            reverse=True,
        )
        tiers = tuple(RefundTier(d, p) for d, p in zip(days, percents, strict=True))
        return CancellationPolicy(tiers=tiers, fee=draw(prices(max_price=10_000)))

    return draw_cancellation()


def tenants(*, unique_slug: bool = True) -> SearchStrategy[TenantKwargs]:
    """Keyword arguments of ``app.tenants.create``: slug, hostile name, IANA timezone, currency,
    commission percent, booking and cancellation policies.

    Args:
        unique_slug: append a random suffix to the slug (tenant slugs are unique across the
            platform, and Hypothesis repeats values across examples), so every example can
            create its tenant in one shared app. ``False`` draws plain, shrinkable slugs.
    """
    slug = slugs()
    return st.fixed_dictionaries(
        {
            "slug": slug.map(_unique) if unique_slug else slug,
            "name": names(),
            "timezone": timezones(),
            "currency": currencies(),
            "commission_percent": commission_percents(),
            "policy": policies(),
            "cancellation": cancellation_policies(),
        }
    )  # type: ignore[return-value]  # fixed_dictionaries draws plain dicts of these keys


# --- catalog ----------------------------------------------------------------------------------


def prices(*, max_price: int = 10_000_000) -> SearchStrategy[int]:
    """Prices in minor units (cents): integers from 0 (free) to ``max_price``."""
    return st.integers(0, max_price)


def segments() -> SearchStrategy[SegmentKwargs]:
    """Keyword arguments of ``app.catalog.create_segment``."""
    return st.fixed_dictionaries(
        {
            "slug": slugs(),
            "name": names(),
            "heading": _optional_text(max_length=300),
            "description": _optional_text(),
            "sort_order": st.integers(-1_000_000, 1_000_000),
        }
    )  # type: ignore[return-value]


def packages(*, max_price: int = 10_000_000) -> SearchStrategy[PackageKwargs]:
    """Keyword arguments of ``app.catalog.create_package`` (no ``segment_id``: add your own)."""
    return st.fixed_dictionaries(
        {
            "slug": slugs(),
            "name": names(),
            "base_price": prices(max_price=max_price),
            "description": _optional_text(),
            "grouping": _optional_text(max_length=100),
            "group_order": st.integers(-1_000_000, 1_000_000),
        }
    )  # type: ignore[return-value]


def add_ons(*, max_price: int = 1_000_000) -> SearchStrategy[AddOnKwargs]:
    """Keyword arguments of ``app.catalog.create_add_on``."""
    return st.fixed_dictionaries(
        {
            "slug": slugs(),
            "name": names(),
            "price": prices(max_price=max_price),
            "description": _optional_text(),
        }
    )  # type: ignore[return-value]


def venues(*, max_capacity: int = 5) -> SearchStrategy[VenueKwargs]:
    """Keyword arguments of ``app.catalog.create_venue`` (capacity 1 to ``max_capacity``)."""
    return st.fixed_dictionaries(
        {
            "name": names(),
            "address": _optional_text(max_length=300),
            "city": st.one_of(st.just(""), names(max_length=100)),
            "postal_code": st.sampled_from(["", "75001", "SW1A 1AA", "10115", "94103-1234"]),
            "country": st.sampled_from(["", "FR", "gb", "DE", "US", "JP"]),
            "capacity": st.integers(1, max_capacity),
        }
    )  # type: ignore[return-value]


def catalogs(*, max_packages: int = 3, max_add_ons: int = 4) -> SearchStrategy[CatalogSpec]:
    """Whole catalogs: a segment, 1-``max_packages`` packages and 0-``max_add_ons`` add-ons
    (slugs unique within each kind), which add-ons each package offers, and a venue."""

    @st.composite
    def draw_catalog(draw: st.DrawFn) -> CatalogSpec:
        drawn_packages = draw(
            st.lists(packages(), min_size=1, max_size=max_packages, unique_by=lambda p: p["slug"])
        )
        drawn_add_ons = draw(
            st.lists(add_ons(), max_size=max_add_ons, unique_by=lambda a: a["slug"])
        )
        indexes = range(len(drawn_add_ons))
        offers = tuple(
            tuple(sorted(draw(st.sets(st.sampled_from(indexes))))) if indexes else ()
            for _ in drawn_packages
        )
        return CatalogSpec(
            segment=draw(segments()),
            packages=tuple(drawn_packages),
            add_ons=tuple(drawn_add_ons),
            offers=offers,
            venue=draw(venues()),
        )

    return draw_catalog()


def create_catalog(app: BookingApp, tenant_id: uuid.UUID, spec: CatalogSpec) -> CreatedCatalog:
    """Create ``spec`` for the tenant through the catalog service and return what was stored."""
    catalog = app.catalog
    segment = catalog.create_segment(tenant_id, **spec.segment)
    created_packages = tuple(
        catalog.create_package(tenant_id, segment_id=segment.id, **kwargs)
        for kwargs in spec.packages
    )
    created_add_ons = tuple(catalog.create_add_on(tenant_id, **kwargs) for kwargs in spec.add_ons)
    offers: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    for package, indexes in zip(created_packages, spec.offers, strict=True):
        for index in indexes:
            catalog.offer_add_on(tenant_id, package.id, created_add_ons[index].id)
        offers[package.id] = tuple(created_add_ons[index].id for index in indexes)
    venue = catalog.create_venue(tenant_id, **spec.venue)
    return CreatedCatalog(segment, created_packages, created_add_ons, offers, venue)


# --- customers and bookings -------------------------------------------------------------------


def emails() -> SearchStrategy[str]:
    """Valid email addresses (ASCII and internationalized local parts, plus tags, subdomains);
    never a special-use domain such as ``.test`` or ``.local``, which the services refuse."""
    atom = st.text(alphabet=_EMAIL_LOCAL_ALPHABET, min_size=1, max_size=10)
    unicode_atom = st.text(
        alphabet=_EMAIL_LOCAL_ALPHABET + _EMAIL_UNICODE_LETTERS, min_size=1, max_size=10
    )
    local = st.one_of(
        st.lists(atom, min_size=1, max_size=3).map(".".join),
        st.tuples(atom, atom).map("+".join),
        st.tuples(atom, atom).map("_".join),
        unicode_atom,
    )
    label = st.text(alphabet=_SLUG_ALPHABET, min_size=1, max_size=12)
    domain = st.tuples(st.lists(label, min_size=1, max_size=2), st.sampled_from(_TLDS)).map(
        lambda parts: ".".join([*parts[0], parts[1]])
    )
    return st.tuples(local, domain).map("@".join)


@cache
def _phone_numbers() -> tuple[str, ...]:
    import phonenumbers  # noqa: PLC0415 - a core dependency, only needed when drawing phones

    found = []
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    for region in _PHONE_REGIONS:
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None or not phonenumbers.is_valid_number(number):
                continue  # pragma: no cover - depends on the installed metadata
            for style in (
                phonenumbers.PhoneNumberFormat.E164,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            ):
                found.append(phonenumbers.format_number(number, style))
    return tuple(found)


def phones() -> SearchStrategy[str]:
    """Valid international phone numbers of a dozen countries, as E.164 or spaced."""
    return st.sampled_from(_phone_numbers())


def customers() -> SearchStrategy[CustomerDetails]:
    """What a customer types at checkout: a (possibly hostile) name, a valid email and an
    optional valid phone (``None`` or ``""`` for none)."""
    return st.builds(
        CustomerDetails,
        name=names(),
        email=emails(),
        phone=st.one_of(st.none(), st.just(""), phones()),
    )


def booking_dates(tenant: Tenant, *, now: dt.datetime) -> SearchStrategy[dt.date]:
    """Dates the tenant's policy accepts at ``now``: from its local today plus the minimum
    notice to its local today plus the horizon (blackouts and calendars are yours to avoid)."""
    today = local_today(now, tenant.timezone)
    policy = tenant.policy
    return st.dates(
        min_value=today + dt.timedelta(days=policy.min_notice_days),
        max_value=today + dt.timedelta(days=policy.horizon_days),
    )


def booking_requests(
    tenant: Tenant,
    *,
    now: dt.datetime,
    package_id: uuid.UUID,
    add_on_ids: Sequence[uuid.UUID] = (),
    venue_id: uuid.UUID | None = None,
    max_quantity: int = 10,
) -> SearchStrategy[BookingRequest]:
    """Keyword arguments of ``app.bookings.hold(tenant.id, **request)`` for one package: a date
    within the tenant's notice and horizon at ``now``, a customer, and quantities (1 to
    ``max_quantity``) of a subset of ``add_on_ids``, which must be add-ons the package offers.

    The date is drawn independently for each example: a hold can still meet a full date, a
    blackout or a busy calendar date, which are conditions of your test, not of the input.
    """
    quantities = st.dictionaries(
        st.sampled_from(tuple(add_on_ids)) if add_on_ids else st.nothing(),
        st.integers(1, max_quantity),
        max_size=len(add_on_ids),
    )
    return st.fixed_dictionaries(
        {
            "package_id": st.just(package_id),
            "date": booking_dates(tenant, now=now),
            "customer": customers(),
            "add_ons": quantities,
            "venue_id": st.just(venue_id),
        }
    )  # type: ignore[return-value]
