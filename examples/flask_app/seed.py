"""Create a demo tenant with a small catalog and print an API key for it.

    flask --app examples.flask_app.app seed      # or: python -m examples.flask_app.seed

Running it again reuses the tenant and catalog and issues one more key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext

from booking_core import BookingApp, NotFoundError, Package, Tenant

from .settings import Settings, connect


@dataclass(frozen=True, slots=True)
class Demo:
    """What :func:`seed_demo` made: the tenant, a fresh API key and the packages by slug."""

    tenant: Tenant
    api_key: str
    packages: dict[str, Package]


def seed_demo(
    booking: BookingApp,
    *,
    slug: str = "lumiere",
    name: str = "Atelier Lumière",
    commission_percent: int = 12,
) -> Demo:
    """Create (or reuse) tenant ``slug`` with two segments, three packages and an add-on.

    Catalog: segment ``weddings`` with ``gold`` (2 500.00 €, offers ``album``) and ``silver``
    (1 200.00 €); segment ``portraits`` with ``studio`` (300.00 €). Prices are in cents.
    """
    try:
        tenant = booking.tenants.get_by_slug(slug)
    except NotFoundError:
        tenant = booking.tenants.create(
            slug=slug,
            name=name,
            timezone="Europe/Paris",
            currency="EUR",
            commission_percent=commission_percent,
        )
        _catalog(booking, tenant.id)
    _, key = booking.tenants.create_api_key(tenant.id, label="demo")
    packages = {p.slug: p for p in booking.catalog.list_packages(tenant.id)}
    return Demo(tenant, key, packages)


def _catalog(booking: BookingApp, tenant_id: uuid.UUID) -> None:
    catalog = booking.catalog
    weddings = catalog.create_segment(tenant_id, slug="weddings", name="Weddings", sort_order=1)
    portraits = catalog.create_segment(tenant_id, slug="portraits", name="Portraits", sort_order=2)
    gold = catalog.create_package(
        tenant_id,
        slug="gold",
        name="Gold",
        base_price=250_000,
        description="The whole day, two photographers.",
        segment_id=weddings.id,
        group_order=1,
    )
    catalog.create_package(
        tenant_id,
        slug="silver",
        name="Silver",
        base_price=120_000,
        description="Ceremony and reception.",
        segment_id=weddings.id,
        group_order=2,
    )
    catalog.create_package(
        tenant_id, slug="studio", name="Studio", base_price=30_000, segment_id=portraits.id
    )
    album = catalog.create_add_on(
        tenant_id, slug="album", name="Printed album", price=45_000, segment_id=weddings.id
    )
    catalog.offer_add_on(tenant_id, gold.id, album.id)


def _echo(demo: Demo) -> None:
    click.echo(f"tenant {demo.tenant.slug} ({demo.tenant.id})")
    click.echo(f"X-Tenant-Key: {demo.api_key}")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the demo tenant and catalog (or reuse them) and print a new API key."""
    _echo(seed_demo(current_app.extensions["booking_core"]))


def main() -> None:
    """Seed the database named by the environment and print the key."""
    with connect(Settings.from_env()) as booking:
        _echo(seed_demo(booking))


if __name__ == "__main__":
    main()
