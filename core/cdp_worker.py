"""One Chromium spoken to over DevTools (:mod:`core.cdp`), its tabs shared by the calling
threads: the driver-less counterpart of :class:`core.browser.BrowserWorker`.

A caller's thread runs its own job: it takes an idle tab of the worker's browser (or
opens one), loads the URL and runs the job there (:func:`core.cdp_page.load_and_run`);
every DevTools call waits at most what is left of its stage, so nothing needs a watchdog
thread. A page whose main thread stops answering is stopped alone — its script
terminated (``Runtime.terminateExecution`` interrupts even ``while (true) {}``) and its
tab closed; only if that fails is the browser killed, and the jobs of the other tabs,
killed for its sake, run again. The browser is relaunched after ``recycle_after`` pages,
once its processes pass ``recycle_mb``, when a new host needs a resolver rule, and after
it died; a relaunch waits for the jobs still running on the old browser.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.browser_base import WorkerBase
from core.browser_page import BrowserCrashed, classify, trim_heap
from core.browser_procs import kill_marked_processes
from core.browser_types import (
    CDP_EXTRA_ARGS,
    BrowserSettings,
    NotTested,
    NotTestedReason,
    PageInfo,
    PageOutcome,
)
from core.cdp import Browser, CdpClosed, CdpError, CdpTimeout, Connection, launch
from core.cdp_page import CdpPage, PageStuck, load_and_run

log = logging.getLogger("core.browser")

T = TypeVar("T")

TAB_SETUP_SECONDS = 15.0
STOP_SECONDS = 5.0  # to terminate a stuck page's script and close its tab


@dataclass(eq=False)
class _Live:
    """A launched browser and what happened to it."""

    browser: Browser
    context: str  # the browser context (a fresh profile) the tabs open in
    served: int = 0
    killed_by: object | None = None  # the job that had it killed

    @property
    def dead(self) -> bool:
        return self.browser.connection.closed.is_set() or self.browser.process.poll() is not None


class CdpWorker(WorkerBase):
    """One Chromium with up to ``pages`` tabs in use at once; ``run`` from any thread."""

    def __init__(self, settings: BrowserSettings, name: str = "browser-0", pages: int = 1) -> None:
        super().__init__(settings, name, pages)
        self.popups_closed = 0
        self._cond = threading.Condition()
        self._live: _Live | None = None
        self._tabs: list[CdpPage] = []  # idle tabs of the current browser
        self._running = 0
        self._retiring = False
        self._dead = False

    @property
    def alive(self) -> bool:
        return not self._dead

    def run(self, url: str, fn: Callable[[Any, PageInfo], T]) -> PageOutcome[T]:
        """Load ``url`` in a tab, call ``fn(page, info)``, keep the tab for the next job.

        Never raises for a page's fault and never blocks longer than the stage limits."""
        start = time.monotonic()
        outcome: PageOutcome[Any] = PageOutcome(url)
        for attempt in range(3):
            try:
                live, tab = self._acquire(url)
            except Exception as exc:
                reason = NotTested(NotTestedReason.BROWSER_ERROR, f"浏览器无法启动：{exc}"[:300])
                outcome = PageOutcome(url, not_tested=reason)
                break
            outcome, again = self._job(live, tab, url, fn)
            if not again or attempt == 2:
                break
            self.retries += 1  # killed for another tab's sake, not its own: run it again
        outcome.elapsed_ms = int((time.monotonic() - start) * 1000)
        return outcome

    def close(self, timeout: float = 15.0) -> None:
        """Close the browser (killed if it does not close); later jobs are not tested."""
        with self._cond:
            self._dead = True
            deadline = time.monotonic() + timeout
            while self._running and time.monotonic() < deadline:
                self._cond.wait(0.2)
            self._shutdown()
        kill_marked_processes(self.marker)
        self._blackhole.close()

    # ---- the browser ------------------------------------------------------------------
    def _acquire(self, url: str) -> tuple[_Live, CdpPage | None]:
        with self._cond:
            while True:
                if self._dead:
                    raise CdpClosed("已关闭")
                if self._new_host(url) and self._live is not None:
                    self._retiring = True
                live = self._live
                if live is not None and (self._retiring or live.dead):
                    if self._running:  # relaunch once the jobs on this browser are done
                        self._cond.wait(0.5)
                        continue
                    self._shutdown()
                    live = None
                if live is None:
                    live = self._live = self._launch()
                self._running += 1
                return live, (self._tabs.pop() if self._tabs else None)

    def _launch(self) -> _Live:
        s = self.settings
        args = [*self.chromium_args(), *CDP_EXTRA_ARGS]
        browser = launch(s.executable, args, timeout=s.launch_timeout, name=self.name)
        conn = browser.connection
        conn.listen("", lambda method, params: self._close_popups(conn, method, params))
        try:
            setup = [
                conn.post("Browser.setDownloadBehavior", {"behavior": "deny"}),
                conn.post("Security.setIgnoreCertificateErrors", {"ignore": True}),
                conn.post("Target.setDiscoverTargets", {"discover": True}),
                conn.post("Target.createBrowserContext", {"disposeOnDetach": True}),
            ]
            context = [f.result(timeout=s.launch_timeout) for f in setup][-1]["browserContextId"]
        except Exception:
            browser.close(timeout=2)
            raise
        self.launches += 1
        log.debug("%s: launched %s (%d)", self.name, browser.version, self.launches)
        return _Live(browser, context)

    def _close_popups(self, conn: Connection, method: str, params: dict[str, Any]) -> None:
        """A window a page opened (``window.open``; Chromium's popup blocker does not act in
        headless mode) is closed as it appears: left open, a page opening five on load
        added five documents per page audited until the browser was recycled."""
        info = params.get("targetInfo") or {}
        if method == "Target.targetCreated" and info.get("type") == "page" and info.get("openerId"):
            self.popups_closed += 1
            conn.post("Target.closeTarget", {"targetId": info["targetId"]})

    def _shutdown(self) -> None:
        """Close the current browser (the caller holds the lock, no job runs on it)."""
        live, self._live = self._live, None
        self._tabs = []
        self._retiring = False
        if live is not None:
            live.browser.close(timeout=5)
            kill_marked_processes(self.marker)

    def _kill(self, live: _Live, job: object) -> None:
        if live.killed_by is None:
            live.killed_by = job
        self.kills += 1
        kill_marked_processes(self.marker)
        live.browser.connection.abort(CdpClosed("浏览器被终止"))

    # ---- one job ------------------------------------------------------------------------
    def _job(
        self, live: _Live, tab: CdpPage | None, url: str, fn: Callable[[Any, PageInfo], Any]
    ) -> tuple[PageOutcome[Any], bool]:
        """Run one job; returns its outcome and whether to run it again (its browser was
        killed for another job's sake)."""
        s = self.settings
        token = object()
        clean = False
        info = PageInfo(url=url)
        try:
            if tab is None or tab.is_closed():
                tab = self._open_tab(live)
            outcome, clean = load_and_run(tab, url, fn, s)
            if clean and s.reuse_pages and s.tab_heap_mb > 0:
                tab.deadline = time.monotonic() + STOP_SECONDS
                try:
                    self.heap_trims += trim_heap(tab.send, s.tab_heap_mb)
                except (CdpError, CdpTimeout) as exc:  # the job is done: only the tab goes
                    log.debug("%s: heap of %s: %s", self.name, url, exc)
                    clean = False
            return outcome, False
        except PageStuck as exc:
            assert tab is not None
            self._stop(live, tab, token)
            return PageOutcome(url, not_tested=exc.reason, info=tab.info), False
        except BrowserCrashed as exc:
            info = tab.info if tab is not None else info
            return PageOutcome(url, not_tested=classify(exc, None), info=info), False
        except (CdpError, CdpTimeout) as exc:
            info = tab.info if tab is not None else info
            if live.killed_by is not None and live.killed_by is not token:
                return PageOutcome(url, info=info), True
            if live.dead:
                reason = NotTested(NotTestedReason.BROWSER_ERROR, f"浏览器退出：{exc}"[:300])
                return PageOutcome(url, not_tested=reason, info=info), False
            return PageOutcome(url, not_tested=classify(exc, None), info=info), False
        finally:
            self._end_job(live, tab, clean)

    def _end_job(self, live: _Live, tab: CdpPage | None, clean: bool) -> None:
        s = self.settings
        keep = clean and s.reuse_pages and tab is not None and not tab.is_closed()
        if tab is not None and not keep and not tab.is_closed() and not live.dead:
            tab.closed = True
            try:
                live.browser.connection.send(
                    "Target.closeTarget", {"targetId": tab.target_id}, timeout=STOP_SECONDS
                )
            except (CdpError, CdpTimeout) as exc:
                log.debug("%s: closing a tab: %s", self.name, exc)
        if tab is not None and not keep:
            live.browser.connection.listen(tab.session, None)
        over_memory = not live.dead and self._over_memory()  # outside the lock: ~13 ms
        with self._cond:
            self._running -= 1
            self.pages_served += 1
            live.served += 1
            if keep and live is self._live and tab is not None:
                self._tabs.append(tab)
            if live is self._live and (live.served >= s.recycle_after or over_memory):
                self._retiring = True
            self._cond.notify_all()

    def _open_tab(self, live: _Live) -> CdpPage:
        s = self.settings
        conn = live.browser.connection
        created = conn.send(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": live.context},
            timeout=TAB_SETUP_SECONDS,
        )
        target = created["targetId"]
        attached = conn.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, timeout=15
        )
        tab = CdpPage(conn, target, attached["sessionId"])
        conn.listen(tab.session, tab.on_event)
        commands: list[tuple[str, dict[str, Any]]] = [
            ("Page.enable", {}),
            ("Page.setLifecycleEventsEnabled", {"enabled": True}),
            ("Inspector.enable", {}),
            ("Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0}),
            ("Network.setBypassServiceWorker", {"bypass": True}),  # the site's own pages
            (
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": s.viewport[0],
                    "height": s.viewport[1],
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            ),
        ]
        if s.blocked_urls:
            commands.append(("Network.setBlockedURLs", {"urls": list(s.blocked_urls)}))
        if s.user_agent:
            commands.append(("Network.setUserAgentOverride", {"userAgent": s.user_agent}))
        commands.append(("Page.getFrameTree", {}))
        futures = [conn.post(method, params, tab.session) for method, params in commands]
        results = [f.result(timeout=TAB_SETUP_SECONDS) for f in futures]
        tab.set_frame(results[-1]["frameTree"]["frame"]["id"])
        return tab

    def _stop(self, live: _Live, tab: CdpPage, job: object) -> None:
        """Stop a page whose main thread does not answer: terminate its script and close
        its tab; kill the browser when that fails."""
        conn = live.browser.connection
        tab.closed = True
        try:
            conn.send("Runtime.terminateExecution", session=tab.session, timeout=STOP_SECONDS)
            conn.send("Target.closeTarget", {"targetId": tab.target_id}, timeout=STOP_SECONDS)
            return
        except (CdpError, CdpTimeout) as exc:
            log.warning("%s: could not stop %s (%s); killing chromium", self.name, tab.url, exc)
        self._kill(live, job)
