"""The database schema: tables, column lists, the report order of findings, and the add-only
migration of databases made by older versions (SQLite or PostgreSQL, read through the dialect).

Knows nothing of what a run means; reports/store.py reads and writes through it.
"""

from __future__ import annotations

import time

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
    func,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

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
    # Added for the distributed service (issue 15); add-only, see RUN_COLUMNS_ADDED.
    Column("run_key", String),  # idempotency key of a scheduled run (one row per key)
    Column("host", String),  # the machine whose process `pid` is
    Column("summary", JSON),  # the dashboard's figures (score, verdict, veto, counts)
    Index("ux_runs_run_key", "run_key", unique=True),
)
RUN_COLUMNS_ADDED = ["run_key", "host", "summary"]

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

texts = Table(  # the text layer: attachment text, piece by piece (pipeline/texts.py)
    "texts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("url", String, nullable=False),  # the attachment
    Column("page_url", String),  # the page that links to it
    Column("format", String),  # pdf | docx | xlsx | doc | xls
    Column("location", String),  # 第3页 | 工作表“名单” | 正文
    Column("status", String),  # ok | scanned | too_large | timeout | unreadable | …
    Column("detail", Text),
    Column("text_z", LargeBinary),  # zlib-compressed UTF-8
    Column("spans", JSON),  # [[offset, finer location], …]
    Index("ix_texts_run", "run_id"),
)
TEXT_COLUMNS = [
    "run_id",
    "url",
    "page_url",
    "format",
    "location",
    "status",
    "detail",
    "text_z",
    "spans",
]

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


#: PostgreSQL advisory lock taken while creating or migrating the schema.
SCHEMA_LOCK = 0x676F7661  # "gova"


def _lost_race(exc: DBAPIError) -> bool:
    """Another process created the same table, index or column first."""
    text_ = str(exc).lower()
    return any(
        s in text_
        for s in ("already exists", "duplicate column", "pg_type_typname_nsp_index", "duplicate")
    )


def create_schema(engine: Engine, meta: MetaData) -> None:
    """``create_all`` that tolerates another process creating the same tables at once.

    PostgreSQL: under a transaction-scoped advisory lock, so processes take turns.
    SQLite's check-then-create is not atomic: two runs starting on a fresh data directory
    can both see a table missing; the loser gets "already exists" and simply checks again.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            meta.create_all(conn)
        return
    for attempt in range(5):
        try:
            meta.create_all(engine)
            return
        except DBAPIError as exc:
            if not _lost_race(exc) or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def add_columns(conn: Connection, table: Table, names: list[str]) -> list[str]:
    """Add the columns of ``table`` named in ``names`` that the database lacks (add-only);
    returns those added. The column list comes from the dialect's inspector (SQLite's
    ``PRAGMA table_info``, PostgreSQL's catalog)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    added = []
    postgres = conn.dialect.name == "postgresql"
    for name in names:
        if name in have:
            continue
        kind = table.c[name].type.compile(dialect=conn.dialect)
        exists = "IF NOT EXISTS " if postgres else ""  # SQLite has no such clause
        try:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {exists}{name} {kind}")
        except DBAPIError as exc:  # another process added it first (SQLite)
            if not _lost_race(exc):
                raise
        added.append(name)
    return added


def migrate(engine: Engine) -> None:
    """Bring a database made by an older govaudit up to this schema (add-only).

    Why not Alembic: every change so far only adds a column or an index, which an older
    govaudit reading the same database ignores; an add-only step run on every open needs no
    revision files, no stamp table and no separate upgrade command on a worker."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
        add_columns(conn, findings, TRACKING_COLUMNS)
        add_columns(conn, runs, RUN_COLUMNS_ADDED)
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_findings_run_fp ON findings (run_id, fingerprint)"
        )
        conn.exec_driver_sql("CREATE UNIQUE INDEX IF NOT EXISTS ux_runs_run_key ON runs (run_key)")
