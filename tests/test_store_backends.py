"""The store on both backends: add-only migration, idempotent run keys, outbox claims that
several senders (processes, or machines sharing PostgreSQL) never take twice.

Real servers only: SQLite files and a PostgreSQL cluster on loopback (tests/dbservers.py).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import create_engine, insert, inspect, select

from core.snapshot import Page
from reports.mail.outbox import ensure_outbox, outbox
from reports.store import HOST, Store, database_url, pages, runs, utcnow

HOME = "http://www.lcnr.gov.cn/"


def test_add_only_migration_brings_an_old_database_up(backend):
    url, data = backend
    target = url or str(data / "govaudit.sqlite")
    data.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url(target))
    with engine.begin() as conn:  # the tables as govaudit 0.1 made them
        conn.exec_driver_sql(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, site VARCHAR NOT NULL, "
            "started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL, "
            "pages_crawled INTEGER, links_checked INTEGER, config JSON, plugins JSON, "
            "errors JSON, start_urls JSON, kind VARCHAR, parent_run INTEGER, pid INTEGER, "
            "site_data JSON)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE findings (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
            "plugin VARCHAR, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL, url VARCHAR, "
            "page VARCHAR, message TEXT, evidence JSON, unit VARCHAR, fingerprint VARCHAR NOT NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO runs (id, site, started_at, status) VALUES "
            "(1, 'http://old/', '2026-01-01 00:00:00', 'succeeded')"
        )
    engine.dispose()
    store = Store.in_dir(data, url)
    cols = {c["name"] for c in inspect(store.engine).get_columns("runs")}
    assert {"run_key", "host", "summary"} <= cols
    fcols = {c["name"] for c in inspect(store.engine).get_columns("findings")}
    assert {"state", "overdue", "ignore_until"} <= fcols
    assert store.get_run(1).site == "http://old/"  # nothing was lost
    Store.in_dir(data, url)  # a second open changes nothing


def test_a_run_key_has_one_row_however_often_it_is_delivered(backend):
    url, data = backend
    store = Store.in_dir(data, url)
    args = ("k1", HOME, {}, [HOME])
    first, state = store.claim_run(*args, pid=111, still_running=lambda row: True)
    assert state == "new"
    again, state = store.claim_run(*args, pid=222, still_running=lambda row: True)
    assert (again, state) == (first, "busy")  # the first delivery is still at work
    store.add_pages(first, [Page(url=HOME, final_url=HOME, status_code=200, html="x")])
    # Its worker died: the redelivery takes the row over and starts it empty.
    again, state = store.claim_run(*args, pid=333, still_running=lambda row: False)
    assert (again, state) == (first, "reused")
    row = store.run_row(first)
    assert row["pid"] == 333 and row["host"] == HOST and row["status"] == "running"
    assert "redelivered" in row["errors"][-1]["error"]
    assert store.count(pages, first) == 0
    store.finish_run(first, "succeeded")
    assert store.claim_run(*args, pid=444, still_running=lambda row: False) == (first, "done")
    with store.engine.connect() as conn:
        assert conn.execute(select(runs.c.id).where(runs.c.run_key == "k1")).all() == [(first,)]


CLAIMER = """
import sys, time
from reports.store import Store
from reports.mail.outbox import claim_due, utcnow
store = Store.in_dir(sys.argv[1], sys.argv[2] or None)
got = []
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    rows = claim_due(store, utcnow())
    if not rows:
        break
    got += [r["id"] for r in rows]
    time.sleep(0.001)
print(" ".join(map(str, got)))
"""


def test_outbox_claims_never_give_a_row_to_two_senders(backend, tmp_path):
    url, data = backend
    store = Store.in_dir(data, url)
    ensure_outbox(store)
    past = utcnow() - timedelta(seconds=5)
    with store.engine.begin() as conn:
        conn.execute(
            insert(outbox),
            [
                {
                    "message_id": f"<m{i}@govaudit>",
                    "run_id": 1,
                    "unit": f"unit{i}",
                    "recipients": ["a@example.org"],
                    "eml": b"x",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": past,
                }
                for i in range(300)
            ],
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(data), url or ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    claimed: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        claimed += [int(x) for x in out.split()]
    assert len(claimed) == 300 and len(set(claimed)) == 300
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.claimed_host)).all()
    assert {r for r in rows} == {("sending", HOST)}
