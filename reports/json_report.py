"""The JSON writer: findings.json (public contract, schema 1) and units/<unit>.json.

Reads the report bundle (reports/bundle.py); imports no other writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.bundle import ReportBundle, UnitSection
from reports.files import write_json_stream
from reports.store import FINDING_COLUMNS
from reports.views import FindingSet

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


def unit_document(bundle: ReportBundle, section: UnitSection) -> dict[str, Any]:
    """A unit's JSON document (its findings and fixed ones; read whole: small runs, tests)."""
    doc = unit_header(bundle, section)
    doc["findings"] = [public_current(f) for f in section.findings]
    doc["fixed"] = [public_finding(f) for f in section.fixed]
    return doc


def unit_header(bundle: ReportBundle, section: UnitSection) -> dict[str, Any]:
    doc = {k: v for k, v in bundle.document.items() if k not in ("findings", "fixed", "scorecard")}
    doc["unit"] = {"name": section.name, "emails": section.emails, "counts": section.counts}
    return doc


def write_json(path: Path, head: dict[str, Any], current: FindingSet, fixed: FindingSet) -> None:
    """A findings document: ``head`` with its current and fixed findings streamed in."""
    write_json_stream(
        path,
        head,
        {
            "findings": (public_current(f) for f in current),
            "fixed": (public_finding(f) for f in fixed),
        },
    )


def run_head(bundle: ReportBundle) -> dict[str, Any]:
    """findings.json without its finding lists."""
    return {k: v for k, v in bundle.document.items() if k not in ("findings", "fixed")}
