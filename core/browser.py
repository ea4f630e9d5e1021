"""Debian's Chromium driven by Playwright (sync API): one browser per worker, never hanging.

Used by the crawler's :class:`crawler.render.RenderMiddleware` and by the accessibility
plugin. Each :class:`BrowserWorker` owns a thread that owns the Playwright objects
(Playwright's sync objects are bound to the thread that created them). Callers hand it
a job — a function of a loaded :class:`playwright.sync_api.Page` — and get back a
:class:`PageOutcome`: the job's value, or a typed :class:`NotTested` with the reason.

Why a watchdog: ``page.evaluate`` has no timeout, and a renderer spinning in
``while (true) {}`` never answers. The calling thread therefore waits with wall-clock
deadlines per stage; when one passes it kills this worker's Chromium processes (found
by a marker switch on their command line), the blocked Playwright call fails, and the
next job relaunches the browser. The browser is also recycled after ``recycle_after``
pages, and every page is closed after its job.

Name resolution: Chromium gets ``--host-resolver-rules`` mapping the site's hostnames to
the addresses our :class:`core.dns.Resolver` gives (so ``--resolve`` and
``--dns-server`` work in the browser too); every other name is unresolvable, and a
black-hole proxy with a bypass list stops requests to any other host or IP literal.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

import psutil

from core.browser_types import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOOPBACK,
    BrowserSettings,
    NotTested,
    NotTestedReason,
    PageInfo,
    PageOutcome,
    host_rules_for,
    hostname,
)
from core.dns import is_ip

__all__ = [  # the job types are re-exported: callers import them from here
    "CHROMIUM",
    "CHROMIUM_ARGS",
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
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class BrowserCrashed(Exception):
    pass


class _Killed(Exception):
    """Raised in the worker when the watchdog killed the browser during a job."""


@dataclass
class _Job:
    url: str
    fn: Callable[[Any, PageInfo], Any]
    future: Future[PageOutcome[Any]]
    started: float = 0.0


class BrowserWorker:
    """One Chromium and the thread that owns it. ``run`` may be called from any thread,
    one job at a time (the pool hands each worker to one caller at a time)."""

    def __init__(self, settings: BrowserSettings, name: str = "browser-0") -> None:
        self.settings = settings
        self.name = name
        self.marker = f"--govaudit-browser={uuid.uuid4().hex}"
        self.pages_served = 0
        self.launches = 0
        self.kills = 0
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._stage = "idle"
        self._deadline = float("inf")
        self._kill_reason: NotTested | None = None
        self._lock = threading.Lock()
        self._blackhole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._blackhole.bind(("127.0.0.1", 0))  # bound, never listening: connects are refused
        self._dead = False
        self._tried_hosts: set[str] = set()
        self._page: Any = None
        self._info = PageInfo(url="")
        self._crashed: list[bool] = []
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # ---- caller side ---------------------------------------------------------------
    def run(self, url: str, fn: Callable[[Any, PageInfo], T]) -> PageOutcome[T]:
        """Load ``url`` in a fresh page, call ``fn(page, info)``, close the page.

        Never raises for a page's fault and never blocks longer than the stage limits.
        """
        if self._dead:
            return PageOutcome(url, not_tested=NotTested(NotTestedReason.BROWSER_ERROR, "已关闭"))
        future: Future[PageOutcome[T]] = Future()
        start = time.monotonic()
        with self._lock:
            self._kill_reason = None
            self._stage, self._deadline = "queued", start + self.settings.launch_timeout + 30
        self._jobs.put(_Job(url, fn, future))  # type: ignore[arg-type]
        while True:
            try:
                outcome = future.result(timeout=0.1)
                outcome.elapsed_ms = int((time.monotonic() - start) * 1000)
                return outcome
            except TimeoutError:
                pass
            with self._lock:
                stage, deadline = self._stage, self._deadline
            if time.monotonic() > deadline:
                reason = {
                    "navigate": NotTested(NotTestedReason.LOAD_TIMEOUT, "浏览器无响应"),
                    "probe": NotTested(
                        NotTestedReason.SCRIPT_LOOP,
                        f"页面主线程超过{self.settings.probe_timeout:g}秒无响应",
                    ),
                    "job": NotTested(
                        NotTestedReason.SCRIPT_TIMEOUT, f"超过{self.settings.script_timeout:g}秒"
                    ),
                    "launch": NotTested(NotTestedReason.BROWSER_ERROR, "浏览器启动超时"),
                }.get(stage, NotTested(NotTestedReason.BROWSER_ERROR, f"{stage}阶段超时"))
                log.warning("%s: %s stuck in stage %s; killing chromium", self.name, url, stage)
                self._kill(reason)
                try:
                    outcome = future.result(timeout=15)
                except TimeoutError:
                    # The Playwright driver itself is stuck: give up on this worker.
                    log.error("%s: worker did not recover; abandoning it", self.name)
                    self._dead = True
                    return PageOutcome(url, not_tested=reason)
                outcome.elapsed_ms = int((time.monotonic() - start) * 1000)
                return outcome

    def _kill(self, reason: NotTested) -> None:
        with self._lock:
            self._kill_reason = reason
            self._deadline = float("inf")
        self.kills += 1
        kill_marked_processes(self.marker)

    def close(self, timeout: float = 15.0) -> None:
        """Close the browser and stop the thread (kills Chromium if it does not close)."""
        if self._thread.is_alive():
            with self._lock:
                self._stage, self._deadline = "closing", time.monotonic() + timeout
            self._jobs.put(None)
            self._thread.join(timeout)
        kill_marked_processes(self.marker)
        self._dead = True
        self._blackhole.close()

    @property
    def alive(self) -> bool:
        return not self._dead and self._thread.is_alive()

    # ---- worker thread ---------------------------------------------------------------
    def _set_stage(self, stage: str, seconds: float) -> None:
        with self._lock:
            if self._kill_reason is None:
                self._stage, self._deadline = stage, time.monotonic() + seconds

    def _loop(self) -> None:
        from playwright.sync_api import sync_playwright

        pw = None
        browser = None
        context = None
        try:
            pw = sync_playwright().start()
        except Exception as exc:
            log.error("%s: playwright failed to start: %s", self.name, exc)
            self._dead = True
            self._drain(NotTested(NotTestedReason.BROWSER_ERROR, f"Playwright无法启动：{exc}"))
            return
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                host = hostname(job.url)
                if (
                    browser is not None
                    and host
                    and not is_ip(host)
                    and host not in self.settings.host_rules
                    and host not in self._tried_hosts
                ):
                    # A host not in the resolver rules: add it (if it resolves) and relaunch.
                    self._tried_hosts.add(host)
                    found = host_rules_for([host], self.settings.resolver)
                    if found:
                        self.settings.host_rules.update(found)
                        browser, context = self._shutdown(browser)
                if browser is not None and (
                    not browser.is_connected() or self.pages_served >= self.settings.recycle_after
                ):
                    browser, context = self._shutdown(browser)
                try:
                    if browser is None:
                        self._set_stage("launch", self.settings.launch_timeout + 5)
                        browser, context = self._launch(pw)
                    outcome = self._do(context, job)
                except Exception as exc:
                    outcome = PageOutcome(job.url, not_tested=self._classify(exc))
                    browser, context = self._shutdown(browser)
                with self._lock:
                    killed = self._kill_reason
                if killed is not None:
                    outcome = PageOutcome(job.url, not_tested=killed, info=outcome.info)
                    browser, context = self._shutdown(browser)
                self.pages_served += 1
                with self._lock:
                    self._stage, self._deadline = "idle", float("inf")
                job.future.set_result(outcome)
        finally:
            self._shutdown(browser)
            try:
                pw.stop()
            except Exception as exc:
                log.debug("%s: playwright stop: %s", self.name, exc)

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
        args = [*s.args, f"--host-resolver-rules={s.resolver_rules()}", self.marker]
        if s.block_other_hosts:
            port = self._blackhole.getsockname()[1]
            args += [
                f"--proxy-server=http://127.0.0.1:{port}",
                f"--proxy-bypass-list={s.bypass_list()}",
            ]
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
        self._page = None
        if browser is not None:
            self._set_stage("close", 10)
            try:
                browser.close()
            except Exception as exc:
                log.debug("%s: browser close: %s", self.name, exc)
            kill_marked_processes(self.marker)
        return None, None

    def _do(self, context: Any, job: _Job) -> PageOutcome[Any]:
        s = self.settings
        info = PageInfo(url=job.url)
        crashed: list[bool] = []
        # One page per browser, navigated from job to job: same-site navigations keep the
        # renderer, whose V8 code cache then compiles injected scripts (axe) only once.
        # A page is closed and replaced after any job that did not end cleanly.
        page = self._page
        if page is None or page.is_closed():
            page = self._page = context.new_page()
            page.on("dialog", self._on_dialog)
            page.on("crash", lambda _page: self._crashed.append(True))
        self._info, self._crashed = info, crashed
        clean = False
        start = time.monotonic()
        try:
            self._set_stage("navigate", s.navigation_timeout + 5)
            try:
                response = page.goto(
                    job.url, wait_until="domcontentloaded", timeout=s.navigation_timeout * 1000
                )
                left = s.navigation_timeout - (time.monotonic() - start)
                page.wait_for_load_state("load", timeout=max(left, 0.5) * 1000)
            except Exception as exc:
                if crashed:
                    raise BrowserCrashed(str(exc)) from exc
                if "Timeout" not in type(exc).__name__:
                    raise
                # Slow network, or a main thread that never yields? Ask the page.
                info.load_complete = False
                self._set_stage("probe", s.probe_timeout)
                page.evaluate("1")
                self._set_stage("navigate", 10)
                if len(info.dialogs) > s.max_dialogs:
                    return PageOutcome(
                        job.url,
                        not_tested=NotTested(
                            NotTestedReason.DIALOG, f"{len(info.dialogs)}个：{info.dialogs[0]}"
                        ),
                        info=info,
                    )
                return PageOutcome(
                    job.url,
                    not_tested=NotTested(
                        NotTestedReason.LOAD_TIMEOUT, f"超过{s.navigation_timeout:g}秒"
                    ),
                    info=info,
                )
            info.load_ms = int((time.monotonic() - start) * 1000)
            info.final_url = page.url
            if response is not None:
                info.status = response.status
                info.headers = dict(response.headers)
                if response.status >= 400:
                    return PageOutcome(
                        job.url,
                        not_tested=NotTested(NotTestedReason.HTTP_ERROR, f"HTTP {response.status}"),
                        info=info,
                    )
                ctype = info.headers.get("content-type", "")
                if ctype and "html" not in ctype and "xml" not in ctype:
                    return PageOutcome(
                        job.url,
                        not_tested=NotTested(NotTestedReason.NOT_HTML, ctype.split(";")[0]),
                        info=info,
                    )
            if len(info.dialogs) > s.max_dialogs:
                return PageOutcome(
                    job.url,
                    not_tested=NotTested(
                        NotTestedReason.DIALOG, f"{len(info.dialogs)}个：{info.dialogs[0]}"
                    ),
                    info=info,
                )
            if s.settle_timeout > 0:
                self._set_stage("navigate", s.settle_timeout + 5)
                try:
                    page.wait_for_load_state("networkidle", timeout=s.settle_timeout * 1000)
                except Exception as exc:
                    if crashed:
                        raise BrowserCrashed(str(exc)) from exc
            self._set_stage("job", s.script_timeout + 2)
            value = job.fn(page, info)
            clean = True
            return PageOutcome(job.url, value=value, info=info)
        except Exception as exc:
            if crashed:
                raise BrowserCrashed(str(exc)) from exc
            with self._lock:
                if self._kill_reason is not None:
                    raise _Killed() from exc
            return PageOutcome(job.url, not_tested=self._classify(exc), info=info)
        finally:
            if not (clean and s.reuse_pages):
                self._set_stage("close", 10)
                self._page = None
                try:
                    page.close()
                except Exception as exc:
                    log.debug("%s: page close: %s", self.name, exc)

    def _on_dialog(self, dialog: Any) -> None:
        try:
            if dialog.type == "beforeunload":
                dialog.accept()  # leaving the previous page must never be blocked
                return
            self._info.dialogs.append(f"{dialog.type}: {dialog.message[:200]}")
            dialog.dismiss()
        except Exception as exc:
            log.debug("dismissing dialog: %s", exc)

    def _classify(self, exc: BaseException) -> NotTested:
        with self._lock:
            if self._kill_reason is not None:
                return self._kill_reason
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, BrowserCrashed) or "crash" in text.lower():
            return NotTested(NotTestedReason.CRASH, text[:200])
        if "Download is starting" in text:
            return NotTested(NotTestedReason.NOT_HTML, "下载文件")
        if "net::" in text:
            code = text[text.index("net::") :].split()[0]
            return NotTested(NotTestedReason.NAVIGATION_ERROR, code)
        if "Timeout" in type(exc).__name__:
            return NotTested(NotTestedReason.SCRIPT_TIMEOUT, text[:200])
        if "closed" in text.lower():
            return NotTested(NotTestedReason.BROWSER_ERROR, text[:200])
        return NotTested(NotTestedReason.BROWSER_ERROR, f"{type(exc).__name__}: {text[:200]}")


def kill_marked_processes(marker: str) -> int:
    """SIGKILL every process of ours whose command line carries ``marker``, with children."""
    killed = 0
    try:
        mine = psutil.Process().children(recursive=True)
    except psutil.Error:
        return 0
    for proc in mine:
        try:
            if marker not in proc.cmdline():
                continue
            family = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
        for p in family:
            try:
                p.kill()
                killed += 1
            except psutil.Error:
                pass
        psutil.wait_procs(family, timeout=5)
    return killed


class BrowserPool:
    """``size`` workers, each with its own Chromium. Thread-safe; use as a context manager."""

    def __init__(self, settings: BrowserSettings, size: int = 1) -> None:
        self.settings = settings
        self.size = max(1, size)
        self._free: queue.Queue[BrowserWorker] = queue.Queue()
        self._all: list[BrowserWorker] = []
        self._lock = threading.Lock()
        for i in range(self.size):
            self._add(i)

    def _add(self, index: int) -> BrowserWorker:
        worker = BrowserWorker(self.settings, name=f"browser-{index}")
        with self._lock:
            self._all.append(worker)
        self._free.put(worker)
        return worker

    def run(self, url: str, fn: Callable[[Any, PageInfo], T]) -> PageOutcome[T]:
        """Blocking; waits for a free worker. Replaces a worker that stopped recovering."""
        worker = self._free.get()
        try:
            return worker.run(url, fn)
        finally:
            if worker.alive:
                self._free.put(worker)
            else:
                worker.close(timeout=1)
                with self._lock:
                    index = len(self._all)
                self._add(index)

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
