"""Link extraction, URL normalisation, charset decoding and status mapping (pure functions)."""

from __future__ import annotations

import pytest
from twisted.internet import error as terror
from twisted.python.failure import Failure

from core.config import Config
from core.snapshot import StatusKind
from crawler.charset import decode_html
from crawler.checker import looks_blocked, looks_soft_404, status_for_code, status_for_failure
from crawler.extract import PAGE_TAGS, is_attachment, parse_html
from crawler.scope import Scope, normalize_url

BASE = "http://www.example.gov.cn/zwgk/index.html"


def _targets(html: str, url: str = BASE) -> list[tuple[str, str, str]]:
    return [(link.target, link.tag, link.text) for link in parse_html(html, url).links]


def test_every_link_tag_with_text_or_alt():
    html = """<html><head><link rel="stylesheet" href="/s.css"><script src="/a.js"></script>
    <link rel="canonical" href="/canon.html"></head><body>
    <a href="a.html"> 政策 <b>文件</b> </a><area href="/map.html" alt="地图">
    <img src="/logo.png" alt="标识"><iframe src="/frame.html"></iframe>
    <video><source src="/v.mp4"></video><embed src="/f.swf"><object data="/o.pdf"></object>
    <a href="/x.pdf"><img src="/pdf.png" alt="下载附件"></a></body></html>"""
    got = _targets(html)
    assert ("http://www.example.gov.cn/zwgk/a.html", "a", "政策 文件") in got
    assert ("http://www.example.gov.cn/map.html", "area", "地图") in got
    assert ("http://www.example.gov.cn/logo.png", "img", "标识") in got
    assert ("http://www.example.gov.cn/x.pdf", "a", "下载附件") in got
    tags = {t for _, t, _ in got}
    assert {"link", "script", "iframe", "source", "embed", "object"} <= tags
    assert not [u for u, _, _ in got if u.endswith("canon.html")]


def test_skipped_schemes_fragments_and_duplicates():
    html = """<a href="mailto:a@b.cn">信</a><a href="tel:123">电</a><a href="JavaScript:void(0)">j</a>
    <a href="data:text/html,x">d</a><a href="#top">顶</a><a href="/p.html">一</a>
    <a href="/p.html#sec">二</a><a href=" /p.html ">三</a>"""
    got = _targets(html)
    assert got == [("http://www.example.gov.cn/p.html", "a", "一")]


def test_base_href_uppercase_scheme_and_default_port():
    html = '<head><base href="http://www.example.gov.cn/xxgk/"></head><a href="b.html">b</a>'
    assert _targets(html)[0][0] == "http://www.example.gov.cn/xxgk/b.html"
    assert (
        normalize_url("HTTP://WWW.Example.GOV.CN:80/a/../b?x=1#f")
        == "http://www.example.gov.cn/b?x=1"
    )
    assert normalize_url("https://h.cn:443") == "https://h.cn/"
    assert normalize_url("ftp://h.cn/x") is None


def test_raw_and_encoded_chinese_paths_normalise_alike():
    raw = normalize_url("http://h.gov.cn/文件/通知 公告.html")
    enc = normalize_url(
        "http://h.gov.cn/%e6%96%87%e4%bb%b6/%E9%80%9A%E7%9F%A5%20%E5%85%AC%E5%91%8A.html"
    )
    assert (
        raw
        == enc
        == "http://h.gov.cn/%E6%96%87%E4%BB%B6/%E9%80%9A%E7%9F%A5%20%E5%85%AC%E5%91%8A.html"
    )


def test_attachment_detection():
    assert is_attachment("http://h/a/b.PDF") and is_attachment("http://h/x.wps")
    assert not is_attachment("http://h/a.html") and not is_attachment("http://h/dir/")


