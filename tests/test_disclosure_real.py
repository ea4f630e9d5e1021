"""disclosure_dates on saved real pages (tests/real/sites) and on fixtures that copy real markup.

Issue 12 points 4 (guide part), 5, 10 and 11: a guide dated under its title, a late 年报 whose
date sits in a sibling cell, a document that went online months after its 落款, and checks
that cannot be made (an article as start page, a guide column that only indexes other units'
guides, a dead 年报 link) reported as ``guide.not_checked`` instead of passed or failed.
The pages are put into a stored snapshot (tests/disclosure_site.py) at their real paths.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.disclosure_site import GUIDE_TEXT, HOST, article, audit, by_rule, layout

SITES = Path(__file__).parent / "real" / "sites"
PLUGINS = ["disclosure_dates"]
PINGTAN = date(2026, 9, 10)


def real(host: str, path: str, replace_host: bool = False) -> str:
    html = (SITES / host / path).read_text(encoding="utf-8", errors="replace")
    if replace_host:
        for scheme in ("http://", "https://"):
            html = html.replace(scheme + host, HOST)
    return html


def test_trs_guide_dated_under_its_title_is_stale_not_undated(tmp_path):
    """pingtan 政府信息公开指南: ``<div class="article_title text_align_center">平潭综合实验区
    政府信息公开指南</div><p class="text_align_center …">(2024年03月23日)</p>`` (TRS)."""
    pages = {
        "/zwgk/zfxxgk/zfxxgkzn/": real("www.pingtan.gov.cn", "zwgk/zfxxgk/zfxxgkzn/index.html")
    }
    result = audit(tmp_path, pages, PLUGINS, today=PINGTAN)
    assert not by_rule(result, "guide.update_date_missing")
    (f,) = by_rule(result, "guide.update_date_stale")
    assert f["evidence"]["date"] == "2024-03-23"
    assert f["evidence"]["date_source"] == "title"


def _guide_page(body: str, meta: str = "") -> dict[str, str]:
    return {"/zwgk/zn/": layout("政府信息公开指南", body, meta=meta, crumbs="政府信息公开指南")}


# A TRS 信息索引 table as 天津市财政局's detail template writes it
# (<table class="JD_table_key02"><tr><td>发文字号：</td><td>津财采〔2019〕1号</td>
#  <td>成文日期：</td><td>2019-01-04</td></tr>…), here with 索引号 and 发布日期 rows.
INDEX_TABLE = """<table class="JD_table_key02"><tbody>
<tr><td>索引号：</td><td>11371300MB2850123X/2024-00012</td><td>发布机构：</td><td>综合组</td></tr>
<tr><td>发文字号：</td><td>临自然资规发〔2024〕3号</td><td>成文日期：</td><td>{made}</td></tr>
<tr><td>发布日期：</td><td>{shown}</td><td>主题分类：</td><td>其他</td></tr>
</tbody></table>"""


@pytest.mark.parametrize(
    ("body", "meta", "when", "source"),
    [
        # 信息索引 table only: the later of its dates
        (
            "<h1>政府信息公开指南</h1>"
            + INDEX_TABLE.format(made="2025-03-02", shown="2025-03-05")
            + f"<p>{GUIDE_TEXT}</p>",
            "",
            "2025-03-05",
            "index_table",
        ),
        # nothing on the page but the PubDate meta
        (
            f"<h1>政府信息公开指南</h1><p>{GUIDE_TEXT}</p>",
            '<meta name="PubDate" content="2025-02-01 10:00">',
            "2025-02-01",
            "meta",
        ),
        # an explicit 更新日期 wins over the date under the title and the meta
        (
            "<h1>政府信息公开指南</h1><p>（2024年1月5日）</p>"
            f"<p>{GUIDE_TEXT}</p><p>更新日期：2025年2月3日</p>",
            '<meta name="PubDate" content="2024-01-05 10:00">',
            "2025-02-03",
            "label",
        ),
        # the date under the title wins over the meta and the 落款
        (
            "<h1>政府信息公开指南</h1><p>发布时间：2025-01-20　来源：综合组</p>"
            f"<p>{GUIDE_TEXT}</p><p>临沂市自然资源和规划局</p><p>2024年12月30日</p>",
            '<meta name="PubDate" content="2024-12-31 10:00">',
            "2025-01-20",
            "title",
        ),
    ],
)
def test_guide_date_sources(tmp_path, body, meta, when, source):
    result = audit(tmp_path, _guide_page(body, meta), PLUGINS, today=date(2026, 9, 10))
    (f,) = by_rule(result, "guide.update_date_stale")
    assert (f["evidence"]["date"], f["evidence"]["date_source"]) == (when, source)


def test_late_annual_report_with_its_date_in_a_sibling_cell(tmp_path):
    """pingtan 年报 list: ``<dl><dd class="… text_align_left"><a … title="平潭综合实验区2025年度
    政府信息公开工作年度报告">…</a></dd><dd class="…">2026-03-10</dd></dl>``."""
    pages = {
        "/zwgk/zfxxgk/zfxxgknb/": real("www.pingtan.gov.cn", "zwgk/zfxxgk/zfxxgknb/index.html")
    }
    result = audit(tmp_path, pages, PLUGINS, today=PINGTAN)
    assert not by_rule(result, "guide.annual_report_missing")
    (f,) = by_rule(result, "guide.annual_report_late")
    assert f["evidence"]["year"] == 2025
    assert f["evidence"]["date"] == "2026-03-10" and f["evidence"]["deadline"] == "2026-01-31"
    assert f["page"].endswith("/zwgk/zfxxgk/zfxxgknb/") and f["severity"] == "warning"


