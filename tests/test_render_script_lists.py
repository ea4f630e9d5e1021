"""A column whose list a script writes is rendered in Chromium and its list read; a page
whose only inline script is site-wide data (TRS's ``var SiteInfo = {…}``) is not rendered
and its column is judged from the HTML (`govaudit audit` as a subprocess, real Chromium).

The script-built list copies the pattern of the demo's 在线访谈 page and of avalon/TRS list
pages (an empty ``<ul id="…">`` that an inline script fills); the SiteInfo script is the one
TRS pages end with, e.g. www.pingtan.gov.cn (tests/real/sites/www.pingtan.gov.cn/…):
``<script>var SiteInfo = {siteId: "…", siteName: "…"};</script>``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from core.scriptlists import has_script_list
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser

TODAY = "2026-09-10"
SITE_INFO = '<script>var SiteInfo = {siteId: "35", siteName: "示例局"};</script>'
SHARE = (  # a share button built by script: links, but no list
    "<script>var s=document.createElement('a');s.href='http://share.example/?u='+"
    "encodeURIComponent(location.href);s.textContent='分享';document.body.appendChild(s);</script>"
)
PAGE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{t}</title>'
    '<meta name="ColumnName" content="{t}"></head><body>'
    '<nav><a href="/">首页</a> <a href="/zxft/">在线访谈</a> <a href="/gzdt/">工作动态</a> '
    '<a href="/zn/">政府信息公开指南</a></nav>'
    "<main><h1>{t}</h1>{b}</main>{s}"
    "<footer>主办单位：示例局 ICP备12345678号</footer></body></html>"
)
ARTICLE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{t}</title>'
    '<meta name="ArticleTitle" content="{t}"><meta name="PubDate" content="{d}"></head>'
    "<body><h1>{t}</h1><p>正文</p></body></html>"
)
# the rows are data in the page, drawn by an external script (no link built inline)
SCRIPT_LIST = (
    '<ul id="ft"></ul><script>var items=[{u:"/zxft/1.html",t:"局长在线访谈",d:"2026-09-01"}];'
    '</script><script src="/js/list.js"></script>'
)
LIST_JS = (
    '(function(){var ul=document.getElementById("ft");items.forEach(function(r){'
    "var li=document.createElement(\"li\");li.innerHTML='<a href=\"'+r.u+'\">'+r.t+"
    "'</a> <span>'+r.d+'</span>';ul.appendChild(li);});})();"
)
STATIC_LIST = '<ul><li><a href="/gzdt/1.html">关于开展耕地保护检查的通知</a> 2026-09-05</li></ul>'
GUIDE = "<p>（2026年03月23日）</p>" + "<p>" + "本指南说明政府信息公开的方式和途径。" * 40 + "</p>"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = tmp_path_factory.mktemp("scriptlists")
    with LoopbackServer() as srv:
        srv.route("/", html=PAGE.format(t="首页", b=STATIC_LIST, s=SITE_INFO))
        srv.route("/zxft/", html=PAGE.format(t="在线访谈", b=SCRIPT_LIST, s=SITE_INFO))
        srv.route("/js/list.js", body=LIST_JS, content_type="application/javascript")
        srv.route("/zn/", html=PAGE.format(t="政府信息公开指南", b=GUIDE, s=SITE_INFO))
        srv.route("/zxft/1.html", html=ARTICLE.format(t="局长在线访谈", d="2026-09-01"))
        srv.route("/gzdt/", html=PAGE.format(t="工作动态", b=STATIC_LIST, s=SITE_INFO + SHARE))
        srv.route(
            "/gzdt/1.html", html=ARTICLE.format(t="关于开展耕地保护检查的通知", d="2026-09-05")
        )
        config = data / "c.toml"
        config.write_text(
            f'data_dir = "{data}"\n[site]\nurls = ["{srv.url("/")}"]\n'
            "[crawl]\ntimeout = 6\nretries = 0\nobey_robots = false\n",
            encoding="utf-8",
        )
        proc = subprocess.run(
            [sys.executable, "-m", "govaudit.cli", "audit", "--config", str(config)]
            + ["--plugins", "columns", "--today", TODAY, "--quiet"],
            capture_output=True,
            text=True,
            timeout=240,
        )
        db = sqlite3.connect(data / "govaudit.sqlite")
        pages = {url: bool(r) for url, r in db.execute("select url, rendered from pages")}
        (site_data,) = db.execute("select site_data from runs order by id desc limit 1").fetchone()
        yield {"proc": proc, "pages": pages, "site_data": json.loads(site_data), "srv": srv}


def test_the_shared_criterion():
    assert has_script_list(PAGE.format(t="在线访谈", b=SCRIPT_LIST, s=SITE_INFO))
    assert not has_script_list(PAGE.format(t="工作动态", b=STATIC_LIST, s=SITE_INFO + SHARE))
    assert not has_script_list(PAGE.format(t="指南", b=GUIDE, s=SITE_INFO))


def test_script_built_list_is_rendered_and_read(run):
    srv = run["srv"]
    assert run["proc"].returncode in (0, 1), run["proc"].stderr[-2000:]
    assert run["pages"][srv.url("/zxft/")] is True
    assert run["pages"][srv.url("/")] is False
    rows = {r[0]: r for r in run["site_data"]["columns.table"]["rows"]}
    assert rows["在线访谈"][2] == 1  # the entry drawn by the script was read
    assert rows["在线访谈"][3] == "2026-09-01"


def test_other_inline_scripts_cost_no_rendering_and_skip_no_check(run):
    srv = run["srv"]
    # a share button built by script is no list: the page is read from its HTML
    assert run["pages"][srv.url("/gzdt/")] is False
    assert run["pages"][srv.url("/zn/")] is False
    rows = {r[0]: r for r in run["site_data"]["columns.table"]["rows"]}
    assert rows["工作动态"][2] == 1
    # the guide page with TRS's site-wide SiteInfo script is checked, not "script-built"
    assert rows["政府信息公开指南"][5] != "列表由脚本生成，未能检查"
