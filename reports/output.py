"""Writing a run's files: findings.json (public contract, schema 1) and report.html.

Files are written to a temporary name and renamed into place, so a run that dies while
writing never leaves a half-written report over the previous good one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from govaudit import __version__
from govaudit.config import Config
from reports.store import Store, utcnow

SCHEMA_VERSION = 1


@dataclass
class Written:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    active_findings: list[dict[str, Any]] = field(default_factory=list)


def atomic_write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def run_document(
    store: Store, run_id: int, findings: list[dict[str, Any]], status: str
) -> dict[str, Any]:
    """The findings.json document (schema 1)."""
    row = store.run_row(run_id) or {}
    finished = row.get("finished_at") or utcnow()
    return {
        "schema": SCHEMA_VERSION,
        "generator": f"govaudit {__version__}",
        "run": {
            "id": run_id,
            "site": row.get("site"),
            "started_at": _iso(row.get("started_at")),
            "finished_at": _iso(finished),
            "status": status,
            "pages_crawled": row.get("pages_crawled") or 0,
            "links_checked": row.get("links_checked") or 0,
            "plugins": row.get("plugins") or [],
            "errors": [
                {k: v for k, v in e.items() if k != "traceback"} for e in (row.get("errors") or [])
            ],
        },
        "findings": [
            {
                k: f.get(k)
                for k in (
                    "plugin",
                    "rule",
                    "severity",
                    "url",
                    "page",
                    "message",
                    "evidence",
                    "unit",
                    "fingerprint",
                )
            }
            | {
                k: f[k]
                for k in ("state", "first_seen", "deadline", "ignored", "overdue", "age_days")
                if k in f
            }
            for f in findings
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def write_run_outputs(
    store: Store,
    run_id: int,
    config: Config,
    out_dir: str | Path | None,
    today: date | None = None,
    final_status: str = "succeeded",
) -> Written:
    """Write every output file of a run into its run directory, then copy to ``out_dir``."""
    from reports import render

    run_dir = store.run_dir(run_id)
    bundle = render.build_bundle(store, run_id, config, today=today, status=final_status)
    files = render.write_all(bundle, run_dir)
    written = Written(out_dir=run_dir, files=files, active_findings=bundle.active_findings)
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


def dump_json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str)
