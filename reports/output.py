"""Writes a run's files: findings.json, report.html, 整改清单.xlsx and each unit's JSON and
workbook, into the run directory and optionally a copy in ``--out``.

The one orchestrator of the writers; a run that dies while writing never leaves a
half-written report over the previous good one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.config import Config
from reports.bundle import ReportBundle, UnitSection, build_bundle, unit_filename
from reports.dashboard import run_summary
from reports.files import atomic_writer
from reports.html import iter_html
from reports.json_report import run_head, unit_header, write_json
from reports.store import Store
from reports.views import FindingSet
from reports.xlsx import write_workbook


@dataclass
class Written:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # active findings per severity
    active_findings: Any = None  # a view of the active findings (reports.views.FindingSet)


def write_run_outputs(
    store: Store,
    run_id: int,
    config: Config,
    out_dir: str | Path | None,
    today: date | None = None,
    final_status: str = "succeeded",
) -> Written:
    """Write every output file of a run into its run directory, then copy to ``out_dir``."""
    run_dir = store.run_dir(run_id)
    bundle = build_bundle(store, run_id, config, today=today, status=final_status)
    files = write_all(bundle, run_dir)
    store.update_run(run_id, summary=run_summary(bundle))  # the dashboard's row
    counts = {"error": 0, "warning": 0, "info": 0}
    active = bundle.active_findings
    counts.update(active.count_by("severity"))
    written = Written(out_dir=run_dir, files=files, counts=counts, active_findings=active)
    if out_dir is not None:
        target = Path(out_dir)
        target.mkdir(parents=True, exist_ok=True)
        current = {f.relative_to(run_dir) for f in files}
        units_dir = target / "units"
        if units_dir.is_dir():  # a unit with nothing left must not keep last run's list
            for old in units_dir.iterdir():
                if old.is_file() and old.relative_to(target) not in current:
                    old.unlink()
        for f in files:
            rel = f.relative_to(run_dir)
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
            shutil.copyfile(f, tmp)
            os.replace(tmp, dest)
        written.out_dir = target
    return written


def write_all(bundle: ReportBundle, run_dir: Path) -> list[Path]:
    """Write every file of the run, each streamed from the store to disk."""
    files: list[Path] = []

    def json_doc(rel: str, head: dict[str, Any], current: FindingSet, fixed: FindingSet) -> None:
        path = run_dir / rel
        write_json(path, head, current, fixed)
        files.append(path)

    def put(rel: str, chunks: Iterable[str]) -> None:
        path = run_dir / rel
        with atomic_writer(path) as fh:
            for chunk in chunks:
                fh.write(chunk)
        files.append(path)

    def xlsx(rel: str, sections: list[UnitSection]) -> None:
        path = run_dir / rel
        with atomic_writer(path, binary=True) as fh:
            write_workbook(bundle, sections, fh)
        files.append(path)

    def put_copy(rel: str, source: Path) -> None:
        path = run_dir / rel
        with atomic_writer(path, binary=True) as fh, open(source, "rb") as src:
            shutil.copyfileobj(src, fh)
        files.append(path)

    json_doc("findings.json", run_head(bundle), bundle.findings, bundle.fixed)
    put("report.html", iter_html(bundle))
    xlsx("整改清单.xlsx", bundle.units)
    seen: set[str] = set()
    for section in bundle.units:
        stem = unit_filename(section.name)
        while stem in seen:
            stem += "_"
        seen.add(stem)
        json_doc(
            f"units/{stem}.json", unit_header(bundle, section), section.findings, section.fixed
        )
        if len(bundle.units) == 1:  # the unit's workbook is the full one: same sheets
            put_copy(f"units/{stem}.xlsx", run_dir / "整改清单.xlsx")
        else:
            xlsx(f"units/{stem}.xlsx", [section])
    return files
