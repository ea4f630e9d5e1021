"""Saved real pages (tests/real) as a stored crawl run, without a network or a crawl.

``real_run(hosts)`` reads the files MANIFEST.json lists for the hosts, stores them as one
run's pages under their real URLs with the links crawler.extract finds in them, and
``audit_real(...)`` runs audit plugins over it: fast, and no ports 80/443 needed. Tests
may edit a page's HTML first (``edit``) to copy a real pattern with one thing changed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from audits.runner import AuditResult, run_audits
from core.config import config_from_dict
from core.snapshot import Link, Page
from crawler.extract import parse_html
from crawler.scope import normalize_url
from reports.store import Store

REAL = Path(__file__).parent / "real"


def manifest() -> list[dict]:
    """MANIFEST.json, then the entries of manifest.d/*.json (batches written side by side)."""
    entries = json.loads((REAL / "MANIFEST.json").read_text(encoding="utf-8"))
    for extra in sorted((REAL / "manifest.d").glob("*.json")):
        entries += json.loads(extra.read_text(encoding="utf-8"))
    return entries


def read_saved(file: str) -> str:
    data = (REAL / "sites" / file).read_bytes()
    charset = "gb18030" if b"charset=gb" in data[:4096].lower() else "utf-8"
    return data.decode(charset, errors="replace")


def real_pages(*hosts: str) -> dict[str, str]:
    """URL → HTML of the saved pages of ``hosts``, in MANIFEST order."""
    return {
        normalize_url(e["url"]): read_saved(e["file"]) for e in manifest() if e["host"] in hosts
    }


def store_run(pages: dict[str, str], start_url: str) -> tuple[Store, int]:
    store = Store.in_dir(tempfile.mkdtemp(prefix="govaudit-realsnap-"))
    run_id = store.create_run(start_url, {}, [start_url])
    rows, links = [], []
    for depth, (url, html) in enumerate(pages.items()):
        parsed = parse_html(html, url)
        rows.append(
            Page(
                url=url,
                final_url=url,
                status_code=200,
                content_type="text/html",
                encoding="utf-8",
                title=parsed.title,
                depth=min(depth, 3),
                html=html,
                size=len(html.encode()),
                fetched_at=datetime(2026, 1, 1, 2, 0),
            )
        )
        host = urlsplit(url).hostname
        links += [
            Link(url, raw.target, raw.tag, raw.text, urlsplit(raw.target).hostname == host, raw.raw)
            for raw in parsed.links
        ]
    store.add_pages(run_id, rows)
    store.add_links(run_id, links)
    store.update_run(run_id, pages_crawled=len(rows))
    store.finish_run(run_id, "succeeded")
    return store, run_id


def audit_real(
    hosts: tuple[str, ...] | str,
    plugins: list[str],
    today: date,
    start_url: str | None = None,
    edit: Callable[[str, str], str] | None = None,
    extra: dict[str, str] | None = None,
    options: dict | None = None,
) -> AuditResult:
    """Audit the saved pages of ``hosts`` (plus ``extra`` URL → HTML pages)."""
    pages = real_pages(*((hosts,) if isinstance(hosts, str) else hosts))
    if edit:
        pages = {url: edit(url, html) for url, html in pages.items()}
    pages.update({normalize_url(u): h for u, h in (extra or {}).items()})
    start = normalize_url(start_url) if start_url else next(iter(pages))
    store, run_id = store_run(pages, start)
    config = config_from_dict({"site": {"urls": [start]}, "plugins": dict(options or {})})
    result = run_audits(store, run_id, config, plugins, today=today)
    assert not result.errors, result.errors
    return result
