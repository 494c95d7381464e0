"""The input limits booking_core enforces, named once.

Every bound a service checks at its boundary (a batch size, a date range, a capacity) is a
constant here, so the services, the docs and a host's own schema (the FastAPI example's
OpenAPI) state the same numbers. A limit exists to keep one call's work and memory bounded and
to refuse a value no real caller sends (``limit=10**18``) before it reaches the database; none
is a business rule.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BATCH",
    "MAX_BLACKOUT_RULES",
    "MAX_CAPACITY",
    "MAX_COUNT",
    "MAX_EXPIRY_BATCH",
    "MAX_FEED_DAYS",
    "MAX_ICS_BYTES",
    "MAX_ICS_OCCURRENCES",
    "MAX_ICS_RULE_STEPS",
    "MAX_LISTING_DAYS",
    "MAX_MONEY",
    "MAX_PAGE",
    "MAX_POLICY_DAYS",
    "MAX_PURGE",
    "MAX_RANGE_DAYS",
    "MAX_RESOURCES_PER_PACKAGE",
    "MAX_SERIES_OCCURRENCES",
    "MAX_SLOT_DAYS",
    "MAX_SORT_ORDER",
]

#: Records one call claims, acknowledges or retries at most (outbox batches and
#: acknowledgements, ``retry_refunds``, ``webhooks.retry_failed``).
MAX_BATCH: Final = 10_000
#: Lapsed holds one ``expire_holds`` call marks EXPIRED at most.
MAX_EXPIRY_BATCH: Final = 100_000
#: Idempotency records one ``purge_idempotency_keys`` call deletes at most.
MAX_PURGE: Final = 1_000_000
#: Days an availability range (``unavailable_dates``, ``calendar``) spans at most: three years.
MAX_RANGE_DAYS: Final = 1100
#: Days ``bookings.list_for_dates`` spans at most: ten years and their leap days.
MAX_LISTING_DAYS: Final = 3660
#: Days of a booking policy's notice and horizon and of a refund tier: ten years.
MAX_POLICY_DAYS: Final = 3650
#: Seats per date of a tenant's policy or of a venue.
MAX_CAPACITY: Final = 10_000
#: Magnitude of a display order (``sort_order``, ``group_order``), either sign.
MAX_SORT_ORDER: Final = 1_000_000
#: Records of one page of a listing (``customers.list``).
MAX_PAGE: Final = 1000
#: Attempts ``webhooks.retry_failed`` may allow an event at most.
MAX_ATTEMPTS: Final = 1000
#: An amount in minor units: far beyond any booking, far inside a BIGINT.
MAX_MONEY: Final = 10**12
#: Any other count (an offset, ``max_batches``, a length): only keeps a huge int out of SQL.
MAX_COUNT: Final = 10**9
#: Tiers of a cancellation policy.
MAX_REFUND_TIERS: Final = 20
#: The longest range one ``availability.slots`` search covers, in days.
MAX_SLOT_DAYS: Final = 62
#: The most resources a timed package lists (and a slot search is narrowed to).
MAX_RESOURCES_PER_PACKAGE: Final = 50
#: Bytes of one external calendar (an ICS document) booking_core reads at most: several years
#: of a busy calendar. icalendar parses about a megabyte a second, so this bounds one import.
MAX_ICS_BYTES: Final = 4 * 1024 * 1024
#: Busy occurrences one import expands inside its window at most (a 62-day window of a busy
#: calendar holds a few thousand); a rule like ``FREQ=SECONDLY`` is refused, not expanded.
MAX_ICS_OCCURRENCES: Final = 50_000
#: Steps the recurrence rules of one document may cost, summed: dateutil walks every rule from
#: its DTSTART, one step per period (a day of ``FREQ=DAILY``, an hour of ``FREQ=HOURLY``) and
#: one per instance it generates on the way, whether or not it lands in the window.
MAX_ICS_RULE_STEPS: Final = 1_000_000

#: The longest window one calendar feed read serves (a year and a month).
MAX_FEED_DAYS: Final = 400

#: Occurrences one recurring series holds at most (two years of weekly occurrences).
MAX_SERIES_OCCURRENCES: Final = 104

#: Recurring blackout rules a tenant keeps at most.
MAX_BLACKOUT_RULES: Final = 20
