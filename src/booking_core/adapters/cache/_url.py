"""``cache_from_url``: pick and configure an adapter from one URL."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from booking_core.adapters.cache.memory import MemoryCache
from booking_core.adapters.cache.null import NullCache
from booking_core.errors import ValidationError

if TYPE_CHECKING:
    from booking_core.ports.cache import CachePort

__all__ = ["cache_from_url"]

_MEMORY_OPTIONS: Final[dict[str, type]] = {"maxsize": int, "purge_every": int}
_REDIS_SCHEMES: Final = {
    "redis": ("redis", False),
    "rediss": ("rediss", False),
    "redis+cluster": ("redis", True),
    "rediss+cluster": ("rediss", True),
}


_SCHEMES_TEXT: Final = "redis, rediss, redis+cluster, rediss+cluster, memory or None"


def _parse_options(
    query: str, known: dict[str, type], *, passthrough: Collection[str] = ()
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Split the query into our typed options and the ``passthrough`` ones (for redis-py).

    Any other name is a ValidationError naming it and listing the valid ones: a typo must fail
    at ``connect()``, not on every cache call afterwards.
    """
    ours: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for name, raw in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        kind = known.get(name)
        if kind is None:
            if name not in passthrough:
                raise ValidationError("cache_url", _unknown_option(name, known, passthrough))
            rest.append((name, raw))
            continue
        try:
            ours[name] = kind(raw)
        except ValueError:
            msg = f"option {name}={raw!r} is not a valid {kind.__name__}"
            raise ValidationError("cache_url", msg) from None
    return ours, rest


def _unknown_option(name: str, known: Collection[str], passthrough: Collection[str]) -> str:
    """``unknown option 'x' (did you mean 'y'?); valid options: …``."""
    valid = [*known, *sorted(passthrough)]
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(known)
    if passthrough:
        listed += "; redis-py options: " + ", ".join(sorted(passthrough))
    return f"unknown option {name!r}{hint}; valid options: {listed}"


def _redis_cache(scheme: str, parts: SplitResult, options: dict[str, Any]) -> CachePort:
    """A RedisCache for a ``redis[s][+cluster]://`` URL, every query option checked first."""
    if not parts.hostname:
        raise ValidationError("cache_url", f"{scheme}:// needs a host")
    redis_scheme, cluster = _REDIS_SCHEMES[scheme]
    try:
        from booking_core.adapters.cache import redis as adapter  # noqa: PLC0415 - optional
    except ImportError as error:
        msg = f"{scheme}:// needs the redis extra (pip install 'booking-core-sdk[redis]'): {error}"
        raise ValidationError("cache_url", msg) from None
    known = adapter.from_url_options()
    passthrough = adapter.client_url_options(tls=redis_scheme == "rediss", cluster=cluster) - set(
        known
    )
    redis_options, rest = _parse_options(parts.query, known, passthrough=passthrough)
    keywords = adapter.client_url_options(
        tls=redis_scheme == "rediss", cluster=cluster, text_only=False
    )
    for name in options:
        if name not in known and name not in keywords:
            raise ValidationError("cache_url", _unknown_option(name, known, keywords))
    redis_options.update(options)
    query = "&".join(f"{name}={value}" for name, value in rest)
    client_url = urlunsplit((redis_scheme, parts.netloc, parts.path, query, ""))
    try:
        return adapter.RedisCache.from_url(client_url, cluster=cluster, **redis_options)
    except (TypeError, ValueError) as error:
        raise ValidationError("cache_url", str(error)) from None


def cache_from_url(url: str | None, **options: Any) -> CachePort:
    """Build the cache an URL names; keyword ``options`` override the URL's query string.

    - ``None``: :class:`NullCache` (no caching).
    - ``memory://?maxsize=10000&purge_every=1000``: :class:`MemoryCache`.
    - ``redis://host:6379/0?prefix=myapp&socket_timeout=0.25`` (``rediss://`` for TLS):
      :class:`RedisCache`; ``redis+cluster://host:port`` (``rediss+cluster://``) uses
      ``redis.cluster.RedisCluster``. Options of :meth:`RedisCache.from_url` are read from the
      query; the connection options of redis-py (``db``, ``client_name``, ``ssl_*``…) go to
      redis-py. redis is imported only for these schemes.

    Raises:
        ValidationError: ``cache_url`` for an unknown scheme, an unknown option (the message
            names it and lists the valid ones) or a malformed value.
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
        memory_options, _ = _parse_options(parts.query, _MEMORY_OPTIONS)
        memory_options.update(options)
        try:
            return MemoryCache(**memory_options)
        except (TypeError, ValueError) as error:
            raise ValidationError("cache_url", str(error)) from None
    if scheme in _REDIS_SCHEMES:
        return _redis_cache(scheme, parts, options)
    raise ValidationError("cache_url", f"unsupported scheme {parts.scheme!r} ({_SCHEMES_TEXT})")
