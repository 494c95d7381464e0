"""The public API under /v1: dependencies resolve the BookingApp and the caller's tenant.

Handlers are plain ``def``: booking_core is synchronous, so FastAPI runs them in its thread pool
and the event loop never waits on the database. The two routes that need the raw body read it
in an ``async`` dependency first.
"""

from __future__ import annotations

import datetime as dt
import http
import logging
import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.security import APIKeyHeader
from schemas import (
    CSP_REPORT_REQUEST,
    MAX_RANGE_DAYS,
    MAX_SLOT_DAYS,
    MAX_SLOT_RESOURCES,
    AddOnOut,
    AwareDateTime,
    BookingOut,
    CancelIn,
    CancellationOut,
    CheckoutIn,
    CheckoutOut,
    DateAvailabilityOut,
    FeedIn,
    FeedOut,
    IdempotencyKey,
    IsoDate,
    IssuedFeedOut,
    PackageDetailsOut,
    PackageOut,
    PaymentSessionOut,
    Problem,
    SlotOut,
    Slug,
    TimeZone,
    UnavailableDatesOut,
    Uuid,
    WebhookReceiptOut,
)

from booking_core import (
    AuthenticationError,
    BookingApp,
    CustomerDetails,
    InboxState,
    NotFoundError,
    Tenant,
    TenantInactiveError,
    ValidationError,
)
from booking_core.calendar import booking_ics, feed_body
from booking_core.web.problems import PROBLEM_JSON
from booking_core.web.security import parse_csp_report

logger = logging.getLogger("booking_core.examples.fastapi")

# -- dependencies --------------------------------------------------------------------------------


def get_booking(request: Request) -> BookingApp:
    """The BookingApp the lifespan (or the test) put on the application state."""
    booking: BookingApp = request.app.state.booking
    return booking


Booking = Annotated[BookingApp, Depends(get_booking)]

_api_key = APIKeyHeader(
    name="X-Tenant-Key",
    auto_error=False,  # a missing key gets the same 401 problem as a wrong one
    description="The tenant's public API key (`python seed.py` prints one).",
)


def get_tenant(booking: Booking, key: Annotated[str | None, Depends(_api_key)]) -> Tenant:
    """The active tenant the ``X-Tenant-Key`` names (the library compares in constant time).

    Raises AuthenticationError (401) for a missing, malformed, unknown or revoked key, and
    TenantInactiveError (403) for a deactivated tenant.
    """
    if not key:
        raise AuthenticationError("missing X-Tenant-Key header")
    return booking.tenants.resolve_api_key(key)


CurrentTenant = Annotated[Tenant, Depends(get_tenant)]


async def raw_body(request: Request) -> bytes:
    """The request body exactly as received: signatures are computed over these bytes."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (401, 403, 404, 409, 422)
}

router = APIRouter(prefix="/v1", responses=_PROBLEMS)
_RAW_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

# -- catalog -------------------------------------------------------------------------------------


@router.get("/packages", tags=["catalog"])
def list_packages(
    booking: Booking,
    tenant: CurrentTenant,
    segment: Annotated[
        Slug | None, Query(description="a segment slug", examples=["weddings"])
    ] = None,
) -> list[PackageOut]:
    """The tenant's active packages in display order, optionally of one segment."""
    packages = booking.catalog.list_packages(tenant.id, segment_slug=segment)
    return [PackageOut.model_validate(p) for p in packages]


@router.get("/packages/{slug}", tags=["catalog"])
def get_package(
    booking: Booking, tenant: CurrentTenant, slug: Annotated[Slug, Path(examples=["gold"])]
) -> PackageDetailsOut:
    """One active package with the add-ons it offers."""
    details = booking.catalog.get_package(tenant.id, slug)
    return PackageDetailsOut(
        package=PackageOut.model_validate(details.package),
        add_ons=tuple(AddOnOut.model_validate(a) for a in details.add_ons),
        currency=tenant.currency,
    )


