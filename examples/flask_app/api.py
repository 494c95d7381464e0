"""The public API under /v1, as a blueprint.

Every route but the two callbacks (payment webhooks, CSP reports) serves the tenant named by the
``X-Tenant-Key`` header. Input is checked here only as far as shapes go (JSON object, ISO dates
and date-times, UUIDs); booking_core validates the values (a naive time, a range too long) and
its errors become problems in ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from booking_core import (
    AddOn,
    AuthenticationError,
    Booking,
    BookingApp,
    Cancellation,
    CustomerDetails,
    DateAvailability,
    InboxState,
    NotFoundError,
    Package,
    Slot,
    Tenant,
    TenantInactiveError,
    ValidationError,
)
from booking_core.calendar import booking_ics, feed_body
from booking_core.domain.model import CalendarFeed
from booking_core.web.security import parse_csp_report

logger = logging.getLogger("booking_core.examples.flask")

api = Blueprint("api_v1", __name__, url_prefix="/v1")


def booking_app() -> BookingApp:
    """The BookingApp of the current Flask app (see ``create_app``)."""
    booking: BookingApp = current_app.extensions["booking_core"]
    return booking


def current_tenant() -> Tenant:
    """The active tenant of the ``X-Tenant-Key`` header, resolved once per request.

    Raises AuthenticationError (401) for a missing, malformed, unknown or revoked key and
    TenantInactiveError (403) for a deactivated tenant; the library compares in constant time.
    """
    if "tenant" not in g:
        key = request.headers.get("X-Tenant-Key")
        if not key:
            raise AuthenticationError("missing X-Tenant-Key header")
        g.tenant = booking_app().tenants.resolve_api_key(key)
    tenant: Tenant = g.tenant
    return tenant


# -- parsing: shapes only, 422 problems ---------------------------------------------------------


def _date(value: str | None, field: str) -> dt.date:
    if not value:
        raise ValidationError(field, "is required (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"is not a date (YYYY-MM-DD): {value[:40]!r}") from None


def _datetime(value: str | None, field: str) -> dt.datetime:
    """An ISO 8601 date and time; naive or aware, booking_core decides (naive is refused)."""
    if not value:
        raise ValidationError(field, "is required (an ISO 8601 date and time with its offset)")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            field, f"is not an ISO 8601 date and time (2031-06-21T10:00:00+02:00): {value[:40]!r}"
        ) from None


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(field, "is not a UUID") from None


def _json_object() -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)  # None for a bad body or another content type
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object (Content-Type: application/json)")
    return body


def _string(body: dict[str, Any], key: str, field: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            field, "is required (a string)" if value is None else "must be a string"
        )
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    """A JSON boolean, false when absent (``"true"`` or ``1`` is not one)."""
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(key, "must be true or false")
    return value


def _reject_unknown(body: dict[str, Any], allowed: set[str], where: str = "") -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"{where}{unknown[0]}", "is not a known field")


# -- JSON shapes (Flask would write dates as HTTP dates, so they are ISO strings here) ----------


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def package_json(p: Package) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "slug": p.slug,
        "name": p.name,
        "description": p.description,
        "base_price": p.base_price,
        "grouping": p.grouping,
        "photo_urls": list(p.photo_urls),
    }


def add_on_json(a: AddOn) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "slug": a.slug,
        "name": a.name,
        "description": a.description,
        "price": a.price,
    }


def availability_json(d: DateAvailability) -> dict[str, Any]:
    return {"date": d.date.isoformat(), "available": d.available, "reason": d.reason}


def booking_json(b: Booking) -> dict[str, Any]:
    return {
        "id": str(b.id),
        "status": b.status.value,
        "event_date": b.event_date.isoformat(),
        "package_id": str(b.package_id),
        "venue_id": _id(b.venue_id),
        "add_ons": [
            {
                "add_on_id": str(a.add_on_id),
                "name": a.name,
                "unit_price": a.unit_price,
                "quantity": a.quantity,
            }
            for a in b.add_ons
        ],
        "package_price": b.package_price,
        "total": b.total,
        "commission": b.commission,
        "currency": b.currency,
        "created_at": _iso(b.created_at),
        "expires_at": _iso(b.expires_at),
        "payment_ref": b.payment_ref,
        "amount_paid": b.amount_paid,
        "amount_refunded": b.amount_refunded,
        "starts_at": _iso(b.starts_at),
        "ends_at": _iso(b.ends_at),
        "resource_ids": [str(r) for r in b.resource_ids],
    }


def slot_json(s: Slot) -> dict[str, Any]:
    return {
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "resource_ids": [str(r) for r in s.resource_ids],
    }


def feed_json(f: CalendarFeed) -> dict[str, Any]:
    """A feed as listed: never its token (only its digest is stored), so never its URL."""
    return {
        "id": str(f.id),
        "label": f.label,
        "resource_id": _id(f.resource_id),
        "include_holds": f.include_holds,
        "include_contact": f.include_contact,
        "created_at": _iso(f.created_at),
    }


def cancellation_json(c: Cancellation) -> dict[str, Any]:
    refund = c.refund
    return {
        "booking": booking_json(c.booking),
        "refund_amount": c.refund_amount,
        "commission_refund": c.commission_refund,
        "refund": None
        if refund is None
        else {
            "id": str(refund.id),
            "amount": refund.amount,
            "commission_refund": refund.commission_refund,
            "state": refund.state.value,
            "provider_refund_id": refund.provider_refund_id,
            "failure_reason": refund.failure_reason,
        },
    }


# -- catalog ------------------------------------------------------------------------------------


@api.get("/packages")
def list_packages() -> Response:
    """The tenant's active packages in display order; ``?segment=<slug>`` for one segment."""
    tenant = current_tenant()
    packages = booking_app().catalog.list_packages(
        tenant.id, segment_slug=request.args.get("segment")
    )
    return jsonify([package_json(p) for p in packages])