def test_annual_report_on_time_or_undated_is_not_late(tmp_path):
    from tests.disclosure_site import column_list

    on_time = column_list(
        "政府信息公开年报", [("/nb/2025.html", "2025年政府信息公开工作年度报告", "2026-01-20")]
    )
    result = audit(tmp_path, {"/nb/": on_time}, PLUGINS, today=PINGTAN)
    assert not by_rule(result, "guide.annual_report_late")
    undated = column_list(
        "政府信息公开年报", [("/nb/2025.html", "2025年政府信息公开工作年度报告", "")]
    )
    result = audit(tmp_path / "undated", {"/nb/": undated}, PLUGINS, today=PINGTAN)
    assert not by_rule(result, "guide.annual_report_late")
    (nc,) = [
        f
        for f in by_rule(result, "guide.not_checked")
        if f["evidence"]["rule"] == "guide.annual_report_late"
    ]
    assert "未标注发布日期" in nc["evidence"]["reason"]


RSRM = "zwgk/zfxxgk/fdzdgknr/zkly/rsrm/202602/t20260205_105069.htm"


def test_document_online_months_after_its_signature_is_late(tmp_path):
    """pingtan 人事任免: ``<meta name="PubDate" content="2025-05-07 14:50">``, 落款
    ``<p …>平潭综合实验区党工委　　</p><p …>2025年5月7日　　　　</p>``, URL …/202602/t20260205_…"""
    pages = {"/" + RSRM: real("www.pingtan.gov.cn", RSRM)}
    result = audit(tmp_path, pages, PLUGINS, today=PINGTAN)
    (f,) = by_rule(result, "disclosure.publication_late")
    ev = f["evidence"]
    assert (ev["document_date"], ev["document_date_source"]) == ("2025-05-07", "signature")
    assert (ev["published"], ev["published_source"]) == ("2026-02-05", "url")
    assert ev["working_days"] > 20 and f["severity"] == "warning"


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("www.ccgp-hebei.gov.cn", "cd/cd_wc/cggg/zhbggAAAA/202110/t20211011_1485252.html"),
        ("www.nmg.gov.cn", "zwyw/jrgz/202202/t20220211_2004628.html"),
        ("www.shanxi.gov.cn", "yw/sxyw/201909/t20190918_693227.shtml"),
        ("www.cmse.gov.cn", "ztbd/xwfbh/201206/t20120624_43188.html"),
        ("fgw.zj.gov.cn", "art/2016/11/22/art_1621004_30332664.html"),
    ],
)
def test_pages_whose_dates_agree_are_not_late(tmp_path, host, path):
    result = audit(tmp_path, {"/" + path: real(host, path)}, PLUGINS, today=date(2026, 9, 10))
    assert not by_rule(result, "disclosure.publication_late")