# -- availability --------------------------------------------------------------------------------


@router.get("/availability/{date}", tags=["availability"])
def check_date(
    booking: Booking, tenant: CurrentTenant, date: Annotated[IsoDate, Path(examples=["2031-06-21"])]
) -> DateAvailabilityOut:
    """Whether one date (the tenant's local calendar) can be booked, and why not."""
    return DateAvailabilityOut.model_validate(booking.availability.check(tenant.id, date))


@router.get("/availability", tags=["availability"])
def unavailable_dates(
    booking: Booking,
    tenant: CurrentTenant,
    start: Annotated[IsoDate, Query(examples=["2031-06-01"])],
    end: Annotated[
        IsoDate,
        Query(description=f"from start to {MAX_RANGE_DAYS} days after it", examples=["2031-06-30"]),
    ],
) -> UnavailableDatesOut:
    """The dates of ``[start, end]`` that cannot be booked."""
    closed = booking.availability.unavailable_dates(tenant.id, start, end)
    return UnavailableDatesOut(
        start=start, end=end, unavailable=[DateAvailabilityOut.model_validate(d) for d in closed]
    )


@router.get("/slots", tags=["availability"])
def list_slots(
    *,
    booking: Booking,
    tenant: CurrentTenant,
    package_id: Annotated[Uuid, Query(description="a timed package's id (see GET /v1/packages)")],
    start: Annotated[AwareDateTime, Query(examples=["2031-06-21T00:00:00+02:00"])],
    end: Annotated[
        AwareDateTime,
        Query(
            description=f"after start, at most {MAX_SLOT_DAYS} days later",
            examples=["2031-06-22T00:00:00+02:00"],
        ),
    ],
    resource_id: Annotated[
        list[Uuid] | None,
        Query(
            max_length=MAX_SLOT_RESOURCES,
            description="only these resources of the package (repeat the parameter for several)",
        ),
    ] = None,
    tz: Annotated[
        TimeZone | None,
        Query(
            description="show the times in this zone (UTC by default): the same instants",
            examples=["Europe/Paris"],
        ),
    ] = None,
) -> list[SlotOut]:
    """The bookable starts of a timed package in ``[start, end)``, each with the resources
    that could take it; book one with ``POST /v1/checkout`` and its ``start``."""
    slots = booking.availability.slots(
        tenant.id, package_id, start, end, resource_ids=resource_id, tz=tz
    )
    return [SlotOut.model_validate(slot) for slot in slots]


# -- bookings ------------------------------------------------------------------------------------


@router.post("/checkout", status_code=201, tags=["bookings"])
def checkout(
    booking: Booking,
    tenant: CurrentTenant,
    body: CheckoutIn,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(description="retrying with the same key returns the same booking"),
    ] = None,
) -> CheckoutOut:
    """Hold the date (or, for a timed package, the time from ``start``) and open the payment:
    send the customer to ``payment.redirect_url``.

    The booking stays PENDING until the provider's ``payment.succeeded`` webhook confirms it.
    """
    details = booking.catalog.get_package(tenant.id, body.package)
    add_on_ids = {a.slug: a.id for a in details.add_ons}
    unknown = sorted(set(body.add_ons) - set(add_on_ids))
    if unknown:
        raise ValidationError("add_ons", f"not offered by {body.package}: {', '.join(unknown)}")
    result = booking.bookings.checkout(
        tenant.id,
        package_id=details.package.id,
        date=body.date,
        start=body.start,
        customer=CustomerDetails(body.customer.name, body.customer.email, body.customer.phone),
        add_ons={add_on_ids[slug]: quantity for slug, quantity in body.add_ons.items()},
        venue_id=body.venue_id,
        resource_id=body.resource_id,
        idempotency_key=idempotency_key,
    )
    return CheckoutOut(
        booking=BookingOut.model_validate(result.booking),
        payment=PaymentSessionOut.model_validate(result.session),
    )


