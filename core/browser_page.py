"""One job on one Chromium tab: load the URL with a bound per stage, tell a page that is slow
from one whose main thread never yields, hand the loaded page to the job, and turn every
failure into a typed :class:`NotTested`.

Runs inside a browser worker's thread; knows the worker only through the two callbacks it is
given (set the stage's deadline, read the reason the watchdog killed the browser for).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.browser_types import BrowserSettings, NotTested, NotTestedReason, PageInfo, PageOutcome

log = logging.getLogger("core.browser")

COUNT_JS = "document.getElementsByTagName('*').length"


class BrowserCrashed(Exception):
    pass


class Killed(Exception):
    """Raised in the worker when the watchdog killed the browser during a job."""


@dataclass
class Tab:
    """A page of the worker's browser, navigated from job to job, and what it saw."""

    page: Any
    info: PageInfo = field(default_factory=lambda: PageInfo(url=""))
    crashed: bool = False
    cdp: Any = None  # the tab's own DevTools session (blocked URLs, heap)
    popups: int = 0  # windows the pages opened (closed at once)

    def on_dialog(self, dialog: Any) -> None:
        try:
            if dialog.type == "beforeunload":
                dialog.accept()  # leaving the previous page must never be blocked
                return
            self.info.dialogs.append(f"{dialog.type}: {dialog.message[:200]}")
            dialog.dismiss()
        except Exception as exc:
            log.debug("dismissing dialog: %s", exc)

    def on_crash(self, _page: Any) -> None:
        self.crashed = True

    def on_popup(self, popup: Any) -> None:
        """A window the page opened is closed at once (it would stay, with its document,
        until the browser is recycled)."""
        self.popups += 1
        try:
            popup.close()
        except Exception as exc:
            log.debug("closing a popup: %s", exc)


def open_tab(context: Any, blocked_urls: list[str] | None = None) -> Tab:
    """A new tab; requests to ``blocked_urls`` (patterns with ``*``) are never sent."""
    tab = Tab(context.new_page())
    tab.page.on("dialog", tab.on_dialog)
    tab.page.on("crash", tab.on_crash)
    tab.page.on("popup", tab.on_popup)
    tab.cdp = context.new_cdp_session(tab.page)
    if blocked_urls:
        tab.cdp.send("Network.enable")
        tab.cdp.send("Network.setBlockedURLs", {"urls": list(blocked_urls)})
    return tab


def trim_heap(send: Callable[[str], dict[str, Any]], limit_mb: float) -> bool:
    """Collect the tab's garbage when its JS heap has grown past ``limit_mb``.

    A tab is navigated from page to page, and V8 grows the renderer's heap with each
    page's axe run rather than collecting: left alone, a renderer reached ~230 MB after 28
    small pages; collected past 24 MB it stays near 100 MB at its peak (axe running).
    ``send`` sends a DevTools command to the tab. Returns whether it collected.
    """
    usage = send("Runtime.getHeapUsage")
    if usage.get("totalSize", 0) <= limit_mb * 2**20:
        return False
    send("HeapProfiler.collectGarbage")
    return True


def job_seconds(s: BrowserSettings, elements: int) -> float:
    """The job's time: ``script_timeout``, plus ``script_timeout_per_10k`` for every 10,000
    elements of the page, never above ``max_script_timeout``."""
    extra = s.script_timeout_per_10k * elements / 10_000
    return max(s.script_timeout, min(s.script_timeout + extra, s.max_script_timeout))


