"""Saved pages of real government sites (tests/real/), served on loopback under their real
hostnames and audited by `govaudit audit` as a user runs it.

Each host's folder is served over HTTP (port 80) and HTTPS (port 443, a self-signed
certificate for every saved host, trusted through SSL_CERT_FILE) on an address of its own in
127.0.0.0/8, and reached with ``--resolve HOST:80:ADDR`` / ``HOST:443:ADDR``: page URLs are
exactly the real ones. A URL with a query string is the file named ``path?query``.
Pages that were not saved answer 404 (see tests/real/README.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import ssl
import threading
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import run_govaudit

REAL = Path(__file__).parent / "real"
SITES = REAL / "sites"


@cache
def expected() -> dict[str, Any]:
    """expected.json, with the entries of expected.d/*.json added (one file per batch of
    pages, so batches can be written side by side): lists are appended, other keys kept."""
    doc = json.loads((REAL / "expected.json").read_text(encoding="utf-8"))
    for extra in sorted((REAL / "expected.d").glob("*.json")):
        more = json.loads(extra.read_text(encoding="utf-8"))
        for host, site in more.get("sites", {}).items():
            into = doc["sites"].setdefault(host, {})
            for key, value in site.items():
                if isinstance(value, list):
                    into.setdefault(key, []).extend(value)
                else:
                    into.setdefault(key, value)
    return doc


def hosts() -> list[str]:
    return sorted(p.name for p in SITES.iterdir() if p.is_dir())


def file_for(host: str, raw_path: str) -> Path | None:
    """The saved file answering ``raw_path`` (path and query) on ``host``."""
    root = (SITES / host).resolve()
    parts = urlsplit(raw_path)
    path = unquote(parts.path)
    candidates = []
    if parts.query:
        candidates.append(path + "?" + unquote(parts.query))
    candidates += [path, path.rstrip("/") + "/index.html"]
    if path.endswith("/"):
        candidates += [path + "index.htm", path + "index.shtml"]
    for rel in candidates:
        f = (root / rel.lstrip("/")).resolve()
        if f.is_relative_to(root) and f.is_file():
            return f
    return None


def content_type(f: Path) -> str:
    head = f.read_bytes()[:4096].lower()
    charset = "gbk" if b"charset=gb" in head else "utf-8"
    suffix = f.name.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    if suffix in ("html", "htm", "shtml", "jsp", "php", "aspx", "asp") or b"<html" in head:
        return f"text/html; charset={charset}"
    return {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "xls": "application/vnd.ms-excel",
    }.get(suffix, "application/octet-stream")


class _Handler(BaseHTTPRequestHandler):
    server_version = "nginx"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        f = file_for(host, self.path) if host in self.server.hosts else None  # type: ignore[attr-defined]
        if f is None:
            data, ctype, code = b"<html><body>404 Not Found</body></html>", "text/html", 404
        else:
            data, ctype, code = f.read_bytes(), content_type(f), 200
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


def make_cert(work: Path, names: list[str]) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govaudit real-site fixtures")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = work / "real-cert.pem", work / "real-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class RealSites:
    """Every saved host served on 127.x.y.z:80 and :443."""

    work: Path
    addr: str = ""
    cert: Path | None = None
    servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def start(self) -> RealSites:
        names = hosts()
        self.cert, key = make_cert(self.work, names)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        for _attempt in range(20):  # an address of our own: parallel test runs do not collide
            self.addr = (
                f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
            )
            try:
                plain = ThreadingHTTPServer((self.addr, 80), _Handler)
                tls = ThreadingHTTPServer((self.addr, 443), _Handler)
            except OSError:
                continue
            tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
            break
        else:
            raise RuntimeError("no free loopback address for ports 80/443 (needs root)")
        for srv in (plain, tls):
            srv.hosts = set(names)  # type: ignore[attr-defined]
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            self.servers.append(srv)
        return self

    def stop(self) -> None:
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()

    def resolve_args(self) -> list[str]:
        out = []
        for host in hosts():
            for port in (80, 443):
                out += ["--resolve", f"{host}:{port}:{self.addr}"]
        return out

    def audit(
        self,
        host: str,
        plugins: str | None = None,
        today: str | None = None,
        config: str = "",
        start_url: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """`govaudit audit` of one saved site; returns findings.json as a dict."""
        site = expected()["sites"].get(host, {})
        work = self.work / f"{host}-{random.randrange(10**9)}"
        work.mkdir(parents=True)
        cfg = work / "govaudit.toml"
        cfg.write_text(
            # Links to other sites are not judged on saved copies (this machine has no
            # internet: their DNS look-ups would only wait for a timeout).
            f'data_dir = "{work / "data"}"\n[crawl]\nobey_robots = false\n'
            f"check_external = false\n{config}\n",
            encoding="utf-8",
        )
        args = [
            "audit",
            start_url or site["start_url"],
            "--config",
            str(cfg),
            "--out",
            str(work / "out"),
            "--today",
            today or site["today"],
            "--quiet",
            *self.resolve_args(),
            *extra,
        ]
        if plugins:
            args += ["--plugins", plugins]
        env = {"SSL_CERT_FILE": str(self.cert), "GOVAUDIT_TODAY": ""}
        proc = run_govaudit(*args, cwd=str(work), env=env, timeout=300)
        if proc.returncode not in (0, 1):
            raise AssertionError(f"govaudit audit {host} failed: {proc.stderr[-2000:]}")
        return json.loads((work / "out" / "findings.json").read_text(encoding="utf-8"))


def same_page(a: str | None, b: str | None) -> bool:
    """URLs equal but for scheme, default port, a trailing index file and the fragment."""
    if not a or not b:
        return False

    def key(u: str) -> tuple[str, str, str]:
        p = urlsplit(u)
        path = p.path or "/"
        for index in ("index.html", "index.htm", "index.shtml"):
            if path.endswith("/" + index):
                path = path[: -len(index)]
        return (p.hostname or "", path, p.query)

    return key(a) == key(b)


def env_ok() -> bool:
    """Ports 80/443 on loopback need root (CI and these machines run as root)."""
    return os.geteuid() == 0
