"""End to end: one crawl of a hostile loopback site, every link outcome asserted.

One server and one `govaudit audit --plugins links` subprocess are shared by the module;
each test asserts one behaviour against findings.json, the store, or what the server saw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reports.store import Store
from tests.loopback import LoopbackServer, Reply, free_port, run_govaudit

GBK_TITLE_RIGHT = "自然资源和规划局通知公告"
GBK_TITLE_WRONG = "国土空间总体规划公示"
GBK_TITLE_MISSING = "政府信息公开年度报告"
HUGE_BYTES = 5 * 1024 * 1024


def _gbk(title: str, decl: str) -> bytes:
    head = f'<meta charset="{decl}">' if decl else ""
    return (
        f"<html><head>{head}<title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>发布日期：2024年3月1日 正文内容</p></body></html>"
    ).encode("gbk")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("outcomes")
    srv = LoopbackServer().start()
    dead = free_port()
    home = f"""<html><head><title>测试局首页</title></head><body>
    <a href="/about.html">机构概况</a>
    <a href="/missing.html">已删除的通知</a>
    <a href="/err500">服务器错误</a>
    <a href="/slow.html">很慢的页面</a>
    <a href="http://nowhere.invalid/x.html">无效域名</a>
    <a href="http://127.0.0.1:{dead}/down.html">停止服务的网站</a>
    <a href="/reset.pdf">被重置</a>
    <a href="/loop1">循环跳转</a>
    <a href="/chain0">多次跳转</a>
    <a href="/moved">已迁移</a>
    <a href="/soft.html">软404</a>
    <a href="/forbid.pdf">禁止访问附件</a>
    <a href="/rate.doc">限流附件</a>
    <a href="/waf.html">防火墙</a>
    <a href="/headno.pdf">HEAD不支持</a>
    <a href="/big.zip">大附件</a>
    <a href="/gbk-right.html">GBK正确声明</a>
    <a href="/gbk-wrong.html">GBK错误声明</a>
    <a href="/gbk-missing.html">GBK无声明</a>
    <a href="/cal?d=1">日历</a>
    <a href="/huge.html">超大页面</a>
    <a href="/private/secret.html">robots禁止</a>
    <a href="mailto:xxzx@example.gov.cn">信箱</a>
    <a href="tel:01012345678">电话</a>
    <a href="javascript:void(0)">脚本</a>
    <a href="data:text/plain,hi">数据</a>
    <a href="  /dup.pdf  ">附件一</a><a href="/dup.pdf">附件一(重复)</a>
    <a href="HTTP://127.0.0.1:{srv.port}/upper.html">大写协议</a>
    <a href="/文件/通知.html">中文路径</a>
    <a href="/dir/based.html">基准地址页</a>
    <img src="/logo-missing.png" alt="网站标识">
    </body></html>"""
    srv.route("/", html=home)
    srv.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    srv.route(
        "/about.html",
        html='<html><title>机构概况</title><a href="/">首页</a><a href="/dup.pdf">附件</a>'
        '<a href="/%E6%96%87%E4%BB%B6/%E9%80%9A%E7%9F%A5.html">通知(编码)</a>'
        '<a href="/missing.html">旧链接</a></html>',
    )
    srv.route("/err500", status=500)
    srv.route("/slow.html", delay=12)
    srv.route("/reset.pdf", reset=True)
    srv.route("/loop1", status=302, headers={"Location": "/loop2"})
    srv.route("/loop2", status=301, headers={"Location": "/loop1"})
    for i in range(15):
        srv.route(f"/chain{i}", status=302, headers={"Location": f"/chain{i + 1}"})
    srv.route("/moved", status=301, headers={"Location": "/about.html"})
    srv.route(
        "/soft.html",
        html="<html><title>提示信息</title><body><h1>您访问的页面不存在</h1></body></html>",
    )
    srv.route("/forbid.pdf", status=403)
    srv.route("/rate.doc", status=429)
    srv.route(
        "/waf.html",
        html="<html><title>网站防火墙 - 访问被拦截</title><body>您的请求已被安全狗拦截</body></html>",
    )
    srv.route("/headno.pdf", head_status=405, body=b"%PDF-1.4 ok", content_type="application/pdf")
    srv.route("/big.zip", head_status=501, body_size=60_000_000, content_type="application/zip")
    srv.route("/gbk-right.html", body=_gbk(GBK_TITLE_RIGHT, "gb2312"), content_type="text/html")
    srv.route(
        "/gbk-wrong.html",
        body=_gbk(GBK_TITLE_WRONG, "utf-8"),
        content_type="text/html; charset=utf-8",
    )
    srv.route("/gbk-missing.html", body=_gbk(GBK_TITLE_MISSING, ""), content_type="text/html")

    def calendar(req):
        n = int(re.search(r"d=(\d+)", req.path).group(1))
        return Reply(
            200,
            f"<html><title>活动日历</title><a href='/cal?d={n + 1}'>下一天</a>"
            f"<a href='/cal?d={n + 2}'>后天</a></html>".encode(),
        )

    srv.route("/cal", handler=calendar)
    filler = "<p>" + "国土空间规划 " * 60 + "</p>\n"
    body = "<html><title>超大页面</title><body>" + filler * (HUGE_BYTES // len(filler.encode()))
    srv.route("/huge.html", html=body + '<a href="/after-huge.html">尾部链接</a></body></html>')
    srv.route("/after-huge.html", html="<html><title>尾部</title></html>")
    srv.route("/private/secret.html", html="<html><title>secret</title></html>")
    srv.route("/dup.pdf", body=b"%PDF-1.4", content_type="application/pdf")
    srv.route("/upper.html", html="<html><title>大写</title></html>")
    srv.route(
        "/%E6%96%87%E4%BB%B6/%E9%80%9A%E7%9F%A5.html",
        html="<html><title>中文路径通知</title></html>",
    )
    srv.route(
        "/dir/based.html",
        html='<html><head><base href="/other/"></head><title>基准</title>'
        '<a href="target.html">相对链接</a></html>',
    )
    srv.route("/other/target.html", html="<html><title>目标</title></html>")

    config = work / "govaudit.toml"
    config.write_text(
        f"""
