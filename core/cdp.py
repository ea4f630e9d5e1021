"""The Chrome DevTools Protocol spoken to Chromium over a pipe, from Python, with no driver.

Chromium started with ``--remote-debugging-pipe`` reads commands from its file descriptor 3
and writes answers and events to its descriptor 4, each a JSON message ended by a NUL byte.
:func:`launch` starts it so, and :class:`Connection` sends commands from any thread (each
call waits for its own answer, with a time limit) while one reader thread parses what comes
back: answers go to the waiting call, events to the listener of their session.

Why not Playwright here: Playwright's Python API drives a Node process of its own, which
held ~120 MB on the accessibility benchmark — more than a Chromium renderer. The pages
the accessibility audit needs (navigate, evaluate a script, take a screenshot) are a
dozen commands, so it speaks them directly (see :mod:`core.cdp_page`). The crawler's
JavaScript rendering keeps Playwright.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("core.browser")

Listener = Callable[[str, dict[str, Any]], None]


class CdpError(Exception):
    """A command answered with an error (a page's exception, an unknown target, …)."""


class CdpClosed(CdpError):
    """The browser, or the tab the command was for, went away before answering."""


class CdpTimeout(TimeoutError):
    """No answer within the call's time limit (the browser or the page may be stuck)."""


class Connection:
    """One browser's pipe. Thread-safe; event listeners run on the reader thread and must
    not wait for answers (they may :meth:`post` commands)."""

    def __init__(self, read_fd: int, write_fd: int, name: str = "cdp") -> None:
        self._rfd, self._wfd = read_fd, write_fd
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, Future[dict[str, Any]]]] = {}
        self._listeners: dict[str, Listener] = {}  # by session id; "" is the browser's
        self._lock = threading.Lock()
        self._wlock = threading.Lock()
        self.closed = threading.Event()
        self._fds_closed = False
        self._reader = threading.Thread(target=self._read, name=f"{name}-cdp", daemon=True)
        self._reader.start()

    # ---- commands -------------------------------------------------------------------
    def post(
        self, method: str, params: dict[str, Any] | None = None, session: str = ""
    ) -> Future[dict[str, Any]]:
        """Send a command; the future gets its result, or :class:`CdpError`."""
        fut: Future[dict[str, Any]] = Future()
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\0"
        with self._lock:
            if self.closed.is_set():
                fut.set_exception(CdpClosed(f"{method}: browser connection closed"))
                return fut
            self._pending[ident] = (session, fut)
        try:
            with self._wlock:
                if self._fds_closed:
                    raise OSError("pipe closed")
                view = memoryview(data)
                while view:
                    view = view[os.write(self._wfd, view) :]
        except OSError as exc:
            self.abort(CdpClosed(f"{method}: browser connection closed ({exc})"))
        return fut

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str = "",
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Send a command and wait at most ``timeout`` seconds for its result."""
        fut = self.post(method, params, session)
        try:
            return fut.result(timeout=max(timeout, 0.001))
        except FutureTimeout:
            raise CdpTimeout(f"{method}: no answer within {timeout:g} s") from None

    def listen(self, session: str, listener: Listener | None) -> None:
        """Events of ``session`` ("" = the browser's own) go to ``listener`` (None: dropped)."""
        with self._lock:
            if listener is None:
                self._listeners.pop(session, None)
            else:
                self._listeners[session] = listener

    def fail_session(self, session: str, error: CdpError) -> None:
        """Fail every command still waiting on ``session`` (its tab crashed or closed)."""
        with self._lock:
            waiting = [i for i, (s, _) in self._pending.items() if s == session]
            futures = [self._pending.pop(i)[1] for i in waiting]
        for fut in futures:
            fut.set_exception(error)

    def close(self) -> None:
        """Fail what still waits and close the pipe, once. Call it when Chromium is gone:
        the read end is closed only after the reader has seen the end of the pipe, so that
        a descriptor number the process may reuse is never read from or closed twice."""
        self.abort(CdpClosed("browser connection closed"))
        with self._wlock:  # no write is under way, and none starts after this
            if self._fds_closed:
                return
            self._fds_closed = True
            os.close(self._wfd)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)
        if self._reader.is_alive():
            log.warning("cdp: the browser still holds its pipe; leaving it open")
        else:
            os.close(self._rfd)

    # ---- the reader thread ------------------------------------------------------------
    def _read(self) -> None:
        buf = bytearray()
        try:
            while True:
                chunk = os.read(self._rfd, 1 << 20)
                if not chunk:
                    break
                scan = len(buf)
                buf += chunk
                start = 0
                while (end := buf.find(b"\0", scan)) >= 0:
                    self._dispatch(bytes(buf[start:end]))
                    start = scan = end + 1
                del buf[:start]
        except OSError:
            pass
        finally:
            self.abort(CdpClosed("browser closed the connection"))

    def _dispatch(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.debug("cdp: unreadable message of %d bytes", len(raw))
            return
        if "id" in message:
            with self._lock:
                entry = self._pending.pop(message["id"], None)
            if entry is None:
                return
            fut = entry[1]
            if "error" in message:
                err = message["error"]
                text = f"{err.get('message', 'error')} {err.get('data', '')}".strip()
                fut.set_exception(CdpError(text))
            else:
                fut.set_result(message.get("result", {}))
            return
        with self._lock:
            listener = self._listeners.get(message.get("sessionId", ""))
        if listener is not None:
            try:
                listener(message.get("method", ""), message.get("params", {}))
            except Exception:  # a listener's bug must not stop the reader
                log.exception("cdp: event listener failed on %s", message.get("method"))

    def abort(self, error: CdpClosed) -> None:
        """Fail every command still waiting, and any sent later, with ``error`` (the
        browser was killed or closed the pipe); the descriptors stay open."""
        with self._lock:
            self.closed.set()
            futures = [f for _, f in self._pending.values()]
            self._pending.clear()
        for fut in futures:
            if not fut.done():
                fut.set_exception(error)


@dataclass
class Browser:
    """A launched Chromium: its process, its connection and its profile directory."""

    process: subprocess.Popen[bytes]
    connection: Connection
    profile: str
    log_file: Any = field(repr=False)  # Chromium's stderr
    version: str = ""

    def log_tail(self, size: int = 600) -> str:
        """The end of Chromium's stderr (for an error message)."""
        try:
            self.log_file.seek(0, os.SEEK_END)
            end = self.log_file.tell()
            self.log_file.seek(max(0, end - size))
            return self.log_file.read().decode("utf-8", "replace").strip()
        except Exception:
            return ""

    def close(self, timeout: float = 5.0) -> None:
        """Ask Chromium to close, kill it if it does not, and remove its profile."""
        if self.process.poll() is None and not self.connection.closed.is_set():
            try:
                self.connection.send("Browser.close", timeout=timeout)
            except (CdpError, CdpTimeout):
                pass
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
        self.connection.close()
        self.log_file.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def _above_nine(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def launch(executable: str, args: list[str], timeout: float = 30.0, name: str = "cdp") -> Browser:
    """Start Chromium with a pipe for DevTools and a fresh profile; wait until it answers.

    Raises :class:`CdpError` with the end of Chromium's stderr when it does not start."""
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    # The child's ends above 9, so that moving them to 3 and 4 never overwrites one another.
    to_chrome_r, from_chrome_w = (_above_nine(fd) for fd in (to_chrome_r, from_chrome_w))
    profile = tempfile.mkdtemp(prefix="govaudit-chromium-")
    log_file = tempfile.TemporaryFile()
    # Chromium expects the pipe on descriptors 3 and 4: bash moves them there, then execs.
    move = (
        f'exec 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-; exec "$@"'
    )
    cmd = [
        "/bin/bash",
        "-c",
        move,
        "chromium",
        executable,
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        *args,
    ]
    try:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            pass_fds=(to_chrome_r, from_chrome_w),
            start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not Chromium's
        )
    except OSError as exc:
        for fd in (to_chrome_r, to_chrome_w, from_chrome_r, from_chrome_w):
            os.close(fd)
        shutil.rmtree(profile, ignore_errors=True)
        log_file.close()
        raise CdpError(f"cannot start {executable}: {exc}") from exc
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    browser = Browser(process, Connection(from_chrome_r, to_chrome_w, name), profile, log_file)
    try:
        browser.version = browser.connection.send("Browser.getVersion", timeout=timeout).get(
            "product", ""
        )
    except (CdpError, CdpTimeout) as exc:
        tail = browser.log_tail()
        browser.close(timeout=2)
        raise CdpError(f"Chromium did not start ({exc}): {tail or 'no output'}") from exc
    return browser
