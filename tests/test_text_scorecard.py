"""Scorecard rows 出现严重表述错误 and 泄露个人隐私: measured from the wording and privacy
findings, 未检测 when the plugin did not run."""

from __future__ import annotations

from core.config import Config
from reports.scorecard import FAIL, MANUAL, PASS, UNCHECKED, compute_scorecard


def _rows(site_data, findings, plugins):
    card = compute_scorecard(Config(), site_data, findings, plugins, True)
    return {i.title: i for i in card.items if i.title in ("出现严重表述错误", "泄露个人隐私")}


def test_unchecked_when_the_plugins_did_not_run():
    rows = _rows({}, [], ["links"])
    assert {r.status for r in rows.values()} == {UNCHECKED}
    assert "本次未运行" in rows["泄露个人隐私"].note


def test_measured_rows_pass_and_fail():
    ran = {"wording.checked_chars": 12000, "privacy.checked_chars": 12000}
    rows = _rows(ran, [], ["wording", "privacy"])
    assert rows["出现严重表述错误"].status == PASS and rows["泄露个人隐私"].status == PASS
    findings = [
        {"rule": "wording.typo", "severity": "warning", "evidence": {}},
        {"rule": "privacy.id_number", "severity": "error", "evidence": {}},
        {"rule": "privacy.not_checked", "severity": "warning", "evidence": {"reason": "scanned"}},
    ]
    rows = _rows(ran, findings, ["wording", "privacy"])
    assert rows["出现严重表述错误"].status == PASS  # a typo is a warning, not the veto
    assert "错别字 1 处" in rows["出现严重表述错误"].note
    assert rows["泄露个人隐私"].status == FAIL
    assert "1 个附件未能检查" in rows["泄露个人隐私"].note
    findings.append({"rule": "wording.political_phrase", "severity": "error", "evidence": {}})
    assert _rows(ran, findings, ["wording", "privacy"])["出现严重表述错误"].status == FAIL


def test_no_manual_row_left_for_them():
    card = compute_scorecard(Config(), {}, [], [], True)
    manual = {i.title for i in card.items if i.status == MANUAL}
    assert "出现严重表述错误" not in manual
    assert not any("个人隐私" in t for t in manual)
