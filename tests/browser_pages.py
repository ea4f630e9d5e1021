"""Pages for the browser tests of both drivers (tests/test_render_browser.py, Playwright's;
tests/test_cdp_browser.py, DevTools'; tests/test_browser_memory.py): a normal page, a
script-built one, and the hostile kinds a real site can serve, with the reason each must
be reported not tested for."""

from __future__ import annotations

import psutil

from core.browser import NotTestedReason
from tests.loopback import LoopbackServer

PAGE = '<!DOCTYPE html><html lang="zh-CN"><head><title>{t}</title></head><body>{b}</body></html>'
# ~60 MB of arrays built and dropped by the page's script: garbage left in the renderer.
GARBAGE = (
    "<script>let keep=[];for(let i=0;i<300;i++){keep.push(new Array(25000).fill({i}))}"
    "document.title='done '+keep.length;keep=null;</script>"
)

#: The two ways core.browser drives Chromium (BrowserSettings.driver).
DRIVERS = ["playwright", "cdp"]

#: (path or URL, why it is not tested); every one must be reported within the stage limits.
HOSTILE = [
    ("/loop", NotTestedReason.SCRIPT_LOOP),
    ("/alert", NotTestedReason.DIALOG),
    ("/slow", NotTestedReason.LOAD_TIMEOUT),
    ("/gone", NotTestedReason.HTTP_ERROR),
    ("/file.pdf", NotTestedReason.NOT_HTML),
    ("http://127.0.0.1:9/", NotTestedReason.NAVIGATION_ERROR),
    ("chrome://crash", NotTestedReason.CRASH),
]


def serve_pages(srv: LoopbackServer) -> LoopbackServer:
    """Route the test pages on ``srv``."""
    srv.route("/ok", html=PAGE.format(t="正常", b="<a href='/x'>x</a>"))
    srv.route("/loop", html=PAGE.format(t="loop", b="<script>for(;;){}</script>"))
    srv.route("/alert", html=PAGE.format(t="a", b="<script>alert('欢迎');confirm('?')</script>"))
    srv.route("/slow", html=PAGE.format(t="slow", b="<img src='/never.png' alt=''>"))
    srv.route("/never.png", delay=60, body=b"", content_type="image/png")
    srv.route("/gone", status=404, html="<title>404</title>")
    srv.route("/file.pdf", body=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    srv.route("/moved", status=302, headers={"Location": "/ok"})
    srv.route("/garbage", html=PAGE.format(t="garbage", b=GARBAGE))
    srv.route(
        "/js",
        html=PAGE.format(
            t="js", b="<div id=m></div><script>m.innerHTML='<a href=/new>新</a>'</script>"
        ),
    )
    return srv


def title(page, info) -> str:
    """The job of most browser tests: the page's title (the same call in both drivers)."""
    return page.evaluate("document.title")


def marked(proc: psutil.Process, worker) -> bool:
    """Whether ``proc`` is ``worker``'s browser (its command line carries the marker)."""
    try:
        return worker.marker in proc.cmdline()
    except psutil.Error:
        return False
