"""Subscribable calendar feeds: their tokens, and what a feed shows.

A feed is reached by a secret token (``bcf_<tenant>_<feed>_<secret>``), stored as a SHA-256
digest like API keys and revocable at once. :meth:`CalendarFeedService.contents` resolves the
token and reads what the feed shows in a constant number of queries, whatever the number of
bookings; :func:`booking_core.calendar.feed_body` turns that into the ICS body (the rendering
lives in the optional calendar extra, the reading here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid

from booking_core.domain.ids import new_id
from booking_core.domain.model import (
    BookingStatus,
    CalendarFeed,
    Customer,
    FeedContents,
    IssuedCalendarFeed,
)
from booking_core.errors import AuthenticationError, NotFoundError, TenantInactiveError
from booking_core.limits import MAX_FEED_DAYS
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v
from booking_core.services._base import Service, load_tenant

__all__ = ["FEED_TOKEN_PREFIX", "CalendarFeedService"]

FEED_TOKEN_PREFIX = "bcf_"  # noqa: S105 - the public start of every token, not a secret

#: What a feed shows, by status (holds only where the tenant opted in).
_SHOWN = frozenset({BookingStatus.CONFIRMED, BookingStatus.FULFILLED})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ids_of(token: object) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant id, feed id) a token names, or AuthenticationError."""
    if (
        not isinstance(token, str)
        or len(token) > 200
        or not token.isascii()
        or not token.startswith(FEED_TOKEN_PREFIX)
    ):
        raise AuthenticationError
    parts = token[len(FEED_TOKEN_PREFIX) :].split("_", 2)
    if len(parts) != 3 or len(parts[0]) != 32 or len(parts[1]) != 32 or not parts[2]:
        raise AuthenticationError
    try:
        return uuid.UUID(hex=parts[0]), uuid.UUID(hex=parts[1])
    except ValueError:
        raise AuthenticationError from None


class CalendarFeedService(Service):
    """Issue, list and revoke calendar feeds, and read what a feed shows."""

    def create(
        self,
        tenant_id: uuid.UUID,
        *,
        resource_id: uuid.UUID | None = None,
        label: str = "",
        include_holds: bool = False,
        include_contact: bool = False,
    ) -> IssuedCalendarFeed:
        """Issue a feed of the tenant's bookings (or of one resource's); returns its
        ``record`` and the ``token``, which is shown only this once.

        Raises:
            ValidationError: malformed input.
            NotFoundError: no such tenant or resource.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        resource_id = v.optional_uuid(resource_id, "resource_id")
        clean_label = v.text(label, "label", max_length=200)
        holds = v.flag(include_holds, "include_holds")
        contact = v.flag(include_contact, "include_contact")
        feed_id = new_id()
        token = f"{FEED_TOKEN_PREFIX}{tenant_id.hex}_{feed_id.hex}_{secrets.token_urlsafe(24)}"

        def work(uow: UnitOfWork) -> CalendarFeed:
            load_tenant(uow, tenant_id)
            if resource_id is not None and uow.resources.get(tenant_id, resource_id) is None:
                raise NotFoundError("resource", resource_id)
            record = CalendarFeed(
                feed_id,
                tenant_id,
                resource_id,
                clean_label,
                _token_hash(token),
                holds,
                contact,
                self._clock.now(),
            )
            uow.calendar_feeds.add(record)
            return record

        return IssuedCalendarFeed(self._write(work), token)

    def revoke(self, tenant_id: uuid.UUID, feed_id: uuid.UUID) -> bool:
        """Revoke a feed at once (its token stops working); returns whether it was active."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        feed_id = v.uuid_(feed_id, "feed_id")

        def work(uow: UnitOfWork) -> bool:
            load_tenant(uow, tenant_id, require_active=False)
            return uow.calendar_feeds.revoke(tenant_id, feed_id, now=self._clock.now())

        return self._write(work)

    def list(self, tenant_id: uuid.UUID) -> list[CalendarFeed]:
        """The tenant's active feeds (digests and labels only)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")

        def work(uow: UnitOfWork) -> list[CalendarFeed]:
            load_tenant(uow, tenant_id, require_active=False)
            return uow.calendar_feeds.active(tenant_id)

        return self._read(work)

    def contents(self, token: str, *, start: dt.date, end: dt.date) -> FeedContents:
        """What the feed ``token`` opens shows for the dates ``[start, end]`` (the tenant's
        local calendar; at most ``MAX_FEED_DAYS``), read in six queries whatever the number
        of bookings.

        Raises:
            AuthenticationError: a malformed, unknown or revoked token (indistinguishably).
            TenantInactiveError: the token is valid but its tenant is deactivated.
            ValidationError: a malformed window.
        """
        tenant_id, feed_id = _ids_of(token)
        presented = _token_hash(token)
        start, end = v.date_range(start, end, max_days=MAX_FEED_DAYS)

        def work(uow: UnitOfWork) -> FeedContents:
            now = self._clock.now()
            tenant = uow.tenants.get(tenant_id)
            feed = uow.calendar_feeds.get(tenant_id, feed_id) if tenant is not None else None
            valid = feed is not None and feed.revoked_at is None
            stored = feed.token_hash if feed is not None else "0" * 64
            if not (hmac.compare_digest(stored, presented) and valid) or tenant is None:
                raise AuthenticationError
            assert feed is not None
            if not tenant.active:
                raise TenantInactiveError(tenant.id)
            shown = _SHOWN | ({BookingStatus.PENDING} if feed.include_holds else set())
            bookings = tuple(
                booking
                for booking in (
                    b.as_of(now) for b in uow.bookings.list_for_dates(tenant_id, start, end)
                )
                if booking.status in shown
                and (feed.resource_id is None or feed.resource_id in booking.resource_ids)
            )
            packages = tuple(uow.packages.list(tenant_id, segment_id=None, active_only=False))
            resources = tuple(uow.resources.list(tenant_id, active_only=False))
            customers: tuple[Customer, ...] = ()
            if feed.include_contact:
                wanted = sorted({b.customer_id for b in bookings})
                customers = tuple(uow.customers.get_many(tenant_id, wanted))
            return FeedContents(feed, tenant, bookings, packages, resources, customers, now)

        return self._read(work)
