"""The report server against hostile clients and careless operators (issue 17, items 3, 7-9).

A real `start_server` on loopback and real sockets: a report.html that is a symlink out of
the data directory is never served (directory defaults included); a Host header that is not
a loopback name is refused (DNS rebinding); half-sent requests are cut off and do not pile
up threads; GOVAUDIT_TOKEN protects the server without further config; bad numbers in the
config are refused at start-up, naming the key.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path

import pytest

from core.config import ConfigError, config_from_dict
from reports.store import Store
from reports.web import MAX_HANDLERS, start_server

TOKEN = "a-token-of-thirty-two-characters"


def _server(data: Path, **serve):
    config = config_from_dict(
        {
            "data_dir": str(data),
            "site": {"urls": ["http://www.demo.gov.cn/"]},
            "serve": {"host": "127.0.0.1", "port": 0, **serve},
        }
    )
    server, _thread = start_server(Store.in_dir(data), config, port=0)
    return server


def _get(server, path: str, host: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.putrequest("GET", path, skip_host=host is not None, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


@pytest.fixture()
def symlinked(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    store = Store.in_dir(data)
    run = store.create_run("http://www.demo.gov.cn/", {}, ["http://www.demo.gov.cn/"])
    store.finish_run(run, "succeeded")
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (store.run_dir(run) / "report.html").symlink_to(secret)
    return data


def test_a_symlinked_report_is_never_served_by_any_path(symlinked: Path) -> None:
    server = _server(symlinked, token_env=None)
    try:
        for path in ("/runs/1/report.html", "/runs/1/", "/runs/1", "/runs/1//"):
            status, body = _get(server, path)
            assert status == 404, path
            assert b"root:x:0" not in body, path
    finally:
        server.shutdown()


def test_only_loopback_host_names_are_answered_on_loopback(tmp_path: Path) -> None:
    server = _server(tmp_path / "data", token_env=None)
    port = server.server_address[1]
    try:
        assert _get(server, "/healthz", host=f"127.0.0.1:{port}")[0] == 200
        assert _get(server, "/healthz", host=f"localhost:{port}")[0] == 200
        assert _get(server, "/healthz", host="localhost")[0] == 200
        for rebinding in ("evil.example", f"evil.example:{port}", "", "127.0.0.1.evil.example"):
            assert _get(server, "/healthz", host=rebinding)[0] == 421, rebinding
    finally:
        server.shutdown()


def test_half_sent_requests_are_cut_off_and_threads_stay_bounded(tmp_path: Path) -> None:
    server = _server(tmp_path / "data", token_env=None)
    server.request_timeout = 1.0
    port = server.server_address[1]
    before = threading.active_count()
    sockets = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            sockets.append(s)
        time.sleep(0.5)
        assert threading.active_count() - before <= MAX_HANDLERS + 2
        # The stuck clients are cut off; a real client is answered within a few timeouts.
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            try:
                status = _get(server, "/healthz")[0]
                break
            except (TimeoutError, OSError):
                continue
        assert status == 200
    finally:
        for s in sockets:
            s.close()
        server.shutdown()


def test_govaudit_token_protects_the_server_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVAUDIT_TOKEN", TOKEN)
    server = _server(tmp_path / "data")  # no token_env in the config
    try:
        assert _get(server, "/")[0] == 401
        assert _get(server, "/", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"schedule": [{"cron": "0 2 * * 1", "max_pages": -1}]}, "schedule.0.max_pages"),
        ({"report": {"deadline_days": {"error": -1}}}, "report.deadline_days"),
        ({"mail": {"retries": -1}}, "mail.retries"),
    ],
)
def test_bad_numbers_are_refused_at_start_naming_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict(data, "govaudit.toml")
