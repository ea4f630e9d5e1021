"""expected.json, resolved for one running demo: what every audit must (and must not) find.

with DemoSite(anchor=date(2026, 11, 26), revision=1) as demo:
    for exp in expected_findings(demo):          # only this revision's, with absolute URLs
        assert any(matches(f, exp) for f in findings), exp["id"]
    for url in clean_pages(demo):
        assert not [f for f in findings if url in (f["url"], f["page"])]
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

_PLACEHOLDER = re.compile(r"\{(p:[a-z0-9_]+|port|zwfw_port|refused_port|last_year)\}")


@cache
def _raw() -> str:
    return resources.files("govaudit.demo").joinpath("expected.json").read_text(encoding="utf-8")


def load_expected() -> dict[str, Any]:
    """expected.json as written (placeholders unresolved)."""
    return json.loads(_raw())


def resolve(value: str | None, demo: Any) -> str | None:
    """Placeholders → values; a path starting with '/' → absolute URL on www."""
    if value is None:
        return None
    content, ports = demo.content, demo.ports

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.startswith("p:"):
            return content.named[key[2:]]
        return str(
            {
                "port": ports.www,
                "zwfw_port": ports.zwfw,
                "refused_port": ports.refused,
                "last_year": demo.anchor.year - 1,
            }[key]
        )

    text = _PLACEHOLDER.sub(sub, value)
    return demo.url(text) if text.startswith("/") else text


def _applies(entry: dict[str, Any], revision: int, anchor: date) -> bool:
    if revision not in entry.get("revision", [1, 2]):
        return False
    if entry.get("condition") == "after_jan31":
        return anchor >= date(anchor.year, 1, 31)
    return True


def _resolved(entry: dict[str, Any], demo: Any) -> dict[str, Any]:
    out = dict(entry)
    out["url"] = resolve(entry.get("url"), demo)
    out["page"] = resolve(entry.get("page"), demo)
    if "pages" in entry:
        out["pages"] = [resolve(p, demo) for p in entry["pages"]]
    if "evidence" in entry:
        out["evidence"] = {
            k: resolve(v, demo) if isinstance(v, str) else v for k, v in entry["evidence"].items()
        }
    return out


def expected_findings(demo: Any, revision: int | None = None) -> list[dict[str, Any]]:
    """The findings the running ``demo`` must produce (its revision unless given)."""
    revision = revision or demo.revision
    return [
        _resolved(e, demo)
        for e in load_expected()["findings"]
        if _applies(e, revision, demo.anchor)
    ]


def fixed_and_new(demo: Any) -> tuple[list[str], list[str]]:
    """Ids of the defects fixed in revision 2 and of those new in revision 2."""
    changes = load_expected()["revision_changes"]
    return list(changes["fixed_in_2"]), list(changes["new_in_2"])


def clean_pages(demo: Any) -> list[str]:
    """Absolute URLs of pages that must carry no finding (as url or page)."""
    return [resolve(p, demo) for p in load_expected()["clean_pages"]]  # type: ignore[misc]


def quiet_pages(demo: Any) -> list[dict[str, Any]]:
    """Pages on which the listed plugins must report nothing (e.g. a masked 公示 list)."""
    return [dict(q, page=resolve(q["page"], demo)) for q in load_expected().get("quiet_pages", [])]


def host_checks(demo: Any) -> list[dict[str, Any]]:
    """Auxiliary hosts to audit on their own, and the ipv6 rule each must trigger."""
    out = []
    for h in load_expected()["host_checks"]:
        out.append(dict(h, start=resolve(h["start"], demo)))
    return out


def _value_matches(got: Any, want: Any) -> bool:
    return str(got) == str(want) if not isinstance(want, list) else got == want


def matches(finding: dict[str, Any], exp: dict[str, Any]) -> bool:
    """Does a findings.json finding satisfy one resolved expected entry?"""
    if finding.get("rule") != exp["rule"]:
        return False
    for key in ("url", "page"):
        if exp.get(key) is not None and finding.get(key) != exp[key]:
            return False
    evidence = finding.get("evidence") or {}
    for k, v in (exp.get("evidence") or {}).items():
        if not _value_matches(evidence.get(k), v):
            return False
    if exp.get("pages"):
        listed = json.dumps(evidence, ensure_ascii=False)
        if not all(p in listed or finding.get("url") == p for p in exp["pages"]):
            return False
    return True
