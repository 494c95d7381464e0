"""The catalog: segments, packages, add-ons, venues and resources (with their working hours
and time off) of a tenant.

Text fields are sanitized as plain text at this boundary (never HTML-escaped: escaping belongs to
the output layer); slugs are validated; prices are integers in minor units.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Generic, Never, Protocol, TypeVar

from booking_core.domain.ids import new_id
from booking_core.domain.model import (
    AddOn,
    Package,
    PackageDetails,
    PackageSchedule,
    Resource,
    ResourceTimeOff,
    Segment,
    Venue,
)
from booking_core.domain.schedule import WorkingHours
from booking_core.errors import NotFoundError, ValidationError
from booking_core.limits import MAX_CAPACITY, MAX_SORT_ORDER
from booking_core.ports.repositories import UnitOfWork
from booking_core.sanitize import sanitize_url
from booking_core.services import _validate as v
from booking_core.services._base import (
    CATALOG,
    Invalidation,
    Service,
    catalog_of,
    load_tenant,
    whole_tenant,
)
from booking_core.services._scheduling import hours_of, instant, schedule_of, search_window
from booking_core.unset import UNSET, Unset

E = TypeVar("E", Segment, Package, AddOn, Venue, Resource)
_E = TypeVar("_E")
T = TypeVar("T")
MAX_PHOTOS = 5


def _photos(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("photo_urls", "must be a list of URLs")
    urls = tuple(value)
    if len(urls) > MAX_PHOTOS:
        raise ValidationError("photo_urls", f"at most {MAX_PHOTOS} photos")
    return tuple(sanitize_url(url, field=f"photo_urls.{i}") for i, url in enumerate(urls))


def _order(value: Any, field: str) -> int:
    return v.integer(value, field, minimum=-MAX_SORT_ORDER, maximum=MAX_SORT_ORDER)


#: Per entity: how each updatable field is validated.
_SEGMENT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v.name,
    "heading": lambda x: v.text(x, "heading", max_length=300),
    "description": lambda x: v.text(x, "description"),
    "sort_order": lambda x: _order(x, "sort_order"),
    "active": lambda x: v.flag(x, "active"),
}
_PACKAGE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v.name,
    "description": lambda x: v.text(x, "description"),
    "base_price": lambda x: v.money(x, "base_price"),
    "segment_id": lambda x: v.optional_uuid(x, "segment_id"),
    "grouping": lambda x: v.text(x, "grouping", max_length=100),
    "group_order": lambda x: _order(x, "group_order"),
    "photo_urls": _photos,
    "active": lambda x: v.flag(x, "active"),
    "schedule": schedule_of,
}
_ADD_ON_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v.name,
    "description": lambda x: v.text(x, "description"),
    "price": lambda x: v.money(x, "price"),
    "segment_id": lambda x: v.optional_uuid(x, "segment_id"),
    "active": lambda x: v.flag(x, "active"),
}
_VENUE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v.name,
    "address": lambda x: v.text(x, "address", max_length=300),
    "city": lambda x: v.name(x, "city", max_length=100) if x else "",
    "postal_code": lambda x: v.text(x, "postal_code", max_length=20),
    "country": v.country,
    "capacity": lambda x: v.integer(x, "capacity", minimum=1, maximum=MAX_CAPACITY),
    "active": lambda x: v.flag(x, "active"),
}


_RESOURCE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v.name,
    "kind": lambda x: v.text(x, "kind", max_length=100),
    "timezone": lambda x: None if x is None else v.timezone(x),
    "capacity": lambda x: v.integer(x, "capacity", minimum=1, maximum=MAX_CAPACITY),
    "active": lambda x: v.flag(x, "active"),
    "hours": hours_of,
}
#: The longest single stretch of time off (longer absences: deactivate the resource).
MAX_TIME_OFF = dt.timedelta(days=3 * 366)


def _clean(
    fields: Mapping[str, Callable[[Any], Any]],
    changes: Mapping[str, Any],
    *,
    partial: bool = True,
) -> dict[str, Any]:
    """The validated fields; an unknown name is refused. ``partial`` (an update): fields left
    UNSET are left out; else (a create) UNSET is refused like any other invalid value."""
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not an updatable field")
    if not partial:
        for name, value in changes.items():
            if value is UNSET:
                raise ValidationError(name, "UNSET only means 'leave as is' in an update")
    return {name: fields[name](value) for name, value in changes.items() if value is not UNSET}


class _Editable(Protocol[_E]):
    """What a create or an update needs of a catalog repository."""

    def add(self, entity: _E, /) -> None: ...
    def get(self, tenant_id: uuid.UUID, entity_id: uuid.UUID, /) -> _E | None: ...
    def update(self, entity: _E, /) -> None: ...


@dataclass(frozen=True, slots=True)
class _Kind(Generic[_E]):
    """One kind of catalog record, as its create and update see it."""

    name: str
    entity: Callable[..., _E]
    fields: Mapping[str, Callable[[Any], Any]]
    #: Its repository in a unit of work, reached explicitly (no attribute lookup by name).
    repository: Callable[[UnitOfWork], _Editable[_E]]
    #: Whether its records have a slug (set at creation, never updated).
    slugged: bool = True
    #: A venue's capacity shapes availability: its edits drop the tenant's whole cache (they
    #: are rare); everything else only touches the catalog namespace.
    whole_tenant: bool = False

    def invalidates(self, tenant_id: uuid.UUID) -> Callable[[object], list[Invalidation]]:
        return whole_tenant(tenant_id) if self.whole_tenant else catalog_of(tenant_id)


_SEGMENT = _Kind("segment", Segment, _SEGMENT_FIELDS, lambda uow: uow.segments)
_PACKAGE = _Kind("package", Package, _PACKAGE_FIELDS, lambda uow: uow.packages)
_ADD_ON = _Kind("add_on", AddOn, _ADD_ON_FIELDS, lambda uow: uow.add_ons)
_VENUE = _Kind(
    "venue", Venue, _VENUE_FIELDS, lambda uow: uow.venues, slugged=False, whole_tenant=True
)
_RESOURCE = _Kind(
    "resource",
    Resource,
    _RESOURCE_FIELDS,
    lambda uow: uow.resources,
    slugged=False,
    whole_tenant=True,
)

__all__ = ["MAX_PHOTOS", "CatalogService"]


class CatalogService(Service):
    """Manage and read a tenant's catalog."""

    # --- writes ----------------------------------------------------------------------------

    def _create(
        self,
        kind: _Kind[E],
        tenant_id: uuid.UUID,
        fields: Mapping[str, object],
    ) -> E:
        """Validate ``fields`` (its ``slug`` too, for a kind that has one), then add the new
        record (its segment must exist) and invalidate."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        validators = {"slug": v.slug, **kind.fields} if kind.slugged else kind.fields
        entity = kind.entity(
            id=new_id(), tenant_id=tenant_id, **_clean(validators, fields, partial=False)
        )
        segment_id = getattr(entity, "segment_id", None)
        schedule = getattr(entity, "schedule", None)

        def work(uow: UnitOfWork) -> E:
            load_tenant(uow, tenant_id)
            if segment_id is not None:
                self._segment(uow, tenant_id, segment_id)
            if schedule is not None:
                self._resources(uow, tenant_id, schedule)
            kind.repository(uow).add(entity)
            uow.tenants.touch(tenant_id)  # terms cached for holds are stale now
            return entity

        return self._write(work, invalidates=kind.invalidates(tenant_id))

    def _update(
        self,
        kind: _Kind[E],
        tenant_id: uuid.UUID,
        entity_id: uuid.UUID,
        changes: Mapping[str, object],
    ) -> E:
        """Validate ``changes``, then load, replace, store and invalidate in one write."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        clean = MappingProxyType(_clean(kind.fields, changes))
        entity_id = v.uuid_(entity_id, f"{kind.name}_id")

        def work(uow: UnitOfWork) -> E:
            load_tenant(uow, tenant_id)
            repository = kind.repository(uow)
            current = repository.get(tenant_id, entity_id)
            if current is None:
                raise NotFoundError(kind.name, entity_id)
            if clean.get("segment_id") is not None:
                self._segment(uow, tenant_id, clean["segment_id"])
            if clean.get("schedule") is not None:
                self._resources(uow, tenant_id, clean["schedule"])
            updated = replace(current, **clean)
            repository.update(updated)
            uow.tenants.touch(tenant_id)  # terms cached for holds are stale now
            return updated

        # Setting the same fields twice is setting them once: safe after a lost COMMIT reply.
        return self._write(work, invalidates=kind.invalidates(tenant_id), idempotent=True)

    @staticmethod
    def _segment(uow: UnitOfWork, tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment:
        segment = uow.segments.get(tenant_id, segment_id)
        if segment is None:
            raise NotFoundError("segment", segment_id)
        return segment

    @staticmethod
    def _resources(uow: UnitOfWork, tenant_id: uuid.UUID, schedule: PackageSchedule) -> None:
        """Every resource a schedule lists is one of the tenant's (one query)."""
        found = {r.id for r in uow.resources.get_many(tenant_id, schedule.resource_ids)}
        for resource_id in schedule.resource_ids:
            if resource_id not in found:
                raise NotFoundError("resource", resource_id)

    def create_segment(
        self,
        tenant_id: uuid.UUID,
        *,
        slug: str,
        name: str,
        heading: str = "",
        description: str = "",
        sort_order: int = 0,
    ) -> Segment:
        """Add a segment (a business line). Raises AlreadyExistsError on a taken slug."""
        fields = {
            "slug": slug,
            "name": name,
            "heading": heading,
            "description": description,
            "sort_order": sort_order,
        }
        return self._create(_SEGMENT, tenant_id, fields)

    def update_segment(
        self,
        tenant_id: uuid.UUID,
        segment_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        heading: str | Unset = UNSET,
        description: str | Unset = UNSET,
        sort_order: int | Unset = UNSET,
        active: bool | Unset = UNSET,
        **unknown: Never,
    ) -> Segment:
        """Change the given fields of a segment; fields left :data:`UNSET` keep their value.

        Raises:
            ValidationError: a value is malformed, or a keyword names no updatable field (a
                host forwarding a request's fields gets a 422, not a ``TypeError``).
        """
        given = {
            "name": name,
            "heading": heading,
            "description": description,
            "sort_order": sort_order,
            "active": active,
        }
        return self._update(_SEGMENT, tenant_id, segment_id, {**given, **unknown})

    def deactivate_segment(self, tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment:
        """Hide a segment from listings (its packages keep their own active flag)."""
        return self.update_segment(tenant_id, segment_id, active=False)

    def create_package(
        self,
        tenant_id: uuid.UUID,
        *,
        slug: str,
        name: str,
        base_price: int,
        description: str = "",
        segment_id: uuid.UUID | None = None,
        grouping: str = "",
        group_order: int = 0,
        photo_urls: Iterable[str] = (),
        schedule: PackageSchedule | None = None,
    ) -> Package:
        """Add a package. Prices are integer minor units (e.g. cents). With a ``schedule`` it
        sells time on the listed resources (see docs/scheduling.md), else whole dates."""
        fields = {
            "schedule": schedule,
            "slug": slug,
            "name": name,
            "base_price": base_price,
            "description": description,
            "segment_id": segment_id,
            "grouping": grouping,
            "group_order": group_order,
            "photo_urls": photo_urls,
        }
        return self._create(_PACKAGE, tenant_id, fields)

    def update_package(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        description: str | Unset = UNSET,
        base_price: int | Unset = UNSET,
        segment_id: uuid.UUID | Unset | None = UNSET,
        grouping: str | Unset = UNSET,
        group_order: int | Unset = UNSET,
        photo_urls: Iterable[str] | Unset = UNSET,
        active: bool | Unset = UNSET,
        schedule: PackageSchedule | Unset | None = UNSET,
        **unknown: Never,
    ) -> Package:
        """Change the given fields of a package (``segment_id=None`` detaches it from its
        segment); existing bookings keep their price snapshot. Raises as
        :meth:`update_segment`."""
        given = {
            "name": name,
            "description": description,
            "base_price": base_price,
            "segment_id": segment_id,
            "grouping": grouping,
            "group_order": group_order,
            "photo_urls": photo_urls,
            "active": active,
            "schedule": schedule,
        }
        return self._update(_PACKAGE, tenant_id, package_id, {**given, **unknown})

    def deactivate_package(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> Package:
        """Hide a package from listings and refuse new holds on it."""
        return self.update_package(tenant_id, package_id, active=False)

    def create_add_on(
        self,
        tenant_id: uuid.UUID,
        *,
        slug: str,
        name: str,
        price: int,
        description: str = "",
        segment_id: uuid.UUID | None = None,
    ) -> AddOn:
        """Add an add-on; ``segment_id=None`` means it may be offered in every segment."""
        fields = {
            "slug": slug,
            "name": name,
            "price": price,
            "description": description,
            "segment_id": segment_id,
        }
        return self._create(_ADD_ON, tenant_id, fields)

    def update_add_on(
        self,
        tenant_id: uuid.UUID,
        add_on_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        description: str | Unset = UNSET,
        price: int | Unset = UNSET,
        segment_id: uuid.UUID | Unset | None = UNSET,
        active: bool | Unset = UNSET,
        **unknown: Never,
    ) -> AddOn:
        """Change the given fields of an add-on (``segment_id=None``: offered in every
        segment). Raises as :meth:`update_segment`."""
        given = {
            "name": name,
            "description": description,
            "price": price,
            "segment_id": segment_id,
            "active": active,
        }
        return self._update(_ADD_ON, tenant_id, add_on_id, {**given, **unknown})

    def deactivate_add_on(self, tenant_id: uuid.UUID, add_on_id: uuid.UUID) -> AddOn:
        """Stop offering an add-on anywhere."""
        return self.update_add_on(tenant_id, add_on_id, active=False)

    def create_venue(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str,
        address: str = "",
        city: str = "",
        postal_code: str = "",
        country: str = "",
        capacity: int = 1,
    ) -> Venue:
        """Add a venue; bookings naming it draw from its own per-date ``capacity``."""
        fields = {
            "name": name,
            "address": address,
            "city": city,
            "postal_code": postal_code,
            "country": country,
            "capacity": capacity,
        }
        return self._create(_VENUE, tenant_id, fields)

    def update_venue(
        self,
        tenant_id: uuid.UUID,
        venue_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        address: str | Unset = UNSET,
        city: str | Unset = UNSET,
        postal_code: str | Unset = UNSET,
        country: str | Unset = UNSET,
        capacity: int | Unset = UNSET,
        active: bool | Unset = UNSET,
        **unknown: Never,
    ) -> Venue:
        """Change the given fields of a venue (a new ``capacity`` applies to dates not yet
        full). Raises as :meth:`update_segment`."""
        given = {
            "name": name,
            "address": address,
            "city": city,
            "postal_code": postal_code,
            "country": country,
            "capacity": capacity,
            "active": active,
        }
        return self._update(_VENUE, tenant_id, venue_id, {**given, **unknown})

    def deactivate_venue(self, tenant_id: uuid.UUID, venue_id: uuid.UUID) -> Venue:
        """Refuse new holds at a venue (existing bookings stay)."""
        return self.update_venue(tenant_id, venue_id, active=False)

    def create_resource(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str,
        kind: str = "",
        timezone: str | None = None,
        capacity: int = 1,
        hours: WorkingHours | None = None,
    ) -> Resource:
        """Add a resource (staff, room, equipment) whose time timed packages sell.

        ``timezone`` None keeps its ``hours`` in the tenant's zone; ``capacity`` N lets N
        bookings overlap at any instant. Raises AlreadyExistsError on a taken name.
        """
        fields = {
            "name": name,
            "kind": kind,
            "timezone": timezone,
            "capacity": capacity,
            "hours": WorkingHours() if hours is None else hours,
        }
        return self._create(_RESOURCE, tenant_id, fields)

    def update_resource(
        self,
        tenant_id: uuid.UUID,
        resource_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        kind: str | Unset = UNSET,
        timezone: str | Unset | None = UNSET,
        capacity: int | Unset = UNSET,
        hours: WorkingHours | Unset = UNSET,
        active: bool | Unset = UNSET,
        **unknown: Never,
    ) -> Resource:
        """Change the given fields of a resource (new hours or a lower capacity apply to new
        holds; existing bookings stay). Raises as :meth:`update_segment`."""
        given = {
            "name": name,
            "kind": kind,
            "timezone": timezone,
            "capacity": capacity,
            "hours": hours,
            "active": active,
        }
        return self._update(_RESOURCE, tenant_id, resource_id, {**given, **unknown})

    def deactivate_resource(self, tenant_id: uuid.UUID, resource_id: uuid.UUID) -> Resource:
        """Refuse new holds on a resource (existing bookings stay)."""
        return self.update_resource(tenant_id, resource_id, active=False)

    def list_resources(
        self, tenant_id: uuid.UUID, *, include_inactive: bool = False
    ) -> list[Resource]:
        """All resources of the tenant, by name."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        inactive_too = v.flag(include_inactive, "include_inactive")

        def work(uow: UnitOfWork) -> list[Resource]:
            load_tenant(uow, tenant_id)
            return uow.resources.list(tenant_id, active_only=not inactive_too)

        return self._read(work)

    def add_time_off(
        self,
        tenant_id: uuid.UUID,
        resource_id: uuid.UUID,
        *,
        start: dt.datetime,
        end: dt.datetime,
        reason: str = "",
    ) -> ResourceTimeOff:
        """Mark a resource away over ``[start, end)`` (aware): no slot that would serve
        during it is offered or held. Existing bookings stay."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        resource_id = v.uuid_(resource_id, "resource_id")
        first, last = instant(start, "start"), instant(end, "end")
        if last <= first:
            raise ValidationError("end", "must be after start")
        if last - first > MAX_TIME_OFF:
            raise ValidationError("end", "time off lasts at most three years")
        time_off = ResourceTimeOff(
            new_id(),
            tenant_id,
            resource_id,
            first,
            last,
            v.text(reason, "reason", max_length=500),
        )

        def work(uow: UnitOfWork) -> ResourceTimeOff:
            load_tenant(uow, tenant_id)
            if uow.resources.get(tenant_id, resource_id) is None:
                raise NotFoundError("resource", resource_id)
            uow.time_off.add(time_off)
            return time_off

        return self._write(work, invalidates=whole_tenant(tenant_id))

    def remove_time_off(self, tenant_id: uuid.UUID, time_off_id: uuid.UUID) -> bool:
        """Cancel a stretch of time off; returns whether it existed."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        time_off_id = v.uuid_(time_off_id, "time_off_id")

        def work(uow: UnitOfWork) -> bool:
            load_tenant(uow, tenant_id)
            return uow.time_off.remove(tenant_id, time_off_id)

        return self._write(work, invalidates=whole_tenant(tenant_id), idempotent=True)

    def list_time_off(
        self,
        tenant_id: uuid.UUID,
        resource_id: uuid.UUID,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[ResourceTimeOff]:
        """A resource's time off overlapping ``[start, end)`` (at most 62 days), by start."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        resource_id = v.uuid_(resource_id, "resource_id")
        window = search_window(start, end)

        def work(uow: UnitOfWork) -> list[ResourceTimeOff]:
            load_tenant(uow, tenant_id)
            return uow.time_off.overlapping(tenant_id, [resource_id], window)

        return self._read(work)

    def offer_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        """Let customers book ``add_on_id`` with ``package_id`` (idempotent).

        Raises:
            NotFoundError: either belongs to no such record of this tenant.
            ValidationError: the add-on is tied to another segment than the package.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        add_on_id = v.uuid_(add_on_id, "add_on_id")

        def work(uow: UnitOfWork) -> None:
            load_tenant(uow, tenant_id)
            package = uow.packages.get(tenant_id, package_id)
            if package is None:
                raise NotFoundError("package", package_id)
            add_on = uow.add_ons.get(tenant_id, add_on_id)
            if add_on is None:
                raise NotFoundError("add_on", add_on_id)
            if add_on.segment_id is not None and add_on.segment_id != package.segment_id:
                raise ValidationError("add_on_id", "add-on belongs to another segment")
            uow.packages.offer_add_on(tenant_id, package_id, add_on_id)
            uow.tenants.touch(tenant_id)

        self._write(work, invalidates=catalog_of(tenant_id))

    def withdraw_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        """Stop offering ``add_on_id`` with ``package_id`` (idempotent)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        add_on_id = v.uuid_(add_on_id, "add_on_id")

        def work(uow: UnitOfWork) -> None:
            load_tenant(uow, tenant_id)
            uow.packages.withdraw_add_on(tenant_id, package_id, add_on_id)
            uow.tenants.touch(tenant_id)

        self._write(work, invalidates=catalog_of(tenant_id))

    # --- reads -----------------------------------------------------------------------------

    def list_segments(
        self, tenant_id: uuid.UUID, *, include_inactive: bool = False
    ) -> list[Segment]:
        """Segments in display order (sort_order, then slug)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        inactive_too = v.flag(include_inactive, "include_inactive")

        def work(uow: UnitOfWork) -> tuple[Segment, ...]:
            load_tenant(uow, tenant_id)
            return tuple(uow.segments.list(tenant_id, active_only=not inactive_too))

        key = f"segments:{int(inactive_too)}"
        return list(self._catalog_read(tenant_id, key, tuple[Segment, ...], work))

    def list_packages(
        self,
        tenant_id: uuid.UUID,
        *,
        segment_slug: str | None = None,
        include_inactive: bool = False,
    ) -> list[Package]:
        """Active packages (of one segment when ``segment_slug`` is given), in display order."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        clean_slug = None if segment_slug is None else v.slug(segment_slug, "segment_slug")
        inactive_too = v.flag(include_inactive, "include_inactive")

        def work(uow: UnitOfWork) -> tuple[Package, ...]:
            load_tenant(uow, tenant_id)
            segment_id = None
            if clean_slug is not None:
                segment = uow.segments.get_by_slug(tenant_id, clean_slug)
                if segment is None:
                    raise NotFoundError("segment", clean_slug)
                segment_id = segment.id
            return tuple(
                uow.packages.list(tenant_id, segment_id=segment_id, active_only=not inactive_too)
            )

        key = f"packages:{clean_slug or ''}:{int(inactive_too)}"
        return list(self._catalog_read(tenant_id, key, tuple[Package, ...], work))

    def get_package(self, tenant_id: uuid.UUID, slug: str) -> PackageDetails:
        """An active package by slug, with the active add-ons it offers.

        Returns a :class:`PackageDetails`: the package is ``details.package`` and its fields read
        through (``details.id``, ``details.slug``, …); ``details.add_ons`` are the add-ons.

        Raises:
            NotFoundError: no active package of this tenant has that slug.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        clean_slug = v.slug(slug)

        def work(uow: UnitOfWork) -> PackageDetails:
            load_tenant(uow, tenant_id)
            package = uow.packages.get_by_slug(tenant_id, clean_slug)
            if package is None or not package.active:
                raise NotFoundError("package", clean_slug)
            add_ons = uow.packages.offered_add_ons(tenant_id, package.id)
            return PackageDetails(package, tuple(a for a in add_ons if a.active))

        return self._catalog_read(tenant_id, f"package:{clean_slug}", PackageDetails, work)

    def _catalog_read(
        self, tenant_id: uuid.UUID, key: str, kind: Any, work: Callable[[UnitOfWork], T]
    ) -> T:
        """A catalog read through the cache (the loader also checks the tenant is active)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        return self._cached(
            tenant_id,
            CATALOG,
            key,
            kind,
            lambda: self._read(work),
            ttl=self._cache_settings.catalog_ttl,
        )

    def list_add_ons(self, tenant_id: uuid.UUID, *, include_inactive: bool = False) -> list[AddOn]:
        """All add-ons of the tenant, by slug."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        inactive_too = v.flag(include_inactive, "include_inactive")

        def work(uow: UnitOfWork) -> list[AddOn]:
            load_tenant(uow, tenant_id)
            return uow.add_ons.list(tenant_id, active_only=not inactive_too)

        return self._read(work)

    def list_venues(self, tenant_id: uuid.UUID, *, include_inactive: bool = False) -> list[Venue]:
        """All venues of the tenant, by name."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        inactive_too = v.flag(include_inactive, "include_inactive")

        def work(uow: UnitOfWork) -> list[Venue]:
            load_tenant(uow, tenant_id)
            return uow.venues.list(tenant_id, active_only=not inactive_too)

        return self._read(work)
