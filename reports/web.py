"""Read-only HTTP serving of the stored reports (``govaudit serve``).

``/`` is the sites dashboard and an index of runs (Chinese); ``/runs/<id>/<file>`` serves a
file of a run directory (report.html, 整改清单.xlsx, findings.json, units/…, screenshots); a
report.html this machine does not have is rendered from the database. Nothing
can be written and nothing outside a run directory can be read: paths with ``..``,
backslashes, NUL bytes or hidden parts are refused, and the resolved path (symlinks
followed) must stay inside its run directory.

Bound to 127.0.0.1 by default. On any other address a token is required (taken from the
environment variable named by ``serve.token_env``; the server refuses to start without
it), sent as ``Authorization: Bearer …``, ``X-Govaudit-Token: …`` or ``?token=…`` (which
sets an HttpOnly cookie so the links in the index keep working). Tokens are compared in
constant time and query strings are never logged.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import logging
import mimetypes
import os
import threading
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sqlalchemy import func, select

from core.config import Config, ConfigError
from reports.dashboard import render_report_from_db, render_sites
from reports.store import Store, findings, runs

log = logging.getLogger(__name__)

COOKIE = "govaudit_token"
STATUS_ZH = {
    "succeeded": "成功",
    "failed": "失败",
    "running": "运行中",
    "interrupted": "已中断",
}
KIND_ZH = {"audit": "检查", "reaudit": "重新分析", "recheck": "复查"}
#: Files listed for each run in the index, in this order.
RUN_FILES = [("report.html", "报告"), ("整改清单.xlsx", "整改清单"), ("findings.json", "JSON")]
MAX_RUNS = 200

mimetypes.add_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
mimetypes.add_type("message/rfc822", ".eml")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_for(config: Config) -> str | None:
    """The access token, or None on loopback. Raises ConfigError when one is needed but absent."""
    serve = config.serve
    name = serve.token_env
    value = os.environ.get(name) if name else None
    if is_loopback(serve.host):
        return value or None
    if not name:
        raise ConfigError(
            f"serve.host = {serve.host!r} is not loopback: set serve.token_env to the name of "
            "an environment variable holding an access token"
        )
    if not value:
        raise ConfigError(
            f"serve.host = {serve.host!r} is not loopback and the environment variable "
            f"{name} (serve.token_env) is not set: refusing to serve without a token"
        )
    if len(value) < 16:
        raise ConfigError(f"the token in {name} is too short; use at least 16 characters")
    return value


MAX_HANDLERS = 32  # requests served at once; more wait in the listen backlog
REQUEST_TIMEOUT = 15.0  # seconds a client may take to send its request (slowloris)


class ReportServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        config: Config,
        token: str | None,
        jobs: Callable[[], list[dict[str, Any]]] | None = None,
        sites: dict[str | None, Config] | None = None,
    ) -> None:
        if ":" in address[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(address, ReportHandler)
        self.store = store
        self.config = config
        self.token = token
        self.jobs = jobs
        self.sites = sites if sites is not None else config.site_configs()
        self.runs_root = (store.data_dir / "runs").resolve()
        self.request_timeout = REQUEST_TIMEOUT
        self.slots = threading.BoundedSemaphore(MAX_HANDLERS)
        self.allowed_hosts = allowed_hosts(address[0], self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        # At most MAX_HANDLERS threads: the accept loop waits for a free slot (a bounded
        # wait; a client that never sends its request is cut off by REQUEST_TIMEOUT).
        if not self.slots.acquire(timeout=self.request_timeout):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"


class ReportHandler(BaseHTTPRequestHandler):
    server: ReportServer
    server_version = "govaudit"
    sys_version = ""
    timeout = REQUEST_TIMEOUT  # socket timeout: an idle or half-sent request is dropped

    def setup(self) -> None:
        self.timeout = self.server.request_timeout
        super().setup()

    # --- plumbing ---------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line may carry ?token=…: log the path only.
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        log.info("%s %s %s", self.client_address[0], getattr(self, "command", "-"), path)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path
        log.info("%s %s %s %s", self.client_address[0], self.command, path, code)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self' 'unsafe-inline' data: blob:; connect-src 'none'; "
            "frame-ancestors 'none'; form-action 'none'",
        )
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, text: str) -> None:
        body = _page("错误", f"<p>{html.escape(text)}</p><p><a href='/'>返回首页</a></p>")
        self._send(status, body)

    def _authorised(self, query: dict[str, list[str]]) -> tuple[bool, bool]:
        """(allowed, came via ?token=)."""
        expected = self.server.token
        if expected is None:
            return True, False
        offered: list[tuple[str, bool]] = []
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append((auth[7:].strip(), False))
        if self.headers.get("X-Govaudit-Token"):
            offered.append((self.headers["X-Govaudit-Token"].strip(), False))
        for value in query.get("token", []):
            offered.append((value, True))
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except Exception:
            pass
        if COOKIE in cookie:
            offered.append((cookie[COOKIE].value, False))
        want = expected.encode("utf-8")
        for value, via_query in offered:
            if hmac.compare_digest(value.encode("utf-8"), want):
                return True, via_query
        return False, False

    def do_HEAD(self) -> None:
        self.do_GET()

    def _host_ok(self) -> bool:
        """On loopback, only loopback names (no DNS rebinding); elsewhere any Host."""
        allowed = self.server.allowed_hosts
        if allowed is None:
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        return host in allowed

    def do_GET(self) -> None:
        if not self._host_ok():
            self._send(HTTPStatus.MISDIRECTED_REQUEST, _page("主机名错误", "<p>主机名不符。</p>"))
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        allowed, via_query = self._authorised(query)
        if not allowed:
            self._send(
                HTTPStatus.UNAUTHORIZED,
                _page("需要访问令牌", "<p>请提供访问令牌（Authorization: Bearer …）。</p>"),
                headers={"WWW-Authenticate": 'Bearer realm="govaudit"'},
            )
            return
        extra: dict[str, str] = {}
        if via_query:
            # A link with ?token= sets a cookie so the index's links work without it.
            extra["Set-Cookie"] = f"{COOKIE}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"
        try:
            self._route(parts.path, extra)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            log.exception("error serving %s", parts.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "服务器内部错误")

    def _refuse_write(self) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            _page("只读", "<p>报告服务为只读。</p>"),
            headers={"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse_write  # noqa: N815

    # --- routes -----------------------------------------------------------------------
    def _route(self, raw_path: str, extra: dict[str, str]) -> None:
        if raw_path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, render_index(self.server), headers=extra)
            return
        if raw_path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8", extra)
            return
        path = safe_run_path(self.server.runs_root, raw_path)
        if path is None or (path.is_dir() and not (path / "report.html").is_file()):
            body = self._report_from_db(raw_path)
            if body is not None:
                self._send(HTTPStatus.OK, body, headers=extra)
                return
        if path is None:
            self._error(HTTPStatus.NOT_FOUND, "找不到该文件")
            return
        if path.is_dir():
            index = safe_run_path(self.server.runs_root, raw_path.rstrip("/") + "/report.html")
            if index is None or not index.is_file():
                self._error(HTTPStatus.NOT_FOUND, "该次检查没有报告")
                return
            path = index
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "image/svg+xml"):
            ctype += "; charset=utf-8"
        headers = dict(extra)
        if not (ctype.startswith("text/html") or ctype.startswith("image/")):
            disposition = (
                "inline" if ctype.startswith(("text/", "application/json")) else "attachment"
            )
            headers["Content-Disposition"] = (
                f"{disposition}; filename*=UTF-8''{quote(path.name, safe='')}"
            )
        self._send(HTTPStatus.OK, path.read_bytes(), ctype, headers)

    def _report_from_db(self, raw_path: str) -> bytes | None:
        """``/runs/<id>/report.html`` (or ``/runs/<id>/``) of a run whose directory is not
        on this machine: made from the database."""
        parts = [p for p in unquote(raw_path).split("/") if p]
        if len(parts) not in (2, 3) or parts[0] != "runs" or not parts[1].isdigit():
            return None
        if len(parts) == 3 and parts[2] != "report.html":
            return None
        run_dir = self.server.runs_root / parts[1]
        if os.path.lexists(run_dir / "report.html") or run_dir.is_symlink():
            return None  # a file is there (perhaps refused): never replaced by the database
        return render_report_from_db(self.server.store, int(parts[1]))


def allowed_hosts(bound: str, port: int) -> set[str] | None:
    """Host header values a loopback server answers (None: not on loopback, any Host)."""
    if not is_loopback(bound) and bound not in ("", "0.0.0.0", "::"):
        return None
    if bound in ("", "0.0.0.0", "::"):
        return None
    names = {"localhost", "127.0.0.1", "[::1]", bound.lower() if ":" not in bound else f"[{bound}]"}
    return names | {f"{n}:{port}" for n in names}


def safe_run_path(runs_root: Path, raw_path: str) -> Path | None:
    """``/runs/<id>/<rel>`` → a file or directory inside that run's directory, else None."""
    path = unquote(raw_path)
    if "\x00" in path or "\\" in path:
        return None
    segments = path.split("/")
    if len(segments) < 3 or segments[0] != "" or segments[1] != "runs":
        return None
    run, rest = segments[2], [s for s in segments[3:] if s != ""]
    if not run.isdigit() or not run.isascii():
        return None
    if any(s in (".", "..") or s.startswith(".") for s in rest):
        return None
    run_dir = (runs_root / run).resolve()
    target = run_dir.joinpath(*rest).resolve() if rest else run_dir
    if run_dir.parent != runs_root or not target.is_relative_to(run_dir):
        return None
    if not target.exists():
        return None
    return target