def test_scope_query_cap_and_hosts():
    cfg = Config.model_validate(
        {
            "site": {
                "urls": ["http://www.h.gov.cn/"],
                "extra_hosts": ["static.h.gov.cn"],
                "exclude": [r"/logout"],
            },
            "crawl": {"max_query_variants": 3},
        }
    )
    scope = Scope(cfg, ["http://www.h.gov.cn/"])
    assert scope.is_internal("http://www.h.gov.cn/a") and scope.is_internal(
        "http://static.h.gov.cn/x"
    )
    assert not scope.is_internal("http://www.h.gov.cn:8080/a")
    assert not scope.is_internal("http://other.gov.cn/")
    assert scope.is_excluded("http://www.h.gov.cn/logout?x")
    admitted = [scope.admit_query(f"http://www.h.gov.cn/cal?d={i}") for i in range(6)]
    assert admitted == [True, True, True, False, False, False]
    assert scope.admit_query("http://www.h.gov.cn/cal")


@pytest.mark.parametrize(
    "declared,content_type",
    [
        ("gb2312", "text/html"),
        ("utf-8", "text/html; charset=utf-8"),
        ("", "text/html"),
        ("iso-8859-1", "text/html; charset=iso-8859-1"),
    ],
)
def test_gbk_decodes_with_any_declaration(declared, content_type):
    title = "关于开展2024年度国土变更调查工作的通知"
    meta = f'<meta charset="{declared}">' if declared else ""
    body = f"<html><head>{meta}<title>{title}</title></head><body>正文</body></html>".encode("gbk")
    text, enc = decode_html(body, content_type)
    assert title in text and enc == "gb18030"


def test_utf8_wins_over_wrong_gbk_declaration_and_truncation_is_safe():
    title = "自然资源和规划局"
    body = f'<meta charset="gbk"><title>{title}</title>'.encode()
    assert title in decode_html(body, "text/html; charset=gbk")[0]
    cut = ("<title>" + title * 50).encode("utf-8")[:-1]  # ends in half a character
    text, enc = decode_html(cut, "text/html")
    assert enc == "utf-8" and "\ufffd" not in text


def test_status_mapping():
    assert status_for_code(404).kind is StatusKind.HTTP_ERROR
    assert status_for_code(403).kind is StatusKind.BLOCKED
    assert status_for_code(429).kind is StatusKind.BLOCKED
    assert status_for_code(301).kind is StatusKind.OK
    cases = [
        (terror.DNSLookupError("x"), StatusKind.DNS_FAILURE),
        (terror.TimeoutError(), StatusKind.TIMEOUT),
        (terror.ConnectionRefusedError(), StatusKind.CONNECTION_REFUSED),
        (terror.ConnectionLost(), StatusKind.CONNECTION_RESET),
    ]
    for exc, kind in cases:
        assert status_for_failure(Failure(exc)).kind is kind, exc


def test_soft_404_and_firewall_titles():
    assert looks_soft_404("404 Not Found", "", "", 1000)
    assert looks_soft_404("提示", "您访问的页面不存在", "", 1000)
    assert looks_soft_404("", "", "抱歉，找不到该页面", 20)
    assert not looks_soft_404("关于第404号建议的答复", "", "", 5000)
    assert not looks_soft_404("通知公告", "通知公告", "正文" * 400, 800)
    assert looks_blocked("网站防火墙 - 访问被拦截") and looks_blocked("Just a moment...")
    assert not looks_blocked("局长信箱")


def test_a_meta_refresh_is_a_link_to_the_page_it_sends_visitors_to():
    """平潭's 办理结果公示 column URL answers only
    <meta http-equiv="refresh" content="0;url=https://…/zfgs/#/…"> (tests/real): the crawl
    must follow it like a redirect, and the stub itself is not content."""
    html = '<meta http-equiv="refresh" content="0;url=../bszn/" />'
    parsed = parse_html(html, "https://www.pingtan.gov.cn/zwgk/a/bljggs/")
    assert [(link.target, link.tag) for link in parsed.links] == [
        ("https://www.pingtan.gov.cn/zwgk/a/bszn/", "meta")
    ]
    timed = "<html><head><meta http-equiv='Refresh' content=\"5; URL='/next.html'\"></head></html>"
    assert parse_html(timed, "http://h/").links[0].target == "http://h/next.html"
    assert "meta" in PAGE_TAGS
    assert not parse_html("<meta http-equiv='refresh' content='30'>", "http://h/").links
