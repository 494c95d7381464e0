"""A TCP proxy in front of PostgreSQL that can lose the reply to one COMMIT.

The server receives the COMMIT and commits; the proxy reads the server's answer and then cuts
both connections without passing it on, exactly like a network cut after the server replied.
The client sees a dropped connection during COMMIT: the outcome is unknown to it.
"""

from __future__ import annotations

import contextlib
import socket
import threading

#: psycopg sends COMMIT as a simple-protocol Query message: 'Q', int32 length, text, NUL.
COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"


class LossyProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; :meth:`lose_next_commit_reply` arms a cut."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._armed = threading.Event()
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next_commit_reply(self) -> None:
        self._armed.set()

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

    def _upward(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        try:
            while chunk := client.recv(65536):
                if COMMIT_MESSAGE in chunk and self._armed.is_set():
                    self._armed.clear()
                    cut.set()
                server.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _downward(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        try:
            while chunk := server.recv(65536):
                if cut.is_set():  # the server committed and answered: the answer is lost
                    self.cuts += 1
                    break
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(client, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
