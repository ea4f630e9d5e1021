"""One run's mail from start to end, for ``govaudit mail`` and the service: pick the run,
plan, then write .eml files (dry run) or queue and deliver. Lines worth showing go to a
callback; this module knows nothing of argparse, stdout or exit conventions beyond 0/1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from core.config import Config, ConfigError
from reports.mail.common import SUMMARY, SUMMARY_LABEL, log
from reports.mail.outbox import deliver_run, enqueue, outbox_rows, requeue_failed
from reports.mail.plan import MailPlan, plan_run_mail, write_eml
from reports.mail.smtp import smtp_configured
from reports.store import Store


def write_run_eml(
    store: Store, config: Config, run_id: int, today: date | None = None
) -> tuple[list[Path], list[str]]:
    """Dry run of a run's mail (the demo, or no SMTP configured): the .eml paths written
    under ``runs/<id>/mail/`` and the problems found (bad addresses, missing files)."""
    plan = plan_run_mail(store, config, run_id, today)
    return write_eml(plan, store.data_dir / "runs" / str(run_id)), plan.problems


def queue_run(store: Store, config: Config, run_id: int, today: date | None = None) -> MailPlan:
    """Plan and enqueue a run's mail (the service calls this after each successful run)."""
    plan = plan_run_mail(store, config, run_id, today)
    for problem in plan.problems:
        log.warning("mail run %s: %s", run_id, problem)
    enqueue(store, plan)
    return plan


def pick_run(store: Store, config: Config, run: int | None) -> int:
    """The run to mail: ``run`` if it succeeded, else the site's (or any) last good run."""
    if run is not None:
        info = store.get_run(run)
        if info is None:
            raise ConfigError(f"no run {run} in {store.location}")
        if info.status != "succeeded":
            raise ConfigError(f"run {run} is {info.status}; only succeeded runs are mailed")
        return run
    good = None
    if config.site.urls:
        good = store.last_good_run(config.homepage)
    if good is None:
        good = next((r for r in store.list_runs(limit=200) if r.status == "succeeded"), None)
    if good is None:
        raise ConfigError(f"no succeeded run in {store.location}; run 'govaudit audit' first")
    return good.id


def mail_run(config: Config, run: int | None, dry_run: bool, say: Callable[[str], None]) -> int:
    """The work of ``govaudit mail [RUN] [--dry-run]``: each line to show goes to ``say``
    as it happens (delivery waits between retries). Returns 0 when everything was
    delivered (or, dry, written without problems), 1 otherwise; raises ConfigError for a
    run that cannot be mailed and MailError when sending cannot start."""
    store = Store.for_config(config)
    run_id = pick_run(store, config, run)
    dry = dry_run or config.mail.dry_run or not smtp_configured(config)
    plan = plan_run_mail(store, config, run_id)
    for problem in plan.problems:
        say(f"problem: {problem}")
    if dry:
        why = "" if dry_run else " (no SMTP configured: mail.host)"
        paths = write_eml(plan, store.data_dir / "runs" / str(run_id))
        say(f"run {run_id}: dry run{why}, {len(paths)} message(s) written, nothing sent:")
        for p, path in zip(plan.messages, paths, strict=True):
            say(f"  {p.label} → {', '.join(p.recipients)}: {path.resolve()}")
        return 1 if plan.problems else 0
    new = enqueue(store, plan)
    requeued = requeue_failed(store, run_id)
    say(
        f"run {run_id}: {len(plan.messages)} message(s); {len(new)} newly queued"
        + (f", {requeued} failed one(s) queued again" if requeued else "")
    )
    deliver_run(store, config, run_id, wait=True, report=lambda line: say(f"  {line}"))
    rows = outbox_rows(store, run_id)
    sent = [r for r in rows if r["status"] == "sent"]
    say(f"run {run_id}: {len(sent)} of {len(rows)} message(s) sent")
    for r in rows:
        label = SUMMARY_LABEL if r["unit"] == SUMMARY else r["unit"]
        if r["status"] != "sent":
            say(f"  not sent: {label}: {r['status']}: {r['last_error'] or ''}")
        for addr, why in (r["refused"] or {}).items():
            say(f"  refused: {label}: {addr}: {why}")
    ok = len(sent) == len(rows) and not any(r["refused"] for r in rows) and not plan.problems
    return 0 if ok else 1
