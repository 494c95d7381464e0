"""Redis cache adapter: one round trip per read, O(1) invalidation, never raises on outages.

Only this module imports redis-py. It works with ``redis.Redis`` and, unchanged, with
``redis.cluster.RedisCluster``: all keys of a tenant share one hash slot (see ``_keys``).

Entries are stored as ``<tenant gen>:<namespace gen>:<JSON>``. A read is one ``MGET`` of the two
generation keys and the entry; the entry is a hit only when its embedded generations equal the
current ones. A write is one ``EVALSHA`` of a small script that checks the caller's token,
(re)creates missing generations and stores the envelope. An invalidation is one ``INCR``.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, cast, get_type_hints

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import KWARGS_DISABLED_KEYS, REDIS_ALLOWED_KEYS, RedisCluster
from redis.connection import (
    URL_QUERY_ARGUMENT_PARSERS,
    BlockingConnectionPool,
    Connection,
    SSLConnection,
)
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from booking_core.adapters.cache._checks import Checks
from booking_core.adapters.cache._json import decode
from booking_core.adapters.cache._keys import DEFAULT_PREFIX, KeyBuilder
from booking_core.ports.cache import (
    JSON,
    UNKNOWN_GENERATION,
    CacheLookup,
    CacheStats,
    EncodedJSON,
    GenerationToken,
    check_ttl,
)
from booking_core.ports.cache_guard import Outage

if TYPE_CHECKING:
    from redis.commands.core import Script

__all__ = ["RedisCache", "RedisClient", "client_url_options", "from_url_options"]

RedisClient: TypeAlias = "redis.Redis | RedisCluster"
"""What :class:`RedisCache` talks to: a plain client or a cluster client."""

R = TypeVar("R")

logger: Final = logging.getLogger("booking_core.cache")

# Everything redis-py raises for an unreachable, slow, paused, loading or misconfigured server.
_BACKEND_ERRORS: Final = (RedisError, RedisClusterException, OSError)
# What a call to the client may raise besides: a misconfigured client raises TypeError and the
# like on its first connection. A cache never fails a request, so these degrade the same way.
_CLIENT_ERRORS: Final = (Exception,)

# Arguments of redis-py's connection classes that RedisCache sets itself or that are not text.
_NOT_URL_OPTIONS: Final = frozenset(
    {"host", "port", "retry", "decode_responses", "connection_class", "queue_class"}
)

# Generations created by the script are "<unix seconds><6-digit microseconds>" (16 digits), so a
# generation key that expired or was evicted is recreated *above* every value it ever had and an
# old entry can never match again. A bare INCR on a missing key yields a short number; the script
# replaces it before writing, so no entry is ever stored under a short generation.
_SET_SCRIPT: Final = """
local now = redis.call('TIME')
local fresh = now[1] .. string.format('%06d', tonumber(now[2]))
local gens = {}
for i = 1, 2 do
  local gen = redis.call('GET', KEYS[i])
  if ARGV[i] ~= '' and ARGV[i] ~= (gen or '0') then
    return 0
  end
  if not gen or string.len(gen) < 16 then
    gen = fresh
    redis.call('SET', KEYS[i], gen, 'PX', ARGV[5])
  else
    redis.call('PEXPIRE', KEYS[i], ARGV[5])
  end
  gens[i] = gen
