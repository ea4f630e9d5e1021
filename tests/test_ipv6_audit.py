"""The ipv6 plugin against real servers on loopback: a dnslib zone on 127.0.0.1 and ::1, and
HTTP servers on 127.0.0.1 and ::1 that answer per host name (and per family).

Snapshots are written straight into a real SQLite store and audited with run_audits.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from audits.ipv6_compare import similarity, strip_noise
from audits.runner import run_audits
from core.config import config_from_dict
from core.dns import Resolver
from core.snapshot import Link, Page
from reports.store import Store
from tests.ipv6_servers import DualDNS, dual_http, v4_only_http
from tests.loopback import Reply, Request, run_govaudit

ARTICLE = "".join(
    f"<p>第{i}条 为进一步推进互联网协议第六版规模部署，本局对门户网站进行IPv6改造，"
    f"现将第{i}项工作安排通知如下。</p>"
    for i in range(60)
)


def noisy_home(links: str = "") -> str:
    """A homepage with per-request noise: a CSP nonce, a CSRF token, a clock, a timestamp."""
    token = secrets.token_urlsafe(24)
    return (
        "<html><head><title>某市自然资源和规划局</title>"
        f"<meta name='csrf-token' content='{secrets.token_hex(16)}'>"
        f"<script nonce='{secrets.token_hex(8)}'>var serverTime = {int(time.time() * 1000)};</script>"
        "</head><body><h1>某市自然资源和规划局</h1>"
        f"<div class='clock'>当前时间：{datetime.now():%Y-%m-%d %H:%M:%S}</div>"
        f"<form><input type='hidden' name='csrfmiddlewaretoken' value='{token}'></form>"
        f"{links}{ARTICLE}"
        f"<!-- page generated in {secrets.randbelow(900)} ms -->"
        "</body></html>"
    )


def page(title: str) -> str:
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{ARTICLE[:400]}</body></html>"


def site(host: str, path: str, family: int, port: int = 0) -> Reply:
    """What every test host answers, per family. Anything not listed is 404."""
    html = lambda body: Reply(200, body.encode())  # noqa: E731
    if host == "www.e2e.test":  # a small site for the end-to-end run through the crawler
        if path == "/":
            return html(
                noisy_home(
                    "<a href='/a.html'>甲</a><a href='/b.html'>乙</a><img src='/logo.png' alt='标识'>"
                    f"<script src='http://cdn4.test:{port}/lib.js'></script>"
                )
            )
        if path == "/a.html":
            return html(
                "<html><title>甲</title><a href='/'>首页</a><a href='/d.html'>丁</a>"
                "<a href='/e.html'>戊</a></html>"
            )
        host = "www.dual.test"  # the other pages as on the dual-stack host
    if host in ("www.dual.test", "alias.dual.test"):
        if path == "/":
            return html(noisy_home())
        if path == "/b.html" and family == 6:
            return Reply(404, b"not found over IPv6")  # the server's IPv6 vhost lacks it
        if path == "/e.html" and family == 6:
            return Reply(500, b"upstream error")
        if path == "/maint.html" and family == 6:  # 200, but not the page
            return html(
                "<html><body><h1>网站维护中</h1><p>IPv6 访问通道正在建设。</p></body></html>"
            )
        if path == "/logo.png":
            return Reply(200, b"\x89PNG\r\n" + b"\0" * 100, content_type="image/png")
        if path in (
            "/a.html",
            "/b.html",
            "/c.html",
            "/d.html",
            "/e.html",
            "/f.html",
            "/frame.html",
            "/maint.html",
        ):
            return html(page(path))
        return Reply(404, b"missing")
    if host == "cdn4.test" and path in ("/lib.js", "/style.css"):
        return Reply(200, b"/* asset */", content_type="text/plain")
    if host in ("www.v4only.test", "www.unreach.test", "v6dead.test"):
        return html(page(host))
    if host == "www.diff.test" and path == "/":
        if family == 6:
            return html(
                "<html><body><h1>Welcome to nginx!</h1><p>IPv6 default site.</p></body></html>"
            )
        return html(noisy_home())
    if host == "www.v6err.test" and path == "/":
        return Reply(503, b"service unavailable") if family == 6 else html(noisy_home())
    if host == "www.similar.test" and path == "/":
        body = noisy_home()
        if family == 6:  # one paragraph reworded: the same page
            body = body.replace("第3项工作安排通知如下", "第3项工作的安排通知如下，请遵照执行")
        return html(body)
    if host == "www.redir.test" and path == "/":
        if family == 6:
            return Reply(302, b"", headers={"Location": "/ipv6-landing.html"})
        return html(noisy_home())
    if host == "www.redir.test" and path == "/ipv6-landing.html":
        return html(noisy_home())
    return Reply(404, b"missing")


def app(family: int):
    def handler(req: Request) -> Reply:
        host, _, port = req.headers.get("host", "").rpartition(":")
        return site(host, urlsplit(req.path).path, family, int(port or 0))

    return handler


class Net:
    def __init__(self, dns: DualDNS, v4, v6, q, r) -> None:
        self.dns, self.v4, self.v6, self.q, self.r = dns, v4, v6, q, r
        self.port, self.qport, self.rport = v4.port, q.port, r.port

    def url(self, host: str, path: str = "/", port: int | None = None) -> str:
        return f"http://{host}:{port or self.port}{path}"


def records() -> dict:
    both = {"A": ["127.0.0.1"], "AAAA": ["::1"]}
    v4 = {"A": ["127.0.0.1"]}
    return {
        "www.dual.test": both,
        "alias.dual.test": {"CNAME": ["www.dual.test"]},
        "dual.test": {"NS": ["ns1.dual.test", "ns2.dual.test"]},
        "ns1.dual.test": both,
        "ns2.dual.test": {"AAAA": ["::1"]},
        "cdn4.test": v4,
        "v6dead.test": both,
        "www.v4only.test": v4,
        "v4only.test": {"NS": ["ns1.v4only.test", "ns2.v4only.test"]},
        "ns1.v4only.test": v4,
        "ns2.v4only.test": v4,
        "www.unreach.test": both,
        "unreach.test": {"NS": ["ns1.unreach.test", "ns2.unreach.test"]},
        "ns1.unreach.test": both,
        "ns2.unreach.test": both,
        "www.diff.test": both,
        "diff.test": {"NS": ["ns1.diff.test", "ns2.diff.test"]},
        "ns1.diff.test": both,
        "ns2.diff.test": v4,
        "www.v6err.test": both,
        "www.similar.test": both,
        "www.redir.test": both,
        "www.e2e.test": both,
        "e2e.test": {"NS": ["ns1.dual.test", "ns2.dual.test"]},
        "www.mapped.test": {"A": ["127.0.0.1"], "AAAA": ["::ffff:7f00:1"]},
    }


@pytest.fixture(scope="module")
def net():
    v4, v6 = dual_http()
    q = v4_only_http()  # www.unreach.test, v6dead.test: AAAA ::1, nothing on [::1]:Q
    r = v4_only_http()  # a second port the dual host serves over IPv4 only
    for srv, fam in ((v4, 4), (v6, 6), (q, 4), (r, 4)):
        srv.route("/*", handler=app(fam))
    with DualDNS(records(), chase_cnames=False, silent_v6=["unreach.test"]) as dns:
        with v4, v6, q, r:
            yield Net(dns, v4, v6, q, r)


def audit(
    tmp_path, net: Net, url: str, links: list[Link] = (), pages: list[Page] = (), dns=None, **opts
):
    store = Store(tmp_path / "govaudit.sqlite")
    run_id = store.create_run(site=url, config={}, start_urls=[url])
    store.add_pages(
        run_id, [Page(url=url, final_url=url, status_code=200, html="<html></html>"), *pages]
    )
    store.add_links(run_id, list(links))
    options = {"timeout": 2.0, "dns_timeout": 1.0, "ports": [], "check_links": bool(links)}
    options.update(opts)
    config = config_from_dict(
        {
            "site": {"urls": [url]},
            "dns": dns or {"server": net.dns.server},
            "plugins": {"ipv6": options},
        }
    )
    result = run_audits(store, run_id, config, ["ipv6"], resolver=Resolver(config.dns, timeout=2))
    assert result.errors == []
    return result


def rules(result) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in result.findings:
        out.setdefault(f["rule"], []).append(f)
    return out


# ---- the dual-stack site, with 二级/三级 links -------------------------------------------
def level_snapshot(net: Net) -> tuple[str, list[Page], list[Link]]:
    home = net.url("www.dual.test")
    u = lambda p, host="www.dual.test", port=None: net.url(host, p, port)  # noqa: E731
    a, b, c = u("/a.html"), u("/b.html"), u("/c.html", "alias.dual.test")
    links = [
        # 二级: 7 URLs; gone.html fails over IPv4 too (not counted) → 3 of 6 supported.
        Link(home, a, "a", "页面A"),  # ok
        Link(home, b, "a", "页面B"),  # 404 over IPv6 only
        Link(home, u("/logo.png"), "img", "标志"),  # ok
        Link(home, u("/lib.js", "cdn4.test"), "script", internal=False),  # host has no AAAA
        Link(home, u("/gone.html"), "a", "已删除"),  # 404 on both: excluded
        Link(home, u("/x.html", "v6dead.test", net.qport), "a", internal=False),  # v6 refused
        Link(home, c, "a", "页面C"),  # via a CNAME; ok
        Link(home, a, "a", "页面A（重复）"),  # duplicates count once
        Link(home, "mailto:xxzx@dual.test", "a"),  # not http(s): ignored
        # 三级: 6 URLs → 3 of 6 supported.
        Link(a, u("/d.html"), "a"),  # ok
        Link(a, a, "a"),  # already 二级
        Link(a, u("/e.html"), "a"),  # 500 over IPv6 only
        Link(a, u("/style.css", "cdn4.test"), "link", internal=False),  # no AAAA
        Link(a, u("/logo.png"), "img"),  # already 二级
        Link(b, u("/f.html"), "a"),  # ok
        Link(b, u("/d.html#top"), "a"),  # same as d.html
        Link(c, u("/frame.html"), "iframe"),  # ok
        Link(c, u("/maint.html"), "a"),  # 200 over both, but a maintenance page over IPv6
        # Links on a 三级 page are not counted (四级).
        Link(u("/d.html"), u("/lib.js", "cdn4.test"), "script", internal=False),
    ]
    pages = [
        Page(url=x, final_url=x, status_code=200, html="<html></html>", depth=1)
        for x in (a, b, c, u("/d.html"))
    ]
    return home, pages, links


@pytest.fixture(scope="module")
def dual_result(net, tmp_path_factory):
    home, pages, links = level_snapshot(net)
    v4_before, v6_before = len(net.v4.requests), len(net.v6.requests)
    result = audit(tmp_path_factory.mktemp("dual"), net, home, links, pages)
    result.requests = (net.v4.requests[v4_before:], net.v6.requests[v6_before:])
    return result


def test_dual_stack_homepage_passes(dual_result):
    found = rules(dual_result)
    for rule in (
        "ipv6.no_aaaa",
        "ipv6.unreachable",
        "ipv6.content_mismatch",
        "ipv6.nameserver_no_ipv6",
    ):
        assert rule not in found, found.get(rule)
    home = dual_result.site_data["ipv6.homepage"]
    assert home["reachable"] and home["same_content"]
    assert home["similarity"] == 1.0  # nonce, CSRF token, clock and timestamp were stripped
    ns = dual_result.site_data["ipv6.nameservers"]
    assert ns["zone"] == "dual.test" and ns["answering"] == 2


def test_link_rates_per_level_are_exact(dual_result):
    assert dual_result.site_data["ipv6.rates"] == {"二级": 3 / 6, "三级": 3 / 6}
    levels = dual_result.site_data["ipv6.levels"]
    counts = {lv: [levels[lv][k] for k in ("supported", "total", "excluded")] for lv in levels}
    assert counts == {"二级": [3, 6, 1], "三级": [3, 6, 0]}


def test_low_link_support_findings_list_the_failing_urls(dual_result, net):
    found = {f["evidence"]["level"]: f for f in rules(dual_result)["ipv6.link_support_low"]}
    assert set(found) == {"二级", "三级"}
    l2 = found["二级"]["evidence"]
    assert l2["rate"] == 0.5 and l2["target"] == 0.95
    failing = {x["url"]: x for x in l2["failing"]}
    assert set(failing) == {
        net.url("www.dual.test", "/b.html"),
        net.url("cdn4.test", "/lib.js"),
        net.url("v6dead.test", "/x.html", net.qport),
    }
    assert failing[net.url("www.dual.test", "/b.html")]["ipv6"] == "HTTP 404"
    assert failing[net.url("cdn4.test", "/lib.js")]["ipv6_error"] == "dns_failure"
    assert (
        failing[net.url("v6dead.test", "/x.html", net.qport)]["ipv6_error"] == "connection_refused"
    )
    l3 = {x["url"] for x in found["三级"]["evidence"]["failing"]}
    assert l3 == {
        net.url("www.dual.test", "/e.html"),
        net.url("cdn4.test", "/style.css"),
        net.url("www.dual.test", "/maint.html"),
    }
    assert found["二级"]["severity"] == "warning" and found["二级"]["page"] is None


def test_rates_reported_when_they_pass(net, tmp_path):
    home, pages, links = level_snapshot(net)
    result = audit(tmp_path, net, home, links, pages, level2_target=0.5, level3_target=0.5)
    assert "ipv6.link_support_low" not in rules(result)
    assert result.site_data["ipv6.rates"] == {"二级": 0.5, "三级": 0.5}
    assert result.site_data["ipv6.levels"]["三级"]["passed"] is True


def test_each_url_fetched_at_most_once_per_family(dual_result):
    for requests in dual_result.requests:
        seen = [(r.headers["host"], r.path) for r in requests]
        assert len(seen) == len(set(seen)), sorted(seen)
    v6_paths = {r.path for r in dual_result.requests[1]}
    assert {"/", "/a.html", "/b.html", "/d.html", "/frame.html"} <= v6_paths


def test_table_has_rows_per_level_and_host(dual_result):
    table = dual_result.site_data["ipv6.table"]
    assert table["title"] and table["columns"][0] == "层级"
    totals = {r[0]: r for r in table["rows"] if r[1] == "合计"}
    assert totals["二级"][3:6] == [6, 3, "50.0%"] and "未达标" in totals["二级"][6]
    cdn = [r for r in table["rows"] if r[0] == "二级" and r[1] == "cdn4.test"]
    assert cdn and cdn[0][2] == "无AAAA记录"
    timings = dual_result.site_data["ipv6.timings"]["homepage"]
    for fam in ("ipv4", "ipv6"):
        assert timings[fam]["connect_ms"] is not None and timings[fam]["first_byte_ms"] is not None


# ---- one host per homepage defect -------------------------------------------------------
def test_ipv4_only_host_has_no_aaaa(net, tmp_path):
    result = audit(tmp_path, net, net.url("www.v4only.test"))
    found = rules(result)
    assert [f["evidence"]["host"] for f in found["ipv6.no_aaaa"]] == ["www.v4only.test"]
    assert found["ipv6.no_aaaa"][0]["severity"] == "error"
    assert "ipv6.unreachable" not in found and "ipv6.content_mismatch" not in found
    ns = found["ipv6.nameserver_no_ipv6"][0]["evidence"]
    assert ns["answering"] == 0 and all(not s["ipv6"] for s in ns["nameservers"])


def test_no_aaaa_follows_cnames_and_ignores_ipv4_mapped(net, tmp_path):
    result = audit(tmp_path, net, net.url("www.mapped.test"))
    [f] = rules(result)["ipv6.no_aaaa"]
    assert f["evidence"]["ignored_ipv4_mapped"] == ["::ffff:127.0.0.1"]
    alias = audit(tmp_path / "alias", net, net.url("alias.dual.test"))
    assert "ipv6.no_aaaa" not in rules(alias)
    assert alias.site_data["ipv6.homepage"]["hosts"]["alias.dual.test"]["cnames"] == [
        "www.dual.test"
    ]


def test_aaaa_without_listener_is_unreachable(net, tmp_path):
    result = audit(tmp_path, net, net.url("www.unreach.test", port=net.qport))
    found = rules(result)
    [f] = found["ipv6.unreachable"]  # the TCP failure explains the HTTP failure: one finding
    ev = f["evidence"]
    assert (ev["address"], ev["port"], ev["error"]) == ("::1", net.qport, "connection_refused")
    assert ev["timings"]["connect_ms"] is not None and f["severity"] == "error"
    # Its name servers have AAAA ::1, but the ::1 server drops this zone's queries.
    ns = found["ipv6.nameserver_no_ipv6"][0]["evidence"]
    assert ns["answering"] == 0
    assert {p["error"] for s in ns["nameservers"] for p in s["probes"]} == {"timeout"}


def test_port_served_over_ipv4_only_is_unreachable(net, tmp_path):
    result = audit(tmp_path, net, net.url("www.dual.test"), ports=[net.rport])
    [f] = rules(result)["ipv6.unreachable"]
    assert (f["evidence"]["port"], f["evidence"]["protocol"]) == (net.rport, "TCP")


def test_http_error_over_ipv6_is_unreachable(net, tmp_path):
    [f] = rules(audit(tmp_path, net, net.url("www.v6err.test")))["ipv6.unreachable"]
    ev = f["evidence"]
    assert (ev["ipv6_code"], ev["ipv4_code"], ev["address"]) == (503, 200, "::1")
    assert ev["timings"]["ipv6"]["first_byte_ms"] is not None


def test_different_content_over_ipv6(net, tmp_path):
    found = rules(audit(tmp_path, net, net.url("www.diff.test")))
    [f] = found["ipv6.content_mismatch"]
    assert f["evidence"]["similarity"] < 0.5 and f["severity"] == "warning"
    ns = found["ipv6.nameserver_no_ipv6"][0]["evidence"]
    assert ns["answering"] == 1 and ns["zone"] == "diff.test"


def test_redirect_elsewhere_over_ipv6_is_a_mismatch(net, tmp_path):
    found = rules(audit(tmp_path, net, net.url("www.redir.test")))
    [f] = found["ipv6.content_mismatch"]
    assert f["evidence"]["ipv6"]["final_url"].endswith("/ipv6-landing.html")
    assert any("最终地址不同" in d for d in f["evidence"]["differences"])
    assert "ipv6.unreachable" not in found


def test_small_edit_is_still_the_same_page(net, tmp_path):
    result = audit(tmp_path, net, net.url("www.similar.test"))
    assert "ipv6.content_mismatch" not in rules(result)
    assert 0.9 <= result.site_data["ipv6.homepage"]["similarity"] < 1.0


def test_dead_link_hosts_do_not_hang_the_run(net, tmp_path):
    slow = net.url("www.dual.test", "/slow.html")
    net.v4.route("/slow.html", delay=0.0, html=page("slow"))
    net.v6.route("/slow.html", delay=20, html=page("slow"))  # IPv6 never answers in time
    home = net.url("www.dual.test")
    start = time.monotonic()
    result = audit(tmp_path, net, home, [Link(home, slow, "a")], timeout=0.5)
    assert time.monotonic() - start < 8
    [f] = rules(result)["ipv6.link_support_low"]
    assert f["evidence"]["failing"][0]["ipv6_error"] == "timeout"


# ---- noise stripping and similarity -------------------------------------------------------
def test_noise_is_stripped_and_content_is_not():
    a, b = noisy_home(), noisy_home()
    assert a != b and strip_noise(a) == strip_noise(b)
    assert similarity(a, b) == 1.0
    assert similarity(a, a.replace("某市自然资源和规划局", "测试页", 2).replace(ARTICLE, "")) < 0.5
    assert "<time>" in strip_noise("当前时间 12:30:45") and "2024-01-01" in strip_noise(
        "2024-01-01"
    )


# ---- end to end: `govaudit audit --dns-server` crawls, then audits -----------------------
@pytest.mark.slow
def test_cli_audit_with_dns_server_reports_ipv6(net, tmp_path):
    config = tmp_path / "govaudit.toml"
    config.write_text("[plugins.ipv6]\ntimeout = 2.0\nports = []\n", encoding="utf-8")
    url = net.url("www.e2e.test")
    proc = run_govaudit(
        "audit", url, "--config", str(config), "--dns-server", net.dns.server,
        "--plugins", "ipv6,links", "--data-dir", str(tmp_path / "data"),
        "--out", str(tmp_path / "out"), "--timeout", "3", cwd=str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert data["run"]["errors"] == []
    ipv6 = [f for f in data["findings"] if f["plugin"] == "ipv6"]
    assert {f["rule"] for f in ipv6} == {"ipv6.link_support_low"}, ipv6
    by_level = {f["evidence"]["level"]: f["evidence"] for f in ipv6}
    # 二级: a.html, logo.png ok; b.html 404 over IPv6, cdn4.test has no AAAA.
    assert (by_level["二级"]["supported"], by_level["二级"]["total"]) == (2, 4)
    # 三级: d.html ok; e.html 500 over IPv6.
    assert (by_level["三级"]["supported"], by_level["三级"]["total"]) == (1, 2)
    assert {x["url"] for x in by_level["三级"]["failing"]} == {net.url("www.e2e.test", "/e.html")}
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "IPv6" in report and "二级链接IPv6支持率" in report


def test_resolve_pins_without_dns_server_skip_name_servers(net, tmp_path):
    host, port = "www.staging.test", net.port
    pins = {"resolve": [f"{host}:{port}:127.0.0.1", f"{host}:{port}:::1"]}
    # Served like the dual-stack host; no query may leave for the system's DNS server.
    net.v4.route("/staging/", html=page("staging"))
    net.v6.route("/staging/", html=page("staging"))
    result = audit(tmp_path, net, net.url(host, "/staging/"), dns=pins)
    assert result.findings == []
    assert result.site_data["ipv6.nameservers"]["error"] == "skipped"
    v4_only = audit(
        tmp_path / "2", net, net.url(host, "/staging/"), dns={"resolve": pins["resolve"][:1]}
    )
    [f] = v4_only.findings
    assert f["rule"] == "ipv6.no_aaaa" and "--resolve" in f["message"]


def test_resources_and_external_links_can_be_left_out(net, tmp_path):
    home, pages, links = level_snapshot(net)
    result = audit(tmp_path, net, home, links, pages, include_resources=False)
    levels = result.site_data["ipv6.levels"]
    # 二级 without img/script: a ✓, b ✗, c ✓, v6dead ✗ (gone.html excluded) → 2 of 4.
    # 三级 without link/iframe: d ✓, e ✗, f ✓, maint ✗ → 2 of 4.
    assert [(levels[lv]["supported"], levels[lv]["total"]) for lv in ("二级", "三级")] == [
        (2, 4),
        (2, 4),
    ]
    internal = audit(tmp_path / "2", net, home, links, pages, include_external=False)
    # 二级 without cdn4/v6dead: a ✓, b ✗, logo ✓, c ✓ → 3 of 4; 三级 without style.css → 3 of 5.
    assert internal.site_data["ipv6.rates"] == {"二级": 3 / 4, "三级": 3 / 5}


def test_large_levels_are_sampled_and_say_so(net, tmp_path):
    home, pages, links = level_snapshot(net)
    result = audit(tmp_path, net, home, links, pages, max_links_per_level=2)
    l2 = result.site_data["ipv6.levels"]["二级"]
    assert (l2["links"], l2["found"], l2["sampled"]) == (2, 7, True)
