"""The bundled demo bureau website (临川市自然资源和规划局, fictional) and ``govaudit demo``.

``govaudit demo`` serves the site on loopback with its own DNS zone, audits it in this
process and prints a summary. The first run in a data directory audits revision 1 (every
planted defect); later runs audit revision 2, where some defects are fixed and one is new,
so the report shows 已整改 and 新发现. Before auditing it seeds a week of homepage probes
(probes.py) for the availability audit. See EXPECTED.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = "govaudit-data/demo"
STATE_FILE = "demo-state.json"


def _state(data_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads((data_dir / STATE_FILE).read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _anchor(value: str | None, data_dir: Path) -> date:
    """--today, else the anchor of the previous demo run in this data dir, else today.

    Article URLs carry their dates, so later runs keep the first run's anchor: the same
    URLs, the same fingerprints, and the report tells 已整改 from 新发现."""
    from core.config import ConfigError

    if not value:
        try:
            return date.fromisoformat(str(_state(data_dir)["anchor"]))
        except (KeyError, ValueError):
            return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--today: {value!r} is not a date; write YYYY-MM-DD") from None


def _has_good_demo_run(data_dir: Path) -> bool:
    if not (data_dir / "govaudit.sqlite").exists():
        return False
    from govaudit.demo.site_data import WWW
    from reports.store import Store

    store = Store.in_dir(data_dir)
    return any(r.status == "succeeded" and WWW in r.site for r in store.list_runs(limit=500))


def _saved_port(data_dir: Path) -> int:
    try:
        return int(_state(data_dir)["port"])
    except (KeyError, ValueError, TypeError):
        return 0


def _start(
    anchor: date, revision: int, port: int, data_dir: Path, child_process: bool = False
) -> Any:
    """Start the demo on ``port`` (or the port of the last demo run, so URLs and
    fingerprints stay the same from run to run; or any free port)."""
    from govaudit.demo.server import DemoProcess, DemoSite

    cls = DemoProcess if child_process else DemoSite
    candidates = [port] if port else [p for p in (_saved_port(data_dir),) if p] + [0]
    last_error: OSError | None = None
    for p in candidates:
        try:
            demo = cls(anchor=anchor, revision=revision, port=p).start()
        except OSError as exc:
            last_error = exc
            continue
        if p == 0 and _saved_port(data_dir):
            print(
                f"[demo] port {_saved_port(data_dir)} is busy; using {demo.port} "
                "(run-to-run tracking compares URLs, so findings may show as new)",
                file=sys.stderr,
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        state = {"port": demo.port, "anchor": anchor.isoformat()}
        (data_dir / STATE_FILE).write_text(json.dumps(state))
        return demo
    raise OSError(f"cannot start the demo site on port {port}: {last_error}")


def _config(demo: Any, data_dir: Path, user_config: str | None) -> Any:
    """The demo's config, with the user's config file (if any) laid over it."""
    import tomllib

    from core.config import ConfigError, config_from_dict

    data = demo.config_dict(data_dir.resolve())
    if user_config:
        try:
            user = tomllib.loads(Path(user_config).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{user_config}: {exc}") from None
        for key, value in user.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        data["site"]["urls"] = [demo.base_url]
        data["dns"]["server"] = demo.dns_server
        data["data_dir"] = str(data_dir.resolve())
    return config_from_dict(data, user_config or "demo config")


def _seed_probes(config: Any, anchor: date) -> None:
    """The demo's seeded week of homepage probes (probes.py), so availability is judged."""
    from govaudit.demo.probes import seed_probes
    from reports.store import Store

    now = datetime.combine(anchor, datetime.now().time())
    n = seed_probes(Store.for_config(config), config.homepage, anchor, now)
    if n:
        print(f"首页探测记录：写入演示用的近7天模拟探测 {n} 次（每10分钟一次，含一次9小时中断）")


def _summary(findings_path: Path) -> None:
    """Findings by rule, the run-to-run states and the scorecard verdict, from findings.json."""
    try:
        data = json.loads(findings_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    findings = data.get("findings", [])
    by_rule = Counter(f["rule"] for f in findings)
    print("发现的问题（按规则）：")
    for rule, n in sorted(by_rule.items()):
        print(f"  {rule:<40} {n}")
    states = Counter(f.get("state") for f in findings)
    if "fixed" in data or states.keys() - {None}:
        print(
            f"与上次相比：新发现 {states.get('new', 0)} 项，仍未整改 {states.get('open', 0)} 项，"
            f"已整改 {len(data.get('fixed') or [])} 项"
        )
        for f in data.get("fixed") or []:
            print(f"  已整改：{f.get('rule')} {f.get('url') or ''}")
        for f in findings:
            if f.get("state") == "new" and "open" in states:
                print(f"  新发现：{f['rule']} {f.get('url') or ''}")
    card = data.get("scorecard") or {}
    if card.get("verdict"):
        print(f"自查评分：{card.get('score')} 分，预判{card['verdict']}")


def cli_demo(args: argparse.Namespace) -> int:
    """``govaudit demo``: serve the demo site and audit it (or only serve it)."""
    data_dir = Path(getattr(args, "data_dir", None) or DEFAULT_DATA_DIR)
    anchor = _anchor(getattr(args, "today", None), data_dir)
    revision = 2 if _has_good_demo_run(data_dir) else 1
    if args.serve_only:
        revision = 1
    # Audits run in this process; the site is served from a child so they do not compete.
    port = int(getattr(args, "port", 0) or 0)
    demo = _start(anchor, revision, port, data_dir, child_process=not args.serve_only)
    try:
        print(f"演示网站：{demo.base_url}（第 {revision} 版，日期基准 {anchor:%Y-%m-%d}）")
        print(f"DNS 服务器：{demo.dns_server}（--dns-server {demo.dns_server}）")
        if args.serve_only:
            config_path = demo.write_config(data_dir)
            _seed_probes(_config(demo, data_dir, None), anchor)
            for role, url in demo.host_urls().items():
                print(f"  {role:<18} {url}")
            print(f"配置文件：{config_path.resolve()}")
            print(
                f"审计命令：govaudit audit --config {config_path} --today {anchor:%Y-%m-%d}\n"
                "按 Ctrl-C 停止。",
                flush=True,
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        from pipeline.audit import audit_site

        config = _config(demo, data_dir, getattr(args, "config", None))
        _seed_probes(config, anchor)
        outcome = audit_site(config, args.out, None, today=anchor)
        if outcome.exit_code == 2:
            print(f"govaudit: cannot run: {outcome.reason}", file=sys.stderr)
            return 2
        c = outcome.counts
        print(
            f"运行 {outcome.run_id}：严重 {c.get('error', 0)} 项，警告 {c.get('warning', 0)} 项，"
            f"提示 {c.get('info', 0)} 项"
        )
        if outcome.out_dir:
            _summary(Path(outcome.out_dir, "findings.json"))
            print(f"report: {Path(outcome.out_dir, 'report.html').resolve()}")
            print(f"findings: {Path(outcome.out_dir, 'findings.json').resolve()}")
            xlsx = Path(outcome.out_dir, "整改清单.xlsx")
            if xlsx.exists():
                print(f"整改清单: {xlsx.resolve()}")
        if revision == 1:
            print("再次运行 govaudit demo 将审计第 2 版网站（部分问题已整改、新增一个问题）。")
        # The demo exists to show findings: planted errors are expected, not a failure.
        return 0
    finally:
        demo.stop()
