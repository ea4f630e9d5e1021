"""Writing a run's files: findings.json (public contract, schema 1) and report.html.

Files are written to a temporary name and renamed into place, so a run that dies while
writing never leaves a half-written report over the previous good one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from core import __version__
from core.config import Config
from reports.store import FINDING_COLUMNS, Store, utcnow

SCHEMA_VERSION = 1


@dataclass
class Written:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # active findings per severity
    active_findings: Any = None  # a view of the active findings (reports.views.FindingSet)


def atomic_write(path: Path, data: bytes | str) -> None:
    with atomic_writer(path, binary=True) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def atomic_writer(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A file opened for writing under a temporary name, renamed over ``path`` only when
    the block finishes: readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


TRACKING_KEYS = ("state", "first_seen", "deadline", "ignored", "overdue", "age_days")


def public_current(f: dict[str, Any]) -> dict[str, Any]:
    """A finding of the run as findings.json lists it (schema 1)."""
    out = {k: f.get(k) for k in FINDING_COLUMNS}
    for k in TRACKING_KEYS:
        if f.get(k) is not None:
            out[k] = bool(f[k]) if k in ("ignored", "overdue") else f[k]
    return out


def public_finding(f: dict[str, Any]) -> dict[str, Any]:
    """A fixed finding as findings.json lists it."""
    return {k: f.get(k) for k in (*FINDING_COLUMNS, "state", "first_seen", "fixed_on")}


def run_document(store: Store, run_id: int, status: str) -> dict[str, Any]:
    """The findings.json document (schema 1) without its finding lists."""
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
    }


def write_json_stream(
    path: Path, head: dict[str, Any], lists: dict[str, Iterable[dict[str, Any]]]
) -> None:
    """Write ``head`` with ``lists`` spliced in after "run"/"unit" (one item in memory at a time);
    the result is the same JSON document as ``dump_json(head | lists)``."""
    keys = list(head)
    anchors = [keys.index(k) + 1 for k in ("run", "unit") if k in keys]
    at = max(anchors) if anchors else len(keys)
    order = [*keys[:at], *lists, *keys[at:]]
    with atomic_writer(path) as fh:
        fh.write("{")
        for n, key in enumerate(order):
            fh.write(",\n  " if n else "\n  ")
            fh.write(json.dumps(key, ensure_ascii=False) + ": ")
            if key in lists:
                fh.write("[")
                empty = True
                for item in lists[key]:
                    fh.write("\n    " if empty else ",\n    ")
                    fh.write(_indent(dump_json(item), "    "))
                    empty = False
                fh.write("]" if empty else "\n  ]")
            else:
                fh.write(_indent(dump_json(head[key]), "  "))
        fh.write("\n}\n")


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


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


def dump_json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str)
