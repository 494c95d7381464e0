"""JSON encoding shared by the cache adapters: compact, strict, never pickle."""

from __future__ import annotations

import json
from typing import Final, NoReturn

from booking_core.ports.cache import JSON, EncodedJSON, check_json

__all__ = ["decode", "encode"]


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
# NaN/Infinity are rejected on the way out too: a foreign writer cannot smuggle them in
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def encode(value: JSON | EncodedJSON) -> str:
    """Serialize a strictly-JSON value (checked first; raises ValidationError otherwise); an
    :class:`EncodedJSON` is already text and is taken as it is."""
    if isinstance(value, EncodedJSON):
        return value.text
    return _ENCODER.encode(check_json(value))


def decode(text: str) -> JSON:
    """Parse JSON text; raises ``ValueError`` on anything that is not strict JSON."""
    value: JSON = _DECODER.decode(text)
    return value
