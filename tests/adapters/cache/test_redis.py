"""RedisCache specifics: round trips, key layout, TTLs, foreign data, generation loss."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from booking_core.adapters.cache import KeyBuilder, RedisCache
from booking_core.errors import ValidationError

from .conftest import RedisProcess
from .helpers import close_client, drop_prefix

pytestmark = pytest.mark.redis

NS = "catalog"


@pytest.fixture
def server(redis_server_factory: Callable[..., RedisProcess]) -> RedisProcess:
    """A Redis of our own, so command counts are not disturbed by anyone else."""
    return redis_server_factory()


@pytest.fixture
def admin(server: RedisProcess) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(server.url)
    yield client
    close_client(client)


@pytest.fixture
def cache(server: RedisProcess, prefix: str) -> Iterator[RedisCache]:
    cache = RedisCache.from_url(server.url, prefix=prefix)
    yield cache
    cache.close()


def _commands(admin: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def _delta(admin: redis.Redis, action: Callable[[], object]) -> dict[str, int]:
    """Commands the server executed during ``action`` (the INFO calls themselves excluded)."""
    before = _commands(admin)
    action()
    after = _commands(admin)
    delta = {name: calls - before.get(name, 0) for name, calls in after.items()}
    return {name: calls for name, calls in delta.items() if calls and name != "info"}


def test_a_read_is_one_command(cache: RedisCache, admin: redis.Redis) -> None:
    """get (hit or miss, generations included) and get_many each cost exactly one MGET."""
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "a", {"x": 1}, ttl=60)  # loads the script; warms the pool
    assert _delta(admin, lambda: cache.get(tenant, NS, "a")) == {"mget": 1}
    assert _delta(admin, lambda: cache.get(tenant, NS, "missing")) == {"mget": 1}
    assert _delta(admin, lambda: cache.get_many(tenant, NS, ["a", "b", "c"])) == {"mget": 1}


def test_an_invalidation_is_one_command(cache: RedisCache, admin: redis.Redis) -> None:
    """Each invalidation is one INCRBY (how redis-py sends INCR); delete is one DEL."""
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "a", 1, ttl=60)
    assert _delta(admin, lambda: cache.invalidate_tenant(tenant)) == {"incrby": 1}
    assert _delta(admin, lambda: cache.invalidate_namespace(tenant, NS)) == {"incrby": 1}
    assert _delta(admin, lambda: cache.delete(tenant, NS, "a")) == {"del": 1}


def test_a_write_is_one_script_call(cache: RedisCache, admin: redis.Redis) -> None:
    """set is one EVALSHA (the GET/SET/PEXPIRE inside the script run on the server)."""
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "warm", 1, ttl=60)
    delta = _delta(admin, lambda: cache.set(tenant, NS, "a", 1, ttl=60))
    assert delta["evalsha"] == 1
    assert not {"mget", "incrby", "script|load", "eval"} & delta.keys()


def test_key_layout_and_ttls(cache: RedisCache, admin: redis.Redis, prefix: str) -> None:
    """Keys are built by KeyBuilder, carry the tenant hash tag, and all have a TTL."""
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "pkg:1", [1], ttl=30)
    keys = KeyBuilder(prefix)
    expected = {
        f"{prefix}:{{{tenant}}}:gen",
        f"{prefix}:{{{tenant}}}:ns:catalog:gen",
        f"{prefix}:{{{tenant}}}:ns:catalog:k:pkg:1",
    }
    names = {name.decode() for name in admin.scan_iter(match=keys.tenant_pattern(tenant))}
    assert names == expected
    assert len({key_slot(name.encode()) for name in names}) == 1
    entry_ttl = admin.pttl(keys.entry(tenant, NS, "pkg:1"))
    assert 29_000 < entry_ttl <= 30_000
    assert admin.pttl(keys.tenant_generation(tenant)) > 6 * 24 * 3600 * 1000
    raw = admin.get(keys.entry(tenant, NS, "pkg:1"))
    assert raw is not None
    assert raw.endswith(b":[1]")


def test_bad_prefix() -> None:
    """A prefix may not contain hash-tag braces or glob characters."""
    for bad in ["", "a{b", "a}b", "a*", "a b"]:
        with pytest.raises(ValidationError) as caught:
            KeyBuilder(bad)
        assert caught.value.field == "prefix"


def test_prefixes_isolate_apps(server: RedisProcess, prefix: str) -> None:
    """Two apps on one Redis with different prefixes never see each other's entries."""
    tenant = uuid.uuid4()
    first = RedisCache.from_url(server.url, prefix=f"{prefix}-one")
    second = RedisCache.from_url(server.url, prefix=f"{prefix}-two")
    try:
        first.set(tenant, NS, "a", "one", ttl=60)
        assert second.get(tenant, NS, "a").hit is False
        second.invalidate_tenant(tenant)
        assert first.get(tenant, NS, "a").value == "one"
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    "stored",
    [b"not-an-envelope", b"GEN:GEN:{broken json", b"GEN:GEN:NaN", b"GEN:GEN:\xff\xfe"],
    ids=["no-envelope", "broken-json", "nan", "not-utf8"],
)
def test_malformed_entries_are_errors_and_misses(
    cache: RedisCache, admin: redis.Redis, stored: bytes
) -> None:
    """A value of the wrong shape is never returned: it is a miss and counts as an error."""
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "a", 1, ttl=60)
    keys = cache.keys
    tenant_gen = admin.get(keys.tenant_generation(tenant))
    namespace_gen = admin.get(keys.namespace_generation(tenant, NS))
    assert tenant_gen is not None
    assert namespace_gen is not None
    forged = stored.replace(b"GEN:GEN:", tenant_gen + b":" + namespace_gen + b":")
    admin.set(keys.entry(tenant, NS, "a"), forged)
    lookup = cache.get(tenant, NS, "a")
    assert (lookup.hit, lookup.value) == (False, None)
    stats = cache.stats()
    expected_errors = 0 if stored == b"not-an-envelope" else 1  # no envelope = other generation
    assert (stats.hits, stats.misses, stats.errors) == (0, 1, expected_errors)


