"""Serve the demo bureau site on loopback, with its own DNS zone.

    with DemoSite(anchor=date(2026, 11, 26), revision=1) as demo:
        demo.base_url            # http://www.lcnr.gov.cn:PORT/
        demo.dns_server          # "127.0.0.1:PORT" (dnslib; also answers on [::1]:PORT)
        config = demo.write_config(tmp_path)   # TOML for `govaudit audit --config`

Servers (all threads, all stopped by ``stop()``):
- the main HTTP server on 127.0.0.1:P and [::1]:P (dual stack, same port), serving
  www.lcnr.gov.cn, static.lcnr.gov.cn, m.lcnr.gov.cn, www.lcs.gov.cn and the gambling
  site www.xpj-yule.example (target of the homepage's hidden link) by Host header;
- zwfw.lcnr.gov.cn on 127.0.0.1:P+1 only, while [::1]:P+1 is held bound but not listening
  (its AAAA points at ::1: IPv6 connection refused);
- 127.0.0.1:P+2 bound and never listening: gis.lcnr.gov.cn links get "connection refused";
- the DNS zone (ZoneServer).
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
from collections import deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from govaudit.demo import site_data
from govaudit.demo.dnsserver import ZoneServer
from govaudit.demo.site import DemoContent
from govaudit.demo.site_data import REVISIONS, Ports

log = logging.getLogger(__name__)

#: Responsible units of the demo bureau (names from the work plan's task table).
UNITS = {
    "综合组": "zhb@example.org",
    "信息中心": "xxzx@example.org",
    "政策法规组": "zcfg@example.org",
    "财务审计组": "cwsj@example.org",
    "执法监督组": "zfjd@example.org",
}

#: URL prefix → unit (domain.md's table, by column).
UNIT_MAP = [
    ("/zwgk/fdzdgknr/czyjs/", "财务审计组"),
    ("/zwgk/fdzdgknr/fgwj/", "政策法规组"),
    ("/zwgk/", "综合组"),
    ("/zcwj/", "政策法规组"),
    ("/zcjd/", "政策法规组"),
    ("/hygk/", "综合组"),
    ("/gzcy/jzxx/", "执法监督组"),
    ("/gzcy/zxzx/", "执法监督组"),
    ("/gzcy/yjzj/", "信息中心"),
    ("/gzcy/", "信息中心"),
    ("/tzgg/", "综合组"),
    ("/xwzx/", "综合组"),
]


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "LcnrWeb/1.0"
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _serve(self, head: bool) -> None:
        demo = self.server.demo
        host = (self.headers.get("Host") or "").strip()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        host = host.strip("[]").lower()
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        v6 = self.server.address_family == socket.AF_INET6
        if self.server.only_host:
            host = self.server.only_host
        demo.requests.append((self.command, host, path, parts.query, v6))
        reply = demo.content.respond(host, path, parts.query, v6)
        if reply.hang:
            demo.stopping.wait(600)
            self.close_connection = True
            return
        if reply.delay and demo.stopping.wait(reply.delay):
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if not head:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_POST(self) -> None:  # noqa: N802
        self.send_error(405, "Method Not Allowed")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], demo: DemoSite, only_host: str = "") -> None:
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.demo = demo
        self.only_host = only_host
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (timeouts, killed browsers) reset connections: not an error
        # of the demo site, and not worth a traceback on the terminal.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        log.warning("demo site: error serving %s", client_address, exc_info=True)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        # Skip HTTPServer.server_bind: it calls getfqdn(), a DNS lookup.
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()[:2]
        self.server_name, self.server_port = "localhost", self.server_address[1]


def _reserve(addr: str, port: int) -> socket.socket:
    """A TCP socket bound to (addr, port) that never listens: connecting is refused."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        s.bind((addr, port))
    except OSError:
        s.close()
        raise
    return s


