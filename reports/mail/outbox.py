"""The outbox table in the run database and the sending passes over it, exactly once.

Every message has a Message-ID derived from the run and the unit, and the outbox has one
row per Message-ID, so queueing a run twice queues nothing new. A row is claimed
(``sending``) before it goes out and marked ``sent`` in one transaction as soon as the
server accepted it. Only a crash in the instant between the server's acceptance and that
commit can repeat a message — and then with the same Message-ID, which clients de-duplicate.
Claims are safe across machines sharing one database: on PostgreSQL the due rows are
locked with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked ``sending`` in the same
transaction (senders never wait for each other nor take the same row); on SQLite the
conditional UPDATE under the database's write lock does the same. A claim records the
sender's host, pid and time, so a sender that died is recognised from any machine.
Knows how to send (smtp.py) but not how messages are planned or rendered.
"""

from __future__ import annotations

import os
import smtplib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)

from core.config import Config
from reports.mail.common import POLICY, SUMMARY, SUMMARY_LABEL, MailError, log
from reports.mail.plan import MailPlan
from reports.mail.smtp import (
    _alive,
    _deliver,
    _Permanent,
    _quit,
    _short,
    _Transient,
    connect,
    smtp_password,
)
from reports.schema import add_columns
from reports.store import HOST, Store, create_schema, utcnow

outbox_metadata = MetaData()

outbox = Table(
    "outbox",
    outbox_metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String, unique=True, nullable=False),
    Column("run_id", Integer, nullable=False, index=True),
    Column("unit", String, nullable=False),  # unit name, or SUMMARY
    Column("recipients", JSON, nullable=False),
    Column("subject", Text),
    Column("eml", LargeBinary, nullable=False),
    Column("status", String, nullable=False, index=True),  # pending|sending|sent|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),
    Column("permanent", Boolean, default=False),  # failed for good (5xx), not an outage
    Column("refused", JSON),  # {address: "code message"} the server rejected
    Column("created_at", DateTime),
    Column("sent_at", DateTime),
    Column("claimed_by", Integer),  # pid of the sender while status == sending
    Column("claimed_host", String),  # … and its machine
    Column("claimed_at", DateTime),  # … and when it claimed the row
)
CLAIM_COLUMNS_ADDED = ["claimed_host", "claimed_at"]
#: A claim by another machine older than this is taken as its sender's death.
STALE_CLAIM_SECONDS = 900

_send_lock = threading.Lock()
_READY: weakref.WeakSet[Any] = weakref.WeakSet()


def ensure_outbox(store: Store) -> None:
    if store.engine in _READY:
        return
    create_schema(store.engine, outbox_metadata)
    with store.engine.begin() as conn:
        add_columns(conn, outbox, CLAIM_COLUMNS_ADDED)
    _READY.add(store.engine)


def enqueue(store: Store, plan: MailPlan) -> list[int]:
    """Put the plan's messages into the outbox; messages already there are left alone.

    Returns the ids of the newly queued rows."""
    ensure_outbox(store)
    new: list[int] = []
    now = utcnow()
    # ON CONFLICT DO NOTHING: the scheduler and a worker may queue the same run at once.
    if store.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    with store.engine.begin() as conn:
        for p in plan.messages:
            exists = conn.execute(
                select(outbox.c.id).where(outbox.c.message_id == p.message_id)
            ).first()
            if exists:
                continue
            result = conn.execute(
                upsert(outbox)
                .values(
                    message_id=p.message_id,
                    run_id=plan.run_id,
                    unit=p.unit,
                    recipients=p.recipients,
                    subject=str(p.message["Subject"]),
                    eml=p.message.as_bytes(policy=POLICY),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    refused={},
                )
                .on_conflict_do_nothing(index_elements=["message_id"])
            )
            if result.rowcount:
                new.append(int(result.inserted_primary_key[0]))
    return new


