"""What a browser job is given and gives back: Chromium's path and switches, the settings of
a worker, the page a job saw, a job's outcome or its typed reason for "not tested", and
the host-resolver rules that make --resolve work inside Chromium.

Plain data and small functions; knows nothing of Playwright's objects or of any audit.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from core.dns import Resolver, is_ip

log = logging.getLogger("core.browser")

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
#: Debian's chromium-headless-shell: the same Chromium without the desktop browser's UI
#: processes (its browser process is ~45 MB instead of ~130 MB, and no WebUI renderer).
CHROMIUM_SHELL = "/usr/lib/chromium/chromium-headless-shell"  # /usr/bin/... is a sh wrapper
#: The Playwright driver (Node) keeps a 16 MB young generation per semi-space by default;
#: a 1 MB one cuts its memory by ~80 MB and costs nothing measurable.
DRIVER_NODE_OPTIONS = "--max-semi-space-size=1"
#: A reused tab's JS heap is collected past this many MB (see core.browser_page.trim_heap).
TAB_HEAP_MB = 24.0
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-software-rasterizer",  # no SwiftShader in the GPU process: ~13 MB less
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--mute-audio",
    # V8's low-memory mode (as on small Android devices): renderers ~18 MB smaller at their
    # peak on the accessibility benchmark, axe no slower (measured: CHANGELOG, issue 16)
    "--js-flags=--optimize-for-size",
]
LOOPBACK = ("127.0.0.1", "[::1]", "localhost")


def default_executable() -> str:
    """The Chromium binary: ``$GOVAUDIT_CHROMIUM`` if set, else Debian's headless shell when
    installed (``make chromium`` installs it), else Debian's ``chromium``."""
    chosen = os.environ.get("GOVAUDIT_CHROMIUM", "").strip()
    if chosen:
        return chosen
    return CHROMIUM_SHELL if os.path.exists(CHROMIUM_SHELL) else CHROMIUM


class NotTestedReason(enum.StrEnum):
    """Why a page could not be loaded or examined. Data, not a string."""

    LOAD_TIMEOUT = "load_timeout"
    SCRIPT_LOOP = "script_loop"
    SCRIPT_TIMEOUT = "script_timeout"
    DIALOG = "dialog"
    CRASH = "crash"
    NAVIGATION_ERROR = "navigation_error"
    HTTP_ERROR = "http_error"
    NOT_HTML = "not_html"
    BROWSER_ERROR = "browser_error"
    TOO_LARGE = "too_large"  # the crawler found it over crawl.max_page_bytes: not opened


NOT_TESTED_TEXT: dict[NotTestedReason, str] = {
    NotTestedReason.LOAD_TIMEOUT: "页面在规定时间内未加载完成",
    NotTestedReason.SCRIPT_LOOP: "页面脚本持续运行不结束（疑似死循环），浏览器已被终止",
    NotTestedReason.SCRIPT_TIMEOUT: "检测脚本在规定时间内未完成，浏览器已被终止",
    NotTestedReason.DIALOG: "页面加载时弹出对话框（alert/confirm），已自动关闭，页面未能完整检测",
    NotTestedReason.CRASH: "页面渲染进程崩溃",
    NotTestedReason.NAVIGATION_ERROR: "页面无法打开",
    NotTestedReason.HTTP_ERROR: "页面返回HTTP错误",
    NotTestedReason.NOT_HTML: "地址不是网页（可能是下载文件）",
    NotTestedReason.BROWSER_ERROR: "浏览器出错",
    NotTestedReason.TOO_LARGE: "页面超过大小上限，未在浏览器中打开（以免超大页面或压缩炸弹耗尽内存）",
}


@dataclass(frozen=True)
class NotTested:
    reason: NotTestedReason
    detail: str = ""

    def describe(self) -> str:
        """Chinese one-line text, e.g. '页面无法打开（net::ERR_CONNECTION_REFUSED）'."""
        text = NOT_TESTED_TEXT[self.reason]
        return f"{text}（{self.detail}）" if self.detail else text


@dataclass
class PageInfo:
    """What the worker observed while loading a page (handed to the job too)."""

    url: str
    final_url: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    dialogs: list[str] = field(default_factory=list)  # "alert: message"
    load_ms: int = 0
    load_complete: bool = True
    elements: int = 0  # elements in the DOM after load (counted when the job time scales)
    job_timeout: float = 0.0  # seconds the job was given (script_timeout, scaled by size)


