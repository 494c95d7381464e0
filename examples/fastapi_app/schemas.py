"""Request and response bodies: Pydantic models, which are also the OpenAPI schema.

Money is in minor units (cents) as in booking_core; dates are ISO ``YYYY-MM-DD``.
Responses are built straight from booking_core's frozen dataclasses (``from_attributes``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


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


# -- bookings ------------------------------------------------------------------------------------


class CustomerIn(_In):
    name: str = Field(max_length=200, examples=["Ann O'Brien"])
    email: str = Field(max_length=320, examples=["ann@example.com"])
    phone: str | None = Field(default=None, max_length=40)


class CheckoutIn(_In):
    package: str = Field(max_length=100, description="the package slug", examples=["gold"])
    date: dt.date = Field(examples=["2031-06-21"])
    customer: CustomerIn
    add_ons: dict[str, int] = Field(
        default_factory=dict,
        description="add-on slug → quantity (1-1000); the package must offer it",
        examples=[{"album": 1}],
    )
    venue_id: uuid.UUID | None = None


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
    expires_at: dt.datetime | None = Field(description="when an unpaid hold lapses")
    payment_ref: str | None
    amount_paid: int
    amount_refunded: int


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
