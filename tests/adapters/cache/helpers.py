"""Helpers shared by the cache tests: a hand-moved clock and Redis client clean-up."""

from __future__ import annotations

from typing import Any

import redis


class FakeTimer:
    """A monotonic clock the test moves by hand (``timer.now += seconds``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def close_client(client: Any) -> None:
    """Close a redis-py client and every pooled socket (RedisCluster.close() leaves them open)."""
    if isinstance(client, redis.cluster.RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()
    client.close()
    if isinstance(client, redis.Redis):
        client.connection_pool.disconnect()


def drop_prefix(url: str, prefix: str, *, cluster: bool = False) -> None:
    """Delete every key under ``prefix:`` (a test's own key space) on a Redis or a Cluster."""
    client: Any = redis.cluster.RedisCluster.from_url(url) if cluster else redis.Redis.from_url(url)
    try:
        names = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for name in names:
            client.delete(name)
    finally:
        close_client(client)