[site]
urls = ["{srv.url("/")}"]
[crawl]
timeout = 10.0
retries = 0
max_redirects = 10
max_query_variants = 5
max_page_bytes = 3000000
autothrottle = false
concurrency_per_host = 8
""",
        encoding="utf-8",
    )
    proc = run_govaudit(
        "audit",
        "--config",
        str(config),
        "--data-dir",
        str(work / "data"),
        "--out",
        str(work / "out"),
        "--plugins",
        "links",
        cwd=str(work),
    )
    findings = json.loads((work / "out" / "findings.json").read_text(encoding="utf-8"))
    store = Store.in_dir(work / "data")
    snap = store.snapshot(findings["run"]["id"])
    yield {"srv": srv, "proc": proc, "findings": findings, "snap": snap, "dead": dead}
    srv.stop()


def _by_url(site, path_or_url: str) -> list[dict]:
    url = path_or_url if "://" in path_or_url else site["srv"].url(path_or_url)
    return [f for f in site["findings"]["findings"] if f["url"] == url]


def _rule(site, path_or_url: str) -> set[str]:
    return {f["rule"] for f in _by_url(site, path_or_url)}


def test_run_exits_1_with_error_findings(site):
    assert site["proc"].returncode == 1, site["proc"].stderr
    run = site["findings"]["run"]
    assert run["status"] == "succeeded"
    assert run["pages_crawled"] >= 10
    assert "crawl:" in site["proc"].stderr  # progress line


def test_404_and_500_are_broken_with_codes(site):
    f404 = _by_url(site, "/missing.html")
    # Linked from the homepage and from about.html: one finding per source page.
    assert {f["page"] for f in f404} == {site["srv"].url("/"), site["srv"].url("/about.html")}
    assert all(f["rule"] == "links.broken" and f["evidence"]["code"] == 404 for f in f404)
    home = [f for f in f404 if f["page"] == site["srv"].url("/")][0]
    assert home["evidence"]["on_homepage"] is True
    assert home["evidence"]["text"] == "已删除的通知"
    assert "404" in home["message"]
    f500 = _by_url(site, "/err500")
    assert [f["evidence"]["code"] for f in f500] == [500]


def test_timeout(site):
    f = _by_url(site, "/slow.html")
    assert [x["rule"] for x in f] == ["links.timeout"]
    assert f[0]["evidence"]["kind"] == "timeout"


def test_dns_failure_via_invalid_tld(site):
    f = _by_url(site, "http://nowhere.invalid/x.html")
    assert [(x["rule"], x["evidence"]["kind"]) for x in f] == [("links.broken", "dns_failure")]
    assert f[0]["evidence"]["internal"] is False


def test_connection_refused_and_reset(site):
    refused = _by_url(site, f"http://127.0.0.1:{site['dead']}/down.html")
    assert [x["evidence"]["kind"] for x in refused] == ["connection_refused"]
    reset = _by_url(site, "/reset.pdf")
    assert [x["evidence"]["kind"] for x in reset] == ["connection_reset"]
    assert reset[0]["rule"] == "links.broken"


def test_redirect_loop_and_too_many_redirects(site):
    loop = _by_url(site, "/loop1")
    assert [x["rule"] for x in loop] == ["links.redirect_loop"]
    assert loop[0]["evidence"]["kind"] == "redirect_loop"
    hops = [u for _, u in loop[0]["evidence"]["redirects"]]
    assert hops == [site["srv"].url("/loop2"), site["srv"].url("/loop1")]
    chain = _by_url(site, "/chain0")
    assert [x["evidence"]["kind"] for x in chain] == ["too_many_redirects"]
    assert len(chain[0]["evidence"]["redirects"]) == 11
    # A single good redirect is fine and recorded.
    assert _by_url(site, "/moved") == []
    check = site["snap"].check(site["srv"].url("/moved"))
    assert check.status.is_ok and check.redirects == [(301, site["srv"].url("/about.html"))]


def test_soft_404_is_a_warning(site):
    f = _by_url(site, "/soft.html")
    assert [(x["rule"], x["severity"]) for x in f] == [("links.soft_404", "warning")]
    # The server answers a real 404 for a random path: no site-level soft-404 finding.
    assert not [x for x in site["findings"]["findings"] if x["page"] is None]
    probes = [c for c in site["snap"].checks() if c.method == "probe"]
    assert len(probes) == 1 and probes[0].status.code == 404


def test_403_429_and_firewall_page_are_blocked_not_broken(site):
    for path, code in (("/forbid.pdf", 403), ("/rate.doc", 429), ("/waf.html", 200)):
        f = _by_url(site, path)
        assert [(x["rule"], x["severity"]) for x in f] == [("links.blocked", "info")], path
        assert f[0]["evidence"]["code"] == code


def test_head_refused_falls_back_to_get(site):
    srv = site["srv"]
    assert _by_url(site, "/headno.pdf") == []
    methods = [r.method for r in srv.requests_for("/headno.pdf")]
    assert methods == ["HEAD", "GET"]
    check = site["snap"].check(srv.url("/headno.pdf"))
    assert check.status.is_ok and check.method == "GET"


def test_big_attachment_not_downloaded_whole(site):
    srv = site["srv"]
    assert _by_url(site, "/big.zip") == []
    route = srv.find("/big.zip")
    assert route.sent < 60_000_000 // 3, route.sent
    assert site["snap"].check(srv.url("/big.zip")).status.is_ok


@pytest.mark.parametrize(
    "path,title",
    [
        ("/gbk-right.html", GBK_TITLE_RIGHT),
        ("/gbk-wrong.html", GBK_TITLE_WRONG),
        ("/gbk-missing.html", GBK_TITLE_MISSING),
    ],
)
def test_gbk_pages_decode_right(site, path, title):
    page = site["snap"].page(site["srv"].url(path))
    assert page is not None
    assert page.title == title
    assert "发布日期：2024年3月1日" in page.html
    assert "\ufffd" not in page.html


def test_calendar_trap_ends(site):
    cal = [r for r in site["srv"].requests if r.path.startswith("/cal")]
    assert 0 < len(cal) <= 5 + 1


def test_huge_page_truncated_safely(site):
    page = site["snap"].page(site["srv"].url("/huge.html"))
    assert page is not None and page.title == "超大页面"
    assert page.meta.get("_truncated") is True
    assert len(page.html.encode("utf-8")) <= 3_000_000
    # Everything else in the run still worked.
    assert site["snap"].page(site["srv"].url("/about.html")) is not None


def test_robots_txt_obeyed(site):
    assert site["srv"].requests_for("/private/secret.html") == []
    assert _by_url(site, "/private/secret.html") == []


def test_mailto_tel_javascript_data_not_checked(site):
    targets = {link.target for link in site["snap"].links()}
    assert not [t for t in targets if t.split(":")[0] in ("mailto", "tel", "javascript", "data")]


def test_duplicates_checked_once(site):
    srv = site["srv"]
    assert len(srv.requests_for("/dup.pdf")) == 1
    links = site["snap"].links_to(srv.url("/dup.pdf"))
    assert {link.source for link in links} == {srv.url("/"), srv.url("/about.html")}
    home_links = [link for link in links if link.source == srv.url("/")]
    assert len(home_links) == 1 and home_links[0].raw.strip() == "/dup.pdf"


def test_uppercase_scheme_base_href_and_chinese_paths(site):
    srv = site["srv"]
    assert len(srv.requests_for("/upper.html")) == 1
    assert len(srv.requests_for("/other/target.html")) == 1
    # Raw and percent-encoded Chinese paths are one target, fetched once, found OK.
    encoded = "/%E6%96%87%E4%BB%B6/%E9%80%9A%E7%9F%A5.html"
    assert len(srv.requests_for(encoded)) == 1
    page = site["snap"].page(srv.url(encoded))
    assert page is not None and page.title == "中文路径通知"
    sources = {link.source for link in site["snap"].links_to(srv.url(encoded))}
    assert sources == {srv.url("/"), srv.url("/about.html")}


def test_missing_image_on_homepage(site):
    f = _by_url(site, "/logo-missing.png")
    assert [(x["rule"], x["evidence"]["tag"], x["evidence"]["text"]) for x in f] == [
        ("links.broken", "img", "网站标识")
    ]


def test_site_data_for_scorecard(site):
    run_id = site["findings"]["run"]["id"]
    data_dir = Path(site["snap"].store.data_dir)
    row = Store.in_dir(data_dir).run_row(run_id)
    sd = row["site_data"]
    broken = [f for f in site["findings"]["findings"] if f["rule"] == "links.broken"]
    home = [f for f in broken if f["evidence"]["on_homepage"]]
    assert sd["links.broken_homepage"] == len(home) > 0
    assert sd["links.broken_other"] == len(broken) - len(home) > 0
    table = sd["links.table"]
    assert table["columns"] and any("404" in str(r[0]) for r in table["rows"])
