"""``cache_from_url``: pick and configure an adapter from one URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from booking_core.adapters.cache.memory import MemoryCache
from booking_core.adapters.cache.null import NullCache
from booking_core.errors import ValidationError

if TYPE_CHECKING:
    from booking_core.ports.cache import CachePort

__all__ = ["cache_from_url"]

_MEMORY_OPTIONS: Final[dict[str, type]] = {"maxsize": int, "purge_every": int}
_REDIS_OPTIONS: Final[dict[str, type]] = {
    "prefix": str,
    "socket_timeout": float,
    "connect_timeout": float,
    "retries": int,
    "backoff_base": float,
    "backoff_cap": float,
    "max_connections": int,
    "cooldown": float,
    "generation_ttl": float,
}
_REDIS_SCHEMES: Final = {
    "redis": ("redis", False),
    "rediss": ("rediss", False),
    "redis+cluster": ("redis", True),
    "rediss+cluster": ("rediss", True),
}


def _parse_options(
    query: str, known: dict[str, type], *, passthrough: bool
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Split the query into our typed options and the rest (kept for redis-py when allowed)."""
    ours: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for name, raw in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        kind = known.get(name)
        if kind is None:
            if not passthrough:
                raise ValidationError("cache_url", f"unknown option {name!r}")
            rest.append((name, raw))
            continue
        try:
            ours[name] = kind(raw)
        except ValueError:
            msg = f"option {name}={raw!r} is not a valid {kind.__name__}"
            raise ValidationError("cache_url", msg) from None
    return ours, rest


def cache_from_url(url: str | None, **options: Any) -> CachePort:
    """Build the cache an URL names; keyword ``options`` override the URL's query string.

    - ``None``: :class:`NullCache` (no caching).
    - ``memory://?maxsize=10000&purge_every=1000``: :class:`MemoryCache`.
    - ``redis://host:6379/0?prefix=myapp&socket_timeout=0.25`` (``rediss://`` for TLS):
      :class:`RedisCache`; ``redis+cluster://host:port`` (``rediss+cluster://``) uses
      ``redis.cluster.RedisCluster``. Options of :meth:`RedisCache.from_url` are read from the
      query; other query parameters go to redis-py. redis is imported only for these schemes.

    Raises:
        ValidationError: ``cache_url`` for an unknown scheme, option or malformed value.
    """
    if url is None:
        return NullCache()
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ValidationError("cache_url", f"malformed URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path not in ("", "/"):
            raise ValidationError("cache_url", "memory:// takes no host or path, only ?options")
        memory_options, _ = _parse_options(parts.query, _MEMORY_OPTIONS, passthrough=False)
        memory_options.update(options)
        try:
            return MemoryCache(**memory_options)
        except (TypeError, ValueError) as error:
            raise ValidationError("cache_url", str(error)) from None
    if scheme in _REDIS_SCHEMES:
        if not parts.hostname:
            raise ValidationError("cache_url", f"{scheme}:// needs a host")
        redis_scheme, cluster = _REDIS_SCHEMES[scheme]
        redis_options, rest = _parse_options(parts.query, _REDIS_OPTIONS, passthrough=True)
        redis_options.update(options)
        query = "&".join(f"{name}={value}" for name, value in rest)
        client_url = urlunsplit((redis_scheme, parts.netloc, parts.path, query, ""))
        try:
            from booking_core.adapters.cache.redis import RedisCache  # noqa: PLC0415 - optional

            return RedisCache.from_url(client_url, cluster=cluster, **redis_options)
        except ImportError as error:
            msg = f"{scheme}:// needs the redis extra (pip install 'booking_core[redis]'): {error}"
            raise ValidationError("cache_url", msg) from None
        except (TypeError, ValueError) as error:
            raise ValidationError("cache_url", str(error)) from None
    raise ValidationError(
        "cache_url", f"unsupported scheme {parts.scheme!r} (redis, rediss, memory or None)"
    )