def load_and_run(
    tab: Tab,
    url: str,
    fn: Callable[[Any, PageInfo], Any],
    s: BrowserSettings,
    set_stage: Callable[[str, float], None],
    kill_reason: Callable[[], NotTested | None],
) -> tuple[PageOutcome[Any], bool]:
    """Load ``url`` in ``tab`` and run ``fn``; returns the outcome and whether it ended cleanly
    (a tab that did not is closed by the caller). Raises :class:`BrowserCrashed` or
    :class:`Killed` when the browser, not the page, failed."""
    page = tab.page
    info = tab.info = PageInfo(url=url)
    tab.crashed = False
    start = time.monotonic()
    try:
        set_stage("navigate", s.navigation_timeout + 5)
        try:
            response = page.goto(
                url, wait_until="domcontentloaded", timeout=s.navigation_timeout * 1000
            )
            left = s.navigation_timeout - (time.monotonic() - start)
            page.wait_for_load_state("load", timeout=max(left, 0.5) * 1000)
        except Exception as exc:
            if tab.crashed:
                raise BrowserCrashed(str(exc)) from exc
            if "Timeout" not in type(exc).__name__:
                raise
            # Slow network, or a main thread that never yields? Ask the page.
            info.load_complete = False
            set_stage("probe", s.probe_timeout)
            page.evaluate("1")
            set_stage("navigate", 10)
            return not_loaded(url, info, s), False
        info.load_ms = int((time.monotonic() - start) * 1000)
        info.final_url = page.url
        if response is not None:
            info.status = response.status
            info.headers = dict(response.headers)
            refused = response_refused(url, info)
            if refused is not None:
                return refused, False
        if len(info.dialogs) > s.max_dialogs:
            return dialogs_outcome(url, info), False
        if s.settle_timeout > 0:
            set_stage("navigate", s.settle_timeout + 5)
            try:
                page.wait_for_load_state("networkidle", timeout=s.settle_timeout * 1000)
            except Exception as exc:
                if tab.crashed:
                    raise BrowserCrashed(str(exc)) from exc
        if s.script_timeout_per_10k > 0:
            set_stage("probe", s.probe_timeout)
            info.elements = int(page.evaluate(COUNT_JS) or 0)
        info.job_timeout = job_seconds(s, info.elements)
        set_stage("job", info.job_timeout + 2)
        value = fn(page, info)
        return PageOutcome(url, value=value, info=info), True
    except Exception as exc:
        if tab.crashed:
            raise BrowserCrashed(str(exc)) from exc
        if kill_reason() is not None:
            raise Killed() from exc
        return PageOutcome(url, not_tested=classify(exc, None), info=info), False


def not_loaded(url: str, info: PageInfo, s: BrowserSettings) -> PageOutcome[Any]:
    """A page that did not load in time but answered the probe: its dialogs, if they are
    what held it, else the load timeout."""
    if len(info.dialogs) > s.max_dialogs:
        return dialogs_outcome(url, info)
    reason = NotTested(NotTestedReason.LOAD_TIMEOUT, f"超过{s.navigation_timeout:g}秒")
    return PageOutcome(url, not_tested=reason, info=info)


def response_refused(url: str, info: PageInfo) -> PageOutcome[Any] | None:
    """Not tested for the document's response in ``info`` (an HTTP error, not HTML); None
    when the page can be examined."""
    if info.status and info.status >= 400:
        reason = NotTested(NotTestedReason.HTTP_ERROR, f"HTTP {info.status}")
        return PageOutcome(url, not_tested=reason, info=info)
    ctype = info.headers.get("content-type", "").lower()
    if ctype and "html" not in ctype and "xml" not in ctype:
        reason = NotTested(NotTestedReason.NOT_HTML, ctype.split(";")[0])
        return PageOutcome(url, not_tested=reason, info=info)
    return None


def dialogs_outcome(url: str, info: PageInfo) -> PageOutcome[Any]:
    """The page opened more dialogs than allowed: not tested, naming the first."""
    reason = NotTested(NotTestedReason.DIALOG, f"{len(info.dialogs)}个：{info.dialogs[0]}")
    return PageOutcome(url, not_tested=reason, info=info)


def classify(exc: BaseException, killed: NotTested | None) -> NotTested:
    """The typed reason for an exception of a job (the watchdog's reason first)."""
    if killed is not None:
        return killed
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
