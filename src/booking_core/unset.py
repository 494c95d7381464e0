"""``UNSET``: "leave this field as it is", where ``None`` is a value a field may take.

An update method takes each field as ``T | Unset`` defaulting to :data:`UNSET`, so
``update_package(tid, pid, segment_id=None)`` clears the segment while leaving ``segment_id``
out keeps it. A one-member enum (like httpx's ``UseClientDefault``) rather than a bare
``object()``: type checkers narrow ``value is UNSET`` and it survives pickling and ``copy``.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["UNSET", "Unset"]


class Unset(enum.Enum):
    """The type of :data:`UNSET` (annotate a parameter ``T | Unset``)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Default of an update's fields: the field keeps its current value.
UNSET: Final = Unset.UNSET
