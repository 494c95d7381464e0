"""Entities to JSON and back, for the cache (JSON only: cached values are never pickled)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from booking_core.ports.cache import JSON


def encode(value: Any) -> JSON:
    """A JSON-compatible form of an entity, a tuple of entities, or a plain value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    msg = f"cannot encode {type(value).__name__} for the cache"
    raise TypeError(msg)


@cache
def decoder(kind: Any) -> Callable[[JSON], Any]:
    """The inverse of :func:`encode` for values of type ``kind`` (raises on a wrong shape)."""
    return _decoder(kind)


@cache
def _field_decoders(cls: type) -> tuple[tuple[str, Callable[[JSON], Any]], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls))


def _decoder(kind: Any) -> Callable[[JSON], Any]:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [_decoder(arg) for arg in typing.get_args(kind) if arg is not type(None)]
        (inner,) = options
        return lambda raw: None if raw is None else inner(raw)
    if origin is tuple:
        item = _decoder(typing.get_args(kind)[0])
        return lambda raw: tuple(item(x) for x in _list(raw))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        fields = _field_decoders(kind)
        return lambda raw: kind(**{name: dec(_dict(raw)[name]) for name, dec in fields})
    simple: dict[Any, Callable[[Any], Any]] = {
        uuid.UUID: uuid.UUID,
        Decimal: Decimal,
        dt.datetime: dt.datetime.fromisoformat,
        dt.date: dt.date.fromisoformat,
        dt.timedelta: lambda raw: dt.timedelta(seconds=raw),
        str: _typed(str),
        int: _typed(int),
        bool: _typed(bool),
    }
    if kind in simple:
        return simple[kind]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind
    msg = f"no cache decoder for {kind!r}"
    raise TypeError(msg)


def _typed(kind: type) -> Callable[[Any], Any]:
    def check(raw: Any) -> Any:
        if type(raw) is not kind:
            msg = f"expected {kind.__name__}, got {type(raw).__name__}"
            raise TypeError(msg)
        return raw

    return check


def _list(raw: JSON) -> list[JSON]:
    if not isinstance(raw, list):
        msg = "expected a list"
        raise TypeError(msg)
    return raw


def _dict(raw: JSON) -> dict[str, JSON]:
    if not isinstance(raw, dict):
        msg = "expected an object"
        raise TypeError(msg)
    return raw
