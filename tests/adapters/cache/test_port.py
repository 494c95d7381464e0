"""The port module: stats, JSON checks, read_through, cache_from_url and the public surface."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

import booking_core.adapters.cache as cache_package
from booking_core.adapters.cache import MemoryCache, NullCache, RedisCache, cache_from_url
from booking_core.errors import ValidationError
from booking_core.ports.cache import CacheStats, GenerationToken, check_json, read_through

NS = "catalog"


def test_hit_rate() -> None:
    """hit_rate is hits over reads, 0.0 before any read."""
    assert CacheStats().hit_rate == 0.0
    assert CacheStats(hits=3, misses=1).hit_rate == 0.75


def test_token_known() -> None:
    """A generation token is known when its generations are non-negative; a negative one marks it
    unknown."""
    assert GenerationToken(0, 0).known is True
    assert GenerationToken(-1, 5).known is False


def test_check_json_names_the_bad_part() -> None:
    """check_json refuses a value JSON cannot hold with a ValidationError whose field is the path to
    it (value.rows[1].when), and refuses nesting 100 levels deep."""
    with pytest.raises(ValidationError) as caught:
        check_json({"rows": [1, {"when": object()}]})
    assert caught.value.field == "value.rows[1].when"
    deep: list[object] = []
    node = deep
    for _ in range(100):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="deeper"):
        check_json(deep)


def test_read_through_reloads_an_entry_decode_rejects() -> None:
    """A cached entry of an old shape (decode raises) is reloaded and overwritten."""
    cache = MemoryCache()
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "p", {"old": 1}, ttl=60)
    got = read_through(
        cache,
        tenant,
        NS,
        "p",
        lambda: {"new": 2},
        ttl=60,
        decode=lambda raw: raw["new"],  # type: ignore[index,call-overload]
    )
    assert got == {"new": 2}
    assert cache.get(tenant, NS, "p").value == {"new": 2}


def test_cache_from_url_memory_and_none() -> None:
    """None is the null cache; memory:// reads options from the query, keywords win."""
    assert isinstance(cache_from_url(None), NullCache)
    memory = cache_from_url("memory://?maxsize=123")
    assert isinstance(memory, MemoryCache)
    assert memory.maxsize == 123
    override = cache_from_url("memory://?maxsize=123", maxsize=7)
    assert isinstance(override, MemoryCache)
    assert override.maxsize == 7
    assert isinstance(cache_from_url("memory://"), MemoryCache)


def test_cache_from_url_redis() -> None:
    """redis:// and redis+cluster:// build RedisCache with our options taken from the query."""
    cache = cache_from_url("redis://127.0.0.1:1/0?prefix=shop&socket_timeout=0.1&db=0")
    assert isinstance(cache, RedisCache)
    assert cache.keys.prefix == "shop"
    pool = cache.client.connection_pool  # type: ignore[union-attr]
    assert pool.connection_kwargs["socket_timeout"] == 0.1
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.25
    cache.close()
    cluster = cache_from_url("redis+cluster://127.0.0.1:1")
    assert isinstance(cluster, RedisCache)
    cluster.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "unsupported scheme"),
        ("memory://host", "no host"),
        ("memory://?maxsize=lots", "not a valid int"),
        ("memory://?color=red", "unknown option"),
        ("memory://?maxsize=0", "maxsize"),
        ("redis://", "needs a host"),
        ("redis://h?socket_timeout=soon", "not a valid float"),
        ("redis://h?prefix=a{b}", "prefix"),
        ("no-scheme-at-all", "unsupported scheme"),
    ],
)
def test_cache_from_url_rejects(url: str, message: str) -> None:
    """Bad URLs raise ValidationError on the cache_url field."""
    with pytest.raises(ValidationError, match=message) as caught:
        cache_from_url(url)
    assert caught.value.field in {"cache_url", "prefix"}


def test_public_surface_is_sorted_and_complete() -> None:
    """__all__ is sorted and every name resolves."""
    assert cache_package.__all__ == sorted(cache_package.__all__)
    for name in cache_package.__all__:
        assert getattr(cache_package, name) is not None
    with pytest.raises(AttributeError):
        _ = cache_package.NoSuchThing  # type: ignore[attr-defined]


def test_works_without_redis_installed() -> None:
    """With redis unimportable the package still imports; memory works, redis URLs say why."""
    code = """
import sys
sys.modules["redis"] = None
from booking_core.adapters.cache import cache_from_url, MemoryCache
from booking_core.errors import ValidationError
assert isinstance(cache_from_url("memory://"), MemoryCache)
try:
    cache_from_url("redis://localhost")
except ValidationError as error:
    assert "redis extra" in str(error), error
else:
    raise SystemExit("redis URL accepted without redis")
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