@dataclass
class PageOutcome(Generic[T]):
    url: str
    value: T | None = None
    not_tested: NotTested | None = None
    info: PageInfo | None = None
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.not_tested is None


@dataclass
class BrowserSettings:
    """How workers launch Chromium and how long each stage of a page may take (seconds)."""

    executable: str = field(default_factory=default_executable)
    args: list[str] = field(default_factory=lambda: list(CHROMIUM_ARGS))
    host_rules: dict[str, str] = field(default_factory=dict)  # hostname → address
    block_other_hosts: bool = True
    navigation_timeout: float = 20.0
    script_timeout: float = 30.0
    script_timeout_per_10k: float = 0.0  # more job time per 10,000 DOM elements (0 = fixed)
    max_script_timeout: float = 110.0  # the ceiling of the scaled job time
    probe_timeout: float = 3.0
    settle_timeout: float = 0.0  # extra wait for network idle after "load" (0 = none)
    max_dialogs: int = 3
    recycle_after: int = 100
    recycle_mb: float = 0.0  # relaunch once the browser's process tree passes this PSS (0 = never)
    tab_heap_mb: float = TAB_HEAP_MB  # collect a reused tab's garbage past this (0 = never)
    driver_node_options: str = DRIVER_NODE_OPTIONS  # NODE_OPTIONS of the Playwright driver
    viewport: tuple[int, int] = (1280, 900)
    user_agent: str | None = None
    launch_timeout: float = 30.0
    resolver: Resolver | None = None  # for hosts met later (not in host_rules)
    reuse_pages: bool = True  # navigate one page from job to job (closed after any failure)
    blocked_urls: list[str] = field(default_factory=list)  # URL patterns never requested
    #: "playwright" (Playwright's driver, the full Page API) or "cdp" (DevTools over a pipe
    #: from Python: no Node process; the Page calls of core.cdp_page only)
    driver: str = "playwright"

    def resolver_rules(self) -> str:
        """The --host-resolver-rules value: site names mapped, every other name unresolvable."""
        rules = [f"MAP {host} {_bracket(addr)}" for host, addr in sorted(self.host_rules.items())]
        rules.append("MAP * ~NOTFOUND")
        # The rules also apply to IP literals: keep loopback and the site's own addresses.
        allowed = [*LOOPBACK, "::1", *(_bracket(a) for a in self.host_rules.values())]
        rules += [f"EXCLUDE {item}" for item in dict.fromkeys(allowed)]
        return ", ".join(rules)

    def bypass_list(self) -> str:
        items = list(LOOPBACK)
        for host, addr in sorted(self.host_rules.items()):
            items += [host, _bracket(addr)]
        return ";".join(dict.fromkeys(items))


#: What Playwright adds to a headless launch that matters to a page's behaviour or memory
#: (the DevTools driver adds them itself): no first tab, tabs in the background not
#: throttled, no hang monitor. (Its --disable-popup-blocking is left out: a page's own
#: windows are closed, see core.cdp_worker.)
CDP_EXTRA_ARGS = [
    "--no-startup-window",  # no first tab: on /usr/bin/chromium a renderer (~57 MB) less
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-ipc-flooding-protection",
    "--disable-hang-monitor",
    "--hide-scrollbars",
]


def _bracket(addr: str) -> str:
    return f"[{addr}]" if ":" in addr and not addr.startswith("[") else addr


def host_rules_for(hosts: Iterable[str], resolver: Resolver | None = None) -> dict[str, str]:
    """Map each hostname the resolver knows to its IPv4 address (IPv6 when it has none).

    Names that do not resolve are left out, so Chromium finds them unresolvable.
    """
    resolver = resolver or Resolver()
    rules: dict[str, str] = {}
    for host in hosts:
        host = (host or "").lower().rstrip(".")
        if not host or is_ip(host) or host in rules:
            continue
        addr = ""
        for family in (4, 6):
            try:
                found = resolver.lookup(host, family).addresses
            except Exception as exc:  # a DNS error means "not resolvable", never a crash
                log.debug("resolving %s for chromium failed: %s", host, exc)
                found = []
            if found:
                addr = found[0]
                break
        if addr:
            rules[host] = addr
    return rules


def hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
