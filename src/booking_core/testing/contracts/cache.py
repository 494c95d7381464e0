"""The cache contract: what every CachePort adapter must do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

import pytest

from booking_core.errors import (
    ValidationError,
)
from booking_core.ports.cache import (
    UNKNOWN_GENERATION,
    CachePort,
    CacheStats,
    EncodedJSON,
    read_through,
)

NS: Final = "catalog"
OTHER_NS: Final = "availability"
TTL: Final = 60.0


class CacheContract:
    """Behaviour every :class:`~booking_core.ports.cache.CachePort` adapter must have.

    Override the ``cache`` fixture (yield the adapter, close it afterwards if you like). The
    TTL test waits for real (about 0.5 s); override the ``advance`` fixture to move a fake
    timer instead (``advance(seconds)``). The property tests need Hypothesis and are skipped
    without it. A cache that stores nothing (``NullCache``) is not
    a cache in this sense and does not pass: it only honours the validation half.
    """

    @pytest.fixture
    def cache(self) -> CachePort:
        """The adapter under test; subclasses must override this fixture."""
        msg = "override the cache fixture to return your CachePort"
        raise NotImplementedError(msg)

    @pytest.fixture
    def advance(self) -> Callable[[float], None]:
        """Let ``seconds`` pass for the cache's clock (default: really wait)."""
        import time  # noqa: PLC0415 - only the default implementation needs it

        return time.sleep

    @pytest.fixture
    def tenant(self) -> uuid.UUID:
        return uuid.uuid4()

    def test_miss_then_hit(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A key never set misses (value None); after set it hits with an equal value."""
        missed = cache.get(tenant, NS, "a")
        assert (missed.hit, missed.value) == (False, None)
        assert cache.set(tenant, NS, "a", {"name": "Gold", "price": 250000}, ttl=TTL) is True
        lookup = cache.get(tenant, NS, "a")
        assert (lookup.hit, lookup.value) == (True, {"name": "Gold", "price": 250000})

    def test_overwrite_and_none(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A second set replaces the value; a stored None is a hit, told apart from a miss."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "a", [2, 3], ttl=TTL)
        assert cache.get(tenant, NS, "a").value == [2, 3]
        cache.set(tenant, NS, "nothing", None, ttl=TTL)
        lookup = cache.get(tenant, NS, "nothing")
        assert (lookup.hit, lookup.value) == (True, None)

    def test_json_round_trip(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Nested JSON (unicode, big ints, floats, empty containers) comes back equal."""
        value: dict[str, Any] = {
            "text": "Zoë 李 \U0001f389 \u202e <b>",
            "big": 2**62,
            "neg": -(2**53) - 1,
            "float": 0.1,
            "empty": [[], {}],
            "flags": [True, False, None],
        }
        assert cache.set(tenant, NS, "v", value, ttl=TTL) is True
        assert cache.get(tenant, NS, "v").value == value

    def test_encoded_json_is_stored_as_its_text(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """An EncodedJSON value is stored without re-encoding and reads back as the JSON its
        text denotes; its text may hold what a Python walk would refuse (a tuple's array)."""
        text = '{"name":"Zoë","seats":[1,2],"paid":null}'
        assert cache.set(tenant, NS, "enc", EncodedJSON(text), ttl=TTL) is True
        lookup = cache.get(tenant, NS, "enc")
        assert (lookup.hit, lookup.value) == (True, {"name": "Zoë", "seats": [1, 2], "paid": None})
        assert cache.get_many(tenant, NS, ["enc"])["enc"].value == lookup.value

    def test_json_values_round_trip(self, cache: CachePort) -> None:
        """Any strict JSON value (random nesting of null, bools, 64-bit ints, finite floats,
        text, lists and objects) comes back equal (Hypothesis; skipped when not installed)."""
        pytest.importorskip("hypothesis")
        from hypothesis import given, settings  # noqa: PLC0415 - optional, for this test only
        from hypothesis import strategies as st  # noqa: PLC0415

        json_values = st.recursive(
            st.none()
            | st.booleans()
            | st.integers(min_value=-(2**63), max_value=2**63)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=12,
        )

        @settings(max_examples=40, deadline=None, database=None)
        @given(value=json_values)
        def check(value: Any) -> None:
            tenant = uuid.uuid4()
            assert cache.set(tenant, NS, "v", value, ttl=TTL) is True
            lookup = cache.get(tenant, NS, "v")
            assert (lookup.hit, lookup.value) == (True, value)

        check()

    def test_reads_are_copies(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Mutating a returned value (or the one passed to set) never changes the cached one."""
        original: dict[str, Any] = {"tags": ["a"], "n": 1}
        cache.set(tenant, NS, "k", original, ttl=TTL)
        original["tags"].append("mutated-after-set")
        first = cache.get(tenant, NS, "k").value
        assert isinstance(first, dict)
        first["n"] = 99
        assert cache.get(tenant, NS, "k").value == {"tags": ["a"], "n": 1}

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
        """An entry is served before its TTL elapses (also once some time has passed) and
        missed after; a longer TTL is unaffected."""
        cache.set(tenant, NS, "short", "s", ttl=0.3)
        cache.set(tenant, NS, "long", "l", ttl=TTL)
        assert cache.get(tenant, NS, "short").value == "s"
        advance(0.05)
        assert cache.get(tenant, NS, "short").value == "s"
        advance(0.45)
        assert cache.get(tenant, NS, "short").hit is False
        assert cache.get(tenant, NS, "long").value == "l"

    def test_get_many(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """get_many answers every key once: hits with values, misses without, one token."""
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.set(tenant, NS, "c", {"x": 3}, ttl=TTL)
        result = cache.get_many(tenant, NS, ["a", "b", "c", "a"])
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

    def test_invalidate_namespace(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating a namespace hides all its entries and leaves other namespaces alone;
        new writes are visible again."""
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

    def test_invalidations_are_idempotent(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Invalidating twice, or a tenant with nothing cached, is fine."""
        cache.invalidate_tenant(tenant)
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.invalidate_namespace(tenant, NS)
        cache.invalidate_namespace(tenant, NS)
        assert cache.get(tenant, NS, "a").hit is False

    def test_stale_token_after_namespace_invalidation(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """A value loaded before an invalidation and written with the read's token never shows."""
        lookup = cache.get(tenant, NS, "pkg")  # a read-through starts: miss
        assert lookup.hit is False
        cache.invalidate_namespace(tenant, NS)  # a write commits meanwhile
        assert cache.set(tenant, NS, "pkg", "stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_stale_token_after_tenant_invalidation(
        self, cache: CachePort, tenant: uuid.UUID
    ) -> None:
        """The tenant generation is part of the token too."""
        cache.set(tenant, NS, "pkg", "v1", ttl=TTL)
        lookup = cache.get(tenant, NS, "pkg")
        cache.invalidate_tenant(tenant)
        assert cache.set(tenant, NS, "pkg", "v1-stale", ttl=TTL, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_current_token_writes(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """With no invalidation in between, a write with the read's token is stored; a token
        of another namespace's invalidation does not matter."""
        cache.invalidate_namespace(tenant, NS)
        lookup = cache.get(tenant, NS, "pkg")
        assert lookup.token.known
        cache.invalidate_namespace(tenant, OTHER_NS)
        assert cache.set(tenant, NS, "pkg", "fresh", ttl=TTL, token=lookup.token) is True
        assert cache.get(tenant, NS, "pkg").value == "fresh"

    def test_unknown_token_is_skipped(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """A token from a failed read cannot prove freshness: nothing is written."""
        assert cache.set(tenant, NS, "pkg", 1, ttl=TTL, token=UNKNOWN_GENERATION) is False
        assert cache.get(tenant, NS, "pkg").hit is False

    def test_read_through(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """read_through loads once and serves hits after; a load that overlaps an invalidation
        is returned but not cached."""
        calls: list[str] = []

        def load_then_writer_commits() -> str:
            calls.append("racing")
            cache.invalidate_namespace(tenant, NS)  # the writer's after-commit invalidation
            return "loaded-before-commit"

        assert read_through(cache, tenant, NS, "pkg", load_then_writer_commits, ttl=TTL) == (
            "loaded-before-commit"
        )
        assert cache.get(tenant, NS, "pkg").hit is False

        def load() -> str:
            calls.append("plain")
            return "after"

        for _ in range(3):
            assert read_through(cache, tenant, NS, "pkg", load, ttl=TTL) == "after"
        assert calls == ["racing", "plain"]
        assert cache.get(tenant, NS, "pkg").value == "after"

    def test_read_through_encodes_and_decodes(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """read_through stores ``encode(loaded)`` and serves ``decode(cached)``, so non-JSON
        values (a tuple here) round-trip through it; the loader runs on the first miss only."""
        calls: list[int] = []

        def loader() -> tuple[int, str]:
            calls.append(1)
            return (7, "seven")

        def decode(raw: Any) -> tuple[int, str]:
            return (raw[0], raw[1])

        for _ in range(3):
            got = read_through(cache, tenant, NS, "t", loader, ttl=TTL, encode=list, decode=decode)
            assert got == (7, "seven")
        assert len(calls) == 1
        assert cache.get(tenant, NS, "t").value == [7, "seven"]

    def test_stats(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Hits, misses and sets are counted exactly from a fresh adapter; hit rate is
        hits / reads; a skipped stale write is not a set."""
        assert cache.stats() == CacheStats()
        cache.get(tenant, NS, "a")
        cache.set(tenant, NS, "a", 1, ttl=TTL)
        cache.get(tenant, NS, "a")
        cache.get(tenant, NS, "a")
        cache.get_many(tenant, NS, ["a", "b"])
        lookup = cache.get(tenant, NS, "z")
        cache.invalidate_namespace(tenant, NS)
        cache.set(tenant, NS, "z", 1, ttl=TTL, token=lookup.token)
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.errors, stats.sets) == (3, 3, 0, 1)
        assert stats.hit_rate == pytest.approx(0.5)

    def test_ping(self, cache: CachePort) -> None:
        """A reachable backend answers the health check."""
        assert cache.ping() is True

    def test_tenant_isolation(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Tenant B cannot read, overwrite, delete or invalidate tenant A's entries."""
        tenant_b = uuid.uuid4()
        cache.set(tenant, NS, "pkg", {"owner": "A"}, ttl=TTL)
        assert cache.get(tenant_b, NS, "pkg").hit is False
        assert cache.get_many(tenant_b, NS, ["pkg"])["pkg"].hit is False
        cache.set(tenant_b, NS, "pkg", {"owner": "B"}, ttl=TTL)
        assert cache.get(tenant_b, NS, "pkg").value == {"owner": "B"}
        cache.delete(tenant_b, NS, "pkg")
        cache.invalidate_namespace(tenant_b, NS)
        cache.invalidate_tenant(tenant_b)
        assert cache.get(tenant, NS, "pkg").value == {"owner": "A"}

    def test_keys_are_opaque_text(self, cache: CachePort, tenant: uuid.UUID) -> None:
        """Keys with separators, braces, spaces or unicode do not collide or escape the tenant."""
        keys = ["a:b", "a", "b", "{tenant}", "*", "sp ace", "é", "a:b:c"]
        for index, key in enumerate(keys):
            cache.set(tenant, NS, key, index, ttl=TTL)
        assert [cache.get(tenant, NS, key).value for key in keys] == list(range(len(keys)))
        assert cache.get(uuid.uuid4(), NS, "a:b").hit is False

    def test_matches_a_dict_model(self, cache: CachePort) -> None:
        """Random sequences of set/get/delete/invalidate behave like a dict (Hypothesis; skipped
        when it is not installed)."""
        pytest.importorskip("hypothesis")
        from hypothesis import given, settings  # noqa: PLC0415 - optional, for this test only
        from hypothesis import strategies as st  # noqa: PLC0415

        ops = st.lists(
            st.tuples(
                st.sampled_from(["set", "get", "delete", "inv_ns", "inv_tenant", "stale_set"]),
                st.integers(0, 1),
                st.sampled_from([NS, OTHER_NS]),
                st.sampled_from(["a", "b", "c"]),
                st.integers(-5, 5),
            ),
            max_size=30,
        )

        @settings(max_examples=60, deadline=None, database=None)
        @given(ops=ops)
        def check(ops: list[tuple[str, int, str, str, int]]) -> None:
            _run_model(cache, ops)

        check()


def _run_model(cache: CachePort, ops: list[tuple[str, int, str, str, int]]) -> None:
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