end
redis.call('SET', KEYS[3], gens[1] .. ':' .. gens[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
return 1
"""


def _generation(raw: bytes | None) -> int:
    return int(raw) if raw is not None else 0


class RedisCache:
    """A :class:`~booking_core.ports.cache.CachePort` on Redis (or Redis Cluster).

    Failures never escape: a read that cannot reach Redis is a miss, a write is skipped, both
    count in :meth:`stats` ``errors``, and the first failure of an outage is logged once on
    ``booking_core.cache`` (a recovery is logged too). After a failure a circuit breaker skips
    Redis for ``cooldown`` seconds, then lets one call probe it, so a dead Redis does not cost a
    timeout per call. Invalidations (and deletes) that fail are remembered and replayed, before
    anything else, on the first call that reaches Redis again.

    Args:
        client: a ``redis.Redis`` or ``redis.cluster.RedisCluster`` built with
            ``decode_responses=False`` (the default); or a zero-argument factory for one, called
            lazily (a cluster client connects when built). See :meth:`from_url`.
        prefix: the first part of every key, so several apps can share one Redis.
        cooldown: seconds to skip Redis after a failure before probing it again.
        generation_ttl: seconds a generation key lives after the last write of its tenant or
            namespace (it is recreated safely after expiry).
        owns_client: whether :meth:`close` closes the client (``from_url`` sets it).
        clock: monotonic seconds, for the circuit breaker.
    """

    def __init__(
        self,
        client: RedisClient | Callable[[], RedisClient],
        *,
        prefix: str = DEFAULT_PREFIX,
        cooldown: float = 1.0,
        generation_ttl: float = 7 * 24 * 3600.0,
        owns_client: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = KeyBuilder(prefix)
        self._client: RedisClient | None = None
        self._factory: Callable[[], RedisClient] | None = None
        self._script: Script | None = None
        if isinstance(client, redis.Redis | RedisCluster):
            self._attach(client)
        else:
            self._factory = client
        self._owns_client = owns_client
        self._cooldown = float(cooldown)
        self._generation_ttl_ms = max(1, int(check_ttl(generation_ttl) * 1000))
        self._clock = clock
        self._lock = threading.Lock()  # counters and breaker state
        self._client_lock = threading.Lock()
        self._outage = Outage("cache unavailable")
        self._checks = Checks()
        self._namespaces = self._checks.known  # for the inlined check on the hot path
        self._retry_at = 0.0
        self._hits = self._misses = self._errors = self._sets = 0

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        cluster: bool = False,
        socket_timeout: float = 0.25,
        connect_timeout: float = 0.25,
        retries: int = 1,
        backoff_base: float = 0.01,
        backoff_cap: float = 0.1,
        max_connections: int = 50,
        cooldown: float = 1.0,
        generation_ttl: float = 7 * 24 * 3600.0,
        **client_options: Any,
    ) -> RedisCache:
        """Build a cache on its own connection pool from a ``redis://``/``rediss://`` URL.

        Connection losses are retried ``retries`` times with exponential backoff (jittered,
        ``backoff_base`` doubling up to ``backoff_cap`` seconds): that is how a dropped pooled
        connection reconnects. Timeouts are not retried, so a slow or paused Redis costs at most
        about ``socket_timeout`` per call (and nothing while the circuit is open).

        Args:
            url: the server (the first node of a cluster when ``cluster`` is true).
            prefix: see the class.
            cluster: use ``redis.cluster.RedisCluster``.
            socket_timeout: seconds to wait for a reply.
            connect_timeout: seconds to wait for a connection.
            retries: reconnect attempts per call.
            backoff_base: first backoff, seconds.
            backoff_cap: largest backoff, seconds.
            max_connections: pool size (per node on a cluster).
            cooldown: see the class.
            generation_ttl: see the class.
            client_options: passed to redis-py as is.
        """
        retry = Retry(
            ExponentialWithJitterBackoff(cap=backoff_cap, base=backoff_base),
            retries,
            supported_errors=(redis.ConnectionError,),
        )
        options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": connect_timeout,
            "retry": retry,
            "max_connections": max_connections,
            "decode_responses": False,
            **client_options,
        }
        target: RedisClient | Callable[[], RedisClient]
        if cluster:

            def target() -> RedisClient:
                # a cluster client connects while it is built: defer it to the first guarded call
                return RedisCluster.from_url(url, **options)

        else:
            # a blocking pool waits (bounded) for a free connection instead of failing at once
            del options["max_connections"]
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=connect_timeout, **options
            )
            target = redis.Redis(connection_pool=pool)
        return cls(
            target,
            prefix=prefix,
            cooldown=cooldown,
            generation_ttl=generation_ttl,
            owns_client=True,
        )

    @property
    def keys(self) -> KeyBuilder:
        """The key builder (the layout is documented in docs/caching.md)."""
        return self._keys

    @property
    def client(self) -> RedisClient:
        """The redis-py client (built on first use when a factory was given)."""
        return self._ensure_client()

    def _attach(self, client: RedisClient) -> None:
        if client.get_encoder().decode_responses:
            msg = "RedisCache needs a client with decode_responses=False"
            raise ValueError(msg)
        self._script = client.register_script(_SET_SCRIPT)
        self._client = client

    def _ensure_client(self) -> RedisClient:
        client = self._client
        if client is None:
            with self._client_lock:
                client = self._client
                if client is None:
                    factory = self._factory
                    if factory is None:  # pragma: no cover - one of the two is always set
                        msg = "RedisCache has neither a client nor a factory"
                        raise RuntimeError(msg)
                    client = factory()
                    self._attach(client)
        return client

    # -- failure handling ---------------------------------------------------------------------

    def _available(self) -> bool:
        """Whether this call may use Redis (closed circuit, or the one probe after a cooldown)."""
        if not self._outage.down:
            return True
        with self._lock:
            now = self._clock()
            if now < self._retry_at:
                self._errors += 1
                return False
            self._retry_at = now + self._cooldown  # this caller probes; the others keep skipping
            return True

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._errors += 1
            self._retry_at = self._clock() + self._cooldown
        self._outage.failed(error)

    def _invalidate_now(self, client: RedisClient) -> Callable[[uuid.UUID, str | None], object]:
        """Replays an invalidation remembered during an outage with ``client``."""

        def invalidate(tenant_id: uuid.UUID, namespace: str | None) -> object:
            if namespace is None:
                return client.incr(self._keys.tenant_generation(tenant_id))
            return client.incr(self._keys.namespace_generation(tenant_id, namespace))

        return invalidate

    def _run(self, operation: Callable[[RedisClient], R]) -> tuple[bool, R | None]:
        """Run ``operation`` against Redis unless the circuit is open; never raise."""
        if not self._available():
            return False, None
        try:
            client = self._client if self._client is not None else self._ensure_client()
            if self._outage.pending:
                self._outage.replay(self._invalidate_now(client))
            result = operation(client)
        except _CLIENT_ERRORS as error:
            self._failed(error)
            return False, None
        if self._outage.down:
            self._outage.recovered("cache")
        return True, result

    # -- the port -----------------------------------------------------------------------------

    def _mget(self, names: Sequence[str]) -> list[bytes | None] | None:
        """``MGET names`` in one round trip, or ``None`` when Redis cannot be used."""
        client = self._client
        if client is None or self._outage.down or self._outage.pending:
            ok, reply = self._run(
                lambda client: client.execute_command("MGET", *names)  # type: ignore[no-untyped-call]
            )
            return cast("list[bytes | None]", reply) if ok else None
        # the hot path, inlined: no breaker, no replay pending, client built
        try:
            # execute_command, not mget(): same command, ~2 µs less client-side work
            reply = client.execute_command("MGET", *names)  # type: ignore[no-untyped-call]
            return cast("list[bytes | None]", reply)
        except _CLIENT_ERRORS as error:
            self._failed(error)
            return None

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        """Read one entry in one round trip (``MGET``); see the port."""
        if namespace not in self._namespaces:
            self._checks.namespace(namespace)
        reply = self._mget(self._keys.triple(tenant_id, namespace, key))
        if reply is None:
            with self._lock:
                self._misses += 1
            return CacheLookup(False, None, UNKNOWN_GENERATION)
        tenant_gen, namespace_gen, raw = reply
        token = GenerationToken(_generation(tenant_gen), _generation(namespace_gen))
        found, value, bad = self._parse(tenant_gen, namespace_gen, raw)
        with self._lock:
            if found:
                self._hits += 1
            else:
                self._misses += 1
                self._errors += bad
        return CacheLookup(found, value, token)

    def get_many(
        self, tenant_id: uuid.UUID, namespace: str, keys: Iterable[str]
    ) -> dict[str, CacheLookup]:
        """Read several entries of one namespace in one round trip; see the port."""
        self._checks.namespace(namespace)
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        reply = self._mget(self._keys.many(tenant_id, namespace, wanted))
        if reply is None:
            with self._lock:
                self._misses += len(wanted)
            miss = CacheLookup(False, None, UNKNOWN_GENERATION)
            return dict.fromkeys(wanted, miss)
        tenant_gen, namespace_gen, *raws = reply
        token = GenerationToken(_generation(tenant_gen), _generation(namespace_gen))
        miss = CacheLookup(False, None, token)
        result: dict[str, CacheLookup] = {}
        hits = errors = 0
        for key, raw in zip(wanted, raws, strict=True):
            found, value, bad = self._parse(tenant_gen, namespace_gen, raw)
            hits += found
            errors += bad
            result[key] = CacheLookup(True, value, token) if found else miss
        with self._lock:
            self._hits += hits
            self._misses += len(wanted) - hits
            self._errors += errors
        return result

    @staticmethod
    def _parse(
        tenant_gen: bytes | None, namespace_gen: bytes | None, raw: bytes | None
    ) -> tuple[bool, JSON, bool]:
        """``(hit, value, malformed)`` for one stored envelope."""
        if raw is None or tenant_gen is None or namespace_gen is None:
            return False, None, False
        head = b"%b:%b:" % (tenant_gen, namespace_gen)
        if not raw.startswith(head):
            return False, None, False  # written under older generations: invalidated
        try:
            return True, decode(raw[len(head) :].decode()), False
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            return False, None, True

    def set(
        self,
        tenant_id: uuid.UUID,
        namespace: str,
        key: str,
        value: JSON | EncodedJSON,
        *,
        ttl: float,
        token: GenerationToken | None = None,
    ) -> bool:
        """Store a value in one round trip; with a stale or unknown token nothing is stored."""
        seconds, text = self._checks.write(namespace, value, ttl)
        ttl_ms = max(1, int(seconds * 1000))
        if token is not None and not token.known:
            return False
        names = self._keys.triple(tenant_id, namespace, key)
        args: list[str | int] = [
            "" if token is None else str(token.tenant),
            "" if token is None else str(token.namespace),
            text,
            ttl_ms,
            max(ttl_ms, self._generation_ttl_ms),
        ]

        def store(client: RedisClient) -> Any:
            # the script object is created with the client, which _run has just ensured
            return cast("Script", self._script)(keys=names, args=args, client=client)

        ok, stored = self._run(store)
        if ok and stored == 1:
            with self._lock:
                self._sets += 1
            return True
        return False

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        """Remove one entry; if Redis is unreachable the namespace is invalidated on recovery."""
        self._checks.namespace(namespace)
        name = self._keys.entry(tenant_id, namespace, key)
        ok, _ = self._run(lambda client: client.delete(name))
        if not ok:
            self._outage.remember(tenant_id, namespace)

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        """Hide every entry of the namespace: one ``INCR`` (replayed on recovery if it fails)."""
        self._checks.namespace(namespace)
        name = self._keys.namespace_generation(tenant_id, namespace)
        ok, _ = self._run(lambda client: client.incr(name))
        if not ok:
            self._outage.remember(tenant_id, namespace)

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        """Hide every entry of the tenant: one ``INCR`` (replayed on recovery if it fails)."""
        name = self._keys.tenant_generation(tenant_id)
        ok, _ = self._run(lambda client: client.incr(name))
        if not ok:
            self._outage.remember(tenant_id, None)

    @property
    def pending_invalidations(self) -> int:
        """Invalidations that failed and wait for Redis to come back."""
        return len(self._outage.pending)

    def ping(self) -> bool:
        """Whether Redis answers now (probes even while the circuit is open)."""
        with self._lock:
            self._retry_at = 0.0
        ok, reply = self._run(lambda client: client.ping())
        return ok and bool(reply)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits, misses=self._misses, errors=self._errors, sets=self._sets
            )

    def close(self) -> None:
        """Close the client's connections if this cache created the client."""
        client = self._client
        if client is None or not self._owns_client:
            return
        try:
            if isinstance(client, RedisCluster):
                # RedisCluster.close() leaves each node's pooled sockets open: close them too
                for node in client.get_nodes():  # type: ignore[no-untyped-call]
                    if node.redis_connection is not None:
                        node.redis_connection.connection_pool.disconnect()
                client.close()
            else:
                client.close()
                client.connection_pool.disconnect()
        except _BACKEND_ERRORS:  # pragma: no cover - closing a dead connection
            logger.debug("error while closing the cache client", exc_info=True)


def from_url_options() -> dict[str, type]:
    """The options of :meth:`RedisCache.from_url` and their types, read from its signature.

    ``cache_from_url`` accepts exactly these in a URL's query, so the list lives in one place.
    """
    hints = get_type_hints(RedisCache.from_url)
    return {
        name: hints[name]
        for name, parameter in inspect.signature(RedisCache.from_url).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "cluster"
    }


def client_url_options(*, tls: bool, cluster: bool, text_only: bool = True) -> frozenset[str]:
    """The redis-py options a ``redis://`` query may carry for this kind of connection.

    Read from redis-py's own connection and pool classes, so a typo is caught when the URL is
    parsed instead of as a ``TypeError`` on the first connection (or, on a cluster, silently
    dropped). ``text_only=False`` adds the object-valued ones (keyword arguments only).
    """
    connection = SSLConnection if tls else Connection
    names = _init_parameters(connection, text_only=text_only) | _init_parameters(
        BlockingConnectionPool, text_only=text_only
    )
    if cluster:
        # RedisCluster keeps only these for its node connections and drops the rest silently
        names &= frozenset(REDIS_ALLOWED_KEYS) - frozenset(KWARGS_DISABLED_KEYS)
        if not text_only:
            names |= _init_parameters(RedisCluster, text_only=False)
    return frozenset(names - _NOT_URL_OPTIONS)


def _init_parameters(cls: type, *, text_only: bool) -> set[str]:
    """Named arguments of every ``__init__`` in ``cls``'s MRO (they pass ``**kwargs`` up).

    ``text_only`` keeps those a URL can carry: not an event dispatcher or a parser instance.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if name == "self" or parameter.kind not in _NAMED:
                continue
            if not text_only or _textual(name, parameter):
                names.add(name)
    return names


def _textual(name: str, parameter: inspect.Parameter) -> bool:
    """Whether an argument can be given as a URL query value."""
    if name in URL_QUERY_ARGUMENT_PARSERS:
        return True
    return not name.startswith("orig_") and parameter.annotation in _TEXT_ANNOTATIONS


_NAMED: Final = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_TEXT_ANNOTATIONS: Final = (inspect.Parameter.empty, str, str | None)
