"""identity on saved real pages (tests/real): the official 找错 widget, its site code, and
header/footer documents loaded in iframes (issue 12, points 1 and 6)."""

from __future__ import annotations

from datetime import date

import pytest

from audits.frames import find_frames, framed_documents
from audits.identity import error_report_widget
from core.snapshot import Link
from tests.realsnap import audit_real, real_pages

CCGP = "http://www.ccgp-hebei.gov.cn/cd/cd_wc/cggg/zhbggAAAA/202110/t20211011_1485252.html"
CCGP_FRAME = (
    "http://www.ccgp-hebei.gov.cn/cd/cd_wc/cggg/zhbggAAAA/202110/"
    "%E4%B8%AD%E6%A0%87%E5%85%AC%E5%91%8A%E8%AF%A6%E7%BB%86%E9%A1%B5%E9%9D%A2_files/index_651.html"
)
NMG = "https://www.nmg.gov.cn/zwyw/jrgz/202202/t20220211_2004628.html"


def rules(result) -> list[str]:
    return sorted(f["rule"] for f in result.findings)


# --- point 1: the official widget --------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "codes"),
    [
        # hdzfxxgk.hd.gov.cn/index.html (saved with a browser: the script file renamed)
        (
            '<script id="_jiucuo_" sitecode="1304000009" src="images/jiucuo.js.下载"></script>',
            ["1304000009"],
        ),
        # www.ccgp-hebei.gov.cn article: script plus the rendered span/img (HTML-escaped quotes)
        (
            '<script id="_jiucuo_" sitecode="1300000065" src="./中标公告详细页面_files/jiucuo.js.下载">'
            '</script><span id="_span_jiucuo"><img onclick="Link(&#39;1300000065&#39;)" '
            'style="margin:0;border:0;cursor: pointer;" src="./中标公告详细页面_files/jiucuo.png"></span>',
            ["1300000065"],
        ),
        # www.nfra.gov.cn (DOM rendered by Chromium)
        (
            '<span id="_span_jiucuo"><img onclick="Link(\'bm55000001\')" style="margin:0" '
            'src="https://zfwzgl.www.gov.cn/exposure/images/jiucuo.png?v=bm55000001"></span>',
            ["bm55000001"],
        ),
        # www.pingtan.gov.cn: only the span (the script is loaded by another script)
        ('<span id="_span_jiucuo" title="政府网站找错"></span>', []),
        # fgw.zj.gov.cn: a link to the platform with the code in its query
        (
            '<a style="display:none;" href="http://121.43.68.40/exposure/jiucuo.html?'
            'site_code=3300000020&amp;url=http%3A%2F%2Fwww.zjdpc.gov.cn%2F" target="_blank">',
            ["3300000020"],
        ),
    ],
)
def test_the_official_widget_is_recognised_with_its_code(markup: str, codes: list[str]) -> None:
    assert error_report_widget(f"<html><body><div>{markup}</div></body></html>") == (True, codes)


def test_commented_out_or_textual_markers_are_not_the_widget() -> None:
    # fgw.zj.gov.cn keeps an old entry in a comment; cmse.gov.cn comments out its 纠错 item
    commented = (
        '<!--<span class="jiucuo" onclick="javascrpit:window.open(\'https://www.baidu.com/\')">'
        '【我要纠错】</span>--><!-- <li><a href="####">纠错</a></li>-->'
    )
    assert error_report_widget(commented) == (False, [])
    assert error_report_widget("<p>请下载 jiucuo.js 文件</p>") == (False, [])


@pytest.mark.parametrize(
    ("host", "today"),
    [
        ("hdzfxxgk.hd.gov.cn", date(2020, 8, 12)),  # script only, renamed jiucuo.js.下载
        ("www.pingtan.gov.cn", date(2026, 9, 10)),  # span only
        ("www.nfra.gov.cn", date(2025, 7, 3)),  # span + img + script, no href, no alt
        ("www.nmg.gov.cn", date(2022, 3, 14)),  # script from pucha.kaipuyun.cn
        ("www.shanxi.gov.cn", date(2019, 9, 22)),
        ("www.ccgp-hebei.gov.cn", date(2021, 10, 21)),
    ],
)
def test_sites_with_the_widget_have_an_entry(host: str, today: date) -> None:
    result = audit_real(host, ["identity"], today)
    assert "identity.error_report_entry_missing" not in rules(result)
    assert "identity.error_report_code_mismatch" not in rules(result)


def test_a_site_without_the_widget_is_still_reported() -> None:
    """cmse.gov.cn: no _jiucuo_ script, the only 纠错 link is commented out."""
    result = audit_real("www.cmse.gov.cn", ["identity"], date(2021, 2, 17))
    assert "identity.error_report_entry_missing" in rules(result)
    (footer,) = [f for f in result.findings if f["rule"] == "identity.footer_incomplete"]
    # <span><i>主办方：</i>中国载人航天工程办公室</span> is the sponsor
    assert footer["evidence"]["missing"] == ["公安机关备案号"]