@api.get("/packages/<slug>")
def get_package(slug: str) -> Response:
    """One active package with the add-ons it offers."""
    tenant = current_tenant()
    details = booking_app().catalog.get_package(tenant.id, slug)
    return jsonify(
        package=package_json(details.package),
        add_ons=[add_on_json(a) for a in details.add_ons],
        currency=tenant.currency,
    )


# -- availability --------------------------------------------------------------------------------


@api.get("/availability/<day>")
def check_date(day: str) -> Response:
    """Whether one date (the tenant's local calendar) can be booked, and why not."""
    tenant = current_tenant()
    return jsonify(
        availability_json(booking_app().availability.check(tenant.id, _date(day, "date")))
    )


@api.get("/availability")
def unavailable_dates() -> Response:
    """The dates of ``?start=&end=`` that cannot be booked (at most 1100 days)."""
    tenant = current_tenant()
    start = _date(request.args.get("start"), "start")
    end = _date(request.args.get("end"), "end")
    closed = booking_app().availability.unavailable_dates(tenant.id, start, end)
    return jsonify(
        start=start.isoformat(),
        end=end.isoformat(),
        unavailable=[availability_json(d) for d in closed],
    )


@api.get("/slots")
def list_slots() -> Response:
    """The bookable starts of a timed package: ``?package_id=&start=&end=`` (ISO 8601 with an
    offset, at most 62 days), optionally ``&resource_id=`` (repeatable) and ``&tz=`` (the zone
    the times are shown in; UTC by default)."""
    tenant = current_tenant()
    package_id = _uuid(request.args.get("package_id"), "package_id")
    start = _datetime(request.args.get("start"), "start")
    end = _datetime(request.args.get("end"), "end")
    resources = request.args.getlist("resource_id")
    slots = booking_app().availability.slots(
        tenant.id,
        package_id,
        start,
        end,
        resource_ids=[_uuid(r, "resource_id") for r in resources] if resources else None,
        tz=request.args.get("tz"),
    )
    return jsonify([slot_json(s) for s in slots])