def test_lost_generations_never_resurrect_entries(cache: RedisCache, admin: redis.Redis) -> None:
    """If a generation key expires or is evicted, old entries stay invisible forever."""
    tenant = uuid.uuid4()
    keys = cache.keys
    cache.set(tenant, NS, "a", "old", ttl=60)
    cache.invalidate_namespace(tenant, NS)
    cache.set(tenant, NS, "b", "current", ttl=60)
    # eviction of both generation keys, then an invalidation recreating one with a bare INCR
    admin.delete(keys.tenant_generation(tenant), keys.namespace_generation(tenant, NS))
    assert cache.get(tenant, NS, "a").hit is False
    assert cache.get(tenant, NS, "b").hit is False
    cache.invalidate_namespace(tenant, NS)
    assert admin.get(keys.namespace_generation(tenant, NS)) == b"1"
    assert cache.get(tenant, NS, "a").hit is False
    lookup = cache.get(tenant, NS, "c")
    assert cache.set(tenant, NS, "c", "new", ttl=60, token=lookup.token) is True
    assert cache.get(tenant, NS, "c").value == "new"
    assert cache.get(tenant, NS, "a").hit is False
    assert cache.get(tenant, NS, "b").hit is False
    assert len(admin.get(keys.namespace_generation(tenant, NS)) or b"") == 16


def test_client_given_is_not_closed(server: RedisProcess, prefix: str) -> None:
    """A cache built on the caller's client leaves it open on close()."""
    client = redis.Redis.from_url(server.url)
    try:
        cache = RedisCache(client, prefix=prefix)
        assert cache.client is client
        cache.set(uuid.uuid4(), NS, "a", 1, ttl=5)
        cache.close()
        assert client.ping() is True
    finally:
        close_client(client)


def test_decoded_responses_are_refused(server: RedisProcess) -> None:
    """The adapter compares raw bytes, so a decode_responses=True client is refused."""
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            RedisCache(client)
    finally:
        close_client(client)


def test_key_builder_shortcuts_agree() -> None:
    """triple() and many() build exactly the keys of the one-key methods."""
    keys = KeyBuilder("app")
    tenant = uuid.uuid4()
    assert keys.triple(tenant, NS, "k") == (
        keys.tenant_generation(tenant),
        keys.namespace_generation(tenant, NS),
        keys.entry(tenant, NS, "k"),
    )
    assert keys.many(tenant, NS, ["a", "b"]) == [
        keys.tenant_generation(tenant),
        keys.namespace_generation(tenant, NS),
        keys.entry(tenant, NS, "a"),
        keys.entry(tenant, NS, "b"),
    ]
    assert keys.tenant_base(tenant) == f"app:{{{tenant}}}"


def test_all_keys_of_a_tenant_share_a_slot(redis_cluster_url: str, prefix: str) -> None:
    """On a Redis Cluster the tenant hash tag puts generations and entries on one slot."""
    cache = RedisCache.from_url(redis_cluster_url, prefix=prefix, cluster=True)
    tenant = uuid.uuid4()
    try:
        cache.set(tenant, NS, "a", 1, ttl=60)
        cache.set(tenant, "availability", "b", 2, ttl=60)
        client = redis.cluster.RedisCluster.from_url(redis_cluster_url)
        try:
            names = list(client.scan_iter(match=f"{prefix}:*"))
            slots = {client.keyslot(name) for name in names}
        finally:
            close_client(client)
    finally:
        cache.close()
        drop_prefix(redis_cluster_url, prefix, cluster=True)
    assert len(names) == 5  # the tenant generation, 2 namespace generations, 2 entries
    assert len(slots) == 1
