"""The 政府信息公开 entrance is followed to its own host (crawl.follow_entrances).

A portal (www.*) links its 政府信息公开 column on a platform host (xxgk.*) that is not in
site.extra_hosts, as 邯郸 does (hd.gov.cn → hdzfxxgk.hd.gov.cn, tests/real). Both hosts are
served by one loopback server and reached with --resolve; the Host header picks the site.
"""

from __future__ import annotations

import json

import pytest

from tests.loopback import LoopbackServer, Reply, run_govaudit

WWW = "www.entrance-test.gov.cn"
XXGK = "xxgk.entrance-test.gov.cn"


def _page(title: str, body: str) -> bytes:
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a></div><h1>{title}</h1>{body}</body></html>"
    ).encode()


def _sites(port: int) -> dict[tuple[str, str], bytes]:
    x = f"http://{XXGK}:{port}"
    return {
        (WWW, "/"): _page(
            "测试市人民政府",
            f"<ul><li><a href='{x}/'>政府信息公开</a></li>"
            "<li><a href='/zcjd/'>政策解读</a></li><li><a href='/hdjl/'>互动交流</a></li></ul>",
        ),
        (WWW, "/zcjd/"): _page("政策解读", "<p>政策解读栏目</p>" * 5),
        (WWW, "/hdjl/"): _page("互动交流", "<p>互动交流栏目</p>" * 5),
        # the platform: three of the four parts, no 年报
        (XXGK, "/"): _page(
            "测试市政府信息公开",
            "<ul><li><a href='/zn/'>政府信息公开指南</a></li>"
            "<li><a href='/zd/'>政府信息公开制度</a></li>"
            "<li><a href='/fdzdgknr/'>法定主动公开内容</a></li></ul>",
        ),
        (XXGK, "/zn/"): _page("政府信息公开指南", "<a href='/zn/a/'>市政府部门指南</a>"),
        (XXGK, "/zd/"): _page("政府信息公开制度", "<p>制度</p>" * 5),
        (XXGK, "/fdzdgknr/"): _page("法定主动公开内容", "<p>内容</p>" * 5),
        (XXGK, "/zn/a/"): _page("市政府部门指南", "<a href='/zn/a/b/'>更深一层</a>"),
        (XXGK, "/zn/a/b/"): _page("更深一层", "<p>不应抓取</p>"),
    }


@pytest.fixture(scope="module")
def server():
    srv = LoopbackServer().start()
    pages = _sites(srv.port)

    def handler(req) -> Reply:
        host = (req.headers.get("host") or "").split(":")[0]
        body = pages.get((host, req.path.split("?")[0]))
        return Reply(200, body) if body is not None else Reply(404, b"<html>404</html>")

    srv.default.handler = handler
    yield srv
    srv.stop()


def _audit(server: LoopbackServer, tmp_path, crawl: str = "") -> dict:
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[crawl]\nobey_robots = false\n{crawl}\n',
        encoding="utf-8",
    )
    port = server.port
    proc = run_govaudit(
        "audit",
        f"http://{WWW}:{port}/",
        "--config",
        str(cfg),
        "--resolve",
        f"{WWW}:{port}:127.0.0.1",
        "--resolve",
        f"{XXGK}:{port}:127.0.0.1",
        "--plugins",
        "columns",
        "--today",
        "2026-05-01",
        "--out",
        str(tmp_path / "out"),
        "-q",
        cwd=str(tmp_path),
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))


def _gets(server: LoopbackServer, host: str) -> set[str]:
    return {
        r.path
        for r in server.requests
        if r.method == "GET" and (r.headers.get("host") or "").split(":")[0] == host
    }


def test_entrance_host_is_crawled_to_its_depth_and_its_parts_judged(server, tmp_path):
    server.requests.clear()
    data = _audit(server, tmp_path)
    got = _gets(server, XXGK)
    # entrance at depth 1; crawl.entrance_depth = 2 → depth 3 (/zn/a/) but not /zn/a/b/
    assert {"/", "/zn/", "/zd/", "/fdzdgknr/", "/zn/a/"} <= got
    assert "/zn/a/b/" not in got
    parts = [f for f in data["findings"] if f["rule"] == "columns.part_missing"]
    assert [f["evidence"]["part"] for f in parts] == ["政府信息公开工作年度报告"]
    assert parts[0]["url"] == f"http://{XXGK}:{server.port}/"
    assert not [f for f in data["findings"] if f["rule"] == "columns.not_checked"]


def test_without_entrances_the_parts_are_not_checked_and_say_why(server, tmp_path):
    server.requests.clear()
    data = _audit(server, tmp_path, "follow_entrances = []")
    assert _gets(server, XXGK) <= {"/"}  # at most checked as a link, never crawled
    assert not [f for f in data["findings"] if f["rule"] == "columns.part_missing"]
    (nc,) = [f for f in data["findings"] if f["rule"] == "columns.not_checked"]
    assert nc["severity"] == "info"
    assert nc["evidence"]["rule"] == "columns.part_missing"
    assert XXGK in nc["evidence"]["reason"] and "crawl.follow_entrances" in nc["evidence"]["reason"]
    assert nc["evidence"]["parts_not_seen"] == [
        "政府信息公开指南",
        "政府信息公开制度",
        "法定主动公开内容",
        "政府信息公开工作年度报告",
    ]
