"""A tab of a Chromium spoken to over DevTools (:mod:`core.cdp`), and one job on it.

:class:`CdpPage` offers a job the few calls the accessibility audit makes — ``evaluate``,
``add_init_script``, ``screenshot``, ``url`` — with the meaning Playwright's ``Page`` gives
them, so one job function runs on either driver. :func:`load_and_run` loads a URL with
the same stages and bounds as :func:`core.browser_page.load_and_run`: navigation within
``navigation_timeout``, a probe that tells a slow page from one whose main thread never
yields, then the job within its (size-scaled) time.

Every call's time limit is what is left of the current stage (``page.deadline``): a call
never waits longer than its stage allows, and the caller decides what a timeout means.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.browser_page import (
    COUNT_JS,
    BrowserCrashed,
    classify,
    dialogs_outcome,
    job_seconds,
    not_loaded,
    response_refused,
)
from core.browser_types import BrowserSettings, NotTested, NotTestedReason, PageInfo, PageOutcome
from core.cdp import CdpClosed, CdpError, CdpTimeout, Connection

log = logging.getLogger("core.browser")

_NO_ARG: Any = object()


class PageStuck(Exception):
    """The page's main thread did not answer: the tab must be stopped by force."""

    def __init__(self, reason: NotTested) -> None:
        super().__init__(reason.describe())
        self.reason = reason


