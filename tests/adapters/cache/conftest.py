"""Fixtures for the cache tests: throwaway Redis servers, a 3-node Redis Cluster, key prefixes.

Servers are real ``redis-server`` processes on free loopback ports. Without the binary the tests
that need one are skipped with the reason printed, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"
REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def require_redis_binaries() -> tuple[str, str]:
    if REDIS_SERVER and REDIS_CLI:
        return REDIS_SERVER, REDIS_CLI
    reason = "redis-server/redis-cli not found on PATH"
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # as redis-server does, so ports in TIME_WAIT after a stop count as free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, with_bus: bool = False) -> int:
    """A loopback port nobody listens on (and, for cluster nodes, its bus port ``+10000``)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not with_bus:
            return port
        if port + 10000 < 65536 and _port_is_free(port + 10000):
            return port


def _wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """One throwaway ``redis-server`` that a test can stop and start again on the same port."""

    def __init__(self, workdir: Path, port: int, *extra: str) -> None:
        self.workdir = workdir
        self.port = port
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        server, _ = require_redis_binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            server,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--save", "",
            "--daemonize", "no",
            "--enable-debug-command", "yes",
            *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir
        )
        _wait_until(lambda: _answers(self.port), timeout=10, what=f"redis-server :{self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisProcess]]:
    """Start throwaway Redis servers (``factory(*extra_args)``); all are stopped afterwards."""
    require_redis_binaries()
    started: list[RedisProcess] = []

    def factory(*extra: str) -> RedisProcess:
        server = RedisProcess(tmp_path / f"redis-{len(started)}", free_port(), *extra)
        started.append(server)
        return server.start()

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real 3-node Redis Cluster (no replicas) on free loopback ports, for the whole session."""
    server, cli = require_redis_binaries()
    workdir = tmp_path_factory.mktemp("redis-cluster")
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port(with_bus=True)
        if port not in ports:
            ports.append(port)
    processes = []
    try:
        for port in ports:
            args = [
                server,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(workdir / f"nodes-{port}.conf"),
                "--cluster-node-timeout", "2000",
                "--dir", str(workdir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ]  # fmt: skip
            processes.append(
                subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        for port in ports:
            _wait_until(lambda port=port: _answers(port), timeout=10, what=f"node :{port}")
        nodes = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )

        def cluster_ok() -> bool:
            for port in ports:
                info = subprocess.run(
                    [cli, "-p", str(port), "cluster", "info"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=False,
                ).stdout
                if "cluster_state:ok" not in info:
                    return False
            return True

        _wait_until(cluster_ok, timeout=30, what="cluster_state:ok")
        yield f"redis://127.0.0.1:{ports[0]}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
def prefix() -> str:
    """A key prefix of its own for each test, so runs on a shared Redis never collide."""
    return f"bc-test-{uuid.uuid4().hex[:12]}"