# -- bookings ------------------------------------------------------------------------------------


def _customer(body: dict[str, Any]) -> CustomerDetails:
    customer = body.get("customer")
    if not isinstance(customer, dict):
        raise ValidationError("customer", "is required (an object with name and email)")
    _reject_unknown(customer, {"name", "email", "phone"}, "customer.")
    return CustomerDetails(
        _string(customer, "name", "customer.name") or "",
        _string(customer, "email", "customer.email") or "",
        _string(customer, "phone", "customer.phone", required=False),
    )


def _add_ons(
    body: dict[str, Any], offered: dict[str, uuid.UUID], package: str
) -> dict[uuid.UUID, int]:
    add_ons = body.get("add_ons") or {}
    if not isinstance(add_ons, dict):
        raise ValidationError("add_ons", "must be an object of add-on slug → quantity")
    unknown = sorted(set(add_ons) - set(offered))
    if unknown:
        raise ValidationError("add_ons", f"not offered by {package}: {', '.join(unknown)}")
    return {offered[slug]: quantity for slug, quantity in add_ons.items()}


@api.post("/checkout")
def checkout() -> tuple[Response, int]:
    """Hold the date (or the time) and open the payment: send the customer to
    ``payment.redirect_url``.

    Body: ``{"package": slug, "date": "YYYY-MM-DD", "customer": {"name", "email", "phone"?},
    "add_ons": {slug: quantity}?, "venue_id": uuid?}``; a timed package takes ``"start":
    "<ISO 8601 with offset>"`` (one of ``/v1/slots``) and ``"resource_id": uuid?`` instead of
    the date and venue. Header ``Idempotency-Key`` (optional) makes a retry return the same
    booking. The booking stays PENDING until the provider's ``payment.succeeded`` webhook
    confirms it.
    """
    tenant = current_tenant()
    booking = booking_app()
    body = _json_object()
    _reject_unknown(
        body, {"package", "date", "start", "customer", "add_ons", "venue_id", "resource_id"}
    )
    package = _string(body, "package", "package") or ""
    date = None if body.get("date") is None else _date(_string(body, "date", "date"), "date")
    start = (
        None if body.get("start") is None else _datetime(_string(body, "start", "start"), "start")
    )
    customer = _customer(body)
    venue = body.get("venue_id")
    resource = body.get("resource_id")
    details = booking.catalog.get_package(tenant.id, package)
    result = booking.bookings.checkout(
        tenant.id,
        package_id=details.package.id,
        date=date,
        start=start,
        customer=customer,
        add_ons=_add_ons(body, {a.slug: a.id for a in details.add_ons}, package),
        venue_id=None if venue is None else _uuid(venue, "venue_id"),
        resource_id=None if resource is None else _uuid(resource, "resource_id"),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    session = result.session
    payment = {
        "payment_ref": session.payment_ref,
        "redirect_url": session.redirect_url,
        "expires_at": _iso(session.expires_at),
    }
    return jsonify(booking=booking_json(result.booking), payment=payment), 201


@api.get("/bookings/<booking_id>")
def get_booking(booking_id: str) -> Response:
    """One booking of the tenant (another tenant's id is a 404, like a missing one)."""
    tenant = current_tenant()
    found = booking_app().bookings.get(tenant.id, _uuid(booking_id, "booking_id"))
    return jsonify(booking_json(found))


@api.get("/bookings/<booking_id>.ics")
def get_booking_ics(booking_id: str) -> Response:
    """One booking of the tenant as an ``.ics`` file to add to a calendar: the package's name
    as SUMMARY, a timed booking in the tenant's time zone, a date booking as an all-day event.
    Another tenant's id is a 404, like a missing one."""
    tenant = current_tenant()
    booking = booking_app()
    found = booking.bookings.get(tenant.id, _uuid(booking_id, "booking_id"))
    packages = booking.catalog.list_packages(tenant.id, include_inactive=True)
    name = next(p.name for p in packages if p.id == found.package_id)
    return Response(
        booking_ics(found, summary=name, timezone=tenant.timezone),
        mimetype="text/calendar",  # Flask adds "; charset=utf-8" to a text/* type
        headers={"Content-Disposition": f'attachment; filename="booking-{found.id}.ics"'},
    )


@api.post("/bookings/<booking_id>/cancel")
def cancel(booking_id: str) -> Response:
    """Cancel a booking; a paid one is refunded by the tenant's cancellation policy.

    Optional body ``{"reason": "…"}``. Cancelling again is a no-op that refunds nothing more.
    """
    tenant = current_tenant()
    booking_uuid = _uuid(booking_id, "booking_id")
    body = _json_object()
    _reject_unknown(body, {"reason"})
    reason = _string(body, "reason", "reason", required=False) or ""
    done = booking_app().bookings.cancel(tenant.id, booking_uuid, reason=reason)
    return jsonify(cancellation_json(done))


# -- calendar feeds: a URL a calendar app subscribes to -----------------------------------------

#: The dates a feed serves: from 31 days before today (the app's clock, UTC) to 366 days after,
#: so that the tenant's own last 30 and next 365 days are covered in any time zone.
FEED_DAYS_BEFORE = 31
FEED_DAYS_AFTER = 366
#: Calendar apps poll every few minutes to hours; a private cache may keep the body 5 minutes.
FEED_CACHE_CONTROL = "private, max-age=300"

#: A feed token where it could be logged or echoed: the segment of ``/v1/feeds/<token>.ics``,
#: and anything shaped like a token (``bcf_…``) elsewhere, such as a URL mistyped without .ics.
_FEED_TOKEN = re.compile(r"(?<=/v1/feeds/)[^/?#\s]+(?=\.ics)|bcf_[^/?#\s]*")


def redact_feed_tokens(text: str) -> str:
    """``text`` with every feed token replaced by ``{token}``: the token is the feed's only
    credential, so no problem body and no log line carries it."""
    return _FEED_TOKEN.sub("{token}", text)


class RedactFeedTokens(logging.Filter):
    """Takes feed tokens out of a logger's records (the server's access log names every path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_feed_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_feed_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


@api.post("/feeds")
def create_feed() -> tuple[Response, int]:
    """Issue a calendar feed of the tenant's bookings (or of one resource's): ``url`` is the
    address to subscribe to, carrying the feed's secret token, and is shown only this once.

    Optional body ``{"resource_id": uuid?, "label": "…"?, "include_holds": false?,
    "include_contact": false?}``: confirmed bookings only unless ``include_holds``, no customer
    details unless ``include_contact``. An unknown ``resource_id`` is a 404.
    """
    tenant = current_tenant()
    body = _json_object()
    _reject_unknown(body, {"resource_id", "label", "include_holds", "include_contact"})
    resource = body.get("resource_id")
    record, token = booking_app().feeds.create(
        tenant.id,
        resource_id=None if resource is None else _uuid(resource, "resource_id"),
        label=_string(body, "label", "label", required=False) or "",
        include_holds=_flag(body, "include_holds"),
        include_contact=_flag(body, "include_contact"),
    )
    url = url_for("api_v1.get_feed_ics", token=token, _external=True)
    return jsonify({"id": str(record.id), "url": url, **feed_json(record)}), 201


@api.get("/feeds")
def list_feeds() -> Response:
    """The tenant's active feeds, without their URLs: a token is shown only when issued."""
    tenant = current_tenant()
    return jsonify([feed_json(f) for f in booking_app().feeds.list(tenant.id)])


