"""crawler/attachments.py on loopback: bytes are bounded after decompression (a gzip bomb
stops at the limit), slow servers hit the deadline, non-public addresses are refused unless
they are the site's own or --resolve targets, and --resolve is honoured."""

from __future__ import annotations

import gzip
import io
import socket
import threading
import time

from core.config import Config
from core.dns import Resolver
from crawler.attachments import Downloader
from tests.loopback import LoopbackServer


def _downloader(site: str, **attachments) -> Downloader:
    config = Config.model_validate(
        {"site": {"urls": [site]}, "attachments": {"max_bytes": 1_000_000, **attachments}}
    )
    return Downloader(config, Resolver(config.dns))


def test_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire
    with LoopbackServer() as srv:
        srv.route(
            "/a.pdf",
            body=bomb,
            headers={"Content-Encoding": "gzip"},
            content_type="application/pdf",
        )
        srv.route(
            "/ok.pdf", body=gzip.compress(b"%PDF-1.4 ok"), headers={"Content-Encoding": "gzip"}
        )
        d = _downloader(srv.url("/"))
        out = io.BytesIO()
        got = d.fetch(srv.url("/a.pdf"), out)
        assert got.status == "too_large" and out.tell() <= 1_000_000
        out = io.BytesIO()
        got = d.fetch(srv.url("/ok.pdf"), out)
        assert (
            got.status == "ok" and out.getvalue() == b"%PDF-1.4 ok" and got.head.startswith(b"%PDF")
        )


def test_private_addresses_refused_unless_the_sites_own():
    with LoopbackServer() as srv:
        srv.route("/to-meta", status=302, headers={"Location": "http://169.254.169.254/latest/"})
        srv.route("/x.pdf", body=b"%PDF-1.4")
        d = _downloader(
            "http://www.example.gov.cn/"
        )  # the site is elsewhere: loopback is not its own
        assert d.fetch(srv.url("/x.pdf"), io.BytesIO()).status == "refused"
        assert d.fetch("http://10.1.2.3/a.pdf", io.BytesIO()).status == "refused"
        assert d.fetch("file:///etc/passwd", io.BytesIO()).status == "refused"
        own = _downloader(srv.url("/"))  # the audited site on loopback may be fetched
        assert own.fetch(srv.url("/x.pdf"), io.BytesIO()).status == "ok"
        got = own.fetch(srv.url("/to-meta"), io.BytesIO())  # but not redirected inside
        assert got.status == "refused" and "169.254.169.254" in got.detail


def test_resolve_override_is_honoured():
    with LoopbackServer() as srv:
        srv.route("/x.pdf", body=b"%PDF-1.4 via resolve")
        config = Config.model_validate(
            {
                "site": {"urls": ["http://www.lcnr.gov.cn/"]},
                "dns": {"resolve": [f"www.lcnr.gov.cn:{srv.port}:127.0.0.1"]},
            }
        )
        d = Downloader(config, Resolver(config.dns))
        out = io.BytesIO()
        got = d.fetch(f"http://www.lcnr.gov.cn:{srv.port}/x.pdf", out)
        assert got.status == "ok" and out.getvalue().endswith(b"via resolve")
        assert srv.requests[-1].headers["host"] == f"www.lcnr.gov.cn:{srv.port}"


def test_a_dripping_server_hits_the_deadline():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    d = _downloader(f"http://127.0.0.1:{port}/", timeout=1.5)
    t0 = time.monotonic()
    got = d.fetch(f"http://127.0.0.1:{port}/slow.pdf", io.BytesIO())
    stop.set()
    listener.close()
    assert got.status == "timeout" and time.monotonic() - t0 < 4
