"""The generated references (docs/config.md, docs/rules.md) match the code."""

from __future__ import annotations

import difflib

from audits.registry import discover
from govaudit.docs import generated


def test_generated_docs_are_current():
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8")
        diff = "".join(difflib.unified_diff(current.splitlines(True), text.splitlines(True), n=0))
        assert not diff, f"{path} is stale; regenerate with 'make docs':\n{diff[:3000]}"


def test_every_rule_is_documented_with_chinese_title_and_regulation():
    rules = [spec for cls in discover().values() for spec in cls.rules]
    assert len({r.id for r in rules}) == len(rules), "rule ids must be unique"
    for spec in rules:
        assert spec.id.count(".") >= 1, spec.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.title), spec.id
        assert spec.regulation and spec.advice, spec.id
