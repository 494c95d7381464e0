"""Section 1: two tenants, each with a small catalog, built from one description each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from booking_core.bootstrap import BookingApp
from booking_core.demo._format import Out, day, days, format_money, format_table
from booking_core.domain.model import AddOn, BookingPolicy, Package, Tenant, Venue
from booking_core.domain.rules import local_today


@dataclass(frozen=True)
class Shop:
    tenant: Tenant
    packages: dict[str, Package]
    add_ons: dict[str, AddOn]
    venue: Venue
    today: dt.date


# Both catalogs as tables, one row per record, created tenant by tenant in row order.

#: slug, name, timezone, currency, commission %, minimum notice days, horizon days
_TENANTS: tuple[tuple[str, str, str, str, str, int, int], ...] = (
    ("atelier-lumiere", "Atelier Lumiere", "Europe/Paris", "EUR", "12", 3, 365),
    ("brooklyn-light", "Brooklyn Light Studio", "America/New_York", "USD", "7.5", 1, 180),
)
#: tenant, slug, name (the sort order is the position within the tenant)
_SEGMENTS = (
    ("atelier-lumiere", "weddings", "Weddings"),
    ("atelier-lumiere", "elopements", "Elopements"),
    ("brooklyn-light", "portraits", "Portraits"),
    ("brooklyn-light", "events", "Events"),
)
#: tenant, slug, name, base price, segment
_PACKAGES = (
    ("atelier-lumiere", "full-day", "Full day", 250_000, "weddings"),
    ("atelier-lumiere", "half-day", "Half day", 140_000, "weddings"),
    ("atelier-lumiere", "elopement", "Elopement", 90_000, "elopements"),
    ("brooklyn-light", "headshots", "Headshots", 35_000, "portraits"),
    ("brooklyn-light", "family", "Family session", 52_500, "portraits"),
    ("brooklyn-light", "event", "Event coverage", 120_000, "events"),
)
#: tenant, slug, name, price, segment (None: any)
_ADD_ONS: tuple[tuple[str, str, str, int, str | None], ...] = (
    ("atelier-lumiere", "second-shooter", "Second shooter", 45_000, None),
    ("atelier-lumiere", "album", "Linen album", 30_000, "weddings"),
    ("atelier-lumiere", "prints", "Fine-art print", 4_500, None),
    ("brooklyn-light", "retouch", "Extra retouched photo", 2_500, None),
    ("brooklyn-light", "rush", "48h delivery", 10_000, None),
)
#: tenant, package, the add-ons it offers
_OFFERS = (
    ("atelier-lumiere", "full-day", ("second-shooter", "album", "prints")),
    ("atelier-lumiere", "half-day", ("album", "prints")),
    ("atelier-lumiere", "elopement", ("prints",)),
    ("brooklyn-light", "headshots", ("retouch", "rush")),
    ("brooklyn-light", "family", ("retouch",)),
    ("brooklyn-light", "event", ("rush",)),
)
#: tenant, name, address, city, country (capacity 1)
_VENUES = (
    ("atelier-lumiere", "Chateau de Vaux", "", "Maincy", "FR"),
    ("brooklyn-light", "Studio 4B", "55 Water St", "Brooklyn", "US"),
)


def _open(app: BookingApp, row: tuple[str, str, str, str, str, int, int]) -> Shop:
    """Create one tenant and its catalog from the tables' rows for it."""
    slug, name, timezone, currency, commission, notice, horizon = row
    tenant = app.tenants.create(
        slug=slug,
        name=name,
        timezone=timezone,
        currency=currency,
        commission_percent=commission,
        policy=BookingPolicy(min_notice_days=notice, horizon_days=horizon),
    )
    t = tenant.id
    own_segments = [(s, n) for o, s, n in _SEGMENTS if o == slug]
    segments = {
        s: app.catalog.create_segment(t, slug=s, name=n, sort_order=order).id
        for order, (s, n) in enumerate(own_segments, start=1)
    }
    packages = {
        s: app.catalog.create_package(t, slug=s, name=n, base_price=p, segment_id=segments[g])
        for o, s, n, p, g in _PACKAGES
        if o == slug
    }
    add_ons = {
        s: app.catalog.create_add_on(
            t, slug=s, name=n, price=p, segment_id=None if g is None else segments[g]
        )
        for o, s, n, p, g in _ADD_ONS
        if o == slug
    }
    for owner, package, offered in _OFFERS:
        for add_on in offered if owner == slug else ():
            app.catalog.offer_add_on(t, packages[package].id, add_ons[add_on].id)
    venue = next(
        app.catalog.create_venue(t, name=n, address=a, city=c, country=k, capacity=1)
        for o, n, a, c, k in _VENUES
        if o == slug
    )
    return Shop(tenant, packages, add_ons, venue, local_today(app.clock.now(), tenant.timezone))


def open_shops(app: BookingApp) -> tuple[Shop, Shop]:
    """The photographer in Paris (tenant A) and the studio in Brooklyn (tenant B)."""
    paris, brooklyn = _TENANTS
    return _open(app, paris), _open(app, brooklyn)


def show_catalogs(app: BookingApp, out: Out, shops: Sequence[Shop]) -> None:
    out(
        format_table(
            ["Tenant", "Name", "Timezone", "Currency", "Commission", "Min notice", "Local today"],
            [
                [
                    s.tenant.slug,
                    s.tenant.name,
                    s.tenant.timezone,
                    s.tenant.currency,
                    f"{s.tenant.commission_percent}%",
                    days(s.tenant.policy.min_notice_days),
                    day(s.today),
                ]
                for s in shops
            ],
            "llllrrl",
        )
    )
    out()
    packages: list[list[object]] = []
    add_ons: list[list[object]] = []
    for shop in shops:
        t = shop.tenant
        segments = app.catalog.list_segments(t.id)
        for segment in segments:
            for package in app.catalog.list_packages(t.id, segment_slug=segment.slug):
                details = app.catalog.get_package(t.id, package.slug)
                offered = ", ".join(a.slug for a in details.add_ons)
                price = format_money(package.base_price, t.currency)
                packages.append([t.slug, segment.name, package.name, price, offered])
        names = {s.id: s.name for s in segments}
        for add_on in app.catalog.list_add_ons(t.id):
            where = "any" if add_on.segment_id is None else names[add_on.segment_id]
            price = format_money(add_on.price, t.currency)
            add_ons.append([t.slug, add_on.slug, add_on.name, price, where])
    out(
        format_table(
            ["Tenant", "Segment", "Package", "Price", "Add-ons offered"], packages, "lllrl"
        )
    )
    out()
    out(format_table(["Tenant", "Add-on", "Name", "Price", "Segment"], add_ons, "lllrl"))
    out()
    venues = [(s.tenant.slug, v) for s in shops for v in app.catalog.list_venues(s.tenant.id)]
    out(
        format_table(
            ["Tenant", "Venue", "City", "Country", "Capacity/day"],
            [[slug, v.name, v.city, v.country, v.capacity] for slug, v in venues],
            "llllr",
        )
    )
