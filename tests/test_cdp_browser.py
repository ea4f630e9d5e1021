"""The driver-less browser (core.cdp, core.cdp_page, core.cdp_worker) in real Chromium: pages
load with their status, hostile pages are reported not tested without hanging, a looping
page is stopped alone (the other tabs go on), names resolve only through the run's
resolver, tabs are reused and closed, heaps collected, browsers recycled, and no Chromium
process outlives its worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import psutil
import pytest

import core.cdp_worker
from core.browser import BrowserPool, BrowserSettings, NotTestedReason
from core.browser_procs import marked_processes
from core.cdp import CdpError, launch
from core.cdp_worker import CdpWorker
from core.config import DnsConfig
from core.dns import Resolver
from tests.browser_pages import HOSTILE, PAGE, marked, serve_pages, title
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    with LoopbackServer() as srv:
        yield serve_pages(srv)


@pytest.fixture(scope="module")
def resolver(site):
    return Resolver(DnsConfig(resolve=[f"www.demo.gov.cn:{site.port}:127.0.0.1"]))


def settings(**kw) -> BrowserSettings:
    base = dict(
        driver="cdp", navigation_timeout=3, script_timeout=10, probe_timeout=2, max_dialogs=0
    )
    return BrowserSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def worker(resolver):
    w = CdpWorker(settings(resolver=resolver))
    yield w
    w.close()


def renderers_cpu(worker: CdpWorker, seconds: float = 1.0) -> float:
    """CPU seconds the worker's live renderers used over ``seconds`` (a loop left running
    shows; a renderer that exits meanwhile counts nothing)."""

    def cpu(p: psutil.Process) -> float | None:
        try:
            return sum(p.cpu_times()[:2]) if p.status() != psutil.STATUS_ZOMBIE else None
        except psutil.Error:
            return None

    def renderer(p: psutil.Process) -> bool:
        try:
            return "--type=renderer" in p.cmdline()
        except psutil.Error:  # exited (a zombie until its parent reaps it)
            return False

    procs = [p for p in marked_processes(worker.marker) if renderer(p)]
    before = {p.pid: cpu(p) for p in procs}
    time.sleep(seconds)
    used = 0.0
    for p in procs:
        now, then = cpu(p), before[p.pid]
        if now is not None and then is not None:
            used += now - then
    return used


def test_page_loads_with_status_headers_and_scripts_run(worker, site):
    out = worker.run(site.url("/js"), lambda page, info: page.evaluate("m.innerText"))
    assert out.ok and out.value == "新"
    assert out.info.status == 200
    assert out.info.headers["content-type"].startswith("text/html")
    assert out.info.load_complete and out.info.final_url == site.url("/js")
    moved = worker.run(site.url("/moved"), title)
    assert moved.value == "正常" and moved.info.final_url == site.url("/ok")
    start = time.monotonic()  # the same page with a #fragment: a same-document move
    anchor = worker.run(site.url("/ok") + "#top", title)
    assert anchor.ok and anchor.value == "正常" and time.monotonic() - start < 2


def test_evaluate_calls_functions_with_arguments_and_reports_page_errors(worker, site):
    call = "async ([a, b]) => { await new Promise(r => setTimeout(r, 10)); return a + b.x }"
    assert worker.run(site.url("/ok"), lambda p, i: p.evaluate(call, [1, {"x": 2}])).value == 3
    out = worker.run(site.url("/ok"), lambda p, i: p.evaluate("undefinedThing.x"))
    assert out.not_tested.reason is NotTestedReason.BROWSER_ERROR
    assert "undefinedThing" in out.not_tested.detail


@pytest.mark.parametrize(("path", "reason"), HOSTILE)
def test_hostile_page_is_not_tested_and_next_page_works(worker, site, path, reason):
    url = path if "://" in path else site.url(path)
    start = time.monotonic()
    out = worker.run(url, title)
    assert not out.ok
    assert out.not_tested.reason is reason, out.not_tested
    assert out.not_tested.describe()  # Chinese text for the report
    assert time.monotonic() - start < 15  # stage limits, never the 60 s the server waits
    after = worker.run(site.url("/ok"), title)  # the worker recovered
    assert after.ok and after.value == "正常"


def test_a_looping_page_is_stopped_alone_and_stops_burning_cpu(site):
    w = CdpWorker(settings(), pages=2)
    try:
        assert w.run(site.url("/ok"), title).ok
        out = w.run(site.url("/loop"), title)
        assert out.not_tested.reason is NotTestedReason.SCRIPT_LOOP
        assert w.kills == 0 and w.launches == 1  # its script terminated, its tab closed
        # No renderer left spinning: the closed tab's process goes within a few seconds.
        assert any(renderers_cpu(w, 0.5) < 0.1 for _ in range(10))
    finally:
        w.close()


def test_tabs_are_reused_then_the_browser_recycled_without_leaks(site):
    w = CdpWorker(settings(recycle_after=3))
    try:

        def tabs(page, info):
            found = page.conn.send("Target.getTargets")["targetInfos"]
            return sum(t["type"] == "page" for t in found)

        counts = [w.run(site.url("/ok"), tabs).value for _ in range(5)]
        assert counts == [1] * 5  # one tab, navigated from page to page
        assert w.launches == 2  # a new Chromium after 3 pages
        browsers = [p for p in psutil.Process().children(recursive=True) if marked(p, w)]
        assert len(browsers) == 1  # the old one is gone
    finally:
        w.close()


def test_blocked_urls_are_never_requested(site):
    site.route("/font.woff2", body=b"x", content_type="font/woff2")
    site.route(
        "/styled",
        html=PAGE.format(
            t="styled",
            b="<style>@font-face{font-family:F;src:url(/font.woff2)}p{font-family:F}</style>"
            "<p>字</p>",
        ),
    )
    w = CdpWorker(settings(navigation_timeout=5, blocked_urls=["*.woff2"]))
    try:
        assert w.run(site.url("/styled"), title).value == "styled"
        assert not [r for r in site.requests if r.path == "/font.woff2"]
    finally:
        w.close()


def test_tabs_run_together_and_a_killed_browser_reruns_the_other_tabs(site, monkeypatch):
    """Three jobs at once in tabs of one Chromium. When a stuck page cannot be stopped on its
    own (here: no time to), the browser is killed, and the other tabs' jobs run again."""
    with BrowserPool(settings(), size=3, pages_per_browser=3) as pool:
        (w,) = pool._all
        spans = []

        def slow_title(page, info):
            start = time.monotonic()
            page.evaluate("new Promise(r => setTimeout(r, 1500))")
            spans.append((start, time.monotonic()))
            return page.evaluate("document.title")

        outs = list(pool.map([site.url("/ok")] * 3, slow_title))
        assert [o.value for o in outs] == ["正常"] * 3
        assert max(s for s, _e in spans) < min(e for _s, e in spans)  # all three at once
        assert len([p for p in psutil.Process().children(recursive=True) if marked(p, w)]) == 1
        monkeypatch.setattr(core.cdp_worker, "STOP_SECONDS", 0.001)
        outs = {o.url: o for o in pool.map([site.url("/loop"), site.url("/js")], slow_title)}
        assert outs[site.url("/loop")].not_tested.reason is NotTestedReason.SCRIPT_LOOP
        assert outs[site.url("/js")].ok  # killed with the browser, then run again
        assert pool.stats["kills"] == 1
        assert pool.run(site.url("/ok"), title).value == "正常"


