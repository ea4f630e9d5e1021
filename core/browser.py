"""Debian's Chromium driven by Playwright (sync API): one browser per worker, never hanging.

Used by the crawler's :class:`crawler.render.RenderMiddleware` and by the accessibility
plugin. Each :class:`BrowserWorker` owns a thread that owns the Playwright objects
(Playwright's sync objects are bound to the thread that created them). Callers hand it
a job — a function of a loaded :class:`playwright.sync_api.Page` — and get back a
:class:`PageOutcome`: the job's value, or a typed :class:`NotTested` with the reason.

One browser, several tabs: a worker may run ``pages`` jobs at once in tabs of the same
Chromium, which costs one browser process tree and one Playwright driver instead of one
per job (``BrowserPool(..., pages_per_browser=N)``).

Why a watchdog: ``page.evaluate`` has no timeout, and a renderer spinning in
``while (true) {}`` never answers. The calling thread therefore waits with wall-clock
deadlines per stage; when one passes it kills this worker's Chromium processes (found
by a marker switch on their command line), the blocked Playwright call fails, and the
next job relaunches the browser; the other tabs' jobs, killed for its sake, run again.
The browser is also recycled after ``recycle_after`` pages or once its processes pass
``recycle_mb``, and a tab is closed after any job that did not end cleanly.

Two drivers: this module's :class:`BrowserWorker` drives Chromium through Playwright (the
whole Page API, a Node process per browser); :class:`core.cdp_worker.CdpWorker` speaks
DevTools over a pipe from Python (no Node process, the calls of :class:`core.cdp_page.CdpPage`
only). ``BrowserSettings.driver`` picks one for a :class:`BrowserPool`: the crawler's
rendering uses Playwright, the accessibility audit DevTools.

Name resolution: Chromium gets ``--host-resolver-rules`` mapping the site's hostnames to
the addresses our :class:`core.dns.Resolver` gives (so ``--resolve`` and
``--dns-server`` work in the browser too); every other name is unresolvable, and a
black-hole proxy with a bypass list stops requests to any other host or IP literal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

import greenlet

from core.browser_base import WorkerBase
from core.browser_page import Tab, classify, load_and_run, open_tab, trim_heap
from core.browser_procs import kill_marked_processes
from core.browser_types import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CHROMIUM_SHELL,
    LOOPBACK,
    BrowserSettings,
    NotTested,
    NotTestedReason,
    PageInfo,
    PageOutcome,
    host_rules_for,
    hostname,
)
from core.cdp_worker import CdpWorker

__all__ = [  # the job types are re-exported: callers import them from here
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CHROMIUM_SHELL",
    "LOOPBACK",
    "BrowserPool",
    "BrowserSettings",
    "BrowserWorker",
    "NotTested",
    "NotTestedReason",
    "PageInfo",
    "PageOutcome",
    "host_rules_for",
    "hostname",
    "kill_marked_processes",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(eq=False)
class _Job:
    url: str
    fn: Callable[[Any, PageInfo], Any]
    future: Future[PageOutcome[Any]]
    stage: str = "queued"
    deadline: float = float("inf")
    kill_reason: NotTested | None = None
    epoch: int = 0  # the worker's kill count when the job started
    retries: int = 0
    seconds: float = field(default=0.0)  # the job stage's time limit


_STOP: Any = object()
_ENV_LOCK = threading.Lock()  # NODE_OPTIONS is set for the driver's start only


def start_playwright(node_options: str = "") -> Any:
    """Start Playwright's driver (a Node process) with ``node_options`` added to its
    NODE_OPTIONS; the process environment is restored once the driver runs."""
    from playwright.sync_api import sync_playwright

    with _ENV_LOCK:
        before = os.environ.get("NODE_OPTIONS")
        if node_options:
            os.environ["NODE_OPTIONS"] = f"{before or ''} {node_options}".strip()
        try:
            return sync_playwright().start()
        finally:
            if before is None:
                os.environ.pop("NODE_OPTIONS", None)
            else:
                os.environ["NODE_OPTIONS"] = before


def _wait(loop: Any, fiber: Any, worker: BrowserWorker, seconds: float) -> None:
    """Suspend the worker thread's own greenlet until it is poked or ``seconds`` pass,
    running the event loop (and so the tabs' jobs) meanwhile."""
    me = greenlet.getcurrent()
    fut = loop.create_future()
    waiting = True

    def resume(_fut: Any) -> None:
        if waiting:
            me.switch()

    fut.add_done_callback(resume)
    worker._wake = fut
    handle = loop.call_later(seconds, worker._wake_up)
    try:
        while not fut.done():
            if fiber.dead:
                raise RuntimeError("Playwright connection closed")
            fiber.switch()
    finally:
        waiting = False
        handle.cancel()
        worker._wake = None
        if not fiber.dead:
            asyncio._set_running_loop(loop)


class BrowserWorker(WorkerBase):
    """One Chromium and the thread that owns it. ``run`` may be called from any thread.

    With ``pages`` > 1 the worker runs that many jobs at once, each in its own tab of the
    same browser (one Chromium, one Playwright driver): the thread runs each job in a
    greenlet, and Playwright's sync calls switch between them while they wait. The pool
    hands a worker at most ``pages`` jobs at a time.
    """

    def __init__(self, settings: BrowserSettings, name: str = "browser-0", pages: int = 1) -> None:
        super().__init__(settings, name, pages)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._retry: list[_Job] = []
        self._lock = threading.Lock()
        self._dead = False
        self._tabs: list[Tab] = []  # idle tabs, navigated again by the next job
        self._running: set[_Job] = set()
        self._kill_epoch = 0
        self._draining = False  # relaunch once the running jobs are done
        self._aloop: Any = None  # the asyncio loop of this thread's Playwright
        self._fiber: Any = None  # and its dispatcher greenlet
        self._wake: Any = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # ---- caller side ---------------------------------------------------------------
    def run(self, url: str, fn: Callable[[Any, PageInfo], T]) -> PageOutcome[T]:
        """Load ``url`` in a tab, call ``fn(page, info)``, leave the tab for the next job.

        Never raises for a page's fault and never blocks longer than the stage limits.
        """
        if self._dead:
            return PageOutcome(url, not_tested=NotTested(NotTestedReason.BROWSER_ERROR, "已关闭"))
        job = _Job(url, fn, Future())
        start = time.monotonic()
        self._jobs.put(job)
        self._poke()
        while True:
            try:
                outcome = job.future.result(timeout=0.1)
                outcome.elapsed_ms = int((time.monotonic() - start) * 1000)
                return outcome
            except TimeoutError:
                pass
            with self._lock:
                stage, deadline = job.stage, job.deadline
            if stage == "queued" and self._dead:
                return PageOutcome(
                    url, not_tested=NotTested(NotTestedReason.BROWSER_ERROR, "已关闭")
                )
            if time.monotonic() > deadline:
                reason = {
                    "navigate": NotTested(NotTestedReason.LOAD_TIMEOUT, "浏览器无响应"),
                    "probe": NotTested(
                        NotTestedReason.SCRIPT_LOOP,
                        f"页面主线程超过{self.settings.probe_timeout:g}秒无响应",
                    ),
                    "job": NotTested(NotTestedReason.SCRIPT_TIMEOUT, f"超过{job.seconds:g}秒"),
                    "launch": NotTested(NotTestedReason.BROWSER_ERROR, "浏览器启动超时"),
                }.get(stage, NotTested(NotTestedReason.BROWSER_ERROR, f"{stage}阶段超时"))
                log.warning("%s: %s stuck in stage %s; killing chromium", self.name, url, stage)
                self._kill(job, reason)
                try:
                    outcome = job.future.result(timeout=15)
                except TimeoutError:
                    # The Playwright driver itself is stuck: give up on this worker.
                    log.error("%s: worker did not recover; abandoning it", self.name)
                    self._dead = True
                    return PageOutcome(url, not_tested=reason)
                outcome.elapsed_ms = int((time.monotonic() - start) * 1000)
                return outcome

    def _kill(self, job: _Job, reason: NotTested) -> None:
        with self._lock:
            job.kill_reason = reason
            job.deadline = float("inf")
            self._kill_epoch += 1
            self._draining = True  # no tab starts on the browser being killed
        self.kills += 1
        kill_marked_processes(self.marker)

    def _poke(self) -> None:
        """Wake the worker thread (it waits in its event loop between jobs)."""
        loop = self._aloop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._wake_up)
            except RuntimeError:  # the loop is closed: the worker is gone
                pass

    def _wake_up(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def close(self, timeout: float = 15.0) -> None:
        """Close the browser and stop the thread (kills Chromium if it does not close)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._poke()
            self._thread.join(timeout)
        kill_marked_processes(self.marker)
        self._dead = True
        self._blackhole.close()

    @property
    def alive(self) -> bool:
        return not self._dead and self._thread.is_alive()

    # ---- worker thread ---------------------------------------------------------------
    def _set_stage(self, job: _Job, stage: str, seconds: float) -> None:
        with self._lock:
            if job.kill_reason is None:
                job.stage, job.deadline = stage, time.monotonic() + seconds

    def _loop(self) -> None:
        try:
            pw = start_playwright(self.settings.driver_node_options)
        except Exception as exc:
            log.error("%s: playwright failed to start: %s", self.name, exc)
            self._dead = True
            self._drain(NotTested(NotTestedReason.BROWSER_ERROR, f"Playwright无法启动：{exc}"))
            return
        self._aloop, self._fiber = pw._loop, pw._dispatcher_fiber
        browser = context = None
        stopping = False
        try:
            while not (stopping and not self._running):
                if browser is not None and not browser.is_connected():
                    self._draining = True
                if self._draining and not self._running:
                    browser, context = self._shutdown(browser)
                    self._draining = False
                job = None
                if not stopping and not self._draining and len(self._running) < self.pages:
                    job = self._retry.pop(0) if self._retry else self._next()
                if job is None:
                    _wait(self._aloop, self._fiber, self, 0.5)
                    continue
                if job is _STOP:
                    stopping = True
                    continue
                if self._new_host(job.url) and browser is not None:
                    if self._running:  # relaunch with the new host once the others are done
                        self._retry.insert(0, job)
                        self._draining = True
                        continue
                    browser, context = self._shutdown(browser)
                if browser is None:
                    try:
                        self._set_stage(job, "launch", self.settings.launch_timeout + 5)
                        browser, context = self._launch(pw)
                    except Exception as exc:
                        self._finish(job, PageOutcome(job.url, not_tested=self._classify(job, exc)))
                        browser, context = self._shutdown(browser)
                        continue
                self._start(job, context)
        finally:
            self._shutdown(browser)
            try:
                pw.stop()
            except Exception as exc:
                log.debug("%s: playwright stop: %s", self.name, exc)

    def _next(self) -> Any:
        try:
            job = self._jobs.get_nowait()
        except queue.Empty:
            return None
        return _STOP if job is None else job

    def _start(self, job: _Job, context: Any) -> None:
        """Run the job in a greenlet of its own, started by the event loop."""
        job.epoch = self._kill_epoch
        self._running.add(job)
        g = greenlet.greenlet(lambda: self._job_body(job, context), parent=self._fiber)
        self._aloop.call_soon(g.switch)

    def _job_body(self, job: _Job, context: Any) -> None:
        try:
            outcome = self._do(context, job)
        except BaseException as exc:  # never let an exception reach the dispatcher fiber
            outcome = PageOutcome(job.url, not_tested=self._classify(job, exc))
        try:
            with self._lock:
                collateral = job.kill_reason is None and job.epoch != self._kill_epoch
            if job.kill_reason is not None:
                outcome = PageOutcome(job.url, not_tested=job.kill_reason, info=outcome.info)
            if job.kill_reason is not None or collateral:
                self._draining = True  # the browser was killed: relaunch when all are done
            if collateral and not outcome.ok and job.retries < 2:
                # Killed for another tab's sake, not its own: run it again.
                job.retries += 1
                self.retries += 1
                with self._lock:
                    job.stage, job.deadline = "queued", float("inf")
                self._retry.append(job)
            else:
                self.pages_served += 1
                self._after_job()
                self._finish(job, outcome)
        finally:
            self._running.discard(job)
            self._wake_up()

    def _after_job(self) -> None:
        s = self.settings
        if self.pages_served >= s.recycle_after or self._over_memory():
            self._draining = True

    def _finish(self, job: _Job, outcome: PageOutcome[Any]) -> None:
        with self._lock:
            job.stage, job.deadline = "done", float("inf")
        job.future.set_result(outcome)

    def _drain(self, reason: NotTested) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                return
            if job is None:
                return
            job.future.set_result(PageOutcome(job.url, not_tested=reason))

    def _launch(self, pw: Any) -> tuple[Any, Any]:
        s = self.settings
        args = self.chromium_args()
        browser = pw.chromium.launch(
            executable_path=s.executable,
            headless=True,
            args=args,
            timeout=s.launch_timeout * 1000,
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
        )
        self.launches += 1
        self.pages_served = 0
        context = browser.new_context(
            viewport={"width": s.viewport[0], "height": s.viewport[1]},
            ignore_https_errors=True,
            service_workers="block",
            accept_downloads=False,
            user_agent=s.user_agent,
        )
        context.set_default_timeout(s.script_timeout * 1000)
        context.set_default_navigation_timeout(s.navigation_timeout * 1000)
        log.debug("%s: launched chromium (%d)", self.name, self.launches)
        return browser, context

    def _shutdown(self, browser: Any) -> tuple[None, None]:
        self._tabs = []
        if browser is not None:
            # browser.close() has no watchdog here (no job is running): a timer kills it.
            timer = threading.Timer(10, kill_marked_processes, [self.marker])
            timer.start()
            try:
                browser.close()
            except Exception as exc:
                log.debug("%s: browser close: %s", self.name, exc)
            timer.cancel()
            kill_marked_processes(self.marker)
        return None, None

    def _do(self, context: Any, job: _Job) -> PageOutcome[Any]:
        s = self.settings
        tab = self._tabs.pop() if self._tabs else None

        def set_stage(stage: str, seconds: float) -> None:
            if stage == "job":
                job.seconds = seconds - 2
            self._set_stage(job, stage, seconds)

        clean = False
        try:
            if tab is None or tab.page.is_closed():
                self._set_stage(job, "navigate", 15)
                tab = open_tab(context, s.blocked_urls)
            # Tabs are navigated from job to job: same-site navigations keep the renderer,
            # whose V8 code cache then compiles injected scripts (axe) only once.
            outcome, clean = load_and_run(
                tab, job.url, job.fn, s, set_stage, lambda: job.kill_reason
            )
            return outcome
        finally:
            if tab is not None:
                if clean and s.reuse_pages and s.tab_heap_mb > 0:
                    self._set_stage(job, "close", 10)
                    try:
                        self.heap_trims += trim_heap(tab.cdp.send, s.tab_heap_mb)
                    except Exception as exc:
                        log.debug("%s: heap of %s: %s", self.name, job.url, exc)
                        clean = False
                if clean and s.reuse_pages:
                    self._tabs.append(tab)
                else:
                    self._set_stage(job, "close", 10)
                    try:
                        tab.page.close()
                    except Exception as exc:
                        log.debug("%s: page close: %s", self.name, exc)

    def _classify(self, job: _Job, exc: BaseException) -> NotTested:
        return classify(exc, job.kill_reason)


class BrowserPool:
    """``size`` jobs at a time, in Chromiums of ``pages_per_browser`` tabs each (by default
    one browser per job). Thread-safe; use as a context manager."""

    def __init__(
        self, settings: BrowserSettings, size: int = 1, pages_per_browser: int = 1
    ) -> None:
        self.settings = settings
        self.size = max(1, size)
        self.pages_per_browser = max(1, min(pages_per_browser, self.size))
        # One token per tab: a caller takes a worker's token, runs its job, gives it back.
        self._free: queue.Queue[BrowserWorker | CdpWorker] = queue.Queue()
        self._all: list[BrowserWorker | CdpWorker] = []
        self._replaced: set[int] = set()
        self._lock = threading.Lock()
        left = self.size
        while left > 0:
            self._add(len(self._all), min(left, self.pages_per_browser))
            left -= self.pages_per_browser

    def _add(self, index: int, pages: int) -> BrowserWorker | CdpWorker:
        kind = CdpWorker if self.settings.driver == "cdp" else BrowserWorker
        worker = kind(self.settings, name=f"browser-{index}", pages=pages)
        with self._lock:
            self._all.append(worker)
        for _ in range(pages):
            self._free.put(worker)
        return worker

    def run(self, url: str, fn: Callable[[Any, PageInfo], T]) -> PageOutcome[T]:
        """Blocking; waits for a free tab. Replaces a worker that stopped recovering."""
        while True:
            worker = self._free.get()
            if worker.alive:
                break
            self._replace(worker)  # a token of a worker that died: drop it
        try:
            return worker.run(url, fn)
        finally:
            if worker.alive:
                self._free.put(worker)
            else:
                self._replace(worker)

    def _replace(self, worker: BrowserWorker | CdpWorker) -> None:
        with self._lock:
            if id(worker) in self._replaced:
                return
            self._replaced.add(id(worker))
            index = len(self._all)
        worker.close(timeout=1)
        self._add(index, worker.pages)

    def map(
        self, urls: Iterable[str], fn: Callable[[Any, PageInfo], T]
    ) -> Iterator[PageOutcome[T]]:
        """Run ``fn`` on every URL, ``size`` at a time; yields outcomes as they finish."""
        with ThreadPoolExecutor(self.size, thread_name_prefix="browser-caller") as ex:
            futures = [ex.submit(self.run, url, fn) for url in urls]
            for fut in as_completed(futures):
                yield fut.result()

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            workers = list(self._all)
        return {
            "launches": sum(w.launches for w in workers),
            "kills": sum(w.kills for w in workers),
            "retries": sum(w.retries for w in workers),
            "heap_trims": sum(w.heap_trims for w in workers),
        }

    def close(self) -> None:
        with self._lock:
            workers = list(self._all)
        for w in workers:
            w.close()

    def __enter__(self) -> BrowserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