# "uuid" keeps "/feeds/<token>.ics" off this rule: another method on the feed's URL is a 405
@api.delete("/feeds/<uuid:feed_id>")
def revoke_feed(feed_id: uuid.UUID) -> tuple[str, int]:
    """Revoke a feed: its URL answers 404 from now on.

    A feed that is unknown, another tenant's or already revoked is a 404 (nothing active to
    revoke); a client retrying a DELETE whose answer it lost can take that 404 as done.
    """
    tenant = current_tenant()
    if not booking_app().feeds.revoke(tenant.id, feed_id):
        raise NotFoundError("calendar feed", feed_id)
    return "", 204


@api.get("/feeds/<token>.ics")
def get_feed_ics(token: str) -> Response:
    """A calendar feed: no ``X-Tenant-Key``, the token in the URL is the credential.

    The feed's bookings from 31 days before today to 366 days after, in the tenant's zone. An
    unknown, malformed or revoked token, or one of a deactivated tenant, is the same 404 (not a
    401: a calendar app has no key to offer, and the answer never tells whether a token exists).
    """
    booking = booking_app()
    today = booking.clock.now().date()
    try:
        contents = booking.feeds.contents(
            token,
            start=today - dt.timedelta(days=FEED_DAYS_BEFORE),
            end=today + dt.timedelta(days=FEED_DAYS_AFTER),
        )
    except (AuthenticationError, TenantInactiveError):
        raise NotFoundError("calendar feed", "no feed at this URL") from None
    return Response(
        feed_body(contents),
        mimetype="text/calendar",  # Flask adds "; charset=utf-8" to a text/* type
        headers={"Cache-Control": FEED_CACHE_CONTROL},
    )