def test_a_binary_that_is_not_chromium_is_a_clear_error(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'no display here' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(CdpError, match="no display here"):
        launch(str(fake), [], timeout=5)
    w = CdpWorker(settings(executable=str(fake)))
    try:
        out = w.run("http://127.0.0.1:9/", title)
        assert out.not_tested.reason is NotTestedReason.BROWSER_ERROR
        assert "no display here" in out.not_tested.detail
    finally:
        w.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8] == 8, "8-bit samples"
            channels = {2: 3, 6: 4}[body[9]]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytes(width * channels)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = bytes(line)
    return width, height, rows


def test_screenshot_clips_the_failing_element_below_the_fold(worker, site, tmp_path):
    """The plugin's screenshot: the element scrolled into view, outlined in red, and the
    viewport clip around it (Playwright's coordinates, which DevTools takes in the page's)."""
    from audits.a11y_page import HIGHLIGHT_JS

    filler = "<p>填充段落</p>" * 300
    site.route(
        "/long",
        html=PAGE.format(
            t="long", b=f"{filler}<p><img id=t alt='' width=80 height=40></p>{filler}"
        ),
    )
    path = tmp_path / "shot.png"

    def shot(page, info):
        clip = page.evaluate(HIGHLIGHT_JS, "#t")
        page.screenshot(path=str(path), clip=clip, timeout=5000, animations="disabled")
        return clip

    out = worker.run(site.url("/long"), shot)
    assert out.ok and out.value["y"] > 0
    width, height, rows = png_pixels(path.read_bytes())
    assert (width, height) == (round(out.value["width"]), round(out.value["height"]))
    channels = len(rows[0]) // width
    red = sum(
        1
        for row in rows
        for i in range(0, len(row), channels)
        if row[i] > 200 and row[i + 1] < 60 and row[i + 2] < 60
    )
    assert red > 2 * (80 + 40)  # the outline (3 px around 80×40) is in the picture


