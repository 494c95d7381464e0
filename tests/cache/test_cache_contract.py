"""One behaviour contract for every cache adapter.

``CacheContract`` holds the tests; each subclass provides the ``cache`` fixture and an
``advance(seconds)`` fixture that moves the adapter's clock (a fake timer for memory, real sleeping
for Redis). Run against MemoryCache, RedisCache on a real Redis and RedisCache on a real 3-node
Redis Cluster.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.adapters.cache import MemoryCache, RedisCache
from booking_core.errors import ValidationError
from booking_core.ports.cache import (
    UNKNOWN_GENERATION,
    CachePort,
    CacheStats,
    read_through,
)

NS = "catalog"
OTHER_NS = "availability"
TTL = 60.0
# one test body runs against several adapters (subclasses): that is the point of a contract
SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.differing_executors]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


class CacheContract:
    """Behaviour every CachePort adapter must have."""

    @pytest.fixture
    def cache(self) -> Iterator[CachePort]:
        raise NotImplementedError

    @pytest.fixture
    def advance(self) -> Callable[[float], None]:
        raise NotImplementedError

    @pytest.fixture
    def tenant(self) -> uuid.UUID:
        return uuid.uuid4()

    # -- basics -------------------------------------------------------------------------------

    def test_miss_then_hit(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A key never set misses; after set it hits with an equal value."""
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, NS, "a").value is None
        assert cache.set(tenant, NS, "a", {"name": "Gold", "price": 250000}, ttl=TTL) is True
        lookup = cache.get(tenant, NS, "a")
        assert lookup.hit is True
        assert lookup.value == {"name": "Gold", "price": 250000}

    def test_overwrite(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A second set replaces the value."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "a", [2, 3], ttl=TTL)
        assert cache.get(tenant, NS, "a").value == [2, 3]

    def test_stored_none_is_a_hit(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """``None`` is a cacheable value, told apart from a miss by ``hit``."""
        cache.set(tenant, NS, "nothing", None, ttl=TTL)
        lookup = cache.get(tenant, NS, "nothing")
        assert (lookup.hit, lookup.value) == (True, None)

    def test_reads_are_copies(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Mutating a returned value (or the one passed to set) never changes the cached one."""
        original = {"tags": ["a"], "n": 1}
        cache.set(tenant, NS, "k", original, ttl=TTL)
        original["tags"].append("mutated-after-set")
        first = cache.get(tenant, NS, "k").value
        assert isinstance(first, dict)
        first["n"] = 99
        assert cache.get(tenant, NS, "k").value == {"tags": ["a"], "n": 1}

    @settings(max_examples=40, deadline=None, suppress_health_check=SUPPRESSED)
    @given(value=json_values)
    def test_json_values_round_trip(self, cache: CachePort, value: Any) -> None:
        """Any strict JSON value comes back equal."""
        tenant = uuid.uuid4()
        assert cache.set(tenant, NS, "v", value, ttl=TTL) is True
        lookup = cache.get(tenant, NS, "v")
        assert lookup.hit is True
        assert lookup.value == value

    @pytest.mark.parametrize(
        "value",
        [
            (1, 2),
            {1: "int key"},
            {"nested": [object()]},
            float("nan"),
            float("inf"),
            b"bytes",
            {"set": {1, 2}},
        ],
        ids=["tuple", "int-key", "object", "nan", "inf", "bytes", "set"],
    )
    def test_only_json_values(self, cache: CachePort, tenant: uuid.UUID, value: Any) -> None:
        """Non-JSON values are refused with ValidationError and nothing is stored (no pickle)."""
        with pytest.raises(ValidationError) as caught:
            cache.set(tenant, NS, "bad", value, ttl=TTL)
        assert caught.value.field.startswith("value")
        assert cache.get(tenant, NS, "bad").hit is False

    @pytest.mark.parametrize("namespace", ["", "Catalog", "a:b", "a{b}", "x" * 65, "sp ace"])
    def test_bad_namespace(self, cache: CachePort, tenant: uuid.UUID, namespace: str) -> None:
        """Namespaces are 1-64 chars of [a-z0-9_.-]; anything else is a ValidationError."""
        with pytest.raises(ValidationError) as caught:
            cache.get(tenant, namespace, "k")
        assert caught.value.field == "namespace"

    @pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
    def test_bad_ttl(self, cache: CachePort, tenant: uuid.UUID, ttl: float) -> None:
        """A TTL must be a finite number of seconds > 0."""
        with pytest.raises(ValidationError) as caught:
            cache.set(tenant, NS, "k", 1, ttl=ttl)
        assert caught.value.field == "ttl"

    def test_ttl_expiry(
        self, cache: CachePort, tenant: uuid.UUID, advance: Callable[[float], None]
    ) -> None:
        """An entry is served before its TTL elapses and missed after."""
        cache.set(tenant, NS, "short", "s", ttl=0.3)
        cache.set(tenant, NS, "long", "l", ttl=TTL)
        advance(0.05)
        assert cache.get(tenant, NS, "short").value == "s"
        advance(0.45)
        assert cache.get(tenant, NS, "short").hit is False
        assert cache.get(tenant, NS, "long").value == "l"

    def test_get_many(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """get_many answers every key: hits with values, misses without, one shared token."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "c", {"x": 3}, ttl=TTL)
        result = cache.get_many(tenant, NS, ["a", "b", "c", "a"])
        assert sorted(result) == ["a", "b", "c"]
        assert {k: (v.hit, v.value) for k, v in result.items()} == {
            "a": (True, 1),
            "b": (False, None),
            "c": (True, {"x": 3}),
        }
        assert len({lookup.token for lookup in result.values()}) == 1
        assert cache.get_many(tenant, NS, []) == {}

    def test_delete(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """delete removes one entry only; deleting a missing key is fine."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "b", 2, ttl=TTL)
        cache.delete(tenant, NS, "a")
        cache.delete(tenant, NS, "never-set")
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, NS, "b").value == 2

    # -- invalidation -------------------------------------------------------------------------

    def test_invalidate_namespace(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating a namespace hides all its entries and leaves other namespaces alone."""
        for key in ("a", "b"):
            cache.set(tenant, NS, key, key, ttl=TTL)
        cache.set(tenant, OTHER_NS, "a", "other", ttl=TTL)
        cache.invalidate_namespace(tenant, NS)
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, NS, "b").hit is False
        assert cache.get(tenant, OTHER_NS, "a").value == "other"
        cache.set(tenant, NS, "a", "fresh", ttl=TTL)
        assert cache.get(tenant, NS, "a").value == "fresh"

    def test_invalidate_tenant(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating a tenant hides every namespace of it; other tenants are untouched."""
        other = uuid.uuid4()
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, OTHER_NS, "a", 2, ttl=TTL)
        cache.set(other, NS, "a", 3, ttl=TTL)
        cache.invalidate_tenant(tenant)
        assert cache.get(tenant, NS, "a").hit is False
        assert cache.get(tenant, OTHER_NS, "a").hit is False
        assert cache.get(other, NS, "a").value == 3
        cache.set(tenant, NS, "a", "again", ttl=TTL)
        assert cache.get(tenant, NS, "a").value == "again"

    def test_invalidating_twice_and_unknown_tenants(self, cache: CachePort) -> None:
        """Invalidations are idempotent in effect and fine for tenants with nothing cached."""
        tenant = uuid.uuid4()
        cache.invalidate_tenant(tenant)
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.invalidate_namespace(tenant, NS)
        cache.invalidate_namespace(tenant, NS)
        assert cache.get(tenant, NS, "a").hit is False

    # -- tokens: a read racing a write --------------------------------------------------------

    def test_set_with_stale_token_is_invisible(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A value loaded before an invalidation and written with the read's token never shows."""
        lookup = cache.get(tenant, NS, "pkg")  # read-through starts: miss
        assert lookup.hit is False
        cache.invalidate_namespace(tenant, NS)  # a write commits meanwhile
        assert cache.set(tenant, NS, "pkg", "stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_set_with_stale_token_after_tenant_invalidation(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """The tenant generation is part of the token too."""
        cache.set(tenant, NS, "pkg", "v1", ttl=TTL)
        lookup = cache.get(tenant, NS, "pkg")
        cache.invalidate_tenant(tenant)
        assert cache.set(tenant, NS, "pkg", "v1-stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_set_with_current_token(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """With no invalidation in between, the token's write is stored."""
        cache.invalidate_namespace(tenant, NS)
        lookup = cache.get(tenant, NS, "pkg")
        assert lookup.token.known
        assert cache.set(tenant, NS, "pkg", "fresh", ttl=TTL, token=lookup.token) is True
        assert cache.get(tenant, NS, "pkg").value == "fresh"

    def test_set_with_unknown_token_is_skipped(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A token from a failed read cannot prove freshness: nothing is written."""
        assert cache.set(tenant, NS, "pkg", 1, ttl=TTL, token=UNKNOWN_GENERATION) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_read_through_race_does_not_cache_stale(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """A read-through whose load overlaps a committed write+invalidation caches nothing."""

        def load_then_writer_commits() -> str:
            value = "loaded-before-commit"
            cache.invalidate_namespace(tenant, NS)  # the writer's after-commit invalidation
            return value

        assert read_through(cache, tenant, NS, "pkg", load_then_writer_commits, ttl=TTL) == (
            "loaded-before-commit"
        )
        assert cache.get(tenant, NS, "pkg").hit is False
        assert read_through(cache, tenant, NS, "pkg", lambda: "after", ttl=TTL) == "after"
        assert cache.get(tenant, NS, "pkg").value == "after"

    def test_read_through_loads_once(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """read_through calls the loader on a miss only; encode/decode convert both ways."""
        calls: list[int] = []

        def loader() -> tuple[int, str]:
            calls.append(1)
            return (7, "seven")

        for _ in range(3):
            got = read_through(
                cache,
                tenant,
                NS,
                "t",
                loader,
                ttl=TTL,
                encode=list,
                decode=lambda raw: (raw[0], raw[1]),  # type: ignore[index]
            )
            assert got == (7, "seven")
        assert len(calls) == 1

    # -- stats, health, isolation -------------------------------------------------------------

    def test_stats(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Hits, misses and sets are counted exactly; hit rate is hits / reads."""
        assert cache.stats() == CacheStats()
        cache.get(tenant, NS, "a")
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.get(tenant, NS, "a")
        cache.get(tenant, NS, "a")
        cache.get_many(tenant, NS, ["a", "b"])
        lookup = cache.get(tenant, NS, "z")
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "z", 1, ttl=TTL, token=lookup.token)  # stale: not a set
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.errors, stats.sets) == (3, 3, 0, 1)
        assert stats.hit_rate == pytest.approx(0.5)

    def test_ping(self, cache: CachePort) -> None:
        """A reachable backend answers the health check."""
        assert cache.ping() is True

    def test_tenant_isolation(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Tenant B cannot read, overwrite or invalidate tenant A's entries."""
        tenant_b = uuid.uuid4()
        cache.set(tenant, NS, "pkg", {"owner": "A"}, ttl=TTL)
        assert cache.get(tenant_b, NS, "pkg").hit is False
        assert cache.get_many(tenant_b, NS, ["pkg"])["pkg"].hit is False
        cache.set(tenant_b, NS, "pkg", {"owner": "B"}, ttl=TTL)
        cache.delete(tenant_b, NS, "pkg")
        cache.invalidate_namespace(tenant_b, NS)
        cache.invalidate_tenant(tenant_b)
        assert cache.get(tenant, NS, "pkg").value == {"owner": "A"}

    # -- a model-based property ---------------------------------------------------------------

    @settings(max_examples=60, deadline=None, suppress_health_check=SUPPRESSED)
    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["set", "get", "delete", "inv_ns", "inv_tenant", "stale_set"]),
                st.integers(0, 1),  # tenant index
                st.sampled_from([NS, OTHER_NS]),
                st.sampled_from(["a", "b", "c"]),
                st.integers(-5, 5),
            ),
            max_size=30,
        )
    )
    def test_matches_a_dict_model(self, cache: CachePort, ops: list[tuple[Any, ...]]) -> None:
        """Random sequences of set/get/delete/invalidate behave like a dict with deletions."""
        tenants = [uuid.uuid4(), uuid.uuid4()]
        model: dict[tuple[uuid.UUID, str, str], int] = {}
        for op, index, namespace, key, value in ops:
            tenant = tenants[index]
            if op == "set":
                assert cache.set(tenant, namespace, key, value, ttl=TTL) is True
                model[tenant, namespace, key] = value
            elif op == "get":
                lookup = cache.get(tenant, namespace, key)
                expected = model.get((tenant, namespace, key))
                assert (lookup.hit, lookup.value) == (expected is not None, expected)
            elif op == "delete":
                cache.delete(tenant, namespace, key)
                model.pop((tenant, namespace, key), None)
            elif op == "inv_ns":
                cache.invalidate_namespace(tenant, namespace)
                model = {k: v for k, v in model.items() if k[:2] != (tenant, namespace)}
            elif op == "inv_tenant":
                cache.invalidate_tenant(tenant)
                model = {k: v for k, v in model.items() if k[0] != tenant}
            else:  # a read-through that lost the race against an invalidation
                token = cache.get(tenant, namespace, key).token
                cache.invalidate_namespace(tenant, namespace)
                model = {k: v for k, v in model.items() if k[:2] != (tenant, namespace)}
                assert cache.set(tenant, namespace, key, value, ttl=TTL, token=token) is False
        for (tenant, namespace, key), value in model.items():
            assert cache.get(tenant, namespace, key).value == value


class FakeTimer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def timer(self) -> FakeTimer:
        return FakeTimer()

    @pytest.fixture
    def cache(self, timer: FakeTimer) -> Iterator[CachePort]:
        cache = MemoryCache(maxsize=10_000, timer=timer)
        yield cache
        cache.close()

    @pytest.fixture
    def advance(self, timer: FakeTimer) -> Callable[[float], None]:
        def advance(seconds: float) -> None:
            timer.now += seconds

        return advance


def close_client(client: Any) -> None:
    """Close a redis-py client and every pooled socket (RedisCluster.close() leaves them open)."""
    if isinstance(client, redis.cluster.RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()
    client.close()
    if isinstance(client, redis.Redis):
        client.connection_pool.disconnect()


def _drop_prefix(url: str, prefix: str, *, cluster: bool = False) -> None:
    client: Any = redis.cluster.RedisCluster.from_url(url) if cluster else redis.Redis.from_url(url)
    try:
        names = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for name in names:
            client.delete(name)
    finally:
        close_client(client)


@pytest.mark.redis
class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_url: str, prefix: str) -> Iterator[CachePort]:
        cache = RedisCache.from_url(redis_url, prefix=prefix)
        yield cache
        cache.close()
        _drop_prefix(redis_url, prefix)

    @pytest.fixture
    def advance(self) -> Callable[[float], None]:
        return time.sleep


@pytest.mark.redis
class TestRedisClusterCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_cluster_url: str, prefix: str) -> Iterator[CachePort]:
        cache = RedisCache.from_url(redis_cluster_url, prefix=prefix, cluster=True)
        yield cache
        cache.close()
        _drop_prefix(redis_cluster_url, prefix, cluster=True)

    @pytest.fixture
    def advance(self) -> Callable[[float], None]:
        return time.sleep

    def test_all_keys_of_a_tenant_share_a_slot(
        self, cache: CachePort, tenant: uuid.UUID, redis_cluster_url: str, prefix: str
    ) -> None:
        """The tenant hash tag puts generations and entries on one slot of one node."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, OTHER_NS, "b", 2, ttl=TTL)
        client = redis.cluster.RedisCluster.from_url(redis_cluster_url)
        try:
            names = list(client.scan_iter(match=f"{prefix}:*"))
            slots = {client.keyslot(name) for name in names}
        finally:
            close_client(client)
        assert len(names) == 5  # the tenant generation, 2 namespace generations, 2 entries
        assert len(slots) == 1
