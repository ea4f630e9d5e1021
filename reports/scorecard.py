"""Self-inspection scorecard (自查评分) against 国办秘函〔2019〕19号.

Predicts 合格/不合格 and a score out of 100 from what the audits measured. Veto items
(单项否决) that a machine can check are checked; deductions (扣分) come from
``[report.scorecard]``; items only a person can judge are listed as 需人工核查, and items
whose input is missing (the plugin did not run) as 未检测 — neither is ever passed silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import Config, ScoreDeduction
from reports.scorecard_text import text_rows

BASIS = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标"

PASS = "通过"
FAIL = "不通过"
UNCHECKED = "未检测"
MANUAL = "需人工核查"
DEDUCTED = "扣分"

#: Indicators no audit can decide; always shown so nobody mistakes silence for a pass.
MANUAL_ITEMS: list[tuple[str, str, str]] = [
    ("veto", "泄露国家秘密", "需结合安全监测与人工核查"),
    ("deduct", "互动交流栏目答复质量、办事服务可用性", "需人工抽查"),
]


@dataclass
class ScoreItem:
    kind: str  # veto | deduct
    title: str
    status: str  # 通过 | 不通过 | 扣分 | 未检测 | 需人工核查
    value: str = ""  # what was measured, for display
    threshold: str = ""
    points: float = 0.0  # deducted
    basis: str = BASIS
    note: str = ""


@dataclass
class Scorecard:
    items: list[ScoreItem] = field(default_factory=list)
    score: float = 100.0
    verdict: str = "合格"
    pass_score: float = 60.0

    @property
    def veto_failed(self) -> list[ScoreItem]:
        return [i for i in self.items if i.kind == "veto" and i.status == FAIL]

    @property
    def unchecked(self) -> list[ScoreItem]:
        return [i for i in self.items if i.status == UNCHECKED]

    @property
    def manual(self) -> list[ScoreItem]:
        return [i for i in self.items if i.status == MANUAL]

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "pass_score": self.pass_score,
            "veto_failed": len(self.veto_failed),
            "unchecked": len(self.unchecked),
            "manual": len(self.manual),
            "items": [asdict(i) for i in self.items],
        }


def _plugin_ran(key: str, plugins: list[str]) -> bool:
    return key.split(".", 1)[0] in plugins


def _figure(site_data: dict[str, Any], key: str) -> tuple[bool, Any]:
    return (key in site_data, site_data.get(key))


def compute_scorecard(
    config: Config,
    site_data: dict[str, Any],
    findings: Iterable[dict[str, Any]],
    plugins: list[str],
    homepage_ok: bool | None,
) -> Scorecard:
    """The scorecard of one run. ``findings`` are the active (not ignored) ones."""
    opts = config.report.scorecard
    card = Scorecard(pass_score=opts.pass_score)
    items = card.items

    # -- 单项否决 --------------------------------------------------------------------
    if homepage_ok is None:
        items.append(ScoreItem("veto", "站点无法访问（首页）", UNCHECKED, note="本次未抓取首页"))
    else:
        items.append(
            ScoreItem(
                "veto",
                "站点无法访问（首页）",
                PASS if homepage_ok else FAIL,
                value="本次检查可访问" if homepage_ok else "本次检查无法访问",
                threshold="15秒内可访问",
            )
        )

    # Which rules decide each measured row: a row whose rules were reported as not checked
    # (``*.not_checked`` / ``*.not_tested`` findings naming them) is 未检测, never 通过.
    rules_of: dict[int, tuple[str, ...]] = {}
    present, days = _figure(site_data, "columns.homepage_days_since_update")
    title = f"首页超过{opts.homepage_stale_days}天未更新"
    if not present:
        items.append(ScoreItem("veto", title, UNCHECKED, note=_missing("columns", plugins)))
    elif days is None:
        items.append(ScoreItem("veto", title, FAIL, value="未找到首页更新日期（无日期视为未更新）"))
    else:
        items.append(
            ScoreItem(
                "veto",
                title,
                FAIL if int(days) > opts.homepage_stale_days else PASS,
                value=f"距最近更新 {int(days)} 天",
                threshold=f"≤{opts.homepage_stale_days}天",
            )
        )
    rules_of[id(items[-1])] = ("columns.homepage_stale",)

    for key, label, threshold, rule in (
        (
            "columns.veto_stale_count",
            "动态要闻类栏目2周未更新、通知公告/政策文件类栏目6个月未更新（合计）",
            opts.stale_columns,
            "columns.stale",
        ),
        (
            "columns.long_stale_count",
            "应更新但长期未更新的栏目",
            opts.long_stale_columns,
            "columns.stale",
        ),
        ("columns.blank_count", "空白栏目", opts.blank_columns, "columns.blank"),
    ):
        present, count = _figure(site_data, key)
        title = f"{label}≥{threshold}个"
        if not present or count is None:
            items.append(ScoreItem("veto", title, UNCHECKED, note=_missing("columns", plugins)))
            continue
        items.append(
            ScoreItem(
                "veto",
                title,
                FAIL if int(count) >= threshold else PASS,
                value=f"{int(count)} 个",
                threshold=f"<{threshold}个",
            )
        )
        rules_of[id(items[-1])] = (rule,)

    items.extend(_watch_rows(site_data, findings, plugins))
    for title, verdict, value, threshold, note in text_rows(site_data, findings, plugins):
        status = {"pass": PASS, "fail": FAIL}.get(verdict, UNCHECKED)
        items.append(ScoreItem("veto", title, status, value, threshold, note=note))

    # -- 扣分 ------------------------------------------------------------------------
    for spec in opts.deductions:
        item = _deduction(spec, site_data, findings, plugins)
        items.append(item)
        if spec.rule:
            rules_of[id(item)] = (spec.rule,)
    _mark_unchecked(items, rules_of, findings)
    deducted = sum(i.points for i in items if i.kind == "deduct")

    for kind, title, note in MANUAL_ITEMS:
        items.append(ScoreItem(kind, title, MANUAL, note=note))

    card.score = round(max(0.0, 100.0 - deducted), 1)
    card.verdict = "不合格" if card.veto_failed or card.score < opts.pass_score else "合格"
    return card


def _deduction(
    spec: ScoreDeduction,
    site_data: dict[str, Any],
    findings: Iterable[dict[str, Any]],
    plugins: list[str],
) -> ScoreItem:
    per = f"每处扣{spec.points:g}分" + (f"，最多扣{spec.max_points:g}分" if spec.max_points else "")
    basis = spec.basis or BASIS
    if spec.site_data:
        present, count = _figure(site_data, spec.site_data)
        if not present or count is None:
            plugin = spec.site_data.split(".", 1)[0]
            return ScoreItem(
                "deduct",
                spec.title,
                UNCHECKED,
                threshold=per,
                basis=basis,
                note=_missing(plugin, plugins),
            )
        n = int(count)
    elif spec.rule:
        plugin = spec.rule.split(".", 1)[0]
        if not _plugin_ran(spec.rule, plugins):
            return ScoreItem(
                "deduct",
                spec.title,
                UNCHECKED,
                threshold=per,
                basis=basis,
                note=_missing(plugin, plugins),
            )
        # A store view narrows to the rule in SQL; a plain list is filtered here.
        for_rule = getattr(findings, "for_rule", None)
        candidates = for_rule(spec.rule) if for_rule is not None else findings
        n = sum(1 for f in candidates if _rule_matches(spec, f))
    else:
        return ScoreItem("deduct", spec.title, MANUAL, threshold=per, basis=basis)
    points = n * spec.points
    if spec.max_points is not None:
        points = min(points, spec.max_points)
    points = round(points, 2)
    return ScoreItem(
        "deduct",
        spec.title,
        DEDUCTED if points > 0 else PASS,
        value=f"{n} 处",
        threshold=per,
        points=points,
        basis=basis,
    )


def _rule_matches(spec: ScoreDeduction, f: dict[str, Any]) -> bool:
    rule = spec.rule or ""
    if not (f["rule"] == rule or (rule.endswith(".") and f["rule"].startswith(rule))):
        return False
    evidence = f.get("evidence") or {}
    for key, needle in spec.match.items():
        if needle not in str(evidence.get(key, "")) and not (
            key == "category" and needle in str(evidence.get("column", ""))
        ):
            return False
    return True


def _unchecked_rules(findings: Iterable[dict[str, Any]], prefixes: set[str]) -> dict[str, str]:
    """Rule id (or prefix) → reason, from the ``PLUGIN.not_checked`` / ``PLUGIN.not_tested``
    findings whose evidence names the rules they could not judge (``rule`` / ``rules``)."""
    out: dict[str, str] = {}
    for_rule = getattr(findings, "for_rule", None)
    for prefix in sorted(prefixes):
        for suffix in ("not_checked", "not_tested"):
            rule = f"{prefix}.{suffix}"
            rows = for_rule(rule) if for_rule is not None else findings
            for f in rows:
                if f["rule"] != rule:
                    continue
                evidence = f.get("evidence") or {}
                named = evidence.get("rules") or [evidence.get("rule")]
                reason = str(evidence.get("reason") or f.get("message") or "")
                for r in named:
                    if isinstance(r, str) and r:
                        out.setdefault(r, reason)
    return out


def _mark_unchecked(
    items: list[ScoreItem],
    rules_of: dict[int, tuple[str, ...]],
    findings: Iterable[dict[str, Any]],
) -> None:
    """A row that would pass although its rules were not checked is 未检测 (with the reason)."""
    prefixes = {r.split(".", 1)[0] for rules in rules_of.values() for r in rules}
    unchecked = _unchecked_rules(findings, prefixes) if prefixes else {}
    if not unchecked:
        return
    for item in items:
        if item.status != PASS:
            continue  # a measured failure stands; only a pass can be silence
        for rule in rules_of.get(id(item), ()):
            hits = [
                reason
                for r, reason in unchecked.items()
                if r == rule or (rule.endswith(".") and r.startswith(rule))
            ]
            if hits:
                item.status = UNCHECKED
                item.points = 0.0
                item.note = f"相关规则未能检测：{hits[0]}"
                break


def _missing(plugin: str, plugins: list[str]) -> str:
    if plugin in plugins:
        return f"插件 {plugin} 未提供该项数据"
    return f"插件 {plugin} 本次未运行"


def _watch_rows(
    site_data: dict[str, Any], findings: Iterable[dict[str, Any]], plugins: list[str]
) -> list[ScoreItem]:
    """The veto rows measured by availability (probe log), integrity and interaction."""
    rows: list[ScoreItem] = []
    fig = site_data.get("availability.figures")
    title = "首页一周内不可访问比例≥5%（单次超时15秒）"
    if not isinstance(fig, dict):
        rows.append(ScoreItem("veto", title, UNCHECKED, note=_missing("availability", plugins)))
    elif not fig.get("checked"):
        rows.append(
            ScoreItem(
                "veto",
                title,
                UNCHECKED,
                value=f"探测{fig.get('probes', 0)}次，覆盖{fig.get('covered_hours', 0)}小时",
                note="监测记录不足一天：请以 govaudit serve 持续探测首页",
            )
        )
    else:
        limit = float(fig.get("threshold", 0.05))
        rows.append(
            ScoreItem(
                "veto",
                title,
                FAIL if float(fig["ratio"]) >= limit else PASS,
                value=f"探测{fig['probes']}次，失败{fig['failures']}次（{float(fig['ratio']):.1%}）",
                threshold=f"<{limit:.0%}",
            )
        )
    for plugin, title, key, rules in (
        (
            "integrity",
            "网站被攻击篡改、挂马（暗链、恶意代码、首页篡改、外链被劫持）",
            "integrity.pages_checked",
            ("integrity.hidden_link", "integrity.injected_code", "integrity.outbound_hijacked"),
        ),
        (
            "interaction",
            "政务咨询类留言超过3个月未回应",
            "interaction.lists_read",
            ("interaction.unanswered",),
        ),
    ):
        present, checked = _figure(site_data, key)
        if not present:
            rows.append(ScoreItem("veto", title, UNCHECKED, note=_missing(plugin, plugins)))
            continue
        for_rule = getattr(findings, "for_rule", None)
        n = 0
        for rule in rules:
            found = for_rule(rule) if for_rule is not None else findings
            n += sum(1 for f in found if f["rule"] == rule)
        note = ""
        if plugin == "integrity" and site_data.get("integrity.homepage_changed"):
            note = "首页标题、标识码或页头页脚与上次不同，请核实是否为正常改版"
        if plugin == "interaction" and not checked:
            rows.append(
                ScoreItem("veto", title, UNCHECKED, note="未找到可读取的留言列表（或需登录）")
            )
            continue
        rows.append(
            ScoreItem(
                "veto",
                title,
                FAIL if n else PASS,
                value=f"{n} 处" + (f"（检测{checked}个页面/列表）" if checked else ""),
                threshold="0处",
                note=note,
            )
        )
    return rows