def test_a_widget_with_another_sites_code_is_reported() -> None:
    """nmg.gov.cn's own markup, <script id="_jiucuo_" sitecode='1500000001' …>, with the
    code of another site pasted in: the page's SiteIDCode meta and footer say 1500000001."""

    def copy_wrong_code(url: str, html: str) -> str:
        return html.replace("sitecode='1500000001'", "sitecode='1500000015'")

    result = audit_real("www.nmg.gov.cn", ["identity"], date(2022, 3, 14), edit=copy_wrong_code)
    (f,) = [f for f in result.findings if f["rule"] == "identity.error_report_code_mismatch"]
    assert f["severity"] == "warning"
    assert f["evidence"]["error_report_code"] == "1500000015"
    assert f["evidence"]["site_id_code"] == "1500000001"
    assert f["evidence"]["pages"][0]["url"] == NMG
    assert "1500000015" in f["message"] and "1500000001" in f["message"]
    assert "identity.site_id_mismatch" not in rules(result)


# --- point 6: framed documents --------------------------------------------------------------


def test_an_iframe_header_is_not_audited_as_a_page() -> None:
    """ccgp-hebei: <iframe src="./中标公告详细页面_files/index_651.html" …> is the site header;
    it has no footer and no SiteIDCode of its own, and belongs to the article."""
    result = audit_real("www.ccgp-hebei.gov.cn", ["identity"], date(2021, 10, 21), start_url=CCGP)
    assert result.findings == []
    assert result.site_data["identity.pages_checked"] == 1
    assert result.site_data["identity.framed_documents"] == 1


def test_a_footer_in_a_framed_document_counts_for_its_parent() -> None:
    """The ccgp-hebei article with its footer (主办单位, 网站标识码, ICP, 公网安备, 找错 widget)
    moved into an iframe, as sites that include their footer with <iframe src="foot.html">."""
    html = real_pages("www.ccgp-hebei.gov.cn")[CCGP]
    start = html.index("主办单位:河北省财政厅")
    start = html.rfind("<table", 0, start)
    end = html.index("</table>", html.index("_span_jiucuo")) + len("</table>")
    footer = html[start:end]
    assert "网站标识码" in footer and "冀公网安备" in footer and "_jiucuo_" in footer
    foot_url = "http://www.ccgp-hebei.gov.cn/include/foot.html"
    parent = html[:start] + '<iframe src="/include/foot.html"></iframe>' + html[end:]
    parent = parent.replace('<meta name="SiteIDCode" content="1300000065"', '<meta name="x"')
    foot = f"<html><body>{footer}</body></html>"

    def move_footer(url: str, page: str) -> str:
        return parent if url == CCGP else page

    result = audit_real(
        "www.ccgp-hebei.gov.cn",
        ["identity"],
        date(2021, 10, 21),
        start_url=CCGP,
        edit=move_footer,
        extra={foot_url: foot},
    )
    assert result.findings == []
    assert result.site_data["identity.pages_checked"] == 1
    assert result.site_data["identity.framed_documents"] == 2
    # without the frame's content the parent has no footer at all
    alone = audit_real(
        "www.ccgp-hebei.gov.cn", ["identity"], date(2021, 10, 21), start_url=CCGP, edit=move_footer
    )
    assert "identity.footer_incomplete" in rules(alone)


def test_framed_documents_from_links() -> None:
    links = [
        Link("http://h/a.html", "http://h/head.html", "iframe"),
        Link("http://h/b.html", "http://h/head.html", "iframe"),
        Link("http://h/a.html", "http://h/map.html", "iframe"),
        Link("http://h/c.html", "http://h/map.html", "a", "地图"),  # also a page of its own
        Link("http://h/a.html", "http://h/", "iframe"),  # the start URL is always a page
        Link("http://h/head.html", "http://h/logo.html", "frame"),  # nested
        Link("http://h/a.html", "http://weather.example/w", "iframe", internal=False),
    ]
    frames = find_frames(links, ["http://h/"])
    assert frames.parents == {
        "http://h/head.html": ["http://h/a.html", "http://h/b.html"],
        "http://h/logo.html": ["http://h/head.html"],
    }
    assert frames.frames_of("http://h/a.html") == ["http://h/head.html"]
    assert frames.top_parents("http://h/logo.html") == ["http://h/a.html", "http://h/b.html"]
    assert not frames.is_framed("http://h/map.html")


def test_framed_documents_is_computed_once_per_snapshot() -> None:
    class Snap:
        class run:  # noqa: N801
            start_urls: list[str] = []

        calls = 0

        def links(self):
            Snap.calls += 1
            return iter([Link("http://h/a.html", "http://h/f.html", "iframe")])

    snap = Snap()
    assert framed_documents(snap) == {"http://h/f.html": ["http://h/a.html"]}  # type: ignore[arg-type]
    assert framed_documents(snap) == {"http://h/f.html": ["http://h/a.html"]}  # type: ignore[arg-type]
    assert Snap.calls == 1