def _indexed(made: str, shown: str, path: str = "/zwgk/zcwj/1.html") -> dict[str, str]:
    body = (
        INDEX_TABLE.format(made=made, shown=shown) + "<p>各组室、各分局：现将有关事项通知如下。</p>"
    )
    return {path: article("关于做好不动产登记工作的通知", None, body, "通知公告")}


def test_index_table_shows_both_dates(tmp_path):
    result = audit(tmp_path, _indexed("2026-03-02", "2026-04-20"), PLUGINS)
    (f,) = by_rule(result, "disclosure.publication_late")
    ev = f["evidence"]
    assert ev["document_date"] == "2026-03-02" and ev["published"] == "2026-04-20"
    assert ev["document_date_source"] == ev["published_source"] == "index_table"
    # other paths: audits.pageinfo caches its last parse by id(html), which a freed string
    # of the same length may reuse
    on_time = audit(tmp_path, _indexed("2026-03-02", "2026-03-10", "/zwgk/zcwj/2.html"), PLUGINS)
    assert not by_rule(on_time, "disclosure.publication_late")
    options = {"disclosure_dates": {"publication_days": 40}}
    pages = _indexed("2026-03-02", "2026-04-20", "/zwgk/zcwj/33.html")
    relaxed = audit(tmp_path, pages, PLUGINS, options)
    assert not by_rule(relaxed, "disclosure.publication_late")


def test_url_date_not_after_the_document_date_is_not_late(tmp_path):
    pages = _indexed("2026-03-02", "2026-03-02", "/zwgk/202602/t20260210_1.html")
    assert not by_rule(audit(tmp_path, pages, PLUGINS), "disclosure.publication_late")


def test_a_migration_day_is_not_reported_as_late_publication(tmp_path):
    """Many old documents whose URLs all carry one import day are a site migration."""
    signed = "<p>现将有关事项通知如下。</p><p>临沂市自然资源和规划局</p><p>2024年5月7日</p>"
    pages = {
        f"/zwgk/202602/t20260205_{i}.html": article(f"关于做好第{i}批登记工作的通知", None, signed)
        for i in range(10)
    }
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "disclosure.publication_late")
    assert result.site_data["disclosure_dates.publication_bulk_days"] == {"2026-02-05": 10}
    del pages["/zwgk/202602/t20260205_0.html"]
    assert (
        len(by_rule(audit(tmp_path / "nine", pages, PLUGINS), "disclosure.publication_late")) == 9
    )