def test_launch_works_when_the_pipe_gets_descriptors_3_and_4():
    """In a fresh process the pipe's own descriptors can be 3 and 4, the numbers Chromium
    reads and writes: moving them there must not close one with the other."""
    code = (
        "import os\n"
        "for fd in range(3, 10):\n"
        "    try: os.close(fd)\n"
        "    except OSError: pass\n"
        "from core.cdp import launch\n"
        "from core.browser_types import CHROMIUM_ARGS, default_executable\n"
        "b = launch(default_executable(), list(CHROMIUM_ARGS), timeout=20)\n"
        "print(b.version)\n"
        "b.close()\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Chrome/" in out.stdout


@pytest.mark.parametrize("driver", ["cdp", "playwright"])
def test_windows_a_page_opens_are_closed(site, driver):
    """A page that calls window.open on load (ads, 'welcome' windows) leaves no window
    behind: Chromium's popup blocker does not act in headless mode."""
    site.route(
        "/popups", html=PAGE.format(t="p", b="<script>for(let i=0;i<5;i++)open('/ok?'+i)</script>")
    )

    def windows(page, info):
        page.evaluate("new Promise(r => setTimeout(r, 300))")
        if driver == "cdp":
            found = page.conn.send("Target.getTargets")["targetInfos"]
            return sum(t["type"] == "page" for t in found)
        return len(page.context.pages)

    with BrowserPool(settings(driver=driver, navigation_timeout=5), size=1) as pool:
        counts = [pool.run(site.url("/popups"), windows).value for _ in range(3)]
    assert counts == [1, 1, 1]


@pytest.mark.parametrize("driver", ["cdp", "playwright"])
def test_a_browser_over_recycle_mb_is_relaunched(site, driver):
    """recycle_mb: once the browser's processes pass it, the next page gets a new browser."""
    with BrowserPool(settings(driver=driver, recycle_mb=1), size=1) as pool:
        (w,) = pool._all
        assert [pool.run(site.url("/ok"), title).value for _ in range(2)] == ["正常"] * 2
        assert w.launches == 2
        assert w.peak_mb > 1


def test_a_killed_browser_never_closes_a_descriptor_twice(site):
    """After the browser is killed its pipe is closed once, when the worker shuts it down:
    closed at the kill and again later, the second close hit whatever file had taken the
    freed numbers meanwhile (a socket of the site being audited, the next browser's pipe)."""
    w = CdpWorker(settings())
    try:
        assert w.run(site.url("/ok"), title).ok
        w._kill(w._live, object())
        mine = os.pipe()  # takes the lowest free numbers: the pipe's, if they were freed
        assert w.run(site.url("/ok"), title).value == "正常"  # a new browser; the old one shut
    finally:
        w.close()
    for fd in mine:
        os.fstat(fd)  # still open: nobody closed it behind our back
        os.close(fd)
