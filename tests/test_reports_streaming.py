"""Reports of a large run are streamed from the store, and 0.1 data directories still open.

Real SQLite files; the memory test measures Python allocations with tracemalloc while
every report file of a 2,000-finding run is written.
"""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from datetime import date

from openpyxl import load_workbook

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from audits.runner import _FindingSink
from reports.output import write_run_outputs
from reports.store import Store
from tests.test_reports_support import SITE, add_run, finding, make_config

N = 2000


def _many(n: int) -> list[dict]:
    out = []
    for i in range(n):
        page = f"{SITE}{'zwgk/' if i % 3 == 0 else 'xwzx/'}p{i // 20}.html"
        out.append(
            finding(
                "links.broken",
                f"{SITE}missing/{i}.html",
                page,
                "综合组" if i % 3 == 0 else "信息中心",
                severity="error" if i % 4 else "warning",
                message=f"页面上的链接“第{i}号失效链接”无法正常访问：HTTP错误 404。",
                evidence={
                    "kind": "http_error",
                    "code": 404,
                    "redirects": [[301, f"{SITE}old/{i}"]],
                    "text": f"第{i}号失效链接" * 3,
                    "internal": True,
                },
            )
        )
    return out


def test_a_large_run_is_reported_without_holding_its_findings(tmp_path):
    config = make_config(tmp_path / "data")
    store = Store.in_dir(config.data_dir)
    items = _many(N)
    run_id = store.create_run(SITE, config.model_dump(mode="json"), [SITE])
    store.add_findings(run_id, items)
    store.update_run(run_id, plugins=["links"])
    del items

    tracemalloc.start()
    try:
        written = write_run_outputs(store, run_id, config, tmp_path / "out", today=date(2026, 3, 2))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding 2,000 findings as dicts (and the documents built from them) took > 30 MB;
    # streamed, the peak is what one batch and the report's summary need.
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB"

    doc = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert len(doc["findings"]) == N
    ranks = [{"error": 0, "warning": 1, "info": 2}[f["severity"]] for f in doc["findings"]]
    assert ranks == sorted(ranks)  # errors first, as before
    assert {f["state"] for f in doc["findings"]} == {"new"}
    assert written.counts == {"error": N - N // 4, "warning": N // 4, "info": 0}

    wb = load_workbook(tmp_path / "out" / "整改清单.xlsx", read_only=True)
    rows = sum(sum(1 for _ in ws.iter_rows(min_row=2)) for ws in wb.worksheets[1:])
    assert rows == N
    unit_doc = json.loads((tmp_path / "out" / "units" / "综合组.json").read_text(encoding="utf-8"))
    assert list(unit_doc)[:4] == ["schema", "generator", "run", "unit"]
    assert len(unit_doc["findings"]) == len(range(0, N, 3))
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.count('<tr class="finding"') == N


def test_runner_streams_and_drops_exact_duplicates(tmp_path):
    config = make_config(tmp_path / "data")
    store = Store.in_dir(config.data_dir)
    run_id = store.create_run(SITE, config.model_dump(mode="json"), [SITE])

    class Plugin(AuditPlugin):
        name = "links"
        rules = [
            RuleSpec(
                id="links.broken", title="t", severity=Severity.ERROR, regulation="", advice=""
            )
        ]

    sink = _FindingSink(store, run_id, config, batch=7)
    for i in range(50):
        for _ in range(2):  # each finding twice
            sink.add(Plugin, Finding(rule="links.broken", url=f"{SITE}{i}", page=SITE, message="m"))
        if i == 20:  # batches reach the store while the plugin is still yielding
            assert len(store.findings(run_id)) == 21  # three full batches of 7
    sink.flush()
    stored = store.findings(run_id)
    assert sink.count == len(stored) == 50
    assert len({f["fingerprint"] for f in stored}) == 50


OLD_FINDINGS_DDL = """
CREATE TABLE findings (
    id INTEGER NOT NULL, run_id INTEGER NOT NULL, plugin VARCHAR, rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL, url VARCHAR, page VARCHAR, message TEXT, evidence JSON,
    unit VARCHAR, fingerprint VARCHAR NOT NULL, PRIMARY KEY (id)
)
"""


def test_a_data_dir_from_govaudit_0_1_is_migrated_and_keeps_first_seen(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "govaudit.sqlite")
    db.execute(OLD_FINDINGS_DDL)
    db.commit()
    db.close()
    config = make_config(data)
    store = Store.in_dir(data)  # adds the tracking columns
    cols = {
        r[1]
        for r in sqlite3.connect(data / "govaudit.sqlite").execute("PRAGMA table_info(findings)")
    }
    assert {"state", "first_seen", "deadline", "overdue", "ignored"} <= cols

    a = finding("links.broken", SITE + "a.html", SITE, "信息中心")
    # A run as 0.1 stored it: first-seen dates in site_data, tracking columns empty.
    run1 = store.create_run(SITE, config.model_dump(mode="json"), [SITE])
    store.replace_findings(run1, [a])
    store.update_run(
        run1,
        site_data={
            "report.as_of": "2026-03-02",
            "report.first_seen": {a["fingerprint"]: "2026-02-02"},
        },
    )
    store.finish_run(run1, "succeeded")

    _run2, _w = add_run(store, config, [a], date(2026, 3, 9), out_dir=tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    (f,) = doc["findings"]
    assert f["state"] == "open"
    assert f["first_seen"] == "2026-02-02"  # carried over from the 0.1 run's site_data
    assert Store.in_dir(data)  # opening again is a no-op


def test_mail_for_a_large_run_counts_everything_and_lists_the_first_rows(tmp_path):
    from reports import mail

    config = make_config(
        tmp_path / "data",
        mail={"sender": "wzjc@example.gov.cn", "info_centre": ["xxzx@example.gov.cn"]},
    )
    store = Store.in_dir(config.data_dir)
    items = _many(N)
    run_id = store.create_run(SITE, config.model_dump(mode="json"), [SITE])
    store.add_findings(run_id, items)
    store.update_run(run_id, plugins=["links"])
    write_run_outputs(store, run_id, config, None, today=date(2026, 3, 2))

    plan = mail.plan_run_mail(store, config, run_id, today=date(2026, 3, 2))
    mine = [i for i in items if i["unit"] == "综合组"]
    by_unit = {p.unit: p.message for p in plan.messages}
    text = by_unit["综合组"].get_body(("plain",)).get_content()
    errors = sum(1 for i in mine if i["severity"] == "error")
    assert f"共 {len(mine)} 项：严重 {errors} 项，警告 {len(mine) - errors} 项" in text
    assert text.count("   问题描述：") == mail.MAX_ROWS
    assert f"另有 {len(mine) - mail.MAX_ROWS} 项未在正文列出" in text
    summary = by_unit[mail.SUMMARY].get_body(("plain",)).get_content()
    assert f"共有未整改问题 {N} 项" in summary
    # 信息中心 has findings but no address: reported, not silently dropped.
    assert any("信息中心" in p and "no valid email address" in p for p in plan.problems)
