"""A minimal HTTP CONNECT proxy on loopback, so tests can see that traffic really goes through it."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading


class ConnectProxy:
    """Tunnels CONNECT requests to loopback targets only, and records each target."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target, _ = head.split(b"\r\n", 1)[0].decode("ascii").split(" ", 2)
                host, _, port = target.rpartition(":")
                if method != "CONNECT" or host not in ("127.0.0.1", "localhost"):
                    self.request.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                    return
                proxy.targets.append(target)
                upstream = socket.create_connection((host, int(port)), timeout=10)
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
                pump.start()
                _pipe(self.request, upstream)
                pump.join(timeout=10)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
