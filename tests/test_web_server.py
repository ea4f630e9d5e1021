"""The read-only report server: index, files, traversal refused, token off loopback."""

from __future__ import annotations

import http.client
import json
import logging
import os
from pathlib import Path

import pytest

from core.config import ConfigError, config_from_dict
from govaudit.cli import main
from reports.store import Store
from reports.web import safe_run_path, start_server

TOKEN = "t0ken-" + "x" * 20 + "-secret"
HOSTILE_SITE = "http://www.demo.gov.cn/<script>alert(1)</script>"


def make_store(data: Path) -> Store:
    store = Store.in_dir(data)
    good = store.create_run(HOSTILE_SITE, {}, [HOSTILE_SITE])
    store.replace_findings(
        good,
        [
            {
                "plugin": "links",
                "rule": "links.broken",
                "severity": "error",
                "url": "http://x/",
                "page": "http://y/",
                "message": "m",
                "evidence": {},
                "unit": "信息中心",
                "fingerprint": "f1",
            }
        ],
    )
    store.finish_run(good, "succeeded", pages_crawled=12, links_checked=34)
    d = store.run_dir(good)
    (d / "report.html").write_text("<html><body>报告正文</body></html>", encoding="utf-8")
    (d / "整改清单.xlsx").write_bytes(b"PK\x03\x04 workbook")
    (d / "findings.json").write_text(json.dumps({"schema": 1}), encoding="utf-8")
    (d / "units").mkdir()
    (d / "units" / "综合组.xlsx").write_bytes(b"PK unit")
    (d / ".hidden").write_text("hidden")
    (d / "escape").symlink_to(data)  # a link out of the run directory
    bad = store.create_run(HOSTILE_SITE, {}, [HOSTILE_SITE])
    store.finish_run(bad, "failed")
    store.add_run_error(
        bad, {"stage": "service", "error": "interrupted: process 4242 no longer exists"}
    )
    (data / "secret.txt").write_text("outside")
    return store


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("web") / "data"
    make_store(path)
    return path


def serve(data: Path, host: str = "127.0.0.1", token_env: str | None = None):
    config = config_from_dict(
        {
            "data_dir": str(data),
            "site": {"name": "示例局", "urls": ["http://www.demo.gov.cn/"]},
            "serve": {"host": host, "port": 0, "token_env": token_env},
        }
    )
    server, _thread = start_server(Store.in_dir(data), config, port=0)
    return server


def get(server, path: str, headers: dict | None = None, method: str = "GET"):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    conn.putrequest(method, path, skip_accept_encoding=True)  # the path goes out as written
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


@pytest.fixture(scope="module")
def local(data):
    server = serve(data)
    yield server
    server.shutdown()
    server.server_close()


def test_index_lists_sites_and_runs_escaped(local):
    resp, body = get(local, "/")
    text = body.decode()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "网站检查报告" in text and "检查记录" in text
    assert "成功" in text and "失败" in text
    assert "interrupted: process 4242 no longer exists" in text
    assert (
        "/runs/1/report.html" in text
        and "/runs/1/%E6%95%B4%E6%94%B9%E6%B8%85%E5%8D%95.xlsx" in text
    )
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert "/runs/2/report.html" not in text  # the failed run has no report


def test_run_files_are_served_read_only(local):
    resp, body = get(local, "/runs/1/report.html")
    assert resp.status == 200 and "报告正文" in body.decode()
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    resp, body = get(local, "/runs/1/%E6%95%B4%E6%94%B9%E6%B8%85%E5%8D%95.xlsx")
    assert resp.status == 200 and body == b"PK\x03\x04 workbook"
    assert resp.getheader("Content-Type").startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E6%95%B4" in resp.getheader("Content-Disposition")
    resp, body = get(local, "/runs/1/findings.json")
    assert resp.status == 200 and json.loads(body) == {"schema": 1}
    resp, body = get(local, "/runs/1/units/%E7%BB%BC%E5%90%88%E7%BB%84.xlsx")
    assert resp.status == 200 and body == b"PK unit"
    resp, _ = get(local, "/runs/1/")
    assert resp.status == 200  # a run directory shows its report
    for method in ("POST", "PUT", "DELETE"):
        resp, _ = get(local, "/runs/1/report.html", method=method)
        assert resp.status == 405


@pytest.mark.parametrize(
    "path",
    [
        "/runs/1/../../secret.txt",
        "/runs/1/%2e%2e/%2e%2e/secret.txt",
        "/runs/1/..%2f..%2fsecret.txt",
        "/runs/..%2fsecret.txt",
        "/runs/1/..%5c..%5csecret.txt",
        "/runs/1/escape/secret.txt",
        "/runs/1/escape/govaudit.sqlite",
        "/runs/1/.hidden",
        "/runs/1/report.html%00.txt",
        "/runs/%2fetc/passwd",
        "/govaudit.sqlite",
        "/secret.txt",
        "//etc/passwd",
        "/runs/3/report.html",
    ],
)
def test_traversal_refused(local, path):
    resp, body = get(local, path)
    assert resp.status == 404
    assert b"outside" not in body and b"SQLite" not in body


def test_safe_run_path_unit(data):
    root = (data / "runs").resolve()
    assert safe_run_path(root, "/runs/1/report.html") == root / "1" / "report.html"
    assert safe_run_path(root, "/runs/1/../2/report.html") is None


def test_token_required_off_loopback(data, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("GOVAUDIT_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="token_env"):
        serve(data, host="0.0.0.0")
    with pytest.raises(ConfigError, match="GOVAUDIT_TEST_TOKEN"):
        serve(data, host="0.0.0.0", token_env="GOVAUDIT_TEST_TOKEN")
    monkeypatch.setenv("GOVAUDIT_TEST_TOKEN", TOKEN)
    server = serve(data, host="0.0.0.0", token_env="GOVAUDIT_TEST_TOKEN")
    try:
        assert get(server, "/")[0].status == 401
        assert get(server, "/runs/1/report.html")[0].status == 401
        assert get(server, "/", {"Authorization": "Bearer wrong"})[0].status == 401
        assert get(server, "/?token=" + TOKEN[:-1])[0].status == 401
        assert get(server, "/", {"Authorization": f"Bearer {TOKEN}"})[0].status == 200
        assert get(server, "/runs/1/report.html", {"X-Govaudit-Token": TOKEN})[0].status == 200
        resp, _ = get(server, "/runs/1/report.html?token=" + TOKEN)
        assert resp.status == 200
        cookie = resp.getheader("Set-Cookie")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # The cookie alone lets the index's links work.
        jar = cookie.split(";")[0]
        assert get(server, "/runs/1/findings.json", {"Cookie": jar})[0].status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert "/runs/1/report.html" in caplog.text  # requests are logged …
    assert TOKEN not in caplog.text  # … but never the token


def test_serve_refuses_to_start_without_token(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GOVAUDIT_TEST_TOKEN", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[site]\nurls = ["http://127.0.0.1:9/"]\n'
        '[serve]\nhost = "0.0.0.0"\ntoken_env = "GOVAUDIT_TEST_TOKEN"\n',
        encoding="utf-8",
    )
    assert main(["serve", "--config", str(cfg)]) == 2
    assert "GOVAUDIT_TEST_TOKEN" in capsys.readouterr().err
    assert not (tmp_path / "data" / "serve.pid").exists()
    assert os.environ.get("GOVAUDIT_TEST_TOKEN") is None