# -- callbacks: the payment provider and browsers, not API clients ---------------------------


@api.post("/webhooks/<provider>")
def payment_webhook(provider: str) -> tuple[Response, int]:
    """Receive a payment provider webhook: verified on the raw bytes, processed exactly once.

    The provider is configured with ``/v1/webhooks/<provider>?tenant=<tenant slug>``; the
    signature, not an API key, authenticates it. Answers 200 with the receipt (a redelivery is
    ``duplicate: true`` and has no effect), or 500 when processing FAILED so that the provider
    redelivers; ``app.webhooks.retry_failed()`` recovers such events without a redelivery.
    """
    booking = booking_app()
    slug = request.args.get("tenant")
    if not slug:
        raise ValidationError("tenant", "is required (the tenant's slug, in the query string)")
    tenant_id = booking.tenants.get_by_slug(slug).id
    # get_data(): the exact bytes received, before any JSON parsing (the signature covers them).
    # dict(): werkzeug's headers are not a collections.abc.Mapping; WSGI servers have already
    # joined repeated headers into one value, so nothing is lost.
    headers = dict(request.headers)
    receipt = booking.webhooks.receive(tenant_id, request.get_data(), headers, provider=provider)
    failed = receipt.state is InboxState.FAILED
    if failed:
        logger.error(
            "webhook processing failed",
            extra={"event_id": receipt.event_id, "error": receipt.error},
        )
    body = jsonify(
        event_id=receipt.event_id,
        event_type=receipt.event_type,
        state=receipt.state.value,
        duplicate=receipt.duplicate,
        outcome=receipt.outcome,
        error=receipt.error,
    )
    return body, 500 if failed else 200


@api.post("/csp-report")
def csp_report() -> tuple[str, int]:
    """Accept browsers' CSP violation reports (``report-uri`` and Reporting API formats).

    Unauthenticated by nature: rate-limit it at the edge. Malformed reports are a 422 problem.
    """
    reports = parse_csp_report(request.get_data(), request.content_type or "")
    for report in reports:
        logger.warning(
            "csp violation",
            extra={
                "directive": report.effective_directive,
                "blocked": report.blocked_uri,
                "page": report.document_uri,
            },
        )
    return "", 204
