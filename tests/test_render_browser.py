"""core.browser in real Chromium: hostile pages never hang the pool, names resolve only
through the run's resolver, pages are closed and browsers recycled without leaks."""

from __future__ import annotations

import time

import psutil
import pytest

from core.browser import (
    BrowserPool,
    BrowserSettings,
    BrowserWorker,
    NotTestedReason,
    host_rules_for,
)
from core.cdp_worker import CdpWorker
from core.config import DnsConfig
from core.dns import Resolver
from tests.browser_pages import DRIVERS, HOSTILE, PAGE, marked, serve_pages, title
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    with LoopbackServer() as srv:
        yield serve_pages(srv)


@pytest.fixture(scope="module")
def resolver(site):
    return Resolver(DnsConfig(resolve=[f"www.demo.gov.cn:{site.port}:127.0.0.1"]))


@pytest.fixture(scope="module")
def pool(site, resolver):
    # One Chromium for the whole module; tests that need other limits change and restore them.
    settings = BrowserSettings(
        navigation_timeout=3,
        script_timeout=10,
        probe_timeout=2,
        max_dialogs=0,
        recycle_after=100,
        resolver=resolver,
    )
    with BrowserPool(settings, size=1) as p:
        yield p


@pytest.fixture()
def worker(pool):
    (w,) = pool._all
    saved = w.settings.recycle_after
    yield w
    w.settings.recycle_after = saved


def test_normal_page_is_loaded_and_scripts_ran(pool, site):
    out = pool.run(site.url("/js"), lambda page, info: page.inner_text("#m"))
    assert out.ok and out.value == "新"
    assert out.info.status == 200


@pytest.mark.parametrize(("path", "reason"), HOSTILE)
def test_hostile_page_is_not_tested_and_next_page_works(pool, site, path, reason):
    url = path if "://" in path else site.url(path)
    start = time.monotonic()
    out = pool.run(url, title)
    assert not out.ok
    assert out.not_tested.reason is reason, out.not_tested
    assert out.not_tested.describe()  # Chinese text for the report
    assert time.monotonic() - start < 25  # stage limits, never the 60 s the server waits
    after = pool.run(site.url("/ok"), title)  # the pool recovered
    assert after.ok and after.value == "正常"


@pytest.mark.parametrize("driver", DRIVERS)
def test_dialogs_are_dismissed_when_allowed(site, driver):
    settings = BrowserSettings(driver=driver, navigation_timeout=3, max_dialogs=10)
    with BrowserPool(settings, size=1) as pool:
        out = pool.run(site.url("/alert"), title)
    assert out.ok and out.value == "a"
    assert out.info.dialogs == ["alert: 欢迎", "confirm: ?"]


def test_every_page_closed_and_browser_recycled_without_leaks(worker, site):
    worker.settings.recycle_after = 2
    worker.run(site.url("/ok"), title)
    before = worker.launches
    open_pages = []
    for _ in range(4):
        open_pages.append(
            worker.run(site.url("/ok"), lambda page, info: len(page.context.pages)).value
        )
        # Never two browsers: the old one is gone before a new one starts. (Whether one
        # runs right now depends on the worker thread: it closes a used-up one after the job.)
        browsers = [p for p in psutil.Process().children(recursive=True) if marked(p, worker)]
        assert len(browsers) <= 1
    assert open_pages == [1] * 4  # the previous job's page is always closed
    assert worker.launches - before >= 1  # a new Chromium after 2 pages


@pytest.mark.parametrize("driver", DRIVERS)
def test_names_resolve_only_through_the_resolver(site, resolver, driver):
    rules = host_rules_for(["www.demo.gov.cn", "unknown.invalid"], resolver)
    assert rules == {"www.demo.gov.cn": "127.0.0.1"}
    other = LoopbackServer(host="127.0.0.2").start()  # an address the site does not use
    other.route("/img.png", body=b"x", content_type="image/png")
    site.route(
        "/ext",
        html=PAGE.format(t="ext", b=f"<img alt='' src='http://127.0.0.2:{other.port}/img.png'>"),
    )
    settings = BrowserSettings(driver=driver, navigation_timeout=3, resolver=resolver)
    try:
        with BrowserPool(settings, size=1) as worker:
            out = worker.run(f"http://www.demo.gov.cn:{site.port}/ok", title)
            assert out.ok and out.value == "正常"
            out = worker.run(f"http://www.elsewhere.gov.cn:{site.port}/ok", title)
            assert out.not_tested.reason is NotTestedReason.NAVIGATION_ERROR
            out = worker.run(f"http://www.demo.gov.cn:{site.port}/ext", title)
            assert out.ok
            assert other.requests == []  # never reached: only the site's hosts and loopback
    finally:
        other.stop()


@pytest.mark.parametrize("driver", DRIVERS)
def test_closing_kills_every_chromium_process(site, driver):
    kind = CdpWorker if driver == "cdp" else BrowserWorker
    worker = kind(BrowserSettings(driver=driver, navigation_timeout=3))
    assert worker.run(site.url("/ok"), title).ok
    worker.close()
    assert not [p for p in psutil.Process().children(recursive=True) if marked(p, worker)]
    after = worker.run(site.url("/ok"), title)
    assert after.not_tested.reason is NotTestedReason.BROWSER_ERROR


def test_tabs_of_one_browser_run_together_and_survive_a_hostile_tab(site):
    """pages_per_browser: several jobs at once in tabs of one Chromium; the watchdog kills
    it for a looping page, and the jobs of the other tabs, killed with it, run again."""
    settings = BrowserSettings(navigation_timeout=3, script_timeout=10, probe_timeout=2)
    with BrowserPool(settings, size=3, pages_per_browser=3) as pool:
        (worker,) = pool._all
        assert worker.pages == 3

        spans = []

        def slow_title(page, info):
            start = time.monotonic()
            page.wait_for_timeout(1500)  # a job that overlaps the others
            spans.append((start, time.monotonic()))
            return page.title()

        outs = list(pool.map([site.url("/ok")] * 3, slow_title))
        assert [o.value for o in outs] == ["正常"] * 3
        assert max(s for s, _e in spans) < min(e for _s, e in spans)  # all three at once
        browsers = [p for p in psutil.Process().children(recursive=True) if marked(p, worker)]
        assert len(browsers) == 1  # one Chromium for the three tabs
        outs = {o.url: o for o in pool.map([site.url("/loop"), site.url("/js")] * 1, slow_title)}
        assert outs[site.url("/loop")].not_tested.reason is NotTestedReason.SCRIPT_LOOP
        assert outs[site.url("/js")].ok  # killed with the browser, then run again
        assert pool.stats["kills"] == 1
        assert pool.run(site.url("/ok"), title).value == "正常"


def test_job_time_grows_with_the_page_up_to_the_ceiling():
    from core.browser_page import job_seconds

    s = BrowserSettings(script_timeout=30, script_timeout_per_10k=45, max_script_timeout=95)
    assert job_seconds(s, 500) == pytest.approx(32.25)
    assert job_seconds(s, 10_000) == 75
    assert job_seconds(s, 100_000) == 95  # the ceiling
    assert job_seconds(BrowserSettings(script_timeout=30), 100_000) == 30  # fixed by default
