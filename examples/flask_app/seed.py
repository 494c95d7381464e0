"""Create a demo tenant with a small catalog and print an API key for it.

    flask --app app seed      # in this folder; or: python seed.py (no Flask app needed)

The demo tenant is ``lumiere-demo`` (not the quickstart's ``lumiere``, so the two can share a
database). Running it again reuses the tenant as it is, says so, and issues one more key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext
from settings import Settings, connect

from booking_core import (
    BookingApp,
    NotFoundError,
    Package,
    PackageSchedule,
    SlotTiming,
    Tenant,
    WeeklyHours,
    WorkingHours,
)

#: The demo tenant's slug: distinct from the quickstart's ``lumiere``, so that on a shared
#: database the seed does not take over the quickstart's tenant (and skip its own catalog).
DEMO_SLUG = "lumiere-demo"
#: The timed package: booked by the time (``GET /v1/slots``, then checkout with ``start``).
TIMED_SLUG = "portrait-hour"
#: The daylight studio's hours, Paris wall-clock time: Tuesday to Saturday 10:00-18:00.
STUDIO_HOURS = WorkingHours(
    weekly=tuple(WeeklyHours(weekday, dt.time(10), dt.time(18)) for weekday in range(1, 6))
)


@dataclass(frozen=True, slots=True)
class Demo:
    """What :func:`seed_demo` made: the tenant, a fresh API key and the packages by slug.

    ``created`` is False when the tenant already existed: it was reused as it is, and its
    catalog (whatever it holds) was not touched.
    """

    tenant: Tenant
    api_key: str
    packages: dict[str, Package]
    created: bool = True

    def describe(self) -> str:
        """Two lines for the console: the tenant (created or reused) and the new API key."""
        slugs = ", ".join(sorted(self.packages)) or "none"
        if self.created:
            state = f"created with packages {slugs}"
        else:
            state = f"already existed: reused as it is, catalog not recreated (packages: {slugs})"
        return f"tenant {self.tenant.slug} ({self.tenant.id}) {state}\nX-Tenant-Key: {self.api_key}"


def seed_demo(
    booking: BookingApp,
    *,
    slug: str = DEMO_SLUG,
    name: str = "Atelier Lumière",
    commission_percent: int = 12,
) -> Demo:
    """Create (or reuse) tenant ``slug`` with two segments, four packages and an add-on.

    An existing tenant ``slug`` is reused as it is (``Demo.created`` is False): its catalog is
    neither checked nor completed.

    Catalog: segment ``weddings`` with ``gold`` (2 500.00 €, offers ``album``) and ``silver``
    (1 200.00 €); segment ``portraits`` with ``studio`` (300.00 €, a whole date) and
    ``portrait-hour`` (150.00 €), a timed package: an hour in the resource "Daylight studio"
    (Tuesday to Saturday 10:00-18:00, Paris time), a start every 30 minutes, 15 minutes after
    each session to reset the studio. Prices are in cents.
    """
    created = False
    try:
        tenant = booking.tenants.get_by_slug(slug)
    except NotFoundError:
        created = True
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
    return Demo(tenant, key, packages, created)


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
    daylight = catalog.create_resource(
        tenant_id, name="Daylight studio", kind="room", hours=STUDIO_HOURS
    )
    catalog.create_package(
        tenant_id,
        slug=TIMED_SLUG,
        name="Portrait hour",
        base_price=15_000,
        description="An hour in the daylight studio: pick a time from /v1/slots.",
        segment_id=portraits.id,
        group_order=1,
        schedule=PackageSchedule(
            SlotTiming(
                duration=dt.timedelta(hours=1),
                buffer_after=dt.timedelta(minutes=15),
                slot_interval=dt.timedelta(minutes=30),
            ),
            resource_ids=(daylight.id,),
        ),
    )
    album = catalog.create_add_on(
        tenant_id, slug="album", name="Printed album", price=45_000, segment_id=weddings.id
    )
    catalog.offer_add_on(tenant_id, gold.id, album.id)


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the demo tenant and catalog (or reuse the tenant) and print a new API key."""
    click.echo(seed_demo(current_app.extensions["booking_core"]).describe())


def main() -> None:
    """Seed the database named by the environment and print the key."""
    with connect(Settings.from_env()) as booking:
        click.echo(seed_demo(booking).describe())


if __name__ == "__main__":
    main()
