"""A threaded loopback HTTP server with programmable routes, for tests.

Usage::

    with LoopbackServer() as srv:
        srv.route("/", html="<a href='/x'>x</a>")
        srv.route("/x", status=404)
        srv.route("/slow", delay=5)                       # sleeps before answering
        srv.route("/r", status=302, headers={"Location": "/x"})
        srv.route("/gbk", body="标题".encode("gbk"), content_type="text/html")
        srv.route("/head-refused", head_status=405)        # HEAD → 405, GET → 200
        srv.route("/reset", reset=True)                    # closes the socket without answering
        srv.route("/big.zip", body_size=50_000_000)        # streams zeros; counts bytes sent
        srv.route("/dyn", handler=lambda req: Reply(200, b"..."))
        srv.url("/x")  →  "http://127.0.0.1:PORT/x"

Requests are recorded in ``srv.requests`` as (method, path, headers) tuples. Routes may
be set before or after ``start()``; unknown paths answer 404 (or ``default``).
Binds 127.0.0.1 (or ``host="::1"``) on an ephemeral port.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before the status line
    head_status: int | None = None  # a different status for HEAD (405, 501 …)
    head_headers: dict[str, str] | None = None  # different headers for HEAD
    reset: bool = False  # RST the connection instead of answering
    body_size: int = 0  # stream this many bytes (zeros) instead of ``body``
    handler: Callable[[Request], Reply] | None = None
    sent: int = 0  # bytes of body actually written (for body_size routes)


@dataclass
class Request:
    method: str
    path: str  # raw path including query
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], family: int, owner: LoopbackServer) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        owner = self.server.owner
        req = Request(method, self.path, {k.lower(): v for k, v in self.headers.items()})
        with owner.lock:
            owner.requests.append(req)
        route = owner.find(self.path)
        if route is None:
            route = owner.default
        if route.delay:
            time.sleep(route.delay)
        if route.reset:
            # SO_LINGER 0 → the close sends RST, which clients see as a reset connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if route.handler is not None:
            reply = route.handler(req)
            status, body, headers, ctype = (
                reply.status,
                reply.body,
                reply.headers,
                reply.content_type,
            )
        else:
            status, body, headers, ctype = (
                route.status,
                route.body,
                route.headers,
                route.content_type,
            )
            if method == "HEAD" and route.head_status is not None:
                status = route.head_status
            if method == "HEAD" and route.head_headers is not None:
                headers = route.head_headers
        length = route.body_size or len(body)
        try:
            self.send_response(status)
            if ctype and not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            if not any(k.lower() == "content-length" for k in headers):
                self.send_header("Content-Length", str(length))
            self.end_headers()
            if method == "HEAD":
                return
            if route.body_size:
                chunk = b"\0" * 65536
                left = route.body_size
                while left > 0:
                    n = min(left, len(chunk))
                    self.wfile.write(chunk[:n])
                    with owner.lock:
                        route.sent += n
                    left -= n
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class LoopbackServer:
    """A real HTTP server on loopback with routes set by the test."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.routes: dict[str, Route] = {}
        self.default = Route(status=404, body=b"<html><title>404</title>not found</html>")
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _Server((host, port), family, self)
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    # ---- routes ----------------------------------------------------------------
    def route(
        self,
        path: str,
        *,
        html: str | None = None,
        body: bytes | str | None = None,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> Route:
        """Set the answer for ``path`` (exact match on path+query, else path alone)."""
        if html is not None:
            kwargs.setdefault("content_type", f"text/html; charset={encoding}")
            data = html.encode(encoding)
        elif isinstance(body, str):
            data = body.encode(encoding)
        else:
            data = body or b""
        r = Route(body=data, **kwargs)
        with self.lock:
            self.routes[path] = r
        return r

    def find(self, raw_path: str) -> Route | None:
        with self.lock:
            if raw_path in self.routes:
                return self.routes[raw_path]
            path = urlsplit(raw_path).path
            if path in self.routes:
                return self.routes[path]
            # Prefix routes end with '*': "/cal/*" answers every path below /cal/.
            best = None
            for key, r in self.routes.items():
                if key.endswith("*") and path.startswith(key[:-1]):
                    if best is None or len(key) > len(best[0]):
                        best = (key, r)
            return best[1] if best else None

    def requests_for(self, path: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (r.path == path or urlsplit(r.path).path == path)
                and (method is None or r.method == method)
            ]

    # ---- lifecycle ----------------------------------------------------------------
    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for connection-refused tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_forever_in_subprocess() -> None:  # pragma: no cover - convenience for manual use
    """``python -m tests.loopback`` serves an empty server until interrupted."""
    with LoopbackServer() as srv:
        print(srv.base, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    serve_forever_in_subprocess()


def run_govaudit(
    *args: str, cwd: str | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m govaudit.cli ARGS`` in a subprocess (Twisted's reactor cannot restart)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "govaudit.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
