"""Storage of runs, pages, links, link checks and findings: one SQLite file (the embedded
default) or a PostgreSQL database (``database_url``), the same through SQLAlchemy Core.

Core (not the ORM): the crawler streams thousands of rows, and bulk inserts through Core
keep memory flat. A run is ``running`` until ``finish_run``; a run that fails half-way is
marked ``failed`` and never becomes "the last good run". SQLite pragmas (WAL …) only apply
to SQLite.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import IntegrityError

from core.snapshot import Link, LinkCheck, Page, RunInfo, TextPiece
from reports.schema import (
    CHECK_COLUMNS,
    FINDING_COLUMNS,
    FINDING_ORDER,
    LINK_COLUMNS,
    PAGE_COLUMNS,
    SEVERITY_RANK,
    TEXT_COLUMNS,
    TRACKING_COLUMNS,
    checks,
    create_schema,
    decisions,
    findings,
    links,
    metadata,
    migrate,
    pages,
    runs,
    texts,
)
from reports.snapshots import StoredSnapshot, pack_html, run_info

# Re-exported: the tables and column lists are read through the store's module too.
__all__ = [
    "CHECK_COLUMNS",
    "FINDING_COLUMNS",
    "FINDING_ORDER",
    "LINK_COLUMNS",
    "PAGE_COLUMNS",
    "SEVERITY_RANK",
    "TRACKING_COLUMNS",
    "Store",
    "StoredSnapshot",
    "checks",
    "close_all",
    "create_schema",
    "decisions",
    "findings",
    "links",
    "pages",
    "runs",
    "texts",
    "utcnow",
]

log = logging.getLogger(__name__)

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


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


HOST = socket.gethostname()


def database_url(value: str | Path) -> URL:
    """A SQLAlchemy URL, or a file path meaning SQLite; ``postgresql://`` means psycopg 3."""
    text_ = str(value)
    if "://" not in text_:
        return URL.create("sqlite", database=str(Path(text_)))
    url = make_url(text_)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