def test_guide_column_that_indexes_other_units_is_not_checked(tmp_path):
    """邯郸 政府信息公开平台 /zfxxgkzn/: ``<div class="scroll_tit"><span>市政府部门</span></div>``
    and links …/gszbm/auto23692/?id=1780/2138 市政府办公室 …; no guide text of its own.
    Its 年报 column link (http://hdzfxxgk.hd.gov.cn/zfxxgknb/) answers 404."""
    host = "hdzfxxgk.hd.gov.cn"
    pages: dict[str, str | tuple[int, str]] = {
        "/": real(host, "index.html", replace_host=True),
        "/zfxxgkzn/": real(host, "zfxxgkzn/index.html", replace_host=True),
        "/zfxxgknb/": (404, "<html><body>404 Not Found</body></html>"),
    }
    result = audit(tmp_path, pages, PLUGINS, today=date(2020, 8, 12))
    for rule in ("guide.missing", "guide.update_date_missing", "guide.update_date_stale"):
        assert not by_rule(result, rule), rule
    assert not by_rule(result, "guide.annual_report_missing")
    why = {f["evidence"]["rule"]: f for f in by_rule(result, "guide.not_checked")}
    assert why["guide.update_date_missing"]["url"] == HOST + "/zfxxgkzn/"
    assert "索引" in why["guide.update_date_missing"]["evidence"]["reason"]
    assert why["guide.annual_report_missing"]["url"] == HOST + "/zfxxgknb/"
    assert "404" in why["guide.annual_report_missing"]["evidence"]["reason"]
    assert all(f["severity"] == "info" for f in why.values())


def test_article_as_start_page_is_not_checked_for_guide_and_report(tmp_path):
    """ccgp-hebei 中标公告 (ArticleTitle/PubDate metas) as the start page: the site's guide and
    年报 cannot be looked for from it."""
    html = real("www.ccgp-hebei.gov.cn", "cd/cd_wc/cggg/zhbggAAAA/202110/t20211011_1485252.html")
    result = audit(tmp_path, {"/": html}, PLUGINS, today=date(2021, 10, 21))
    assert not by_rule(result, "guide.missing")
    assert not by_rule(result, "guide.annual_report_missing")
    rules = sorted(f["evidence"]["rule"] for f in by_rule(result, "guide.not_checked"))
    assert rules == ["guide.annual_report_missing", "guide.missing"]
    assert all("文章页" in f["evidence"]["reason"] for f in by_rule(result, "guide.not_checked"))


def test_dead_guide_link_is_not_checked_not_missing(tmp_path):
    from tests.disclosure_site import good_site

    pages: dict[str, str | tuple[int, str]] = dict(good_site())
    pages["/zwgk/zn/"] = (404, "<html><body>404</body></html>")
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "guide.missing")
    (f,) = by_rule(result, "guide.not_checked")
    assert f["evidence"]["rule"] == "guide.missing" and "404" in f["evidence"]["reason"]


def test_guide_on_a_host_not_crawled_is_not_checked(tmp_path):
    """The very common 政府信息公开平台 on its own host (邯郸: hdzfxxgk.hd.gov.cn beside
    www.hd.gov.cn): the portal links the guide there, and that host was not crawled."""
    from tests.disclosure_site import good_site

    pages: dict[str, str | tuple[int, str]] = dict(good_site())
    del pages["/zwgk/zn/"]
    pages["/zwgk/"] = pages["/zwgk/"].replace(
        "href='/zwgk/zn/'", "href='http://xxgk.lyzrzy.gov.cn/zfxxgkzn/'"
    )
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "guide.missing")
    (f,) = by_rule(result, "guide.not_checked")
    assert "xxgk.lyzrzy.gov.cn" in f["evidence"]["reason"]


def test_guide_written_by_script_and_not_rendered_is_not_checked(tmp_path):
    """An avalon/TRS page whose text is filled in by script: ``<div class="article_content"
    ms-html="detail.content"></div>`` with the content in a script, not rendered."""
    from tests.disclosure_site import good_site

    pages: dict[str, str | tuple[int, str]] = dict(good_site())
    pages["/zwgk/zn/"] = layout(
        "政府信息公开指南",
        '<div class="article_content" ms-html="detail.content"></div>'
        "<script>var detail = {content: '<p>本指南根据条例编制……</p>'};</script>",
        crumbs="政府信息公开指南",
    )
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "guide.update_date_missing")
    (f,) = by_rule(result, "guide.not_checked")
    assert "脚本" in f["evidence"]["reason"] and f["url"].endswith("/zwgk/zn/")
