"""Entities to JSON and back, for the cache (JSON only: cached values are never pickled).

msgspec does both directions from the dataclasses' own type hints, and checks the shape on
the way back in (an entry of an older shape raises and is treated as a miss).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import msgspec

from booking_core.ports.cache import JSON, EncodedJSON

_to_json = msgspec.json.Encoder().encode


def encode(value: Any) -> EncodedJSON:
    """The JSON text of an entity or a tuple of them, encoded once (the cache stores it as is).

    msgspec writes strict JSON: entities hold no floats, and it never writes NaN or Infinity.
    """
    return EncodedJSON(_to_json(value).decode())


@cache
def decoder(kind: Any) -> Callable[[JSON], Any]:
    """The inverse of :func:`encode` for values of type ``kind``.

    Raises ``msgspec.ValidationError`` (a ``ValueError``) when the value has another shape.
    """

    def decode(raw: JSON) -> Any:
        return msgspec.convert(raw, kind)

    return decode
