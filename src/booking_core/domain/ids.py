"""Identifiers: random UUIDs, never counters or timestamps (they would leak volume and order)."""

from __future__ import annotations

import uuid

#: Resource id of tenant-wide capacity (bookings that name no venue).
TENANT_WIDE = uuid.UUID(int=0)


def new_id() -> uuid.UUID:
    """A fresh random (version 4) UUID."""
    return uuid.uuid4()
