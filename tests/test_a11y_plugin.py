"""The accessibility plugin on a stored snapshot of a loopback site, in real Chromium:
findings per page and rule with evidence, options (rules, selectors, templates, limits),
the 无障碍 entry check, and the rule table checked against axe-core itself."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from audits.a11y_rules import RULES, criteria_from_tags
from audits.accessibility import (
    ENTRY_JS,
    TOOLBAR_PATTERN,
    AccessibilityAudit,
    AccessibilityOptions,
    static_entry,
    template_signature,
)
from audits.runner import all_rules, run_audits
from core.browser import BrowserSettings
from core.cdp_worker import CdpWorker
from core.config import config_from_dict
from core.snapshot import Page
from reports.store import Store
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser


def html(body: str, lang: str = ' lang="zh-CN"', title: str = "页面") -> str:
    return (
        f'<!DOCTYPE html><html{lang}><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><header><a href="/">首页</a></header><main><h1>{title}</h1>{body}</main>'
        "<footer><p>主办单位：某市自然资源和规划局</p></footer></body></html>"
    )


ARTICLE = '<div class="article"><div class="content">{}</div></div>'
PAGES = {
    "/": html('<p><a href="/wza/">无障碍浏览</a></p><p><a href="/a1.html">文章</a></p>'),
    "/a1.html": html(ARTICLE.format("<p>正文一</p><p>第二段</p>")),
    "/a2.html": html(ARTICLE.format("<p>正文二</p><table><tr><td>表</td></tr></table>")),
    "/a3.html": html(ARTICLE.format('<p>正文三</p><p><img src="/p.png"></p>')),
    "/form.html": html(
        '<form><input type="text" name="q"><select name="s"><option>1</option></select>'
        '<button type="submit"></button></form><p style="color:#bbb;background:#fff">浅色</p>'
        '<div class="ads"><img src="/ad.png"></div>'
    ),
    "/nolang.html": html("<p>没有语言</p>", lang=""),
}


@pytest.fixture(scope="module")
def site():
    with LoopbackServer() as srv:
        for path, text in PAGES.items():
            srv.route(path, html=text)
        srv.route("/p.png", body=b"\x89PNG", content_type="image/png")
        srv.route("/ad.png", body=b"\x89PNG", content_type="image/png")
        yield srv


def audit(site, tmp_path: Path, options: dict | None = None, paths=None):
    """Store a snapshot of the site's pages, run the plugin over it, return (findings, data)."""
    config = config_from_dict(
        {
            "site": {"urls": [site.url("/")]},
            "data_dir": str(tmp_path),
            "plugins": {"accessibility": {"navigation_timeout": 10, **(options or {})}},
        }
    )
    store = Store.in_dir(tmp_path)
    run_id = store.create_run(site=site.url("/"), config={}, start_urls=[site.url("/")])
    store.add_pages(
        run_id,
        [
            Page(
                url=site.url(p),
                final_url=site.url(p),
                status_code=200,
                content_type="text/html; charset=utf-8",
                html=PAGES[p],
            )
            for p in (paths or PAGES)
        ],
    )
    result = run_audits(store, run_id, config, ["accessibility"], today=date(2026, 11, 26))
    assert result.errors == []
    return result.findings, result.site_data, store.run_dir(run_id)


@pytest.fixture(scope="module")
def default_run(site, tmp_path_factory):
    return audit(site, tmp_path_factory.mktemp("a11y"))


def by_page(findings, site, path):
    return {f["rule"] for f in findings if f["page"] == site.url(path)}


def test_planted_defects_found_on_the_right_pages(default_run, site):
    findings, _, _ = default_run
    assert by_page(findings, site, "/a3.html") == {"a11y.image-alt"}
    assert by_page(findings, site, "/nolang.html") == {"a11y.html-has-lang"}
    assert {
        "a11y.label",
        "a11y.select-name",
        "a11y.button-name",
        "a11y.color-contrast",
        "a11y.image-alt",
    } <= by_page(findings, site, "/form.html")