def requeue_failed(store: Store, run_id: int) -> int:
    """Failed-by-outage rows of a run go back to pending (not those the server refused)."""
    ensure_outbox(store)
    with store.engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(
                outbox.c.run_id == run_id,
                outbox.c.status == "failed",
                outbox.c.permanent.is_not(True),
            )
            .values(status="pending", attempts=0, next_attempt_at=utcnow())
        )
        return int(result.rowcount or 0)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_alive(pid: int | None, host: str | None, at: datetime | None) -> bool:
    if host is None or host == HOST:
        return pid == os.getpid() or _pid_alive(pid)
    return at is not None and (utcnow() - at).total_seconds() < STALE_CLAIM_SECONDS


def release_stale_claims(store: Store) -> int:
    """Rows left ``sending`` by a sender that died go back to pending: on this machine when
    its pid is gone, on another when the claim is older than STALE_CLAIM_SECONDS."""
    ensure_outbox(store)
    released = 0
    with store.engine.begin() as conn:
        rows = conn.execute(
            select(
                outbox.c.id, outbox.c.claimed_by, outbox.c.claimed_host, outbox.c.claimed_at
            ).where(outbox.c.status == "sending")
        ).all()
        for row_id, pid, host, at in rows:
            if _claim_alive(pid, host, at):
                continue
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.status == "sending")
                .values(status="pending", claimed_by=None)
            )
            released += 1
    return released


@dataclass
class Delivery:
    """What happened to one outbox row in one sending pass."""

    row_id: int
    unit: str
    recipients: list[str]
    status: str  # sent | retry | failed
    error: str = ""
    refused: dict[str, str] = field(default_factory=dict)
    attempts: int = 0

    @property
    def label(self) -> str:
        return SUMMARY_LABEL if self.unit == SUMMARY else self.unit

    def describe(self) -> str:
        to = ", ".join(self.recipients)
        if self.status == "sent":
            extra = (
                "; refused: " + "; ".join(f"{a} ({why})" for a, why in self.refused.items())
                if self.refused
                else ""
            )
            return f"{self.label}: sent to {to}{extra}"
        if self.status == "retry":
            return f"{self.label}: not sent yet (attempt {self.attempts}): {self.error}"
        return f"{self.label}: FAILED ({to}): {self.error}"


def send_due(
    store: Store,
    config: Config,
    now: datetime | None = None,
    run_id: int | None = None,
    connect_timeout: float = 30.0,
) -> list[Delivery]:
    """One sending pass over the due pending rows (of ``run_id``, or all)."""
    with _send_lock:
        return _send_due(store, config, now, run_id, connect_timeout)


def _send_due(
    store: Store,
    config: Config,
    now: datetime | None,
    run_id: int | None,
    connect_timeout: float,
) -> list[Delivery]:
    ensure_outbox(store)
    if not config.mail.host:
        raise MailError("mail.host is not set")
    smtp_password(config)  # a missing password variable stops here, before anything is claimed
    release_stale_claims(store)
    now = now or utcnow()
    rows = claim_due(store, now, run_id)
    if not rows:
        return []
    results: list[Delivery] = []
    client: smtplib.SMTP | None = None
    connect_error = ""
    done: set[int] = set()
    try:
        for row in rows:
            done.add(row["id"])
            delivery = Delivery(row["id"], row["unit"], list(row["recipients"]), "retry")
            delivery.attempts = row["attempts"] + 1
            try:
                if client is None:
                    if connect_error:
                        raise _Transient(connect_error)
                    try:
                        client = connect(config, connect_timeout)
                    except _Transient as exc:
                        connect_error = str(exc)
                        raise
                refused = _deliver(client, config.mail.sender, delivery.recipients, row["eml"])
                delivery.status, delivery.refused = "sent", refused
                _finish(
                    store, row["id"], status="sent", refused=refused, attempts=delivery.attempts
                )
            except _Permanent as exc:
                delivery.status, delivery.error, delivery.refused = "failed", str(exc), exc.refused
                _finish(
                    store,
                    row["id"],
                    status="failed",
                    error=str(exc),
                    refused=exc.refused,
                    attempts=delivery.attempts,
                    permanent=True,
                )
            except _Transient as exc:
                delivery.error = str(exc)
                if client is not None and not _alive(client):
                    _quit(client)
                    client = None
                if delivery.attempts > config.mail.retries:
                    delivery.status = "failed"
                    delivery.error = f"gave up after {delivery.attempts} attempts: {exc}"
                    _finish(
                        store,
                        row["id"],
                        status="failed",
                        error=delivery.error,
                        attempts=delivery.attempts,
                    )
                else:
                    # From the pass's start: rows that failed together are retried together.
                    delay = config.mail.backoff_seconds * 2 ** (delivery.attempts - 1)
                    _finish(
                        store,
                        row["id"],
                        status="pending",
                        error=str(exc),
                        attempts=delivery.attempts,
                        next_attempt_at=now + timedelta(seconds=min(delay, 6 * 3600)),
                    )
            except Exception as exc:  # a bug must not leave the row claimed for ever
                log.exception("mail row %s", row["id"])
                delivery.error = _short(exc)
                _finish(
                    store,
                    row["id"],
                    status="pending",
                    error=delivery.error,
                    attempts=delivery.attempts,
                    next_attempt_at=utcnow()
                    + timedelta(seconds=config.mail.backoff_seconds * 2 ** (delivery.attempts - 1)),
                )
                if delivery.attempts > config.mail.retries:
                    delivery.status = "failed"
                    _finish(
                        store,
                        row["id"],
                        status="failed",
                        error=delivery.error,
                        attempts=delivery.attempts,
                    )
            log.info("mail %s", delivery.describe())
            results.append(delivery)
    finally:
        if client is not None:
            _quit(client)
        left = [r["id"] for r in rows if r["id"] not in done]
        if left:  # a pass cut short gives back the rows it did not try
            with store.engine.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(left), outbox.c.status == "sending")
                    .values(status="pending", claimed_by=None, claimed_host=None)
                )
    return results


