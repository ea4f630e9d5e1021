"""One audit run, end to end: crawl → audit → store → write reports.

Used by the CLI (``govaudit audit``) and by the scheduler's child processes. A run that
fails half-way is marked ``failed`` with the reason, and the previous good run's
results and report files stay as they were.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from audits.runner import run_audits, validate_plugin_options
from core.config import Config
from core.dns import Resolver
from pipeline.processes import recover_interrupted_runs, run_alive
from pipeline.texts import collect_texts, wants_texts
from reports.store import Store

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2
EXIT_BUSY = 3  # --run-key: another live process has this run (pipeline/executors.py)


class CannotRun(Exception):
    """The run could not start or could not reach the site; exit code 2."""


@dataclass
class RunOutcome:
    run_id: int
    status: str
    exit_code: int
    out_dir: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    reason: str = ""


def _progress(message: str) -> None:
    print(f"[govaudit] {message}", file=sys.stderr, flush=True)


def audit_site(
    config: Config,
    out_dir: str | Path | None = None,
    plugins: list[str] | None = None,
    today: date | None = None,
    quiet: bool = False,
    run_key: str | None = None,
) -> RunOutcome:
    """Crawl the site in this process (once per process: Twisted's reactor cannot restart).

    With ``run_key`` (a scheduled run) the run's row is found or made by its key, so a run
    delivered twice has one row: already succeeded → nothing to do; still running in a live
    process → status ``busy`` (EXIT_BUSY); otherwise the row is taken over and run again."""
    from crawler import run_crawl

    progress = (lambda m: None) if quiet else _progress
    validate_plugin_options(config, plugins)
    store = Store.for_config(config)
    for gone in recover_interrupted_runs(store):  # left 'running' by a process that died
        progress(f"run {gone} was left running by a process that no longer exists: marked failed")
    if run_key:
        run_id, state = store.claim_run(
            run_key,
            config.homepage,
            config.model_dump(mode="json"),
            list(config.site.urls),
            pid=os.getpid(),
            still_running=lambda row: run_alive(row, config.serve.run_timeout),
        )
        if state == "done":
            progress(f"run {run_id} ({run_key}) has already succeeded: nothing to do")
            return RunOutcome(run_id, "succeeded", EXIT_OK, reason="already done")
        if state == "busy":
            progress(f"run {run_id} ({run_key}) is in progress in another process")
            return RunOutcome(run_id, "busy", EXIT_BUSY, reason="in progress elsewhere")
    else:
        run_id = store.create_run(
            site=config.homepage,
            config=config.model_dump(mode="json"),
            start_urls=list(config.site.urls),
            pid=os.getpid(),
        )
    progress(f"run {run_id}: crawling {config.homepage}")
    try:
        resolver = Resolver(config.dns, timeout=min(config.crawl.timeout, 10))
        stats = run_crawl(config, store, run_id, resolver=resolver, progress=progress)
        if stats.interrupted:  # Scrapy stopped on SIGINT/SIGTERM: a partial snapshot
            raise KeyboardInterrupt(f"crawl stopped after {stats.pages} pages")
        checkpoint = store.checkpoint_in_background()
        store.update_run(run_id, pages_crawled=stats.pages, links_checked=stats.links_checked)
        if not stats.homepage_ok:
            raise CannotRun(
                f"start URL {config.homepage} could not be fetched: {stats.homepage_error}"
            )
        if wants_texts(config, plugins):
            collect_texts(store, run_id, config, resolver, progress)
        outcome = finish_audit(store, run_id, config, out_dir, plugins, today, resolver, progress)
        checkpoint.join()
        return outcome
    except CannotRun as exc:
        store.finish_run(run_id, "failed")
        store.add_run_error(run_id, {"stage": "crawl", "error": str(exc)})
        return RunOutcome(run_id, "failed", EXIT_CANNOT_RUN, reason=str(exc))
    except BaseException as exc:
        store.finish_run(run_id, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        store.add_run_error(
            run_id,
            {
                "stage": "run",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8),
            },
        )
        raise


def finish_audit(
    store: Store,
    run_id: int,
    config: Config,
    out_dir: str | Path | None,
    plugins: list[str] | None,
    today: date | None,
    resolver: Resolver | None,
    progress: Any = _progress,
) -> RunOutcome:
    """Run the plugins over run ``run_id``'s stored snapshot, then write the reports."""
    from reports.output import write_run_outputs

    result = run_audits(
        store, run_id, config, plugins, today=today, resolver=resolver, progress=progress
    )
    for err in result.errors:
        store.add_run_error(run_id, err)
    store.update_run(run_id, plugins=result.plugins, site_data=result.site_data)
    # Reports are written before the run is marked succeeded: a crash here leaves the
    # run failed and the previous good run as the one later runs compare against.
    written = write_run_outputs(
        store, run_id, config, out_dir, today=today, final_status="succeeded"
    )
    store.finish_run(run_id, "succeeded")
    counts = dict(written.counts)
    code = EXIT_FINDINGS if counts["error"] else EXIT_OK
    progress(
        f"run {run_id} done: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info"
        + (f"; {len(result.errors)} plugin error(s)" if result.errors else "")
    )
    return RunOutcome(run_id, "succeeded", code, written.out_dir, counts)


def reaudit(
    config: Config,
    source_run: int,
    out_dir: str | Path | None = None,
    plugins: list[str] | None = None,
    today: date | None = None,
) -> RunOutcome:
    """Re-run plugins over a stored snapshot without crawling; a new run records the result."""
    store = Store.for_config(config)
    src = store.get_run(source_run)
    if src is None:
        raise CannotRun(f"no run {source_run} in {store.location}")
    validate_plugin_options(config, plugins)
    run_id = store.create_run(
        site=src.site,
        config=config.model_dump(mode="json"),
        start_urls=src.start_urls,
        kind="reaudit",
        parent_run=source_run,
        pid=os.getpid(),
    )
    try:
        store.copy_snapshot(source_run, run_id)
        store.update_run(run_id, pages_crawled=src.pages_crawled, links_checked=src.links_checked)
        resolver = Resolver(config.dns)
        return finish_audit(store, run_id, config, out_dir, plugins, today, resolver)
    except BaseException as exc:
        store.finish_run(run_id, "failed")
        store.add_run_error(run_id, {"stage": "reaudit", "error": f"{type(exc).__name__}: {exc}"})
        raise