def test_clean_pages_report_nothing(default_run, site):
    findings, _, _ = default_run
    for path in ("/", "/a1.html", "/a2.html"):
        assert by_page(findings, site, path) == set(), path


def test_evidence_severity_and_chinese_text(default_run, site):
    findings, _, run_dir = default_run
    (f,) = [x for x in findings if x["rule"] == "a11y.image-alt" and x["page"].endswith("a3.html")]
    assert f["severity"] == "error"  # axe impact critical
    assert f["unit"] == "信息中心"
    assert f["message"].startswith("图片缺少替代文本")
    ev = f["evidence"]
    assert ev["wcag"] == ["1.1.1"] and ev["principles"] == ["可感知性"]
    assert ev["node_count"] == 1 and '<img src="/p.png">' in ev["nodes"][0]["html"]
    assert ev["help_url"].startswith("https://dequeuniversity.com/rules/axe/4.")
    assert ev["advice"] == RULES["image-alt"].advice
    shot = run_dir / ev["screenshot"]
    assert not Path(ev["screenshot"]).is_absolute() and shot.read_bytes()[:4] == b"\x89PNG"
    form = [x for x in findings if x["page"].endswith("form.html")]
    assert len([x for x in form if "screenshot" in x["evidence"]]) == 1  # one per page
    contrast = [x for x in findings if x["rule"] == "a11y.color-contrast"]
    assert contrast and contrast[0]["evidence"]["wcag"] == ["1.4.3"]


def test_report_table_lists_audited_pages(default_run, site):
    _, data, _ = default_run
    table = data["accessibility.table"]
    assert table["columns"] == ["页面", "检测结果", "问题元素数"]
    assert [r[0] for r in table["rows"]][0] == site.url("/")  # homepage first
    assert len(table["rows"]) == len(PAGES)
    assert data["accessibility.pages_audited"] == len(PAGES)
    assert data["accessibility.entry"]["found"] is True  # the 无障碍浏览 link


def test_playwright_driver_finds_the_same(default_run, site, tmp_path):
    """driver: playwright (Playwright's Node driver) and the default (DevTools from Python)
    report the same rules on the same pages, with the same failing elements."""
    findings, data, _ = audit(site, tmp_path, {"driver": "playwright", "screenshots": False})

    def key(found):
        return sorted((f["page"], f["rule"], f["evidence"].get("node_count")) for f in found)

    assert key(findings) == key(default_run[0])
    assert data["accessibility.pages_audited"] == len(PAGES)


def test_options_rules_selectors_and_limits(site, tmp_path):
    findings, data, _ = audit(
        site,
        tmp_path,
        {
            "disable_rules": ["color-contrast"],
            "exclude": [".ads"],
            "pages_exclude": ["nolang"],
            "max_pages": 4,
            "screenshots": False,
        },
    )
    form = [f for f in findings if f["page"] == site.url("/form.html")]
    assert "a11y.color-contrast" not in {f["rule"] for f in form}
    images = [f for f in form if f["rule"] == "a11y.image-alt"]
    assert images == []  # the only image without alt is inside .ads
    assert not any(f["page"] == site.url("/nolang.html") for f in findings)
    assert len(data["accessibility.table"]["rows"]) == 4
    assert all("screenshot" not in f["evidence"] for f in findings)


def test_one_page_per_template(site, tmp_path):
    sig = {p: template_signature(PAGES[p]) for p in PAGES}
    assert sig["/a1.html"] == sig["/a2.html"] == sig["/a3.html"]  # articles share a template
    assert sig["/"] != sig["/a1.html"]
    findings, data, _ = audit(site, tmp_path, {"one_per_template": True})
    table = data["accessibility.table"]
    assert table["columns"] == ["页面", "模板组", "同模板页面数", "检测结果", "问题元素数"]
    audited = [r[0] for r in table["rows"]]
    assert site.url("/a1.html") in audited and site.url("/a3.html") not in audited
    (row,) = [r for r in table["rows"] if r[0] == site.url("/a1.html")]
    assert row[2] == 3
    assert "每个页面模板检测一个页面" in table["title"]


