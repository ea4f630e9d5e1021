"""The defect patterns of the W3C "Before and After" demo (BAD, w3.org/WAI/demos/bad):
each "before" page has images without alt and no page language, each "after" page is
repaired. No copy of BAD is in the tests, so these pages reproduce its patterns (spacer
and navigation images without alt, <html> without lang, layout tables, unlabelled fields,
low-contrast <font> text, a web font and a video). Findings must be the same whether or
not fonts and media are blocked, and the blocked files are never requested."""

from __future__ import annotations

from datetime import date

import pytest

from audits.runner import run_audits
from core.config import config_from_dict
from core.snapshot import Page
from reports.store import Store
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser

FONT = "@font-face{font-family:Citylights;src:url(/fonts/citylights.woff2) format('woff2')}"


def before(name: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Citylights: {name}</title>"
        f"<style>{FONT} body{{font-family:Citylights,serif}}</style></head><body>"
        "<table width='100%'><tr><td><img src='/img/logo.png' width='100' height='40'></td>"
        "<td><img src='/img/spacer.gif' width='1' height='1'>"
        "<a href='/before/home.html'><img src='/img/nav_home.gif'></a> "
        "<a href='/before/news.html'><img src='/img/nav_news.gif'></a></td></tr></table>"
        f"<font size='5'><b>{name}</b></font>"
        "<p><font color='#cccccc'>Heat wave linked to temperatures</font></p>"
        "<form><input type='text' name='email'> <select name='t'><option>1</option></select>"
        "<input type='image' src='/img/go.gif'></form>"
        "<video src='/media/weather.mp4' width='160' height='90'></video>"
        "</body></html>"
    )


def after(name: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Citylights: {name}</title><style>{FONT} body{{font-family:Citylights,serif}}"
        "</style></head><body><header><img src='/img/logo.png' alt='Citylights' width='100'"
        " height='40'><nav><a href='/after/home.html'>Home</a> <a href='/after/news.html'>"
        f"News</a></nav></header><main><h1>{name}</h1>"
        "<p style='color:#333'>Heat wave linked to temperatures</p>"
        "<form><label for='e'>Email</label> <input id='e' type='text' name='email'>"
        "<label for='t'>Tickets</label> <select id='t' name='t'><option>1</option></select>"
        "<button type='submit'>Go</button></form>"
        "<video src='/media/weather.mp4' width='160' height='90' aria-label='Weather'></video>"
        "</main></body></html>"
    )


NAMES = {"home": "Home", "news": "News", "tickets": "Tickets", "survey": "Survey"}
PAGES = {f"/before/{k}.html": before(v) for k, v in NAMES.items()} | {
    f"/after/{k}.html": after(v) for k, v in NAMES.items()
}


@pytest.fixture(scope="module")
def site():
    with LoopbackServer() as srv:
        for path, text in PAGES.items():
            srv.route(path, html=text)
        for img in ("logo.png", "spacer.gif", "nav_home.gif", "nav_news.gif", "go.gif"):
            srv.route(f"/img/{img}", body=b"GIF89a", content_type="image/gif")
        srv.route("/fonts/citylights.woff2", body=b"wOF2", content_type="font/woff2")
        srv.route("/media/weather.mp4", body=b"\0" * 64, content_type="video/mp4")
        yield srv


def run(site, tmp_path, options):
    config = config_from_dict(
        {
            "site": {"urls": [site.url("/before/home.html")]},
            "data_dir": str(tmp_path),
            "plugins": {"accessibility": {"check_entry": False, **options}},
        }
    )
    store = Store.in_dir(tmp_path)
    run_id = store.create_run(site=site.url("/"), config={}, start_urls=[site.url("/")])
    store.add_pages(
        run_id,
        [Page(site.url(p), site.url(p), 200, "text/html; charset=utf-8") for p in PAGES],
    )
    result = run_audits(store, run_id, config, ["accessibility"], today=date(2026, 11, 26))
    assert result.errors == []
    return {(f["page"], f["rule"], f["evidence"].get("node_count")) for f in result.findings}


def test_before_pages_fail_after_pages_pass_blocked_or_not(site, tmp_path):
    site.requests.clear()
    blocked = run(site, tmp_path / "blocked", {})
    fetched = {r.path for r in site.requests}
    assert "/fonts/citylights.woff2" not in fetched and "/media/weather.mp4" not in fetched
    assert "/img/logo.png" in fetched  # images are loaded: only fonts and media are blocked
    loaded = run(site, tmp_path / "loaded", {"blocked_urls": []})
    assert "/fonts/citylights.woff2" in {r.path for r in site.requests}
    assert blocked == loaded  # blocking changes no finding
    for path in PAGES:
        rules = {rule for page, rule, _n in blocked if page == site.url(path)}
        if path.startswith("/before/"):
            assert {"a11y.image-alt", "a11y.html-has-lang"} <= rules, path
            assert {"a11y.label", "a11y.color-contrast"} <= rules, path
        else:
            assert not rules & {"a11y.image-alt", "a11y.html-has-lang"}, (path, rules)
            assert rules == set(), (path, rules)
