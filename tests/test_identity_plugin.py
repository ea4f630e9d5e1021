"""identity plugin: site id code, footer items, 找错 entry — once per site."""

from __future__ import annotations

from tests.disclosure_site import FOOTER, HOME, HOST, audit, by_rule, good_site, layout

PLUGINS = ["identity"]


def test_good_site_has_no_findings(tmp_path):
    result = audit(tmp_path, good_site(), PLUGINS)
    assert result.findings == []
    assert result.site_data["identity.pages_checked"] == len(good_site())


def test_findings_are_reported_once_per_site_with_the_pages(tmp_path):
    pages = good_site()
    bare_footer = "<div class='footer'><p>Copyright ©2006-2026 版权所有</p></div>"
    pages["/a.html"] = layout("页面A", "<p>正文</p>", footer=bare_footer)
    pages["/b.html"] = layout("页面B", "<p>正文</p>", footer=bare_footer)
    pages["/a.html"] = pages["/a.html"].replace('<meta name="SiteIDCode" content="3713000049">', "")
    pages["/b.html"] = pages["/b.html"].replace('<meta name="SiteIDCode" content="3713000049">', "")
    result = audit(tmp_path, pages, PLUGINS)
    (missing,) = by_rule(result, "identity.site_id_missing")
    assert missing["evidence"]["count"] == 2 and missing["url"] == HOME
    assert sorted(p.rsplit("/", 1)[1] for p in missing["evidence"]["pages"]) == ["a.html", "b.html"]
    (footer,) = by_rule(result, "identity.footer_incomplete")
    assert footer["evidence"]["missing"] == ["主办单位", "ICP备案号", "公安机关备案号", "联系方式"]
    assert footer["evidence"]["count"] == 2 and footer["severity"] == "warning"
    (entry,) = by_rule(result, "identity.error_report_entry_missing")
    assert entry["severity"] == "info" and entry["evidence"]["count"] == 2
    assert not by_rule(result, "identity.site_id_mismatch")


def test_meta_and_footer_disagree(tmp_path):
    pages = good_site()
    pages["/c.html"] = layout("页面C", "<p>正文</p>").replace(
        'content="3713000049"', 'content="3713000050"'
    )
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "identity.site_id_mismatch")
    assert f["severity"] == "error"
    assert f["evidence"]["pages"][0]["meta"] == "3713000050"
    assert f["evidence"]["pages"][0]["footer"] == "3713000049"
    assert not by_rule(result, "identity.site_id_missing")


def test_meta_alone_is_enough_for_the_id_and_items_are_configurable(tmp_path):
    pages = good_site()
    footer = FOOTER.replace("网站标识码：3713000049", "").replace("联系电话：0539-8012345", "")
    pages["/d.html"] = layout("页面D", "<p>正文</p>", footer=footer)
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "identity.site_id_missing")
    (f,) = by_rule(result, "identity.footer_incomplete")
    assert f["evidence"]["missing"] == ["联系方式"]
    options = {"identity": {"footer_items": {"主办单位": ["主办单位"]}}}
    assert not audit(tmp_path / "b", pages, PLUGINS, options).findings


def test_pages_listed_are_capped(tmp_path):
    pages = good_site()
    for i in range(8):
        pages[f"/n{i}.html"] = layout("页面", "<p>正文</p>", footer="<div class='footer'></div>")
    result = audit(tmp_path, pages, PLUGINS, {"identity": {"max_pages_listed": 3}})
    (f,) = by_rule(result, "identity.footer_incomplete")
    assert f["evidence"]["count"] == 8 and len(f["evidence"]["pages"]) == 3


def test_footer_written_by_a_script_is_not_judged(tmp_path):
    pages = good_site()
    pages["/js.html"] = (
        "<html><head><title>页面</title></head><body><div class='main'><p>正文</p></div>"
        "<script src='/js/footer.js'></script></body></html>"
    )
    result = audit(tmp_path, pages, PLUGINS)
    # not judged, and not silently passed either: reported as not checked (info)
    (f,) = result.findings
    assert f["rule"] == "identity.not_checked" and f["severity"] == "info"
    assert f["evidence"]["pages"] == [HOST + "/js.html"] and f["evidence"]["reason"]
    assert result.site_data["identity.pages_unchecked"] == 1
    # the same page without the script is judged (and fails)
    pages["/js.html"] = pages["/js.html"].replace("<script src='/js/footer.js'></script>", "")
    assert by_rule(audit(tmp_path, pages, PLUGINS), "identity.footer_incomplete")


def test_an_organ_named_as_copyright_holder_names_the_sponsor(tmp_path):
    """浙江省发改委's footer (tests/real fgw.zj.gov.cn): "中国·浙江省发展和改革委员会 版权所有"
    names the 主办单位 without the label; "Copyright ©2006-2026 版权所有" names no one."""
    pages = good_site()
    footer = FOOTER.replace(
        "主办单位：临沂市自然资源和规划局", "中国·临沂市自然资源和规划局 版权所有"
    )
    pages["/e.html"] = layout("页面E", "<p>正文</p>", footer=footer)
    assert not by_rule(audit(tmp_path, pages, PLUGINS), "identity.footer_incomplete")
    bare = FOOTER.replace("主办单位：临沂市自然资源和规划局", "版权所有 ©2024 保留所有权利")
    pages["/e.html"] = layout("页面E", "<p>正文</p>", footer=bare)
    (f,) = by_rule(audit(tmp_path / "b", pages, PLUGINS), "identity.footer_incomplete")
    assert f["evidence"]["missing"] == ["主办单位"]