def test_rule_table_matches_axe(site):
    worker = CdpWorker(BrowserSettings(navigation_timeout=10, driver="cdp"))  # the plugin's
    try:
        from axe_playwright_python.sync_playwright import Axe

        def rules(page, info):
            page.evaluate(Axe().axe_script)
            return page.evaluate("[axe.version, axe.getRules()]")

        out = worker.run(site.url("/"), rules)
        # The 无障碍 entry search, on a page without one and on one where a script adds it.
        site.route("/plain/", html=html("<p>没有入口</p>"))
        site.route(
            "/toolbar/",
            html=html("<script>document.write('<button>长者模式</button>')</script>"),
        )
        keywords, toolbar = AccessibilityOptions().entry_keywords, TOOLBAR_PATTERN
        entries = [
            worker.run(
                site.url(p), lambda page, info: page.evaluate(ENTRY_JS, [keywords, toolbar])
            ).value
            for p in ("/plain/", "/toolbar/")
        ]
    finally:
        worker.close()
    assert entries[0] == {"found": False}
    assert entries[1]["found"] and entries[1]["keyword"] == "长者模式"
    assert static_entry(html("<p>没有入口</p>"), keywords) == {"found": False}
    assert static_entry(PAGES["/"], keywords)["found"]
    version, axe_rules = out.value
    assert version.startswith("4.12")
    known = {r["ruleId"] for r in axe_rules}
    default = {
        r["ruleId"]
        for r in axe_rules
        if {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"} & set(r["tags"])
    }
    assert set(RULES) <= known  # no made-up ids
    assert default <= set(RULES)  # every rule run by default has Chinese text
    assert len(RULES) >= 30
    for r in axe_rules:
        if r["ruleId"] in default:
            assert set(RULES[r["ruleId"]].criteria) == set(criteria_from_tags(r["tags"])), r


def test_rules_are_declared_for_plugins_listing():
    rules = all_rules()
    assert rules["a11y.image-alt"][1].title == "图片缺少替代文本"
    assert rules["a11y.not_tested"][0] == "accessibility"
    assert rules["a11y.no_accessibility_entry"][1].severity.value == "warning"
    unknown = AccessibilityAudit.rule("a11y.some-future-rule")
    assert unknown.unit == "信息中心"


def test_a_page_the_crawler_truncated_is_not_opened(site, tmp_path):
    """A page over crawl.max_page_bytes (a compression bomb, or just huge) is reported not
    tested, with the reason, and never loaded into Chromium; the other pages are audited."""
    site.route("/bomb.html", html=html("<p>炸弹</p>"))
    config = config_from_dict(
        {
            "site": {"urls": [site.url("/")]},
            "data_dir": str(tmp_path),
            "crawl": {"max_page_bytes": 1_000_000},
            "plugins": {"accessibility": {"navigation_timeout": 10, "screenshots": False}},
        }
    )
    store = Store.in_dir(tmp_path)
    run_id = store.create_run(site=site.url("/"), config={}, start_urls=[site.url("/")])
    truncated = {"_truncated": True, "_truncated_reason": "decompressed"}
    store.add_pages(
        run_id,
        [
            Page(site.url("/"), site.url("/"), 200, "text/html", html=PAGES["/"]),
            Page(site.url("/bomb.html"), site.url("/bomb.html"), 200, "text/html", meta=truncated),
        ],
    )
    before = len(site.requests)
    result = run_audits(store, run_id, config, ["accessibility"], today=date(2026, 11, 26))
    assert result.errors == []
    (nt,) = [f for f in result.findings if f["rule"] == "a11y.not_tested"]
    assert nt["page"] == site.url("/bomb.html")
    assert nt["evidence"]["reason"] == "too_large"
    assert "解压后超过1000000字节" in nt["evidence"]["reason_text"]
    assert not [r for r in site.requests[before:] if r.path == "/bomb.html"]  # never loaded
    assert result.site_data["accessibility.pages_audited"] == 1  # the homepage was
