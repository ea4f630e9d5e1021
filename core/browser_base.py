"""What both browser workers share (:class:`core.browser.BrowserWorker`, Playwright's, and
:class:`core.cdp_worker.CdpWorker`, DevTools'): a worker's identity and counters, the
marker switch that finds its Chromium, the black-hole proxy port, Chromium's switches, the
hosts met after launch that need a resolver rule, and the check of the browser's memory
against ``recycle_mb``.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid

from core.browser_procs import tree_pss_mb
from core.browser_types import BrowserSettings, host_rules_for, hostname
from core.dns import is_ip

log = logging.getLogger("core.browser")

#: The memory of a worker's processes is read at most this often (it costs ~13 ms: six
#: processes' smaps), not after every page.
MEMORY_CHECK_SECONDS = 1.0


class WorkerBase:
    """A worker's identity, counters and the checks both drivers make between jobs."""

    def __init__(self, settings: BrowserSettings, name: str = "browser-0", pages: int = 1) -> None:
        self.settings = settings
        self.name = name
        self.pages = max(1, pages)
        self.marker = f"--govaudit-browser={uuid.uuid4().hex}"
        self.pages_served = 0
        self.launches = 0
        self.kills = 0
        self.retries = 0
        self.heap_trims = 0
        self.peak_mb = 0.0
        self._tried_hosts: set[str] = set()
        self._memory_checked = float("-inf")
        self._blackhole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._blackhole.bind(("127.0.0.1", 0))  # bound, never listening: connects are refused

    def chromium_args(self) -> list[str]:
        """Chromium's switches for this worker: the settings' own, the host-resolver rules,
        the worker's marker and, when other hosts are blocked, the black-hole proxy."""
        s = self.settings
        args = [*s.args, f"--host-resolver-rules={s.resolver_rules()}", self.marker]
        if s.block_other_hosts:
            port = self._blackhole.getsockname()[1]
            args += [
                f"--proxy-server=http://127.0.0.1:{port}",
                f"--proxy-bypass-list={s.bypass_list()}",
            ]
        return args

    def _new_host(self, url: str) -> bool:
        """A host not in the resolver rules that resolves: the browser must be relaunched."""
        host = hostname(url)
        if not host or is_ip(host) or host in self.settings.host_rules:
            return False
        if host in self._tried_hosts:
            return False
        self._tried_hosts.add(host)
        found = host_rules_for([host], self.settings.resolver)
        self.settings.host_rules.update(found)
        return bool(found)

    def _over_memory(self) -> bool:
        """Whether the browser's processes passed ``recycle_mb`` (read at most once a
        ``MEMORY_CHECK_SECONDS``)."""
        limit = self.settings.recycle_mb
        now = time.monotonic()
        if limit <= 0 or now - self._memory_checked < MEMORY_CHECK_SECONDS:
            return False
        self._memory_checked = now
        mb = tree_pss_mb(self.marker)
        self.peak_mb = max(self.peak_mb, mb)
        if mb > limit:
            log.debug("%s: %.0f MB > recycle_mb; relaunching", self.name, mb)
            return True
        return False
