"""RenderMiddleware in a real crawl (`govaudit audit` as a subprocess, real Chromium): links
that only scripts insert are found and checked; a page flagged for rendering that never
yields its main thread falls back to the plain download and the crawl goes on."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from crawler.render import builds_links
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser

PAGE = '<!DOCTYPE html><html lang="zh-CN"><head><title>{t}</title></head><body>{b}</body></html>'
JS_LIST = (
    '<ul id="list"></ul><script>(function(){var items=[["/ok.html","正常"],'
    '["/js-missing.html","已删除"]];items.forEach(function(it){var li=document.createElement("li"),'
    'a=document.createElement("a");a.href=it[0];a.textContent=it[1];li.appendChild(a);'
    'document.getElementById("list").appendChild(li);});})();</script>'
)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    data = tmp_path_factory.mktemp("render")
    with LoopbackServer() as srv:
        nav = (
            '<a href="/interviews/">在线访谈</a> <a href="/spin/">专题</a> <a href="/ok.html">x</a>'
        )
        srv.route("/", html=PAGE.format(t="首页", b=nav))
        srv.route("/interviews/", html=PAGE.format(t="在线访谈", b=nav + JS_LIST))
        srv.route("/spin/", html=PAGE.format(t="专题", b=nav + "<script>for(;;){}</script>"))
        srv.route("/ok.html", html=PAGE.format(t="ok", b=nav))
        config = data / "c.toml"
        config.write_text(
            f'data_dir = "{data}"\n[site]\nurls = ["{srv.url("/")}"]\n'
            "[crawl]\ntimeout = 4\nretries = 0\nobey_robots = false\n"
            '[crawl.render]\npatterns = ["/spin/"]\n',
            encoding="utf-8",
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "govaudit.cli",
                "audit",
                "--config",
                str(config),
                "--plugins",
                "links",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
        db = sqlite3.connect(data / "govaudit.sqlite")
        pages = {url: bool(r) for url, r in db.execute("select url, rendered from pages")}
        doc = json.loads((data / "runs" / "1" / "findings.json").read_text(encoding="utf-8"))
        yield {"proc": proc, "pages": pages, "findings": doc["findings"], "srv": srv}


def test_link_inserted_by_javascript_is_found_and_checked(crawl):
    srv = crawl["srv"]
    assert crawl["proc"].returncode == 1, crawl["proc"].stderr[-2000:]
    broken = [f for f in crawl["findings"] if f["rule"] == "links.broken"]
    assert [(f["url"], f["page"]) for f in broken] == [
        (srv.url("/js-missing.html"), srv.url("/interviews/"))
    ]
    assert crawl["pages"][srv.url("/interviews/")] is True  # stored as rendered
    assert crawl["pages"][srv.url("/")] is False  # plain pages are not rendered


def test_endless_script_falls_back_to_plain_download(crawl):
    srv = crawl["srv"]
    assert crawl["pages"][srv.url("/spin/")] is False  # kept, from the plain fetch


def test_builds_links_heuristic():
    assert builds_links(PAGE.format(t="", b=JS_LIST))
    assert builds_links("<script>el.innerHTML = '<li><a href=\"/x\">x</a></li>'</script>")
    assert not builds_links("<script>window.location.href = '/new/';</script>")
    assert not builds_links('<script src="/jquery.js"></script><a href="/x">x</a>')
    assert not builds_links("<script>if (a.href == b) {}</script>")
