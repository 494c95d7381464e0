"""Settings a host passes to :func:`booking_core.connect` (``cache_settings=``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CacheSettings"]


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """How long cached reads live. Invalidation is exact; TTLs only bound memory and surprises.

    Attributes:
        catalog_ttl: seconds for segment/package listings and package details.
        availability_ttl: seconds for a month of availability facts.
    """

    catalog_ttl: float = 600.0
    availability_ttl: float = 300.0
