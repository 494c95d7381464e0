"""A TCP proxy in front of PostgreSQL that counts requests and can lose one reply.

It reads the client's side of the PostgreSQL protocol message by message. A *request* ends
with a message the client then waits on: a simple ``Query`` (``Q``) or an extended-protocol
``Sync`` (``S``); counting them counts round trips.

Armed, it either passes the next matching request to the server and then cuts both
connections once the server answers, without passing the answer on (the server committed; the
client sees a dropped connection: the outcome is unknown to it), or drops the request itself
(nothing reached the server). Either way the client cannot tell which happened.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

#: psycopg sends COMMIT as a simple-protocol Query message: 'Q', int32 length, text, NUL.
COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"
#: The codes of the untyped messages a session starts with (SSL/GSS negotiation, cancel).
_UNTYPED_REQUESTS = {80877103, 80877104, 80877102}


class LossyProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; counts requests; loses one reply when armed."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self._drop = False
        self.cuts = 0
        self.requests = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next_commit_reply(self) -> None:
        """Lose the server's answer to the next COMMIT (it commits; the client never hears)."""
        self.lose_next_reply(COMMIT_MESSAGE)

    def lose_next_reply(self, marker: bytes = b"", *, drop_request: bool = False) -> None:
        """Arm a cut at the next request containing ``marker`` (any request with b"").

        ``drop_request``: the request never reaches the server; else the server runs it and
        only its answer is lost.
        """
        with self._lock:
            self._marker, self._drop = marker, drop_request

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            cut = threading.Event()
            threading.Thread(target=self._upward, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._downward, args=(server, client, cut), daemon=True).start()

    def _armed_for(self, request: bytes) -> bool | None:
        """None when not armed for ``request``; else whether to drop it (and disarm)."""
        with self._lock:
            if self._marker is None or self._marker not in request:
                return None
            drop, self._marker = self._drop, None
            return drop

    def _upward(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        buffer, request, started = b"", b"", False
        try:
            while chunk := client.recv(65536):
                buffer += chunk
                forward = b""
                while True:
                    message, buffer, started = _next_message(buffer, started=started)
                    if message is None:
                        break
                    request += message
                    if message[:1] not in (b"Q", b"S"):
                        continue
                    with self._lock:
                        self.requests += 1
                    drop = self._armed_for(request)
                    if drop is None:
                        forward += request
                    elif drop:
                        self.cuts += 1
                        return  # the request is lost on the way: nothing reaches the server
                    else:
                        forward += request
                        cut.set()  # the server runs it; its answer is lost on the way back
                    request = b""
                if not started or request:
                    forward, request = forward + request, b""
                server.sendall(forward)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _downward(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        try:
            while chunk := server.recv(65536):
                if cut.is_set():  # the server answered: the answer is lost
                    self.cuts += 1
                    break
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(client, server)


def _next_message(buffer: bytes, *, started: bool) -> tuple[bytes | None, bytes, bool]:
    """(one whole message or None, the rest, whether the startup message has passed)."""
    if not started:  # untyped: int32 length including itself, then an int32 code
        if len(buffer) < 8:
            return None, buffer, False
        length, code = struct.unpack("!ii", buffer[:8])
        if len(buffer) < length:
            return None, buffer, False
        return buffer[:length], buffer[length:], code not in _UNTYPED_REQUESTS
    if len(buffer) < 5:
        return None, buffer, True
    length = struct.unpack("!i", buffer[1:5])[0]
    if len(buffer) < 1 + length:
        return None, buffer, True
    return buffer[: 1 + length], buffer[1 + length :], True


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
