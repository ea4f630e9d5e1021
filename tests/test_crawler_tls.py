"""HTTPS certificates are verified: an untrusted certificate is a tls_error, as in a browser.

A real HTTPS server on loopback with a self-signed certificate for www.tls.test, reached
through --resolve; `govaudit audit --plugins links` runs as a user runs it.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer, run_govaudit
from tests.test_ipv6_netprobe import HOST, make_cert


class _Ok(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("tls")
    cert, key = make_cert(work)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    https = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    thread = threading.Thread(target=https.serve_forever, daemon=True)
    thread.start()
    port = https.server_address[1]
    target = f"https://{HOST}:{port}/report.pdf"
    srv = LoopbackServer().start()
    srv.route(
        "/", html=f'<html><title>首页</title><body><a href="{target}">年度报告</a></body></html>'
    )
    yield {"work": work, "srv": srv, "target": target, "port": port, "cert": cert}
    srv.stop()
    https.shutdown()


def _audit(sites, name: str, verify: bool, env: dict[str, str] | None = None) -> list[dict]:
    work: Path = sites["work"] / name
    work.mkdir()
    config = work / "govaudit.toml"
    config.write_text(
        f"""
[site]
urls = ["{sites["srv"].url("/")}"]
[crawl]
obey_robots = false
retries = 0
timeout = 5
verify_tls = {"true" if verify else "false"}
""",
        encoding="utf-8",
    )
    run_govaudit(
        "audit",
        "--config",
        str(config),
        "--data-dir",
        str(work / "data"),
        "--out",
        str(work / "out"),
        "--plugins",
        "links",
        "--resolve",
        f"{HOST}:{sites['port']}:127.0.0.1",
        cwd=str(work),
        env=env,
    )
    doc = json.loads((work / "out" / "findings.json").read_text(encoding="utf-8"))
    return [f for f in doc["findings"] if f["url"] == sites["target"]]


def test_an_untrusted_certificate_is_a_broken_link(sites):
    (f,) = _audit(sites, "verify", verify=True)
    assert f["rule"] == "links.broken"
    assert f["evidence"]["kind"] == "tls_error"
    assert "certificate" in f["evidence"]["detail"].lower()


def test_a_trusted_certificate_passes(sites):
    # The same server, its CA trusted through OpenSSL's SSL_CERT_FILE: verification is
    # real, not a blanket failure of every HTTPS link.
    assert _audit(sites, "trusted", verify=True, env={"SSL_CERT_FILE": sites["cert"]}) == []


def test_verification_can_be_switched_off_for_staging(sites):
    assert _audit(sites, "no-verify", verify=False) == []