class CdpPage:
    """One tab (a DevTools target attached with its own session)."""

    def __init__(self, conn: Connection, target_id: str, session: str) -> None:
        self.conn = conn
        self.target_id = target_id
        self.session = session
        self.url = "about:blank"
        self.info = PageInfo(url="")
        self.crashed = False
        self.closed = False
        self.deadline = time.monotonic() + 30
        self._cond = threading.Condition()
        self._events: dict[str, set[str]] = {}  # loader id → lifecycle events seen
        self._responses: dict[str, dict[str, Any]] = {}  # loader id → the document's response
        self._documents: dict[str, str] = {}  # request id → loader id of a main-frame document
        self._failed: dict[str, str] = {}  # loader id → why its document did not load
        self._main_frame = ""

    # ---- what a job calls (Playwright's meaning) ------------------------------------
    def evaluate(self, script: str, arg: Any = _NO_ARG) -> Any:
        """The value of a JavaScript expression, or of ``script`` (a function) called with
        ``arg``; promises are awaited. A page exception raises :class:`CdpError`."""
        expression = script if arg is _NO_ARG else f"({script})({json.dumps(arg)})"
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text", "")
            raise CdpError(f"page script error: {str(text)[:300]}")
        return result.get("result", {}).get("value")

    def add_init_script(self, script: str) -> None:
        """Run ``script`` at the start of every document this tab loads from now on."""
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": script})

    def screenshot(
        self,
        path: str,
        clip: dict[str, float] | None = None,
        timeout: float = 5000,
        animations: str | None = None,
    ) -> None:
        """A PNG of the viewport, or of ``clip`` (viewport coordinates, as Playwright takes
        them), written to ``path``."""
        self.deadline = min(self.deadline, time.monotonic() + timeout / 1000)
        params: dict[str, Any] = {"format": "png"}
        if clip:  # DevTools takes the clip in the page's coordinates
            left, top = self.evaluate("[visualViewport.pageLeft, visualViewport.pageTop]")
            params["clip"] = {**clip, "x": clip["x"] + left, "y": clip["y"] + top, "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def is_closed(self) -> bool:
        return self.closed or self.crashed

    # ---- plumbing -------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to this tab, within what is left of the stage."""
        if self.crashed:
            raise BrowserCrashed("tab crashed")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CdpTimeout(f"{method}: stage time used up")
        return self.conn.send(method, params, self.session, timeout=left)

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        """Events of this tab's session (on the connection's reader thread)."""
        if method == "Page.lifecycleEvent":
            if params.get("frameId") == self._main_frame or not self._main_frame:
                with self._cond:
                    self._events.setdefault(params.get("loaderId", ""), set()).add(params["name"])
                    self._cond.notify_all()
        elif method == "Network.requestWillBeSent":
            if params.get("type") == "Document" and params.get("frameId") == self._main_frame:
                self._documents[params.get("requestId", "")] = params.get("loaderId", "")
        elif method == "Network.responseReceived":
            if params.get("type") == "Document" and params.get("frameId") == self._main_frame:
                with self._cond:
                    self._responses[params.get("loaderId", "")] = params.get("response", {})
        elif method == "Network.loadingFailed":
            loader = self._documents.get(params.get("requestId", ""))
            if loader is not None:
                with self._cond:
                    self._failed[loader] = params.get("errorText", "failed")
                    self._cond.notify_all()
        elif method == "Page.frameNavigated":
            frame = params.get("frame", {})
            if not frame.get("parentId"):
                self.url = frame.get("url", self.url)
        elif method == "Page.javascriptDialogOpening":
            kind = params.get("type", "alert")
            if kind != "beforeunload":  # leaving the previous page must never be blocked
                self.info.dialogs.append(f"{kind}: {str(params.get('message', ''))[:200]}")
            accept = {"accept": kind == "beforeunload"}
            self.conn.post("Page.handleJavaScriptDialog", accept, self.session)
        elif method == "Inspector.targetCrashed":
            self.crashed = True
            self._notify()
            self.conn.fail_session(self.session, CdpClosed("page crashed"))

    def wait_for(self, loader: str, event: str, until: float) -> bool:
        """Wait until the document of ``loader`` fired lifecycle ``event`` (or ``until``)."""
        with self._cond:
            while event not in self._events.get(loader, ()):
                left = until - time.monotonic()
                if left <= 0 or self.crashed or self.conn.closed.is_set():
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def navigate(self, url: str) -> str:
        """Start loading ``url``; returns the loader id ("" for a same-document move). A
        failed navigation raises :class:`CdpError` naming the net:: error, as Playwright's
        does, except a download (a non-HTML response), which :meth:`failure` then names."""
        with self._cond:
            self._events.clear()
            self._responses.clear()
            self._documents.clear()
            self._failed.clear()
        pending = self.conn.post("Page.navigate", {"url": url}, self.session)
        pending.add_done_callback(lambda _done: self._notify())
        # A response that becomes a download never answers Page.navigate: its document
        # request fails (net::ERR_ABORTED) after a non-HTML response. Watch for that too.
        with self._cond:
            while not pending.done():
                downloads = [loader for loader in self._failed if loader in self._responses]
                if downloads:
                    return downloads[0]
                left = self.deadline - time.monotonic()
                if left <= 0 or self.crashed or self.conn.closed.is_set():
                    raise CdpTimeout(f"Page.navigate: no answer for {url}")
                self._cond.wait(left)
        result = pending.result()
        loader = result.get("loaderId", "")
        if result.get("errorText"):
            ctype = _content_type(self._responses.get(loader) or {})
            if not ctype or "html" in ctype or "xml" in ctype:
                raise CdpError(f"{result['errorText']} at {url}")
            with self._cond:
                self._failed.setdefault(loader, result["errorText"])
        return loader

    def response(self, loader: str) -> dict[str, Any] | None:
        """The response of the document ``loader`` loaded (None: none came)."""
        return self._responses.get(loader)

    def failure(self, loader: str) -> str:
        """Why the document of ``loader`` did not load ("" if it did or still may)."""
        return self._failed.get(loader, "")

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def set_frame(self, frame_id: str) -> None:
        self._main_frame = frame_id


def _content_type(response: dict[str, Any]) -> str:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return str(headers.get("content-type") or response.get("mimeType") or "").lower()


def load_and_run(
    page: CdpPage,
    url: str,
    fn: Callable[[Any, PageInfo], Any],
    s: BrowserSettings,
) -> tuple[PageOutcome[Any], bool]:
    """Load ``url`` in ``page`` and run ``fn``; returns the outcome and whether the tab ended
    cleanly (one that did not is closed by the caller). Raises :class:`PageStuck` when the
    page's main thread does not answer, :class:`BrowserCrashed` when the tab crashed, and
    :class:`CdpClosed` when the browser went away."""
    info = page.info = PageInfo(url=url)
    start = time.monotonic()

    def stage(seconds: float) -> None:
        page.deadline = time.monotonic() + seconds

    def probe(script: str) -> Any:
        """``script``'s value, within ``probe_timeout``; a page that does not answer is stuck."""
        stage(s.probe_timeout)
        try:
            return page.evaluate(script)
        except CdpTimeout:
            stuck = f"页面主线程超过{s.probe_timeout:g}秒无响应"
            raise PageStuck(NotTested(NotTestedReason.SCRIPT_LOOP, stuck)) from None

    try:
        stage(s.navigation_timeout)
        loader, failed = "", ""
        try:
            loader = page.navigate(url)
            failed = page.failure(loader)  # a download: no load event will come
            loaded = bool(failed) or not loader or page.wait_for(loader, "load", page.deadline)
        except CdpTimeout:
            loaded = False
        if page.crashed:
            raise BrowserCrashed("tab crashed while loading")
        if not loaded:
            # Slow network, or a main thread that never yields? Ask the page.
            info.load_complete = False
            probe("1")
            return not_loaded(url, info, s), False
        info.load_ms = int((time.monotonic() - start) * 1000)
        info.final_url = page.url
        response = page.response(loader)
        if response is not None:
            info.status = int(response.get("status") or 0) or None
            info.headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
            info.headers.setdefault("content-type", _content_type(response))
            refused = response_refused(url, info)
            if refused is not None:
                return refused, False
        if failed:
            raise CdpError(f"{failed} at {url}")
        if len(info.dialogs) > s.max_dialogs:
            return dialogs_outcome(url, info), False
        if s.settle_timeout > 0:
            stage(s.settle_timeout)
            page.wait_for(loader, "networkIdle", page.deadline)
        if s.script_timeout_per_10k > 0:
            info.elements = int(probe(COUNT_JS) or 0)
        info.job_timeout = job_seconds(s, info.elements)
        stage(info.job_timeout)
        try:
            value = fn(page, info)
        except CdpTimeout:
            if page.crashed:
                raise BrowserCrashed("tab crashed") from None
            raise PageStuck(
                NotTested(NotTestedReason.SCRIPT_TIMEOUT, f"超过{info.job_timeout:g}秒")
            ) from None
        return PageOutcome(url, value=value, info=info), True
    except (PageStuck, BrowserCrashed, CdpClosed):
        if page.crashed:
            raise BrowserCrashed("tab crashed") from None
        raise
    except Exception as exc:
        if page.crashed:
            raise BrowserCrashed(str(exc)) from exc
        return PageOutcome(url, not_tested=classify(exc, None), info=info), False
