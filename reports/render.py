"""Builds what a run's reports show (a ReportBundle) and renders it to files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from audits.runner import all_rules
from govaudit.config import Config
from reports.output import atomic_write, dump_json, run_document
from reports.store import Store


@dataclass
class ReportBundle:
    run: dict[str, Any]
    config: Config
    findings: list[dict[str, Any]]  # every finding of the run, with state fields added
    active_findings: list[dict[str, Any]]  # not ignored
    rules: dict[str, Any]  # rule id → RuleSpec
    document: dict[str, Any]  # findings.json
    today: date
    extra: dict[str, Any] = field(default_factory=dict)


def build_bundle(
    store: Store, run_id: int, config: Config, today: date | None = None, status: str = "succeeded"
) -> ReportBundle:
    today = today or date.today()
    findings = store.findings(run_id)
    decisions = store.active_decisions()
    for f in findings:
        f["ignored"] = f["fingerprint"] in decisions
    active = [f for f in findings if not f["ignored"]]
    rules = {rid: spec for rid, (_plugin, spec) in all_rules().items()}
    document = run_document(store, run_id, findings, status)
    return ReportBundle(
        run=document["run"],
        config=config,
        findings=findings,
        active_findings=active,
        rules=rules,
        document=document,
        today=today,
    )


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def write_all(bundle: ReportBundle, run_dir: Path) -> list[Path]:
    files: list[Path] = []
    path = run_dir / "findings.json"
    atomic_write(path, dump_json(bundle.document))
    files.append(path)
    html = (
        environment()
        .get_template("report.html.j2")
        .render(b=bundle, sev_zh={"error": "严重", "warning": "警告", "info": "提示"})
    )
    path = run_dir / "report.html"
    atomic_write(path, html)
    files.append(path)
    return files
