"""core.browser's memory bounds in real Chromium: a reused tab's JS heap is collected once it
passes ``tab_heap_mb`` (both drivers), the Playwright driver runs with a small young generation without the
process environment changing, and Debian's headless shell is preferred when installed."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from core.browser import BrowserSettings, BrowserWorker
from core.browser_procs import auto_concurrency
from core.browser_types import CHROMIUM, CHROMIUM_SHELL, DRIVER_NODE_OPTIONS, default_executable
from core.cdp_worker import CdpWorker
from tests.browser_pages import DRIVERS, serve_pages, title
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    with LoopbackServer() as srv:
        yield serve_pages(srv)


def heap_mb(page, info) -> float:
    """The tab's JS heap in MB, asked over DevTools (through Playwright, or directly)."""
    if hasattr(page, "send"):  # core.cdp_page.CdpPage
        return page.send("Runtime.getHeapUsage")["totalSize"] / 2**20
    cdp = page.context.new_cdp_session(page)
    try:
        return cdp.send("Runtime.getHeapUsage")["totalSize"] / 2**20
    finally:
        cdp.detach()


def make_worker(driver: str, **settings):
    kind = CdpWorker if driver == "cdp" else BrowserWorker
    return kind(BrowserSettings(driver=driver, **settings))


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_grown_heap_is_collected_between_pages(site, driver):
    worker = make_worker(driver, navigation_timeout=10, tab_heap_mb=16)
    try:
        first = worker.run(site.url("/garbage"), title)
        assert first.ok and first.value == "done 300"
        assert worker.heap_trims == 1  # the tab's heap passed 16 MB: collected
        after = worker.run(site.url("/ok"), heap_mb)
        assert after.ok and after.value < 16  # and the same tab went on, small again
        assert worker.launches == 1
        again = worker.run(site.url("/ok"), title)
        assert again.value == "正常" and worker.heap_trims == 1  # a small heap is left alone
    finally:
        worker.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_heap_collection_can_be_turned_off(site, driver):
    worker = make_worker(driver, navigation_timeout=10, tab_heap_mb=0)
    try:
        assert worker.run(site.url("/garbage"), title).value == "done 300"
        assert worker.heap_trims == 0
    finally:
        worker.close()


def _driver() -> psutil.Process:
    nodes = [
        p
        for p in psutil.Process().children(recursive=True)
        if "run-driver" in " ".join(p.cmdline())
    ]
    assert nodes, "no Playwright driver found"
    return nodes[-1]


def test_driver_gets_a_small_young_generation_and_the_environment_is_restored(site):
    before = os.environ.get("NODE_OPTIONS")
    worker = BrowserWorker(BrowserSettings(navigation_timeout=10))
    try:
        assert worker.run(site.url("/ok"), title).value == "正常"
        env = _driver().environ()
        assert DRIVER_NODE_OPTIONS in env.get("NODE_OPTIONS", "")
        assert os.environ.get("NODE_OPTIONS") == before  # other children are not touched
    finally:
        worker.close()


def test_headless_shell_is_installed_preferred_and_can_be_overridden(monkeypatch):
    # `make install` (the `chromium` target) runs before the suite and installs the shell.
    assert Path(CHROMIUM_SHELL).exists() and os.access(CHROMIUM_SHELL, os.X_OK)
    monkeypatch.delenv("GOVAUDIT_CHROMIUM", raising=False)
    assert default_executable() == CHROMIUM_SHELL
    assert BrowserSettings().executable == CHROMIUM_SHELL
    monkeypatch.setenv("GOVAUDIT_CHROMIUM", CHROMIUM)
    assert BrowserSettings().executable == CHROMIUM


@pytest.mark.parametrize(
    ("cpus", "available_mb", "tabs"),
    [(1, 16000, 1), (2, 16000, 1), (4, 16000, 3), (16, 64000, 4), (8, 700, 1), (8, 1200, 2)],
)
def test_default_tabs_leave_a_core_to_the_browser_and_fit_in_memory(
    monkeypatch, cpus, available_mb, tabs
):
    """One tab per core left once the browser's own processes have one (at most 4), within
    half the available memory at 150 MB a tab over 250 MB."""

    class Memory:
        available = available_mb * 2**20

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory())
    assert auto_concurrency() == tabs
