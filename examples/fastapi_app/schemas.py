"""Request and response bodies: Pydantic models, which are also the OpenAPI schema.

Money is in minor units (cents) as in booking_core; dates are ISO ``YYYY-MM-DD`` and times ISO
8601 date-times with their offset (``2031-06-21T10:00:00+02:00``; a naive time is ambiguous).
Responses are built straight from booking_core's frozen dataclasses (``from_attributes``).

Every input states the limits booking_core enforces (slug shape and length, text lengths,
quantities, the idempotency key), and Pydantic checks exactly what the schema states, no more
leniently (no "0" read as a date, no "1" read as a quantity): a request the OpenAPI allows is
never refused by the library, and one it forbids is refused before the library sees it.
``tests/examples/test_fastapi_schemathesis.py`` holds the two to that.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Final

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from email_validator.rfc_constants import EMAIL_MAX_LENGTH
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from booking_core import limits
from booking_core.services.bookings import MAX_ADD_ON_QUANTITY, MAX_IDEMPOTENCY_KEY

# -- the library's input rules, as JSON Schema ---------------------------------------------------
# Patterns use only \xHH and \uHHHH escapes, which mean the same in ECMA-262 (the OpenAPI),
# Rust's regex (Pydantic's checks) and Python's re (schemathesis' generators).

#: booking_core.sanitize.sanitize_slug: a-z/0-9 words joined by single hyphens, ≤ 64 characters.
SLUG_PATTERN: Final = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH: Final = 64
#: A display name (booking_core's limit) is plain text: markup and the characters below are
#: stripped, so a name needs one other character, and "<" (which could start markup) is refused.
NAME_MAX_LENGTH: Final = 200
_BLANK = (
    r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200b\u2028-\u202f\u205f-\u2064\u2066-\u2069"
    r"\u3000\ufeff\ufff9-\ufffb"
)
NAME_PATTERN: Final = rf"^[^<]*[^<{_BLANK}][^<]*$"
#: The longest range of dates booking_core's availability answers, in days.
MAX_RANGE_DAYS: Final = limits.MAX_RANGE_DAYS
#: The longest range ``availability.slots`` searches, in days, and the most resources it may be
#: narrowed to: booking_core's own limits.
MAX_SLOT_DAYS: Final = limits.MAX_SLOT_DAYS
MAX_SLOT_RESOURCES: Final = limits.MAX_RESOURCES_PER_PACKAGE
#: Dates in four-digit years from 2000 to 2999: every real booking, and far from the ends of the
#: calendar, where date arithmetic (a month later, a horizon) would overflow.
DATE_PATTERN: Final = r"^2[0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
#: An RFC 3339 date-time in the same years, with seconds and its offset: ``Z`` or ``±hh:mm``.
DATETIME_PATTERN: Final = (
    r"^2[0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
#: The longest time zone name booking_core reads (the longest IANA name has 32 characters).
ZONE_MAX_LENGTH: Final = 64
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: email-validator refuses special-use domains (``x.test``, ``x.local``), whatever the syntax.
SPECIAL_USE_DOMAIN: Final = "[@.](?:{})$".format(
    "|".join(
        "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)
        for name in SPECIAL_USE_DOMAIN_NAMES
    )
)
#: An idempotency key: printable ASCII (a header value), not only spaces.
IDEMPOTENCY_KEY_PATTERN: Final = r"^[\t -~]*[!-~][\t -~]*$"


def _iso_date(value: Any) -> Any:
    """Only ``YYYY-MM-DD``: Pydantic alone also reads ``"0"`` or ``0`` as 1970-01-01."""
    if isinstance(value, str) and re.fullmatch(DATE_PATTERN, value):
        return value
    raise ValueError("must be a date YYYY-MM-DD between 2000-01-01 and 2999-12-31")


def _iso_datetime(value: Any) -> Any:
    """Only an ISO 8601 date-time with its offset: Pydantic alone reads ``"0"`` as 1970 and
    takes a naive time, which booking_core refuses as ambiguous."""
    if isinstance(value, str) and re.fullmatch(DATETIME_PATTERN, value):
        return value
    raise ValueError(
        "must be a date and time with its offset, YYYY-MM-DDThh:mm:ss+hh:mm (or Z), "
        "in the years 2000-2999"
    )


def _canonical_uuid(value: Any) -> Any:
    """Only the 8-4-4-4-12 form the schema's ``format: uuid`` names (no braces, no ``urn:``)."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value
    raise ValueError("must be a UUID such as 123e4567-e89b-12d3-a456-426614174000")