def claim_due(store: Store, now: datetime, run_id: int | None = None) -> list[dict[str, Any]]:
    """Claim the due pending rows (of ``run_id``, or all) for this sender, in one transaction.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` — rows another sender is claiming are skipped,
    not waited for. SQLite ignores the clause; there the conditional UPDATE (``status =
    'pending'``) runs under the database's single write lock. Either way a row goes to
    exactly one sender."""
    q = select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    q = q.order_by(outbox.c.id).with_for_update(skip_locked=True)
    claimed: list[dict[str, Any]] = []
    with store.engine.begin() as conn:
        for row in [dict(r) for r in conn.execute(q).mappings()]:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == row["id"], outbox.c.status == "pending")
                .values(
                    status="sending", claimed_by=os.getpid(), claimed_host=HOST, claimed_at=utcnow()
                )
            )
            if result.rowcount:
                claimed.append(row)
    return claimed


def _finish(
    store: Store,
    row_id: int,
    status: str,
    attempts: int,
    error: str = "",
    refused: dict[str, str] | None = None,
    permanent: bool = False,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "last_error": error or None,
        "claimed_by": None,
        "claimed_host": None,
        "permanent": permanent,
    }
    if refused is not None:
        values["refused"] = refused
    if status == "sent":
        values["sent_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with store.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


def outbox_rows(store: Store, run_id: int | None = None) -> list[dict[str, Any]]:
    ensure_outbox(store)
    q = select(outbox).order_by(outbox.c.id)
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def next_due(store: Store, run_id: int | None = None) -> datetime | None:
    ensure_outbox(store)
    q = select(outbox.c.next_attempt_at).where(outbox.c.status.in_(("pending", "sending")))
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    with store.engine.connect() as conn:
        times = [t for (t,) in conn.execute(q) if t is not None]
    return min(times) if times else None


def deliver_run(
    store: Store,
    config: Config,
    run_id: int,
    wait: bool = True,
    report: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send the run's queued messages; with ``wait``, retry with backoff until every row
    is sent or failed. Returns the final outcome per row."""
    final: dict[int, Delivery] = {}
    while True:
        for d in send_due(store, config, run_id=run_id):
            final[d.row_id] = d
            report(d.describe())
        due = next_due(store, run_id)
        if due is None or not wait:
            break
        delay = max(0.0, (due - utcnow()).total_seconds())
        report(f"retrying in {delay:.1f} s")
        sleep(delay + 0.01)
    return [final[k] for k in sorted(final)]
