"""Storage of runs, pages, links, link checks and findings in one SQLite file.

SQLAlchemy Core (not the ORM): the crawler streams thousands of rows, and bulk
inserts through Core keep memory flat. A run is ``running`` until ``finish_run``;
a run that fails half-way is marked ``failed`` and never becomes "the last good run".
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
import weakref
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from core.snapshot import Link, LinkCheck, LinkStatus, Page, RunInfo, StatusKind

log = logging.getLogger(__name__)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String, nullable=False, index=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String, nullable=False),  # running | succeeded | failed | interrupted
    Column("pages_crawled", Integer, default=0),
    Column("links_checked", Integer, default=0),
    Column("config", JSON),
    Column("plugins", JSON),
    Column("errors", JSON),
    Column("start_urls", JSON),
    Column("kind", String, default="audit"),  # audit | reaudit | recheck
    Column("parent_run", Integer),  # for reaudit/recheck: the run whose snapshot was used
    Column("pid", Integer),  # the process doing the run (crash detection)
    Column("site_data", JSON),  # site-level figures from plugins (for the scorecard)
)

pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("url", String, nullable=False),
    Column("final_url", String, nullable=False),
    Column("status_code", Integer),
    Column("content_type", String),
    Column("encoding", String),
    Column("title", String),
    Column("depth", Integer),
    Column("size", Integer),
    Column("fetched_at", DateTime),
    Column("rendered", Boolean, default=False),
    Column("html_z", LargeBinary),
    Column("meta", JSON),
    Index("ix_pages_run_url", "run_id", "url"),
    Index("ix_pages_run_final", "run_id", "final_url"),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("source", String, nullable=False),
    Column("target", String, nullable=False),
    Column("tag", String),
    Column("text", String),
    Column("internal", Boolean),
    Column("raw", String),
    Index("ix_links_run_source", "run_id", "source"),
    Index("ix_links_run_target", "run_id", "target"),
)

checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("url", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("code", Integer),
    Column("detail", Text),
    Column("final_url", String),
    Column("redirects", JSON),
    Column("elapsed_ms", Integer),
    Column("content_type", String),
    Column("method", String),
    Column("soft_404", Boolean, default=False),
    Index("ix_checks_run_url", "run_id", "url"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("plugin", String),
    Column("rule", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("url", String),
    Column("page", String),
    Column("message", Text),
    Column("evidence", JSON),
    Column("unit", String),
    Column("fingerprint", String, nullable=False),
    # Tracking annotations (reports/tracking.py), written when the run's reports are made,
    # so reports stream findings from here instead of holding them all in memory.
    Column("state", String),  # new | open
    Column("first_seen", String),  # YYYY-MM-DD
    Column("deadline", String),
    Column("age_days", Integer),
    Column("overdue", Boolean),
    Column("ignored", Boolean),
    Column("ignore_reason", Text),
    Column("ignore_until", String),
    Index("ix_findings_run", "run_id"),
    Index("ix_findings_fp", "fingerprint"),
    Index("ix_findings_run_fp", "run_id", "fingerprint"),
)

FINDING_COLUMNS = [
    "plugin",
    "rule",
    "severity",
    "url",
    "page",
    "message",
    "evidence",
    "unit",
    "fingerprint",
]
TRACKING_COLUMNS = [
    "state",
    "first_seen",
    "deadline",
    "age_days",
    "overdue",
    "ignored",
    "ignore_reason",
    "ignore_until",
]
# Severity order of findings everywhere (errors first), as a SQL expression.
SEVERITY_RANK = case({"error": 0, "warning": 1, "info": 2}, value=findings.c.severity, else_=3)
FINDING_ORDER = (
    SEVERITY_RANK,
    findings.c.rule,
    func.coalesce(findings.c.page, ""),
    func.coalesce(findings.c.url, ""),
    findings.c.id,
)

decisions = Table(  # govaudit ignore: decisions later runs honour
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String),
    Column("fingerprint", String, nullable=False, index=True),
    Column("reason", Text),
    Column("until", DateTime),  # accept-until; None = for good
    Column("created_at", DateTime),
    Column("revoked", Boolean, default=False),
)


PAGE_COLUMNS = [
    "run_id",
    "url",
    "final_url",
    "status_code",
    "content_type",
    "encoding",
    "title",
    "depth",
    "size",
    "fetched_at",
    "rendered",
    "html_z",
    "meta",
]
LINK_COLUMNS = ["run_id", "source", "target", "tag", "text", "internal", "raw"]
CHECK_COLUMNS = [
    "run_id",
    "url",
    "kind",
    "code",
    "detail",
    "final_url",
    "redirects",
    "elapsed_ms",
    "content_type",
    "method",
    "soft_404",
]


def create_schema(engine: Engine, meta: MetaData) -> None:
    """``create_all`` that tolerates another process creating the same tables at once.

    SQLite's check-then-create is not atomic: two runs starting on a fresh data directory
    can both see a table missing; the loser gets "already exists" and simply checks again.
    """
    for attempt in range(5):
        try:
            meta.create_all(engine)
            return
        except OperationalError as exc:
            if "already exists" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


# Engines, not stores: a Store may be gone while its engine (held in reference cycles)
# still keeps connections open.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def close_all() -> None:
    """Close every store's connections: SQLite folds the write-ahead log into the database
    file when the last one closes, so govaudit.sqlite alone is a complete copy."""
    for engine in list(_ENGINES):
        engine.dispose()


def _wal_mode(cur: Any) -> None:
    """Switch a connection's database to WAL, which several processes opening a fresh data
    directory at once may race for: switching needs a lock SQLite does not wait for (it
    answers "database is locked" at once), so the losers look again after a moment."""
    for attempt in range(100):
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.02 + random.random() * 0.05)


def _migrate(engine: Engine) -> None:
    """Bring a data directory made by an older govaudit up to this schema (add-only)."""
    with engine.begin() as conn:
        have = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(findings)")}
        for name in TRACKING_COLUMNS:
            if name not in have:
                column = findings.c[name]
                kind = column.type.compile(dialect=engine.dialect)
                try:
                    conn.exec_driver_sql(f"ALTER TABLE findings ADD COLUMN {name} {kind}")
                except OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_findings_run_fp ON findings (run_id, fingerprint)"
        )


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _pack(html: str | None) -> bytes | None:
    return zlib.compress(html.encode("utf-8"), 3) if html is not None else None


def _unpack(blob: bytes | None) -> str | None:
    return zlib.decompress(blob).decode("utf-8") if blob is not None else None


class Store:
    """The database. One per data directory; safe to open from several processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(f"sqlite:///{self.path}", future=True)
        self._local = threading.local()
        _ENGINES.add(self.engine)

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            _wal_mode(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint the WAL every ~64 MB instead of every 4 MB: a crawl streams rows
            # fast, and each checkpoint ends in an fsync of the database file.
            cur.execute("PRAGMA wal_autocheckpoint=16000")
            cur.close()

        create_schema(self.engine, metadata)
        _migrate(self.engine)

    @classmethod
    def in_dir(cls, data_dir: str | Path) -> Store:
        return cls(Path(data_dir) / "govaudit.sqlite")

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    def run_dir(self, run_id: int) -> Path:
        """Per-run artifact directory (screenshots, reports)."""
        d = self.data_dir / "runs" / str(run_id)
        d.mkdir(parents=True, exist_ok=True)
        return d

    # ---- runs -------------------------------------------------------------------
    def create_run(
        self,
        site: str,
        config: dict[str, Any],
        start_urls: list[str],
        kind: str = "audit",
        parent_run: int | None = None,
        pid: int | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(runs).values(
                    site=site,
                    started_at=utcnow(),
                    status="running",
                    config=config,
                    plugins=[],
                    errors=[],
                    start_urls=start_urls,
                    kind=kind,
                    parent_run=parent_run,
                    pid=pid,
                    site_data={},
                )
            )
            return int(result.inserted_primary_key[0])

    def update_run(self, run_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def add_run_error(self, run_id: int, error: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            current = conn.execute(select(runs.c.errors).where(runs.c.id == run_id)).scalar_one()
            conn.execute(
                update(runs).where(runs.c.id == run_id).values(errors=[*(current or []), error])
            )

    def finish_run(self, run_id: int, status: str, **values: Any) -> None:
        self.update_run(run_id, status=status, finished_at=utcnow(), **values)

    def get_run(self, run_id: int) -> RunInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return _run_info(row) if row else None

    def list_runs(self, site: str | None = None, limit: int = 50) -> list[RunInfo]:
        q = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if site:
            q = q.where(runs.c.site == site)
        with self.engine.connect() as conn:
            return [_run_info(r) for r in conn.execute(q).mappings()]

    def run_row(self, run_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def previous_good_run(self, site: str, before: int) -> RunInfo | None:
        """The last succeeded run of ``site`` with an id below ``before``."""
        q = (
            select(runs)
            .where(runs.c.site == site, runs.c.status == "succeeded", runs.c.id < before)
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _run_info(row) if row else None

    def last_good_run(self, site: str) -> RunInfo | None:
        return self.previous_good_run(site, before=2**62)

    def stale_running_runs(self) -> list[RunInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.status == "running")).mappings()
            return [_run_info(r) for r in rows]

    # ---- snapshot writes (streamed by the crawler) -----------------------------
    # The crawler writes every link of every page, so these bypass SQL compilation:
    # one prepared INSERT per table, executemany over tuples, each column converted by
    # the same bind processor SQLAlchemy itself would use (JSON, DateTime, Boolean).
    def _insert_many(self, table: Table, rows: list[tuple[Any, ...]], cols: list[str]) -> None:
        if not rows:
            return
        dialect = self.engine.dialect
        procs = [
            None  # sqlite3 binds bool as 0/1 itself, as SQLAlchemy's processor would
            if isinstance(table.c[name].type, Boolean)
            else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in cols
        ]
        if any(procs):
            rows = [
                tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True))
                for row in rows
            ]
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        conn = getattr(self._local, "tx", None)
        if conn is not None:
            conn.exec_driver_sql(sql, rows)
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql, rows)

    def checkpoint_in_background(self) -> threading.Thread:
        """Fold the write-ahead log into the database file on another thread (SQLite does
        the I/O without the GIL) while the audits and reports go on; join it when done."""

        def run() -> None:
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception as exc:  # an optimisation only: SQLite checkpoints at close
                log.debug("background checkpoint failed: %s", exc)

        thread = threading.Thread(target=run, name="govaudit-checkpoint", daemon=True)
        thread.start()
        return thread

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside the block share one transaction (one commit for a crawl batch)."""
        if getattr(self._local, "tx", None) is not None:
            yield
            return
        with self.engine.begin() as conn:
            self._local.tx = conn
            try:
                yield
            finally:
                self._local.tx = None

    def add_pages(self, run_id: int, items: Iterable[Page]) -> None:
        self._insert_many(
            pages,
            [
                (
                    run_id,
                    p.url,
                    p.final_url,
                    p.status_code,
                    p.content_type,
                    p.encoding,
                    p.title,
                    p.depth,
                    p.size,
                    p.fetched_at,
                    p.rendered,
                    _pack(p.html),
                    p.meta,
                )
                for p in items
            ],
            PAGE_COLUMNS,
        )

    def add_links(self, run_id: int, items: Iterable[Link]) -> None:
        self._insert_many(
            links,
            [
                (run_id, link.source, link.target, link.tag, link.text, link.internal, link.raw)
                for link in items
            ],
            LINK_COLUMNS,
        )

    def add_checks(self, run_id: int, items: Iterable[LinkCheck]) -> None:
        self._insert_many(
            checks,
            [
                (
                    run_id,
                    c.url,
                    c.status.kind.value,
                    c.status.code,
                    c.status.detail,
                    c.final_url,
                    [list(r) for r in c.redirects],
                    c.elapsed_ms,
                    c.content_type,
                    c.method,
                    c.soft_404,
                )
                for c in items
            ],
            CHECK_COLUMNS,
        )

    def copy_snapshot(self, from_run: int, to_run: int) -> None:
        """Share a snapshot with a reaudit run by copying rows (SQLite-side, no Python loop)."""
        with self.engine.begin() as conn:
            for table in (pages, links, checks):
                cols = [c.name for c in table.columns if c.name not in ("id", "run_id")]
                names = ", ".join(cols)
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} (run_id, {names}) "
                    f"SELECT ?, {names} FROM {table.name} WHERE run_id = ?",
                    (to_run, from_run),
                )

    # ---- findings ---------------------------------------------------------------
    def add_findings(self, run_id: int, items: Iterable[dict[str, Any]]) -> None:
        """Append findings (the plugin runner streams them here in batches)."""
        self._insert_many(
            findings,
            [(run_id, *(item.get(k) for k in FINDING_COLUMNS)) for item in items],
            ["run_id", *FINDING_COLUMNS],
        )

    def delete_findings(self, run_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(findings.delete().where(findings.c.run_id == run_id))

    def replace_findings(self, run_id: int, items: Iterable[dict[str, Any]]) -> None:
        rows = [{"run_id": run_id, **{k: item.get(k) for k in FINDING_COLUMNS}} for item in items]
        with self.engine.begin() as conn:
            conn.execute(findings.delete().where(findings.c.run_id == run_id))
            if rows:
                conn.execute(insert(findings), rows)

    def findings(self, run_id: int) -> list[dict[str, Any]]:
        """Run ``run_id``'s findings (without tracking fields), errors first."""
        return list(self.iter_findings(run_id))

    def iter_findings(
        self,
        run_id: int,
        *where: Any,
        columns: list[str] | None = None,
        order: tuple[Any, ...] = FINDING_ORDER,
        batch: int = 500,
    ) -> Iterator[dict[str, Any]]:
        """Stream a run's findings (report order by default), ``batch`` rows at a time."""
        cols = [findings.c[name] for name in (columns or FINDING_COLUMNS)]
        q = select(*cols).where(findings.c.run_id == run_id, *where).order_by(*order)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
            for row in result.mappings():
                yield dict(row)

    # ---- decisions (ignore) ------------------------------------------------------
    def add_decision(
        self, fingerprint: str, reason: str, until: datetime | None = None, site: str | None = None
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(decisions).values(
                    fingerprint=fingerprint,
                    reason=reason,
                    until=until,
                    site=site,
                    created_at=utcnow(),
                )
            )
            return int(result.inserted_primary_key[0])

    def active_decisions(self, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        at = at or utcnow()
        q = select(decisions).where(decisions.c.revoked.is_not(True)).order_by(decisions.c.id)
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(q).mappings():
                if row["until"] is None or row["until"] >= at:
                    out[row["fingerprint"]] = dict(row)
        return out

    # ---- snapshot reads -----------------------------------------------------------
    def snapshot(self, run_id: int) -> StoredSnapshot:
        info = self.get_run(run_id)
        if info is None:
            raise KeyError(f"no run {run_id}")
        return StoredSnapshot(self, info)

    def count(self, table: Table, run_id: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.run_id == run_id)
                ).scalar_one()
            )