def _whole_number(value: Any) -> Any:
    """JSON has one number type, so ``2.0`` is the integer 2; ``true`` and ``"2"`` are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=SLUG_MAX_LENGTH)]
IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
AwareDateTime = Annotated[
    dt.datetime,
    BeforeValidator(_iso_datetime),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}),
]
Uuid = Annotated[uuid.UUID, BeforeValidator(_canonical_uuid)]
#: "iana-time-zone" is not a JSON Schema format: it names booking_core's rule (a zone the
#: server's tz database holds), which no pattern can state.
TimeZone = Annotated[
    str,
    StringConstraints(max_length=ZONE_MAX_LENGTH),
    WithJsonSchema(
        {
            "type": "string",
            "format": "iana-time-zone",
            "maxLength": ZONE_MAX_LENGTH,
            "description": "an IANA time zone name the server knows, such as Europe/Paris",
        }
    ),
]
Quantity = Annotated[StrictInt, BeforeValidator(_whole_number), Field(ge=1, le=MAX_ADD_ON_QUANTITY)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)]
Email = Annotated[
    str,
    StringConstraints(max_length=EMAIL_MAX_LENGTH),
    WithJsonSchema(
        {
            "type": "string",
            "format": "idn-email",
            "maxLength": EMAIL_MAX_LENGTH,
            "not": {"pattern": SPECIAL_USE_DOMAIN},
        }
    ),
]
#: "phone" is not a JSON Schema format: it names the library's rule, which no pattern can state.
Phone = Annotated[
    str,
    StringConstraints(max_length=40),
    WithJsonSchema(
        {
            "type": "string",
            "format": "phone",
            "maxLength": 40,
            "description": "an international number (+ and the country code) that libphonenumber"
            " knows to be valid, or empty for none",
        }
    ),
]
#: add-on slug → quantity; Pydantic alone would describe the keys with ``patternProperties``,
#: which leaves other keys allowed.
AddOns = Annotated[
    dict[Slug, Quantity],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": SLUG_PATTERN, "maxLength": SLUG_MAX_LENGTH},
            "additionalProperties": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ADD_ON_QUANTITY,
            },
        }
    ),
]
IdempotencyKey = Annotated[
    str,
    StringConstraints(pattern=IDEMPOTENCY_KEY_PATTERN, max_length=MAX_IDEMPOTENCY_KEY),
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class _In(BaseModel):
    # an unknown field is a client bug worth a 422, not something to drop silently
    model_config = ConfigDict(extra="forbid")


# -- catalog -------------------------------------------------------------------------------------


class PackageOut(_Out):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    base_price: int = Field(description="minor units (cents)")
    grouping: str
    photo_urls: tuple[str, ...]


class AddOnOut(_Out):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    price: int = Field(description="minor units (cents)")


class PackageDetailsOut(_Out):
    package: PackageOut
    add_ons: tuple[AddOnOut, ...]
    currency: str


# -- availability --------------------------------------------------------------------------------


class DateAvailabilityOut(_Out):
    date: dt.date
    available: bool
    reason: str | None = Field(
        description="blackout, booked, calendar, past, too_soon or too_far; null when available"
    )


class UnavailableDatesOut(_Out):
    start: dt.date
    end: dt.date
    unavailable: list[DateAvailabilityOut]


class SlotOut(_Out):
    start: dt.datetime = Field(description="in the zone asked for (UTC by default)")
    end: dt.datetime = Field(description="the end of the service, buffers not included")
    resource_ids: tuple[uuid.UUID, ...] = Field(
        description="the resources that could take it (all of them, for a package that needs all)"
    )


# -- bookings ------------------------------------------------------------------------------------


class CustomerIn(_In):
    name: Name = Field(examples=["Ann O'Brien"])
    email: Email = Field(examples=["ann@example.com"])
    phone: Phone | None = Field(default=None, examples=["+33 1 42 68 53 00"])


#: A checkout names a date (a date package, optionally at a venue) or a start (a timed package,
#: optionally on one of its resources), never both: booking_core refuses the other mixes.
_DATE_OR_START: Final = {
    "oneOf": [
        {
            "title": "a date package",
            "required": ["date"],
            "properties": {
                "date": {"type": "string"},
                "start": {"type": "null"},
                "resource_id": {"type": "null"},
            },
        },
        {
            "title": "a timed package",
            "required": ["start"],
            "properties": {
                "start": {"type": "string"},
                "date": {"type": "null"},
                "venue_id": {"type": "null"},
            },
        },
    ]
}


class CheckoutIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_DATE_OR_START)

    package: Slug = Field(description="the package slug", examples=["gold"])
    date: IsoDate | None = Field(
        default=None, description="the date of a date package", examples=["2031-06-21"]
    )
    start: AwareDateTime | None = Field(
        default=None,
        description="the start of a timed package: one GET /v1/slots offers",
        examples=["2031-06-21T10:00:00+02:00"],
    )
    customer: CustomerIn
    add_ons: AddOns = Field(
        default_factory=dict,
        description=f"add-on slug → quantity (1-{MAX_ADD_ON_QUANTITY}); the package must offer it",
        examples=[{"album": 1}],
    )
    venue_id: Uuid | None = Field(default=None, description="a date package's venue")
    resource_id: Uuid | None = Field(
        default=None,
        description="a timed package's resource (one of the slot's resource_ids); "
        "none: one is assigned",
    )


class BookingAddOnOut(_Out):
    add_on_id: uuid.UUID
    name: str
    unit_price: int
    quantity: int


class BookingOut(_Out):
    id: uuid.UUID
    status: str = Field(description="PENDING, CONFIRMED, CANCELED, EXPIRED or FULFILLED")
    event_date: dt.date
    package_id: uuid.UUID
    venue_id: uuid.UUID | None
    add_ons: tuple[BookingAddOnOut, ...]
    package_price: int
    total: int
    commission: int
    currency: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = Field(
        description="when an unpaid hold lapses; kept for the record once it is confirmed"
    )
    payment_ref: str | None = Field(
        description="the payment that paid this booking; null until it succeeds (a checkout's "
        "pending payment is payment.payment_ref)"
    )
    amount_paid: int
    amount_refunded: int
    starts_at: dt.datetime | None = Field(
        description="a timed booking's start (UTC); null for a date booking"
    )
    ends_at: dt.datetime | None = Field(description="a timed booking's end, buffers not included")
    resource_ids: tuple[uuid.UUID, ...] = Field(
        description="the resources a timed booking occupies; empty for a date booking"
    )


class PaymentSessionOut(_Out):
    payment_ref: str
    redirect_url: str = Field(description="send the customer here to pay")
    expires_at: dt.datetime


class CheckoutOut(_Out):
    booking: BookingOut
    payment: PaymentSessionOut


class CancelIn(_In):
    reason: str = Field(default="", max_length=500)


class RefundOut(_Out):
    id: uuid.UUID
    amount: int
    commission_refund: int
    state: str = Field(description="PENDING, SUCCEEDED or FAILED")
    provider_refund_id: str | None
    failure_reason: str | None


class CancellationOut(_Out):
    booking: BookingOut
    refund_amount: int = Field(description="what the customer gets back, by the tenant's policy")
    commission_refund: int = Field(description="the platform commission returned to the tenant")
    refund: RefundOut | None


# -- calendar feeds ------------------------------------------------------------------------------

#: booking_core's limit on a feed's label (the calendar's name in the subscriber's app).
FEED_LABEL_MAX_LENGTH: Final = 200


class FeedIn(_In):
    resource_id: Uuid | None = Field(
        default=None, description="only this resource's bookings; none: all the tenant's"
    )
    label: str = Field(
        default="",
        max_length=FEED_LABEL_MAX_LENGTH,
        description="the calendar's name in the subscriber's app (empty: the tenant's name)",
        examples=["Studio A"],
    )
    include_holds: StrictBool = Field(
        default=False, description="show unpaid holds too, as tentative events"
    )
    include_contact: StrictBool = Field(
        default=False, description="show the customer's name, email and phone in each event"
    )


class FeedOut(_Out):
    id: uuid.UUID
    label: str
    resource_id: uuid.UUID | None
    include_holds: bool
    include_contact: bool
    created_at: dt.datetime


class IssuedFeedOut(_Out):
    id: uuid.UUID
    url: str = Field(
        description="the URL to subscribe to; it carries the feed's secret token and is shown "
        "only this once"
    )
    label: str
    resource_id: uuid.UUID | None
    include_holds: bool
    include_contact: bool
    created_at: dt.datetime


# -- webhooks ------------------------------------------------------------------------------------


class WebhookReceiptOut(_Out):
    event_id: str
    event_type: str
    state: str = Field(description="PROCESSED, or FAILED (answered 500 so the provider redelivers)")
    duplicate: bool = Field(description="a redelivery of an event already processed: no effect")
    outcome: str | None
    error: str | None


# -- errors --------------------------------------------------------------------------------------


class Problem(BaseModel):
    """An RFC 9457 problem details body (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:booking-core:problem:not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None


# -- CSP reports: raw bodies, described for the OpenAPI only -------------------------------------
# booking_core.web.security.parse_csp_report reads them; this is what it accepts. Optional fields
# may be null (read as absent); a directive or URL must keep a character once control characters are
# stripped, as the parser strips them.

_VISIBLE: Final = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_TEXT: Final = {"type": ["string", "null"]}
_COUNT: Final = {"type": ["integer", "null"], "minimum": 0}
_DISPOSITION: Final = {"enum": ["enforce", "report", None]}


def _optional(texts: tuple[str, ...], counts: tuple[str, ...]) -> dict[str, Any]:
    return {**dict.fromkeys(texts, _TEXT), **dict.fromkeys(counts, _COUNT)}


_LEGACY_REPORT: Final = {
    "type": "object",
    "required": ["csp-report"],
    "properties": {
        "csp-report": {
            "type": "object",
            "required": ["document-uri"],
            "properties": {
                **_optional(
                    ("blocked-uri", "original-policy", "referrer", "source-file", "script-sample"),
                    ("line-number", "column-number", "status-code"),
                ),
                "document-uri": {"type": "string"},
                "disposition": _DISPOSITION,
            },
            # the directive is effective-directive, else violated-directive (read only then)
            "anyOf": [
                {
                    "required": ["effective-directive"],
                    "properties": {"effective-directive": {"type": "string", "pattern": _VISIBLE}},
                },
                {
                    "required": ["violated-directive"],
                    "properties": {
                        "effective-directive": _TEXT,
                        "violated-directive": {"type": "string"},
                    },
                },
            ],
        }
    },
}
_VIOLATION_BODY: Final = {
    "type": "object",
    "required": ["effectiveDirective"],
    "properties": {
        **_optional(
            ("documentURL", "blockedURL", "originalPolicy", "referrer", "sourceFile", "sample"),
            ("lineNumber", "columnNumber", "statusCode"),
        ),
        "effectiveDirective": {"type": "string"},
        "disposition": _DISPOSITION,
    },
}
_REPORTS: Final = {
    "type": "array",
    "maxItems": 100,
    "items": {
        "type": "object",
        "anyOf": [
            # other report types (deprecation, intervention, …) are skipped
            {"properties": {"type": {"not": {"const": "csp-violation"}}}},
            {
                "required": ["type", "body"],
                "properties": {
                    "type": {"const": "csp-violation"},
                    "body": _VIOLATION_BODY,
                    "user_agent": _TEXT,
                },
                # the page is the body's documentURL, else the report's url
                "anyOf": [
                    {
                        "properties": {
                            "body": {
                                "required": ["documentURL"],
                                "properties": {
                                    "documentURL": {"type": "string", "pattern": _VISIBLE}
                                },
                            }
                        }
                    },
                    {"required": ["url"], "properties": {"url": {"type": "string"}}},
                ],
            },
        ],
    },
}
#: ``openapi_extra`` of ``POST /v1/csp-report``: both formats browsers send, and plain JSON.
CSP_REPORT_REQUEST: Final = {
    "requestBody": {
        "required": True,
        "content": {
            "application/csp-report": {"schema": _LEGACY_REPORT},
            "application/reports+json": {"schema": _REPORTS},
            "application/json": {"schema": {"anyOf": [_LEGACY_REPORT, _REPORTS]}},
        },
    }
}