class DemoSite:
    """The demo bureau website and its DNS zone, on loopback. Start/stop or use ``with``."""

    def __init__(self, anchor: date | None = None, revision: int = 1, port: int = 0) -> None:
        if revision not in REVISIONS:
            raise ValueError(f"revision must be 1, 2, 3 or 4, not {revision!r}")
        self.anchor = anchor or date.today()
        self.revision = revision
        self.requested_port = port
        self.requests: deque[tuple[str, str, str, str, bool]] = deque(maxlen=10_000)
        self.stopping = threading.Event()
        self._servers: list[_HTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._reserved: list[socket.socket] = []
        self.zone: ZoneServer | None = None
        self.ports: Ports | None = None
        self.content: DemoContent | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> DemoSite:
        if self._servers:
            return self
        self.stopping.clear()
        try:
            self._bind_all()
            assert self.ports is not None
            self.content = DemoContent(self.anchor, self.revision, self.ports)
            self.zone = ZoneServer(self.dns_records(), ipv6=True).start()
            for srv in self._servers:
                t = threading.Thread(
                    target=srv.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"demo-http-{srv.server_address[0]}:{srv.server_address[1]}",
                    daemon=True,
                )
                t.start()
                self._threads.append(t)
        except BaseException:
            self.stop()
            raise
        return self

    def _bind_all(self) -> None:
        """Bind P (127.0.0.1 and ::1), P+1 (zwfw, IPv4 only; ::1 held) and P+2 (refused).

        Consecutive ports, so ``DemoSite(port=P)`` later reproduces every URL of a run."""
        fixed = self.requested_port
        for attempt in range(50):
            servers: list[_HTTPServer] = []
            reserved: list[socket.socket] = []
            try:
                v4 = _HTTPServer(("127.0.0.1", fixed), self)
                servers.append(v4)
                port = v4.server_address[1]
                if port > 65533:
                    raise OSError(f"port {port} leaves no room for P+1 and P+2")
                servers.append(_HTTPServer(("::1", port), self))
                servers.append(_HTTPServer(("127.0.0.1", port + 1), self, site_data.ZWFW))
                reserved.append(_reserve("::1", port + 1))
                reserved.append(_reserve("127.0.0.1", port + 2))
            except OSError:
                for srv in servers:
                    srv.server_close()
                for r in reserved:
                    r.close()
                if fixed or attempt == 49:
                    raise
                continue
            self._servers, self._reserved = servers, reserved
            self.ports = Ports(www=port, zwfw=port + 1, refused=port + 2)
            return

    def stop(self) -> None:
        self.stopping.set()
        for srv in self._servers:
            srv.shutdown() if self._threads else None
        for srv in self._servers:
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        for r in self._reserved:
            r.close()
        if self.zone is not None:
            self.zone.stop()
        self._servers, self._threads, self._reserved, self.zone = [], [], [], None

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self.ports is None:
            raise RuntimeError("DemoSite is not started")
        return self.ports.www

    @property
    def base_url(self) -> str:
        """The homepage, e.g. http://www.lcnr.gov.cn:PORT/"""
        return self.url("/")

    def url(self, path: str = "/", host: str = site_data.WWW) -> str:
        """Absolute URL of ``path`` on one of the demo hosts."""
        if self.content is None:
            raise RuntimeError("DemoSite is not started")
        return self.content.url(host, path)

    @property
    def dns_server(self) -> str:
        if self.zone is None:
            raise RuntimeError("DemoSite is not started")
        return self.zone.server

    @property
    def hosts(self) -> dict[str, str]:
        """Role → hostname of every demo host."""
        return {
            "www": site_data.WWW,
            "static": site_data.STATIC,
            "ipv6_unreachable": site_data.ZWFW,
            "ipv6_mismatch": site_data.MOBILE,
            "refused": site_data.GIS,
            "partner": site_data.PARTNER,
            "casino": site_data.CASINO,
            "dns_failure": site_data.INVALID,
            "ns1": site_data.NS1,
            "ns2": site_data.NS2,
        }

    def host_urls(self) -> dict[str, str]:
        """Role → homepage URL (with port) of each host that has one."""
        return {
            role: self.url("/", host)
            for role, host in self.hosts.items()
            if role not in ("ns1", "ns2", "dns_failure")
        } | {"dns_failure": f"http://{site_data.INVALID}/"}

    def dns_records(self) -> dict[str, dict[str, list[str]]]:
        both = {"A": ["127.0.0.1"], "AAAA": ["::1"]}
        return {
            site_data.ZONE: {"NS": [site_data.NS1, site_data.NS2]},
            site_data.NS1: dict(both),
            site_data.NS2: {"A": ["127.0.0.1"]},
            site_data.WWW: dict(both),
            site_data.STATIC: {"A": ["127.0.0.1"]},
            site_data.ZWFW: dict(both),
            site_data.MOBILE: dict(both),
            site_data.GIS: {"A": ["127.0.0.1"]},
            "lcs.gov.cn": {"NS": ["ns1.lcs.gov.cn", "ns2.lcs.gov.cn"]},
            "ns1.lcs.gov.cn": dict(both),
            "ns2.lcs.gov.cn": dict(both),
            site_data.PARTNER: dict(both),
            site_data.CASINO: dict(both),
        }

    # ------------------------------------------------------------------ config

    def config_dict(self, data_dir: str | Path) -> dict[str, Any]:
        return {
            "data_dir": str(data_dir),
            "site": {"name": site_data.SITE_NAME, "urls": [self.base_url]},
            "crawl": {
                "max_pages": 400,
                "max_depth": 10,
                "max_query_variants": 10,
                "obey_robots": False,
                "contact": "xxzx@example.org",
                "timeout": 3,
                "retries": 0,
                "concurrency_per_host": 8,
            },
            "dns": {"server": self.dns_server},
            # the bureau's work plan promises eight columns (the default is the national list)
            "plugins": {"columns": {"required_columns": "work_plan"}},
            "units": {
                "default": "信息中心",
                "unit": [{"name": n, "emails": [e]} for n, e in UNITS.items()],
                "map": [{"prefix": p, "unit": u} for p, u in UNIT_MAP],
            },
        }

    def write_config(self, data_dir: str | Path) -> Path:
        """Write ``data_dir/demo.toml`` for ``govaudit audit --config`` and return its path."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "demo.toml"
        path.write_text(to_toml(self.config_dict(data_dir.resolve())), encoding="utf-8")
        return path


class DemoProcess(DemoSite):
    """The same demo site, served by a child process (``python -m govaudit.demo.server``).

    ``govaudit demo`` crawls, renders and audits in its own process; serving the site from
    a child keeps the two from competing for one GIL (a starved server thread would turn
    into false ``links.timeout`` findings). Same API as DemoSite. The child stops when
    told, or when its stdin closes (the parent died)."""

    def __init__(self, anchor: date | None = None, revision: int = 1, port: int = 0) -> None:
        super().__init__(anchor, revision, port)
        self._proc: subprocess.Popen[str] | None = None
        self._dns = ""

    def start(self) -> DemoProcess:
        import selectors

        if self._proc is not None:
            return self
        cmd = [sys.executable, "-m", "govaudit.demo.server", self.anchor.isoformat()]
        cmd += [str(self.revision), str(self.requested_port)]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=60)
        line = self._proc.stdout.readline() if ready else ""
        try:
            info = json.loads(line)
        except ValueError:
            self.stop()
            raise OSError(f"the demo site process did not start: {line.strip()!r}") from None
        if "error" in info:
            self.stop()
            raise OSError(info["error"])
        self.ports = Ports(*info["ports"])
        self._dns = info["dns_server"]
        self.content = DemoContent(self.anchor, self.revision, self.ports)
        return self

    @property
    def dns_server(self) -> str:
        if not self._dns:
            raise RuntimeError("DemoProcess is not started")
        return self._dns

    def stop(self) -> None:
        proc, self._proc, self._dns = self._proc, None, ""
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.close()  # EOF: the child stops its servers and exits
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def _child_main(argv: list[str]) -> int:
    """``python -m govaudit.demo.server ANCHOR REVISION PORT``: serve until stdin closes."""
    anchor, revision, port = date.fromisoformat(argv[0]), int(argv[1]), int(argv[2])
    try:
        demo = DemoSite(anchor=anchor, revision=revision, port=port).start()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    try:
        assert demo.ports is not None
        p = demo.ports
        info = {"ports": [p.www, p.zwfw, p.refused], "dns_server": demo.dns_server}
        print(json.dumps(info), flush=True)
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    return 0


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for the demo config: scalars, lists, tables and arrays of tables."""
    lines = [f"# govaudit config for the bundled demo site ({site_data.SITE_NAME}); generated."]
    lines = lines if not prefix else []
    tables = []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in tables:
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            lines.append(f"\n[{name}]")
            lines.append(to_toml(v, f"{name}."))
        else:
            for item in v:
                lines.append(f"\n[[{name}]]")
                lines.append(to_toml(item, f"{name}."))
    text = "\n".join(x.rstrip("\n") for x in lines if x != "") + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