#: The ``.ics`` route's problems, stated by reference: a ``model`` would be documented under the
#: route's own media type (text/calendar), which no problem is sent as.
_ICS_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {
        "description": http.HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in _PROBLEMS
}


class CalendarResponse(Response):
    """An iCalendar body: the media type the OpenAPI declares for the ``.ics`` route."""

    media_type = "text/calendar"


# before /bookings/{booking_id}: Starlette tries routes in order, and "<id>.ics" would match
# that route's path parameter (and be refused there as a malformed UUID)
@router.get(
    "/bookings/{booking_id}.ics",
    tags=["bookings"],
    response_class=CalendarResponse,
    responses={
        200: {
            "description": "the booking as an iCalendar attachment (METHOD:PUBLISH)",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        **_ICS_PROBLEMS,
    },
)
def get_booking_ics(booking: Booking, tenant: CurrentTenant, booking_id: Uuid) -> CalendarResponse:
    """One booking of the tenant as an ``.ics`` file to add to a calendar: the package's name
    as SUMMARY, a timed booking in the tenant's time zone, a date booking as an all-day event.
    Another tenant's id is a 404, like a missing one."""
    found = booking.bookings.get(tenant.id, booking_id)
    packages = booking.catalog.list_packages(tenant.id, include_inactive=True)
    name = next(p.name for p in packages if p.id == found.package_id)
    return CalendarResponse(
        booking_ics(found, summary=name, timezone=tenant.timezone),
        headers={"Content-Disposition": f'attachment; filename="booking-{found.id}.ics"'},
    )


@router.get("/bookings/{booking_id}", tags=["bookings"])
def get_booking_by_id(booking: Booking, tenant: CurrentTenant, booking_id: Uuid) -> BookingOut:
    """One booking of the tenant (another tenant's id is a 404, like a missing one)."""
    return BookingOut.model_validate(booking.bookings.get(tenant.id, booking_id))


@router.post("/bookings/{booking_id}/cancel", tags=["bookings"])
def cancel(
    booking: Booking,
    tenant: CurrentTenant,
    booking_id: Uuid,
    body: CancelIn | None = None,
) -> CancellationOut:
    """Cancel a booking; a paid one is refunded by the tenant's cancellation policy.

    Cancelling again is a no-op that refunds nothing more.
    """
    done = booking.bookings.cancel(tenant.id, booking_id, reason=body.reason if body else "")
    return CancellationOut.model_validate(done)


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


@router.post("/feeds", status_code=201, tags=["feeds"])
def create_feed(
    request: Request, booking: Booking, tenant: CurrentTenant, body: FeedIn | None = None
) -> IssuedFeedOut:
    """Issue a calendar feed of the tenant's bookings (or of one resource's): ``url`` is the
    address to subscribe to, carrying the feed's secret token, and is shown only this once.

    Confirmed bookings only, unless ``include_holds``; no customer details, unless
    ``include_contact``. An unknown ``resource_id`` is a 404.
    """
    body = body or FeedIn()
    record, token = booking.feeds.create(
        tenant.id,
        resource_id=body.resource_id,
        label=body.label,
        include_holds=body.include_holds,
        include_contact=body.include_contact,
    )
    return IssuedFeedOut(
        id=record.id,
        url=str(request.url_for("get_feed_ics", token=token)),
        label=record.label,
        resource_id=record.resource_id,
        include_holds=record.include_holds,
        include_contact=record.include_contact,
        created_at=record.created_at,
    )


@router.get("/feeds", tags=["feeds"])
def list_feeds(booking: Booking, tenant: CurrentTenant) -> list[FeedOut]:
    """The tenant's active feeds, without their URLs: a token is shown only when issued."""
    return [FeedOut.model_validate(feed) for feed in booking.feeds.list(tenant.id)]


# "uuid" keeps "/feeds/<token>.ics" off this route: another method on the feed's URL is a 405
# from the route below, not a malformed feed id here
@router.delete("/feeds/{feed_id:uuid}", status_code=204, response_class=Response, tags=["feeds"])
def revoke_feed(booking: Booking, tenant: CurrentTenant, feed_id: uuid.UUID) -> None:
    """Revoke a feed: its URL answers 404 from now on.

    A feed that is unknown, another tenant's or already revoked is a 404 (nothing active to
    revoke); a client retrying a DELETE whose answer it lost can take that 404 as done.
    """
    if not booking.feeds.revoke(tenant.id, feed_id):
        raise NotFoundError("calendar feed", feed_id)


@router.get(
    "/feeds/{token}.ics",
    tags=["feeds"],
    response_class=CalendarResponse,
    responses={
        200: {
            "description": "the feed's bookings as an iCalendar body to subscribe to",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        **_ICS_PROBLEMS,
    },
)
def get_feed_ics(
    booking: Booking,
    token: Annotated[str, Path(description="the feed's secret token, as in its url")],
) -> CalendarResponse:
    """A calendar feed: no ``X-Tenant-Key``, the token in the URL is the credential.

    The feed's bookings from 31 days before today to 366 days after, in the tenant's zone. An
    unknown, malformed or revoked token, or one of a deactivated tenant, is the same 404 (not a
    401: a calendar app has no key to offer, and the answer never tells whether a token exists).
    """
    today = booking.clock.now().date()
    try:
        contents = booking.feeds.contents(
            token,
            start=today - dt.timedelta(days=FEED_DAYS_BEFORE),
            end=today + dt.timedelta(days=FEED_DAYS_AFTER),
        )
    except (AuthenticationError, TenantInactiveError):
        raise NotFoundError("calendar feed", "no feed at this URL") from None
    return CalendarResponse(feed_body(contents), headers={"Cache-Control": FEED_CACHE_CONTROL})


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


# -- callbacks: the payment provider and browsers, not API clients ---------------------------


@router.post(
    "/webhooks/{provider}",
    tags=["callbacks"],
    openapi_extra=_RAW_JSON_BODY,
    responses={
        400: {
            "model": Problem,
            "description": "signature, timestamp or body rejected",
            "content": {"application/problem+json": {}},
        },
        500: {"model": WebhookReceiptOut, "description": "processing failed: redeliver"},
    },
)
def payment_webhook(
    *,
    booking: Booking,
    provider: str,
    body: RawBody,
    request: Request,
    response: Response,
    tenant: Annotated[Slug, Query(description="the tenant's slug")],
) -> WebhookReceiptOut:
    """Receive a payment provider webhook: verified on the raw bytes, processed exactly once.

    The provider is configured with ``/v1/webhooks/<provider>?tenant=<tenant slug>``; the
    signature, not an API key, authenticates it. Answers 200 with the receipt (a redelivery is
    ``duplicate: true`` and has no effect), or 500 when processing FAILED so that the provider
    redelivers; ``app.webhooks.retry_failed()`` recovers such events without a redelivery.
    """
    tenant_id = booking.tenants.get_by_slug(tenant).id
    receipt = booking.webhooks.receive(tenant_id, body, request.headers, provider=provider)
    if receipt.state is InboxState.FAILED:
        logger.error(
            "webhook processing failed",
            extra={"event_id": receipt.event_id, "error": receipt.error},
        )
        response.status_code = 500
    return WebhookReceiptOut.model_validate(receipt)


@router.post(
    "/csp-report",
    status_code=204,
    response_class=Response,
    tags=["callbacks"],
    openapi_extra=CSP_REPORT_REQUEST,
)
def csp_report(body: RawBody, request: Request) -> None:
    """Accept browsers' CSP violation reports (``report-uri`` and Reporting API formats).

    Unauthenticated by nature: rate-limit it at the edge. Malformed reports are a 422 problem.
    """
    reports = parse_csp_report(body, request.headers.get("content-type", ""))
    for report in reports:
        logger.warning(
            "csp violation",
            extra={
                "directive": report.effective_directive,
                "blocked": report.blocked_uri,
                "page": report.document_uri,
            },
        )
