"""Recheck: re-test only the pages of a run's open findings and mark what is fixed.

A use case: wires the crawler (depth 0 over those pages), the audit runner and the
reports; knows nothing of the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from typing import Any

from audits.runner import all_rules, run_audits
from core.config import Config, config_from_dict
from core.dns import Resolver
from crawler import run_crawl
from pipeline.audit import _progress
from pipeline.texts import collect_texts, wants_texts
from reports.output import write_run_outputs
from reports.store import Store
from reports.tracking import decisions_for, track


def pages_to_recheck(items: Iterable[dict[str, Any]]) -> list[str]:
    """The pages whose re-fetch proves or disproves these findings (order kept, no repeats)."""
    out: dict[str, None] = {}
    for f in items:
        target = f.get("page") or f.get("url")
        if target and str(target).startswith(("http://", "https://")):
            out[str(target)] = None
    return list(out)


class RecheckError(Exception):
    """The recheck cannot start (unknown run, nothing to recheck)."""


def recheck(
    config: Config,
    parent_run: int,
    unit: str | None = None,
    out_dir: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Crawl only the pages of ``parent_run``'s open findings (depth 0) in this process,
    re-run the plugins of the affected rules, and record a ``recheck`` run."""
    store = Store.for_config(config)
    parent = store.run_row(parent_run)
    if parent is None:
        raise RecheckError(f"no run {parent_run} in {store.location}")
    if parent["status"] != "succeeded":
        raise RecheckError(f"run {parent_run} did not succeed ({parent['status']})")
    as_of = today or date.today()
    decisions = decisions_for(store, parent["site"], as_of)
    parent_findings = store.findings(parent_run)
    in_scope = [
        f
        for f in parent_findings
        if f["fingerprint"] not in decisions and (unit is None or f["unit"] == unit)
    ]
    if not in_scope:
        which = f" of unit {unit!r}" if unit else ""
        raise RecheckError(f"run {parent_run} has no open findings{which} to recheck")
    rule_plugins = {rid: plugin for rid, (plugin, _spec) in all_rules().items()}
    plugins = sorted({rule_plugins.get(f["rule"], f["plugin"]) for f in in_scope} - {None, ""})
    homepage = (parent.get("start_urls") or [parent["site"]])[0]
    pages = [homepage, *[p for p in pages_to_recheck(in_scope) if p != homepage]]

    data = config.model_dump(mode="python")
    data["site"]["urls"] = pages
    data["site"]["sitemap"] = None
    data["crawl"]["max_depth"] = 0
    data["crawl"]["max_pages"] = len(pages)
    sub_config = config_from_dict(data, "recheck")
    run_id = store.create_run(
        site=parent["site"],
        config=sub_config.model_dump(mode="json"),
        start_urls=pages,
        kind="recheck",
        parent_run=parent_run,
        pid=os.getpid(),
    )
    try:
        resolver = Resolver(config.dns, timeout=min(config.crawl.timeout, 10))
        stats = run_crawl(sub_config, store, run_id, resolver=resolver, progress=_progress)
        if stats.interrupted:
            raise KeyboardInterrupt(f"crawl stopped after {stats.pages} pages")
        store.update_run(run_id, pages_crawled=stats.pages, links_checked=stats.links_checked)
        if wants_texts(sub_config, plugins):
            collect_texts(store, run_id, sub_config, resolver, _progress)
        snapshot = store.snapshot(run_id)
        fetched: set[str] = set()
        for page in snapshot.pages(with_html=False):
            if page.status_code and page.status_code < 400:
                fetched.update({page.url, page.final_url})
        result = run_audits(
            store, run_id, sub_config, plugins, today=as_of, resolver=resolver, progress=_progress
        )
        for err in result.errors:
            store.add_run_error(run_id, err)
        scope_fps = {f["fingerprint"] for f in in_scope}
        affected_rules = {f["rule"] for f in in_scope}

        def covered(f: dict[str, Any]) -> bool:
            where = f.get("page") or f.get("url")
            return bool(where) and where in fetched

        merged: list[dict[str, Any]] = []
        kept: set[str] = set()
        for f in result.findings:
            # Still there, or a new page-level finding on a rechecked page: keep. Site-level
            # findings from a partial snapshot are not trustworthy unless already known.
            if f["fingerprint"] in scope_fps or (
                f["page"] and f["page"] in fetched and f["rule"] in affected_rules
            ):
                merged.append(f)
                kept.add(f["fingerprint"])
        for f in parent_findings:
            if f["fingerprint"] in kept:
                continue
            if f["fingerprint"] in scope_fps and covered(f):
                continue  # rechecked and gone: fixed
            merged.append(f)  # not rechecked (other unit, ignored, page not fetched)
            kept.add(f["fingerprint"])
        store.replace_findings(run_id, merged)
        site_data = {
            k: v for k, v in (parent.get("site_data") or {}).items() if not k.startswith("report.")
        }
        site_data["report.recheck"] = {
            "parent_run": parent_run,
            "unit": unit,
            "pages": sorted(fetched),
            "rules": sorted(affected_rules),
        }
        store.update_run(run_id, plugins=result.plugins, site_data=site_data)
        written = write_run_outputs(store, run_id, config, out_dir, today=as_of)
        store.finish_run(run_id, "succeeded")
    except BaseException as exc:
        store.finish_run(run_id, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        store.add_run_error(run_id, {"stage": "recheck", "error": f"{type(exc).__name__}: {exc}"})
        raise
    states = {"new": 0, "open": 0, "fixed": 0}
    tracked = track(store, run_id, config, as_of, persist=False)
    for f in tracked.active:
        states[f["state"]] += 1
    states["fixed"] = len(tracked.fixed)
    return {
        "run_id": run_id,
        "pages": len(fetched),
        "counts": states,
        "out_dir": written.out_dir,
        "errors_open": written.counts.get("error", 0),
    }


def run_config(config: Config, run_id: int) -> Config:
    """The settings run ``run_id`` was made with (DNS overrides, timeouts, plugin options,
    unit map), keeping ``config``'s data directory; ``config`` when the run is unknown."""
    row = Store.for_config(config).run_row(run_id)
    if row and row.get("config"):
        stored = dict(row["config"]) | {"data_dir": config.data_dir}
        return config_from_dict(stored, f"run {run_id}")
    return config