class Store:
    """The database, and the directory of run files (reports, screenshots) beside it.

    ``target`` is a SQLite file path or a SQLAlchemy URL (``postgresql+psycopg://…``); with a
    URL, ``data_dir`` names the (shared) directory of run files. Safe to open from several
    processes and, on PostgreSQL, from several machines."""

    def __init__(self, target: str | Path, data_dir: str | Path | None = None) -> None:
        self.url = database_url(target)
        self.dialect = self.url.get_backend_name()  # sqlite | postgresql
        if self.dialect == "sqlite":
            self.path = Path(self.url.database or "govaudit.sqlite")
            self._data_dir = Path(data_dir) if data_dir is not None else self.path.parent
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url, future=True)
        else:
            if data_dir is None:
                raise ValueError(f"{self.location}: a database server needs data_dir for run files")
            self._data_dir = Path(data_dir)
            self.path = self._data_dir
            self.engine = create_engine(
                self.url, future=True, pool_pre_ping=True, pool_size=4, max_overflow=8
            )
        self._local = threading.local()
        _ENGINES.add(self.engine)

        if self.dialect == "sqlite":

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
        migrate(self.engine)

    @classmethod
    def in_dir(cls, data_dir: str | Path, database_url: str | None = None) -> Store:
        """The store of a data directory: its SQLite file, or ``database_url`` when set."""
        if database_url:
            return cls(database_url, data_dir=data_dir)
        return cls(Path(data_dir) / "govaudit.sqlite")

    @classmethod
    def for_config(cls, config: Any) -> Store:
        """The store a configuration names (``database_url``, else ``<data_dir>/govaudit.sqlite``)."""
        return cls.in_dir(config.data_dir, getattr(config, "database_url", None))

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def location(self) -> str:
        """Where the database is, for messages (never with a password)."""
        if self.dialect == "sqlite":
            return str(self.url.database)
        return self.url.render_as_string(hide_password=True)

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
        run_key: str | None = None,
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
                    host=HOST,
                    site_data={},
                    run_key=run_key,
                )
            )
            return int(result.inserted_primary_key[0])

    def run_by_key(self, run_key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_key == run_key)).mappings().first()
        return dict(row) if row else None

    def claim_run(
        self,
        run_key: str,
        site: str,
        config: dict[str, Any],
        start_urls: list[str],
        pid: int,
        still_running: Any,
    ) -> tuple[int, str]:
        """The run row of ``run_key`` for this process: (id, "new" | "reused" | "done" | "busy").

        A redelivered run (its worker died) finds its row: ``succeeded`` → "done", nothing to
        do; still running in a live process (``still_running(row)``) → "busy"; otherwise
        the row is emptied and taken over ("reused"), so a run key never has two rows."""
        try:
            run_id = self.create_run(site, config, start_urls, pid=pid, run_key=run_key)
            return run_id, "new"
        except IntegrityError:  # the unique index on run_key: the row exists
            row = self.run_by_key(run_key)
            if row is None:
                raise
        if row["status"] == "succeeded":
            return int(row["id"]), "done"
        if row["status"] == "running" and still_running(row):
            return int(row["id"]), "busy"
        run_id = int(row["id"])
        with self.engine.begin() as conn:
            for table in (pages, links, checks, texts, findings):
                conn.execute(table.delete().where(table.c.run_id == run_id))
            taken = conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.pid == row["pid"], runs.c.host == row["host"])
                .values(
                    status="running",
                    started_at=utcnow(),
                    finished_at=None,
                    pid=pid,
                    host=HOST,
                    config=config,
                    pages_crawled=0,
                    links_checked=0,
                    plugins=[],
                    site_data={},
                    summary=None,
                    errors=[
                        *(row["errors"] or []),
                        {
                            "stage": "service",
                            "error": f"redelivered: run taken over from {row['host']} "
                            f"process {row['pid']} (status {row['status']})",
                        },
                    ],
                )
            ).rowcount
        return run_id, ("reused" if taken else "busy")

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
        return run_info(row) if row else None

    def list_runs(self, site: str | None = None, limit: int = 50) -> list[RunInfo]:
        q = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if site:
            q = q.where(runs.c.site == site)
        with self.engine.connect() as conn:
            return [run_info(r) for r in conn.execute(q).mappings()]

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
        return run_info(row) if row else None

    def last_good_run(self, site: str) -> RunInfo | None:
        return self.previous_good_run(site, before=2**31 - 1)  # int4: PostgreSQL

    def stale_running_runs(self) -> list[RunInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.status == "running")).mappings()
            return [run_info(r) for r in rows]

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
        mark = "?" if self.is_sqlite else "%s"  # the driver's own placeholder
        if not self.is_sqlite:  # PostgreSQL refuses NUL in text; SQLite stored it
            rows = [tuple(_no_nul(v) for v in row) for row in rows]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
        )
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
            if not self.is_sqlite:
                return  # the server does its own checkpoints
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
                    pack_html(p.html),
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
            for table in (pages, links, checks, texts):
                cols = [c.name for c in table.columns if c.name not in ("id", "run_id")]
                names = ", ".join(cols)
                conn.execute(
                    text(
                        f"INSERT INTO {table.name} (run_id, {names}) "
                        f"SELECT :to_run, {names} FROM {table.name} WHERE run_id = :from_run"
                    ),
                    {"to_run": to_run, "from_run": from_run},
                )

    def add_texts(self, run_id: int, items: Iterable[TextPiece]) -> None:
        """Store attachment text pieces (compressed) for the text audits and later reaudits."""
        self._insert_many(
            texts,
            [
                (
                    run_id,
                    t.url,
                    t.page_url,
                    t.format,
                    t.location,
                    t.status,
                    t.detail,
                    pack_html(t.text),
                    [list(x) for x in t.spans] or None,
                )
                for t in items
            ],
            TEXT_COLUMNS,
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


def _no_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
