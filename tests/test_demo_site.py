"""The bundled demo site: served on loopback (dual stack), resolved through its own DNS zone,
with every planted defect where expected.json says it is."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

import dns.rdatatype
import dns.resolver
import pytest

from core.config import load_config
from govaudit.demo import expected as exp
from govaudit.demo.server import DemoSite
from govaudit.demo.site_data import cn_numeral_date, is_workday

ANCHOR = date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo():
    with DemoSite(anchor=ANCHOR, revision=1) as site:
        yield site


def _resolver(demo: DemoSite) -> dns.resolver.Resolver:
    host, port = demo.dns_server.split(":")
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    r.timeout = r.lifetime = 2
    return r


class _Fetcher:
    """urllib through the demo's DNS server: names resolve with dnspython, never the system."""

    def __init__(self, demo: DemoSite, family: int = 4, timeout: float = 5.0) -> None:
        resolver = _resolver(demo)
        rdtype = "A" if family == 4 else "AAAA"

        cache: dict[str, str] = {}

        class Conn(http.client.HTTPConnection):
            def connect(self) -> None:
                if self.host not in cache:
                    cache[self.host] = resolver.resolve(self.host, rdtype)[0].address
                addr = cache[self.host]
                self.sock = socket.create_connection((addr, self.port), self.timeout)

        class Handler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(Conn, req)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(Handler, NoRedirect)
        self.timeout = timeout

    def get(self, url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(quote(url, safe=":/?=&%#[]@"), method=method)
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.imgs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"].strip())
        if tag == "img":
            self.imgs.append(a)


def _decode(headers: dict[str, str], body: bytes) -> str:
    ctype = headers.get("Content-Type", "")
    if "gbk" in ctype.lower() or b'charset="gbk"' in body[:400]:
        return body.decode("gbk")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gbk")


@pytest.fixture(scope="module")
def walk(demo):
    """Every www HTML page reachable by <a> links from the homepage (calendar capped).

    Breadth-first, one level at a time, fetched in parallel."""
    fetch = _Fetcher(demo, timeout=5.0)
    seen, pages, statuses = {demo.base_url}, {}, {}
    level, calendar = [demo.base_url], 0
    # Planted timeouts are checked on their own (test_every_expected_path_…).
    slow = {e["url"] for e in exp.expected_findings(demo) if e["rule"] == "links.timeout"}

    def get(url):
        try:
            return url, fetch.get(url)
        except (TimeoutError, urllib.error.URLError, OSError) as err:
            return url, err

    with ThreadPoolExecutor(8) as pool:
        while level:
            nxt = []
            for url, result in pool.map(get, level):
                if isinstance(result, Exception):
                    statuses[url] = type(result).__name__
                    continue
                status, headers, body = result
                statuses[url] = status
                if status != 200 or "text/html" not in headers.get("Content-Type", ""):
                    continue
                text = _decode(headers, body)
                pages[url] = text
                parser = _Links()
                parser.feed(text)
                for href in parser.hrefs:
                    target = urljoin(url, href).split("#")[0]
                    if not target.startswith(demo.url("/")) or target in seen:
                        continue
                    if re.search(r"\.(pdf|docx|xlsx|zip|png)$", target) or target in slow:
                        continue
                    if "?" in target:
                        calendar += 1
                        if calendar > 3:
                            continue
                    seen.add(target)
                    nxt.append(target)
            level = nxt
    return pages, statuses


def test_demo_starts_fast_and_stops_cleanly():
    before = threading.active_count()
    t0 = time.perf_counter()
    site = DemoSite(anchor=ANCHOR).start()
    started = time.perf_counter() - t0
    try:
        assert started < 1.0, f"start took {started:.2f}s"
        status, _, _ = _Fetcher(site).get(site.base_url)
        assert status == 200
    finally:
        site.stop()
    deadline = time.time() + 3
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", site.ports.www), timeout=1).close()


def test_more_than_60_pages_reachable_from_homepage(demo, walk):
    pages, statuses = walk
    assert demo.base_url.startswith("http://www.lcnr.gov.cn:")
    assert len(pages) >= 60, sorted(pages)
    # A dated 最新动态 list, navigation and the identity footer on the homepage.
    home = pages[demo.base_url]
    assert "最新动态" in home and 'href="/zwgk/"' in home
    assert re.search(r"\d{4}-\d{2}-\d{2}", home)
    for text in ("主办单位", "网站标识码", "ICP备", "公网安备", "联系电话", "我为政府网站找错"):
        assert text in home, text
    assert "无障碍" not in home
    # Articles carry the page-identity meta tags.
    article = pages[exp.resolve("{p:jcdt_fresh}", demo)]
    for name in (
        "SiteName",
        "SiteDomain",
        "SiteIDCode",
        "ColumnName",
        "ColumnType",
        "ArticleTitle",
    ):
        assert f'name="{name}"' in article, name
    assert re.search(r'name="PubDate" content="\d{4}-\d{2}-\d{2} \d{2}:\d{2}"', article)
    # Pagination on 工作动态.
    assert demo.url("/xwzx/gzdt/index_2.html") in pages


def test_every_expected_path_exists_or_fails_as_planted(demo, walk):
    pages, _ = walk
    fetch = _Fetcher(demo, timeout=5.0)
    quick = _Fetcher(demo, timeout=0.5)
    www = demo.url("/")
    for e in exp.expected_findings(demo):
        if e["page"] and e["page"].startswith(www):
            assert e["page"] in pages, (e["id"], e["page"])
        url, rule = e["url"], e["rule"]
        if url is None:
            continue
        if rule == "links.broken" and url.startswith(www):
            assert fetch.get(url)[0] in (404, 500), e["id"]
        elif rule == "links.broken" and ".invalid" in url:
            with pytest.raises(dns.resolver.NXDOMAIN):
                _resolver(demo).resolve(urlsplit(url).hostname, "A")
        elif rule == "links.broken" and "gis." in url:
            with pytest.raises(urllib.error.URLError) as err:
                fetch.get(url)
            assert isinstance(err.value.reason, ConnectionRefusedError)
        elif rule == "links.broken":
            assert fetch.get(url)[0] == 404, e["id"]
        elif rule == "links.timeout":
            t0 = time.perf_counter()
            with pytest.raises((TimeoutError, urllib.error.URLError)):
                quick.get(url)
            assert time.perf_counter() - t0 < 2
        elif rule == "links.redirect_loop":
            status, headers, _ = fetch.get(url)
            nxt = urljoin(url, headers["Location"])
            status2, headers2, _ = fetch.get(nxt)
            assert (status, status2) == (302, 302) and urljoin(nxt, headers2["Location"]) == url
        elif rule == "links.soft_404":
            status, headers, body = fetch.get(url)
            assert status == 200 and "页面不存在" in body.decode()
        elif rule == "links.blocked":
            assert fetch.get(url)[0] in (403, 429)
        elif rule.startswith("privacy.") and url != e["page"]:  # an attachment, not a page
            assert fetch.get(url)[0] == 200, e["id"]
        elif rule.startswith("integrity.") and not url.startswith(www):  # the gambling site
            status, _, body = fetch.get(url)
            assert status == 200 and "娱乐城" in body.decode(), e["id"]
        else:
            assert url in pages, (e["id"], url)
    for url in exp.clean_pages(demo):
        assert url in pages, url
    for quiet in exp.quiet_pages(demo):
        assert quiet["page"] in pages, quiet


def test_planted_page_defects_are_in_the_html(demo, walk):
    pages, _ = walk
    p = lambda name: pages[exp.resolve("{p:" + name + "}", demo)]  # noqa: E731
    assert re.search(r"<img src=\"/images/news/huiyi.png\"[^>]*>", p("gzdt_image_alt"))
    assert (
        "alt="
        not in re.search(r"<img src=\"/images/news/huiyi.png\"[^>]*>", p("gzdt_image_alt"))[0]
    )
    assert "<html>" in p("jcdt_nolang")
    assert 'class="icon-weixin"></a>' in p("hygk_link_name")
    assert "<label" not in pages[demo.url("/gzcy/jzxx/xiexin.html")].split("<main")[1]
    assert "color:#b8b8b8" in p("interp_ok2")
    assert 'content="3610000012"' in p("jgzn_wrong_id") and "3610000049" in p("jgzn_wrong_id")
    assert "SiteIDCode" not in p("jgzn_legacy") and "网站标识码" not in p("jgzn_legacy")
    for url, text in pages.items():
        if urlsplit(url).path.startswith("/gzcy/"):
            assert "公网安备" not in text, url
        elif urlsplit(url).path.startswith(("/xwzx/", "/zwgk/", "/zcwj/")):
            assert "公网安备" in text, url
    assert "alert(" in pages[demo.url("/ztzl/ghxcz/")]
    assert "for(;;)" in pages[demo.url("/ztzl/dzzh/")]
    # The 在线访谈 list has no links until scripts run.
    zxft = pages[demo.url("/gzcy/zxft/")]
    assert exp.resolve("{p:zxft_missing}", demo).split("/gzcy/zxft/")[1] not in zxft
    assert '<ul class="list" id="ft-list"></ul>' in zxft
    # 政府信息公开: three of four parts; no 建议提案办理 anywhere.
    assert all("政府信息公开制度" not in t and "建议提案办理" not in t for t in pages.values())
    for name in ("政府信息公开指南", "法定主动公开内容", "政府信息公开工作年度报告"):
        assert name in pages[demo.url("/zwgk/")]
    # Blank and undated columns.
    assert "暂无信息" in pages[demo.url("/zwgk/fdzdgknr/zdxm/")]
    rsxx = pages[demo.url("/zwgk/fdzdgknr/rsxx/")]
    assert "公务员" in rsxx and not re.search(
        r"\d{4}[-年/.]\d{1,2}", rsxx.split("<main")[1].split("</main>")[0]
    )


def test_veto_cases_are_in_the_html(demo, walk):
    """The 暗链 and the hover menu (integrity), the 在线咨询 list (interaction)."""
    pages, _ = walk
    home = pages[demo.base_url]
    footer = home.split("<footer>")[1]
    casino = demo.url("/", "www.xpj-yule.example")
    assert f'<a href="{casino}">澳门新葡京娱乐城</a>' in footer and "left:-9999px" in footer
    assert '<div class="sites"><span>网站群</span><ul class="menu">' in home.split("</header>")[0]
    css = _Fetcher(demo).get(demo.url("/css/main.css"))[2].decode()
    assert ".sites:hover .menu" in css and ".sites .menu{display:none" in css
    assert (
        home.count('href="/gzcy/zxzx/"') == 1 and 'href="/gzcy/zxzx/"' in pages[demo.url("/gzcy/")]
    )
    zxzx = pages[demo.url("/gzcy/zxzx/")]
    heads = re.findall(r'<th scope="col">([^<]+)</th>', zxzx)
    assert heads == ["标题", "留言时间", "状态", "回复时间"]
    rows = re.findall(
        r"<tr><td><a href=\"([^\"]+)\">[^<]+</a></td><td>([\d-]+)</td><td>([^<]+)</td><td>([\d-]*)</td></tr>",
        zxzx,
    )
    assert len(rows) == 7 and all(demo.url(path) in pages for path, *_ in rows)
    old = [
        (d, s) for _, d, s, r in rows if not r and ANCHOR - date.fromisoformat(d) > timedelta(90)
    ]
    assert old == [(f"{ANCHOR - timedelta(days=128):%Y-%m-%d}", "未回复")]
    late = [
        (d, r)
        for _, d, _, r in rows
        if r and _workdays_between(date.fromisoformat(d), date.fromisoformat(r)) > 10
    ]
    assert len(late) == 1 and _workdays_between(*map(date.fromisoformat, late[0])) == 14


def test_dates_are_relative_to_anchor(demo, walk):
    pages, _ = walk
    guide = pages[demo.url("/zwgk/zn/")]
    assert f"更新日期：{cn_numeral_date(ANCHOR - timedelta(days=24))}" in guide
    assert cn_numeral_date(date(2026, 11, 2)) == "二〇二六年十一月二日"
    assert cn_numeral_date(date(2020, 9, 30)) == "二〇二〇年九月三十日"
    nb = pages[demo.url("/zwgk/nb/")]
    for year in (2024, 2023, 2022):
        assert f"{year}年政府信息公开工作年度报告" in nb
    assert "2025年政府信息公开工作年度报告" not in nb
    gzdt = pages[demo.url("/xwzx/gzdt/")]
    newest = max(date.fromisoformat(d) for d in re.findall(r"\d{4}-\d{2}-\d{2}", gzdt))
    assert newest == ANCHOR - timedelta(days=20)
    tzgg = pages[demo.url("/tzgg/")]
    assert max(
        date.fromisoformat(d) for d in re.findall(r"\d{4}-\d{2}-\d{2}", tzgg)
    ) == ANCHOR - timedelta(days=200)
    assert f"[{ANCHOR - timedelta(days=1):%m-%d}]" in pages[demo.url("/xwzx/jcdt/")]
    assert f"{ANCHOR - timedelta(days=1):%Y-%m-%d}" in pages[demo.url("/")]
    # Another anchor moves every date.
    with DemoSite(anchor=date(2027, 3, 1)) as other:
        status, _, body = _Fetcher(other).get(other.url("/zwgk/nb/"))
        assert "2025年政府信息公开工作年度报告" in body.decode()
        assert "2026年政府信息公开工作年度报告" not in body.decode()


def _workdays_between(a: date, b: date) -> int:
    return sum(1 for i in range(1, (b - a).days + 1) if is_workday(a + timedelta(days=i)))


def test_work_plan_timing_defects(demo, walk):
    pages, _ = walk
    day = lambda path: date.fromisoformat(  # noqa: E731
        re.search(r'name="PubDate" content="(\d{4}-\d{2}-\d{2})', pages[demo.url(path)])[1]
    )
    c = demo.content.named
    assert _workdays_between(day(c["policy_late"]), day(c["interp_late"])) == 5
    assert _workdays_between(day(c["policy_ok2"]), day(c["interp_ok2"])) == 2
    assert day(c["policy_ontime"]) == day(c["interp_ontime"])
    assert "相关解读" not in pages[demo.url(c["policy_missing"])]
    assert c["policy_missing"] not in pages[demo.url("/zcjd/")]

    def period(name: str) -> int:
        m = re.search(
            r"征求意见时间：(\d+)年(\d+)月(\d+)日至(\d+)年(\d+)月(\d+)日", pages[demo.url(c[name])]
        )
        a, b = date(*map(int, m.groups()[:3])), date(*map(int, m.groups()[3:]))
        return (b - a).days + 1

    assert period("consult_short") == 20
    assert period("consult_ok") >= 30 and period("consult_no_feedback") >= 30
    assert "意见反馈" in pages[demo.url(c["consult_ok"])]
    assert "意见反馈" not in pages[demo.url(c["consult_no_feedback"])]


def test_gbk_pages_right_wrong_and_missing_declarations(demo):
    fetch = _Fetcher(demo)
    for path, spec in exp.load_expected()["charset_pages"].items():
        status, headers, body = fetch.get(exp.resolve(path, demo))
        assert status == 200
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        text = body.decode("gbk")
        assert "临川市自然资源和规划局" in text
        ctype = headers["Content-Type"].lower()
        header_cs = ctype.split("charset=")[1] if "charset=" in ctype else None
        assert header_cs == spec["header_charset"], path
        m = re.search(r'<meta charset="([^"]+)"', text)
        assert (m[1] if m else None) == spec["meta_charset"], path


def test_dns_zone_answers_as_documented(demo):
    r = _resolver(demo)
    assert [a.address for a in r.resolve("www.lcnr.gov.cn", "A")] == ["127.0.0.1"]
    assert [a.address for a in r.resolve("www.lcnr.gov.cn", "AAAA")] == ["::1"]
    assert r.resolve("static.lcnr.gov.cn", "AAAA", raise_on_no_answer=False).rrset is None
    assert [a.address for a in r.resolve("zwfw.lcnr.gov.cn", "AAAA")] == ["::1"]
    ns = sorted(str(x.target).rstrip(".") for x in r.resolve("lcnr.gov.cn", "NS"))
    assert ns == ["ns1.lcnr.gov.cn", "ns2.lcnr.gov.cn"]
    assert r.resolve("ns1.lcnr.gov.cn", "AAAA").rrset is not None
    assert r.resolve("ns2.lcnr.gov.cn", "AAAA", raise_on_no_answer=False).rrset is None
    for name in ("www.lcgtj.invalid", "nothere.lcnr.gov.cn", "www.example.com"):
        with pytest.raises(dns.resolver.NXDOMAIN):
            r.resolve(name, "A")
    # ns1's AAAA (::1) really answers queries, on the same port.
    r6 = dns.resolver.Resolver(configure=False)
    r6.nameservers, r6.port, r6.lifetime = ["::1"], demo.zone.port, 2
    assert [a.address for a in r6.resolve("www.lcnr.gov.cn", "A")] == ["127.0.0.1"]


def test_ipv6_behaviour_of_each_host(demo):
    v4, v6 = _Fetcher(demo, 4), _Fetcher(demo, 6)
    assert v4.get(demo.base_url)[2] == v6.get(demo.base_url)[2]  # dual stack, same content
    m = demo.url("/", "m.lcnr.gov.cn")
    assert v4.get(m)[2] != v6.get(m)[2] and "维护" in v6.get(m)[2].decode()
    zwfw = demo.url("/", "zwfw.lcnr.gov.cn")
    assert v4.get(zwfw)[0] == 200
    with pytest.raises((ConnectionRefusedError, urllib.error.URLError)):
        v6.get(zwfw)
    assert v4.get(demo.url("/images/banner-ghxcz.png", "static.lcnr.gov.cn"))[0] == 200
    with pytest.raises(dns.resolver.NoAnswer):
        v6.get(demo.url("/images/banner-ghxcz.png", "static.lcnr.gov.cn"))
    # The static host is used on the homepage (IPv4-only resources), zwfw too.
    home = v4.get(demo.base_url)[2].decode()
    assert home.count("static.lcnr.gov.cn") >= 4 and home.count("zwfw.lcnr.gov.cn") >= 4


def test_random_paths_404_and_attachments_are_real_files(demo):
    fetch = _Fetcher(demo)
    assert fetch.get(demo.url("/no/such/page-8f3a.html"))[0] == 404
    assert fetch.get(demo.url("/xwzx/gzdt/t20990101_1.html"))[0] == 404
    magic = {".pdf": b"%PDF-", ".docx": b"PK", ".xlsx": b"PK", ".zip": b"PK", ".png": b"\x89PNG"}
    for path in demo.content.binaries:
        status, headers, body = fetch.get(demo.url(path))
        assert status == 200 and body.startswith(magic[path[path.rfind(".") :]]), path
        head = fetch.get(demo.url(path), method="HEAD")
        assert head[0] == 200 and head[2] == b"" and int(head[1]["Content-Length"]) == len(body)
    # A raw Chinese href and a percent-encoded one (under <base href>) both resolve.
    page = fetch.get(exp.resolve("{p:tdzs_base_href}", demo))[2].decode()
    assert '<base href="/zwgk/fdzdgknr/tdzs/">' in page
    href = re.search(r'href="(%E5[^"]+\.pdf)"', page)[1]
    assert fetch.get(urljoin(demo.url("/zwgk/fdzdgknr/tdzs/"), href))[0] == 200


def test_calendar_trap_never_ends(demo):
    fetch = _Fetcher(demo)
    url, seen = demo.url("/hdrl/"), set()
    for _ in range(15):
        body = fetch.get(url)[2].decode()
        nxt = re.search(r'href="(/hdrl/\?date=[\d-]+)">下一月', body)[1]
        seen.add(nxt)
        url = demo.url(nxt)
    assert len(seen) == 15


def test_revision_2_fixes_two_defects_and_adds_one():
    first = DemoSite(anchor=ANCHOR, revision=1).start()
    try:
        fixed, new = exp.fixed_and_new(first)
        assert fixed == ["L01", "A01"] and new == ["L14"]
        ids1 = {e["id"] for e in exp.expected_findings(first)}
        assert _Fetcher(first).get(exp.resolve("{p:jcdt_new_rev2}", first))[0] == 404
        port, base = first.port, first.base_url
    finally:
        first.stop()
    with DemoSite(anchor=ANCHOR, revision=2, port=port) as rev2:
        ids2 = {e["id"] for e in exp.expected_findings(rev2)}
        assert ids1 - ids2 == {"L01", "A01"} and ids2 - ids1 == {"L14"}
        assert rev2.base_url == base  # same URLs, so fingerprints compare across runs
        fetch = _Fetcher(rev2)
        home = fetch.get(rev2.base_url)[2].decode()
        assert "/ztzl/sdgtdc/" not in home
        fixed_page = fetch.get(exp.resolve("{p:gzdt_image_alt}", rev2))[2].decode()
        assert 'alt="会议现场"' in fixed_page
        new_page = exp.resolve("{p:jcdt_new_rev2}", rev2)
        assert fetch.get(new_page)[0] == 200 and urlsplit(new_page).path in home
        assert fetch.get(rev2.url("/uploads/jcdt/anquan-jiancha.docx"))[0] == 404


def test_write_config_is_valid_and_points_at_the_demo(demo, tmp_path):
    path = demo.write_config(tmp_path)
    config = load_config(path)
    assert config.site.urls == [demo.base_url]
    assert config.dns.server == demo.dns_server
    assert config.crawl.timeout == 3 and config.crawl.retries == 0
    assert {u.name for u in config.units.unit} == {
        "综合组",
        "信息中心",
        "政策法规组",
        "财务审计组",
        "执法监督组",
    }
    assert all(e.endswith("@example.org") for u in config.units.unit for e in u.emails)
    assert any(
        m.prefix == "/zwgk/fdzdgknr/czyjs/" and m.unit == "财务审计组" for m in config.units.map
    )