def _run_info(row: Any) -> RunInfo:
    return RunInfo(
        id=row["id"],
        site=row["site"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        pages_crawled=row["pages_crawled"] or 0,
        links_checked=row["links_checked"] or 0,
        config=row["config"] or {},
        plugins=row["plugins"] or [],
        errors=row["errors"] or [],
        start_urls=row["start_urls"] or [],
    )


def _page(row: Any, with_html: bool = True) -> Page:
    return Page(
        url=row["url"],
        final_url=row["final_url"],
        status_code=row["status_code"],
        content_type=row["content_type"] or "",
        encoding=row["encoding"] or "",
        title=row["title"] or "",
        depth=row["depth"] or 0,
        html=_unpack(row["html_z"]) if with_html else None,
        size=row["size"] or 0,
        fetched_at=row["fetched_at"],
        rendered=bool(row["rendered"]),
        meta=row["meta"] or {},
    )


def _link(row: Any) -> Link:
    return Link(
        source=row["source"],
        target=row["target"],
        tag=row["tag"] or "",
        text=row["text"] or "",
        internal=bool(row["internal"]),
        raw=row["raw"] or "",
    )


def _check(row: Any) -> LinkCheck:
    return LinkCheck(
        url=row["url"],
        status=LinkStatus(StatusKind(row["kind"]), row["code"], row["detail"] or ""),
        final_url=row["final_url"],
        redirects=[(int(c), str(u)) for c, u in (row["redirects"] or [])],
        elapsed_ms=row["elapsed_ms"],
        content_type=row["content_type"],
        method=row["method"] or "GET",
        soft_404=bool(row["soft_404"]),
    )


class StoredSnapshot:
    """A :class:`core.snapshot.SiteSnapshot` read from the store, streamed."""

    def __init__(self, store: Store, run: RunInfo) -> None:
        self.store = store
        self.run = run
        self._check_cache: dict[str, LinkCheck | None] | None = None

    @property
    def homepage_url(self) -> str:
        start = self.run.start_urls[0] if self.run.start_urls else self.run.site
        page = self.page(start)
        return page.final_url if page else start

    def _stream(self, query: Any, batch: int = 200) -> Iterator[Any]:
        with self.store.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            yield from result.mappings()

    def pages(self, with_html: bool = True) -> Iterator[Page]:
        cols = [c for c in pages.columns if with_html or c.name != "html_z"]
        q = select(*cols).where(pages.c.run_id == self.run.id).order_by(pages.c.id)
        for row in self._stream(q):
            yield _page(row if with_html else {**row, "html_z": None}, with_html)

    def page(self, url: str) -> Page | None:
        q = (
            select(pages)
            .where(pages.c.run_id == self.run.id, (pages.c.url == url) | (pages.c.final_url == url))
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _page(row) if row else None

    def links(self) -> Iterator[Link]:
        q = select(links).where(links.c.run_id == self.run.id).order_by(links.c.id)
        for row in self._stream(q, 2000):
            yield _link(row)

    def links_from(self, page_url: str) -> list[Link]:
        q = (
            select(links)
            .where(links.c.run_id == self.run.id, links.c.source == page_url)
            .order_by(links.c.id)
        )
        with self.store.engine.connect() as conn:
            return [_link(r) for r in conn.execute(q).mappings()]

    def links_to(self, target: str) -> list[Link]:
        q = (
            select(links)
            .where(links.c.run_id == self.run.id, links.c.target == target)
            .order_by(links.c.id)
        )
        with self.store.engine.connect() as conn:
            return [_link(r) for r in conn.execute(q).mappings()]

    def check(self, url: str) -> LinkCheck | None:
        q = select(checks).where(checks.c.run_id == self.run.id, checks.c.url == url).limit(1)
        with self.store.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _check(row) if row else None

    def checks(self) -> Iterator[LinkCheck]:
        q = select(checks).where(checks.c.run_id == self.run.id).order_by(checks.c.id)
        for row in self._stream(q, 2000):
            yield _check(row)

    def artifact_dir(self) -> str:
        return str(self.store.run_dir(self.run.id))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
