"""A scripted HTTPS server on loopback, for the stand-in's own tests.

Retries in ``BaseClient`` are mounted on ``https://`` only (xsoar_runtime/SPEC.md §2.4) and run inside urllib3,
below the layer ``requests_mock`` replaces, so they can only be shown against a real TLS server.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme


@dataclass
class ScriptedReply:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedServer:
    """Answers each request with the next scripted reply; the last reply repeats."""

    base_url: str
    ca_bundle: str
    replies: list[ScriptedReply] = field(default_factory=list)
    seen_paths: list[str] = field(default_factory=list)

    def script(self, *replies: ScriptedReply) -> None:
        self.replies = list(replies)
        self.seen_paths.clear()


@pytest.fixture(scope="session")
def tls_authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    authority = trustme.CA()
    bundle = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return authority, str(bundle)


@pytest.fixture
def https_server(tls_authority: tuple[trustme.CA, str]) -> Iterator[ScriptedServer]:
    authority, bundle = tls_authority
    state = ScriptedServer(base_url="", ca_bundle=bundle)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.seen_paths.append(self.path)
            index = min(len(state.seen_paths), len(state.replies)) - 1
            reply = state.replies[index] if state.replies else ScriptedReply(200, json.dumps({}))
            payload = reply.body.encode("utf-8")
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
