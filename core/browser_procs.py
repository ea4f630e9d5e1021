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


def auto_concurrency(most: int = 4, tab_mb: int = 150, base_mb: int = 350) -> int:
    """Tabs to run at once: one per core (axe is CPU-bound in the renderer, so a tab more
    than there are cores only adds memory), at least 2 (one tab loads a page while another
    runs axe), at most ``most``; and no more than half of the available memory allows, at
    ``tab_mb`` a tab over a browser and driver of ``base_mb``.

    Measured on the 57-page bench (headless shell, heap collected past 24 MB): Python 66 MB,
    Playwright driver ~117, browser, GPU, network and zygote processes ~140, and at most
    ~110 MB per tab while axe runs; ``tab_mb`` and ``base_mb`` leave room for larger pages."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    by_cpu = max(2, min(most, cpus or 1))
    available = psutil.virtual_memory().available / 2**20
    by_memory = int((available / 2 - base_mb) // tab_mb)
    return max(1, min(by_cpu, by_memory))
