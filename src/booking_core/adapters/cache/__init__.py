"""Cache adapters for :class:`booking_core.ports.cache.CachePort`.

``MemoryCache`` and ``NullCache`` need nothing beyond the core dependencies; ``RedisCache`` needs
the ``redis`` extra and is imported on first access, so this package imports without redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from booking_core.adapters.cache._keys import DEFAULT_PREFIX, KeyBuilder
from booking_core.adapters.cache._url import cache_from_url
from booking_core.adapters.cache.memory import MemoryCache
from booking_core.adapters.cache.null import NullCache
from booking_core.ports.cache_guard import GuardedCache, guarded

if TYPE_CHECKING:
    from booking_core.adapters.cache.redis import RedisCache

__all__ = [
    "DEFAULT_PREFIX",
    "GuardedCache",
    "KeyBuilder",
    "MemoryCache",
    "NullCache",
    "RedisCache",
    "cache_from_url",
    "guarded",
]


def __getattr__(name: str) -> Any:
    if name == "RedisCache":
        from booking_core.adapters.cache.redis import RedisCache  # noqa: PLC0415 - optional dep

        return RedisCache
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
