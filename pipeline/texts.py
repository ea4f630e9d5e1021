"""The text layer step of a run: after the crawl, download the attachments the snapshot links
to (crawler.attachments), read their text (core.doctext) and store it piece by piece.

Runs only when a selected plugin declares ``wants_texts``; ``govaudit reaudit`` reuses the
stored text and downloads nothing. Knows nothing of what the text audits look for.
"""

from __future__ import annotations

import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from audits.registry import discover, select_plugins
from core import doctext
from core.config import Config
from core.dns import Resolver
from core.snapshot import CRAWL_LIMITS_METHOD, SiteSnapshot, StatusKind, TextPiece
from crawler.attachments import OK, Downloader, download
from reports.store import Store

#: The one texts row that says how many attachments ``attachments.max_files`` left out.
LIMIT_URL = "govaudit:attachments-limit"
LIMIT_STATUS = "limit"

_DOC_TYPES = ("application/pdf", "msword", "ms-excel", "officedocument", "wps-office")


@dataclass
class TextStats:
    files: int = 0
    read: int = 0
    not_read: int = 0
    skipped: int = 0
    chars: int = 0


def wants_texts(config: Config, plugins: list[str] | None) -> bool:
    """True when one of the plugins this run will run reads the text layer."""
    if not config.attachments.enabled:
        return False
    names = plugins if plugins is not None else config.enabled_plugins()
    selected = select_plugins(discover(), names)
    return any(getattr(cls, "wants_texts", False) for cls in selected.values())


def attachment_targets(snapshot: SiteSnapshot, config: Config) -> Iterator[tuple[str, str]]:
    """(attachment URL, a page linking to it) for every document the crawl checked as OK."""
    hosts = {urlsplit(u).hostname for u in config.site.urls} | set(config.site.extra_hosts)
    seen: set[str] = set()
    for check in snapshot.checks():
        if check.method == CRAWL_LIMITS_METHOD or check.status.kind is not StatusKind.OK:
            continue
        ctype = (check.content_type or "").lower()
        if doctext.format_of_url(check.url) is None and not any(t in ctype for t in _DOC_TYPES):
            continue
        if "html" in ctype or check.url in seen:
            continue
        if not config.attachments.external and urlsplit(check.url).hostname not in hosts:
            continue
        seen.add(check.url)
        sources = snapshot.links_to(check.url)
        yield check.url, (sources[0].source if sources else "")


def _read_one(
    downloader: Downloader, config: Config, url: str, page_url: str, workdir: Path
) -> list[TextPiece]:
    path = workdir / f"a{threading.get_ident()}"
    try:
        got = download(downloader, url, path)
        fmt = doctext.format_of_url(got.final_url or url) or ""
        if got.status != OK:
            return [TextPiece(url, page_url, "", "", fmt, got.status, got.detail)]
        sniffed = doctext.sniff(got.head, got.final_url or url, got.content_type)
        if sniffed is None:
            return [
                TextPiece(url, page_url, "", "", fmt, doctext.UNREADABLE, "not a PDF/Word/Excel")
            ]
        result = doctext.extract(
            path, sniffed, config.attachments.max_chars, config.attachments.timeout
        )
        if result.status != doctext.OK:
            return [TextPiece(url, page_url, "", "", result.format, result.status, result.detail)]
        return [
            TextPiece(url, page_url, p.location, p.text, result.format, OK, result.detail, p.spans)
            for p in result.pieces
        ] or [TextPiece(url, page_url, "", "", result.format, OK, "no text")]
    finally:
        path.unlink(missing_ok=True)


def _bounded_map(
    pool: ThreadPoolExecutor,
    fn: Callable[[tuple[str, str]], list[TextPiece]],
    items: list[tuple[str, str]],
    window: int,
) -> Iterator[list[TextPiece]]:
    """``pool.map`` with at most ``window`` files in flight, so read texts never pile up."""
    pending: deque[Future[list[TextPiece]]] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def collect_texts(
    store: Store,
    run_id: int,
    config: Config,
    resolver: Resolver,
    progress: Callable[[str], None] = lambda m: None,
) -> TextStats:
    """Download and read the run's attachments; store their text in the ``texts`` table."""
    snapshot = store.snapshot(run_id)
    downloader = Downloader(config, resolver)
    stats = TextStats()
    limit = config.attachments.max_files
    targets: list[tuple[str, str]] = []
    for target in attachment_targets(snapshot, config):
        if len(targets) >= limit:
            stats.skipped += 1
            continue
        targets.append(target)
    if not targets and not stats.skipped:
        return stats
    progress(f"reading {len(targets)} attachment(s)")
    with (
        tempfile.TemporaryDirectory(prefix="govaudit-att-") as tmp,
        ThreadPoolExecutor(config.attachments.workers) as pool,
    ):
        work = Path(tmp)
        results = _bounded_map(
            pool,
            lambda t: _read_one(downloader, config, t[0], t[1], work),
            targets,
            2 * config.attachments.workers,
        )
        pending: list[TextPiece] = []
        pending_chars = 0
        for pieces in results:
            stats.files += 1
            if pieces and pieces[0].status == OK:
                stats.read += 1
            else:
                stats.not_read += 1
            chars = sum(len(p.text) for p in pieces)
            stats.chars += chars
            pending += pieces
            pending_chars += chars
            if len(pending) >= 200 or pending_chars >= 4_000_000:  # one transaction per batch
                store.add_texts(run_id, pending)
                pending, pending_chars = [], 0
            if stats.files % 100 == 0:
                progress(f"read {stats.files}/{len(targets)} attachments")
        store.add_texts(run_id, pending)
    if stats.skipped:
        detail = f"{stats.skipped} attachment(s) beyond attachments.max_files = {limit}"
        store.add_texts(run_id, [TextPiece(LIMIT_URL, "", "", "", "", LIMIT_STATUS, detail)])
    progress(f"attachments: {stats.read} read, {stats.not_read} not read, {stats.chars} characters")
    return stats