# ---- index ----------------------------------------------------------------------------


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #ccc;"
        "padding:4px 8px;text-align:left;font-size:14px}th{background:#f0f3f7}"
        ".failed,.interrupted{color:#b00020}.running{color:#a15c00}.succeeded{color:#1b7a34}"
        "small{color:#666}.pass{color:#1b7a34;font-weight:bold}.fail{color:#b00020;"
        "font-weight:bold}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def _fmt(ts: Any) -> str:
    if isinstance(ts, datetime):
        # Stored in UTC; shown in the server's local time.
        from datetime import UTC

        return ts.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return "" if ts is None else str(ts)


def render_index(server: ReportServer) -> bytes:
    store = server.store
    e = html.escape
    with store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(
                    runs.c.id,
                    runs.c.site,
                    runs.c.kind,
                    runs.c.status,
                    runs.c.started_at,
                    runs.c.finished_at,
                    runs.c.pages_crawled,
                    runs.c.links_checked,
                    runs.c.errors,
                )
                .order_by(runs.c.id.desc())
                .limit(MAX_RUNS)
            ).mappings()
        ]
        ids = [r["id"] for r in rows]
        counts: dict[int, dict[str, int]] = {}
        if ids:
            q = (
                select(findings.c.run_id, findings.c.severity, func.count())
                .where(findings.c.run_id.in_(ids))
                .group_by(findings.c.run_id, findings.c.severity)
            )
            for run_id, sev, n in conn.execute(q):
                counts.setdefault(run_id, {})[sev] = n
    parts: list[str] = ["<h2>网站</h2>", render_sites(store, server.sites)]
    if server.jobs is not None:
        parts.append("<h2>计划任务</h2>")
        jobs = server.jobs()
        if not jobs:
            parts.append("<p>没有计划任务。</p>")
        else:
            parts.append("<table><tr><th>任务</th><th>时间表</th><th>下次运行</th></tr>")
            for j in jobs:
                parts.append(
                    f"<tr><td>{e(str(j.get('name', '')))}</td><td><code>{e(str(j.get('cron', '')))}"
                    f"</code></td><td>{e(_fmt(j.get('next_run')) or '已暂停')}</td></tr>"
                )
            parts.append("</table>")
    parts.append("<h2>检查记录</h2>")
    if rows:
        parts.append(
            "<table><tr><th>编号</th><th>网站</th><th>类型</th><th>状态</th><th>开始</th><th>结束</th>"
            "<th>页面</th><th>链接</th><th>严重</th><th>警告</th><th>提示</th><th>文件</th><th>错误</th></tr>"
        )
        for r in rows:
            c = counts.get(r["id"], {})
            run_dir = store.data_dir / "runs" / str(r["id"])
            links = " ".join(
                f"<a href='/runs/{r['id']}/{quote(fname)}'>{label}</a>"
                for fname, label in RUN_FILES
                if (run_dir / fname).is_file()
            )
            errors = r["errors"] or []
            err = "；".join(str(x.get("error", ""))[:200] for x in errors[:3])
            parts.append(
                f"<tr><td>{r['id']}</td><td><code>{e(r['site'])}</code></td>"
                f"<td>{e(KIND_ZH.get(r['kind'] or 'audit', r['kind'] or ''))}</td>"
                f"<td class='{e(r['status'])}'>{e(STATUS_ZH.get(r['status'], r['status']))}</td>"
                f"<td>{e(_fmt(r['started_at']))}</td><td>{e(_fmt(r['finished_at']))}</td>"
                f"<td>{r['pages_crawled'] or 0}</td><td>{r['links_checked'] or 0}</td>"
                f"<td>{c.get('error', 0)}</td><td>{c.get('warning', 0)}</td><td>{c.get('info', 0)}</td>"
                f"<td>{links}</td><td><small>{e(err)}</small></td></tr>"
            )
        parts.append("</table>")
    parts.append("<p><small>只读服务 · govaudit</small></p>")
    return _page("网站检查报告", "".join(parts))


# ---- running ----------------------------------------------------------------------------


def start_server(
    store: Store,
    config: Config,
    jobs: Callable[[], list[dict[str, Any]]] | None = None,
    port: int | None = None,
    sites: dict[str | None, Config] | None = None,
) -> tuple[ReportServer, threading.Thread]:
    """Bind and serve in a daemon thread. Raises ConfigError (no token) or OSError (bind)."""
    token = token_for(config)
    server = ReportServer(
        (config.serve.host, config.serve.port if port is None else port),
        store,
        config,
        token,
        jobs,
        sites,
    )
    thread = threading.Thread(target=server.serve_forever, name="govaudit-web", daemon=True)
    thread.start()
    log.info("serving reports on %s%s", server.url, " (token required)" if token else "")
    return server, thread
