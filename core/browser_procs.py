"""Chromium's processes seen from outside: find a worker's browser by the marker switch on its
command line, kill it with its children, and measure the memory (PSS) of that process tree.

psutil only; knows nothing of Playwright, pages or audits.
"""

from __future__ import annotations

import os

import psutil


def marked_processes(marker: str) -> list[psutil.Process]:
    """Our descendants whose command line carries ``marker`` (a worker's browser), each
    followed by its own descendants (zygotes, renderers, GPU and utility processes)."""
    found: list[psutil.Process] = []
    try:
        mine = psutil.Process().children(recursive=True)
    except psutil.Error:
        return found
    for proc in mine:
        try:
            if marker not in proc.cmdline():
                continue
            found += [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
    return found


def kill_marked_processes(marker: str) -> int:
    """SIGKILL every process of ours whose command line carries ``marker``, with children."""
    family = marked_processes(marker)
    killed = 0
    for p in family:
        try:
            p.kill()
            killed += 1
        except psutil.Error:
            pass
    if family:
        psutil.wait_procs(family, timeout=5)
    return killed


def tree_pss_mb(marker: str) -> float:
    """Memory of the marked browser and its children in MiB: PSS, so pages shared between
    Chromium's processes count once (RSS where PSS cannot be read)."""
    total = 0
    for p in marked_processes(marker):
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", 0) or info.rss
        except psutil.Error:
            pass
    return total / 2**20


def auto_concurrency(most: int = 4, tab_mb: int = 150, base_mb: int = 250) -> int:
    """Tabs to run at once: one per core left once the browser's own work has one, at most
    ``most``; and no more than half of the available memory allows, at ``tab_mb`` a tab over
    Python and the browser's fixed processes of ``base_mb``.

    Why a core is left: axe is CPU-bound in a tab's renderer, and the rest — Python reading
    the results, the browser, network and GPU processes — keep a second core a third busy.
    Measured on the 57-page bench (bench/a11y_bench.py, headless shell, DevTools driver):
    one tab used 1.2–1.3 cores at 319 MB peak; two tabs on 2 cores used 1.5–1.7 cores,
    ran ~40 % faster and took ~56 MB more (375 MB). So 2 cores get one tab, 4 get three; set the
    plugin's ``concurrency`` to trade memory for speed. Python and the fixed processes
    took ~190 MB, a tab at most ~130 MB while axe runs; the figures leave room for larger
    pages."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    by_cpu = max(1, min(most, (cpus or 1) - 1))
    available = psutil.virtual_memory().available / 2**20
    by_memory = int((available / 2 - base_mb) // tab_mb)
    return max(1, min(by_cpu, by_memory))
