"""The two scorecard veto rows measured by the text audits: 出现严重表述错误 (wording) and
泄露个人隐私 (privacy), from the run's findings and the plugins' site figures.

Called by reports/scorecard.py, which turns each row into a ScoreItem; knows nothing of how
the text was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: A row: (title, verdict "pass" | "fail" | "unchecked", value, threshold, note)
TextRow = tuple[str, str, str, str, str]

#: (plugin, row title, site figure that says it ran, rules that fail the row)
TEXT_ROWS: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "wording",
        "出现严重表述错误",
        "wording.checked_chars",
        ("wording.political_phrase", "wording.outdated_name", "wording.custom"),
    ),
    (
        "privacy",
        "泄露个人隐私",
        "privacy.checked_chars",
        ("privacy.id_number", "privacy.phone", "privacy.bank_card"),
    ),
]


def _rows_of(findings: Iterable[dict[str, Any]], rule: str) -> Iterable[dict[str, Any]]:
    for_rule = getattr(findings, "for_rule", None)
    rows = for_rule(rule) if for_rule is not None else findings
    return (f for f in rows if f["rule"] == rule)


def text_rows(
    site_data: dict[str, Any], findings: Iterable[dict[str, Any]], plugins: list[str]
) -> list[TextRow]:
    """One veto row per text audit: unchecked when it did not run, else fail on any error."""
    items: list[TextRow] = []
    for plugin, title, key, rules in TEXT_ROWS:
        if key not in site_data:
            ran = "未提供该项数据" if plugin in plugins else "本次未运行"
            items.append((title, "unchecked", "", "", f"插件 {plugin} {ran}"))
            continue
        n = 0
        for rule in rules:
            n += sum(1 for f in _rows_of(findings, rule) if f.get("severity") == "error")
        typos = sum(1 for _ in _rows_of(findings, "wording.typo")) if plugin == "wording" else 0
        skipped = sum(1 for _ in _rows_of(findings, f"{plugin}.not_checked"))
        notes = []
        if typos:
            notes.append(f"另有常见错别字 {typos} 处（警告）")
        if skipped:
            notes.append(f"{skipped} 个附件未能检查（扫描件、超限或无法读取），请人工核查")
        chars = int(site_data.get(key) or 0)
        verdict = "fail" if n else "pass"
        items.append((title, verdict, f"{n} 处（检查文字 {chars:,} 字）", "0处", "；".join(notes)))
    return items
