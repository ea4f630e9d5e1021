"""Which unit (科室/单位) owns a finding."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from core.config import Config


def _prefix_matches(prefix: str, url: str | None) -> bool:
    if not url:
        return False
    if "://" in prefix:
        return url.startswith(prefix)
    return urlsplit(url).path.startswith(prefix)


def assign_unit(
    rule_id: str,
    rule_default: str | None,
    url: str | None,
    page: str | None,
    evidence: dict[str, Any],
    config: Config,
) -> str:
    """Precedence: a per-rule map entry; then URL-prefix or column entries (page first, then
    url); then the rule's default unit; then ``units.default``."""
    entries = config.units.map
    for entry in entries:
        if entry.rule and (
            rule_id == entry.rule or (entry.rule.endswith(".") and rule_id.startswith(entry.rule))
        ):
            if not entry.prefix and not entry.column:
                return entry.unit
            if entry.prefix and (
                _prefix_matches(entry.prefix, page) or _prefix_matches(entry.prefix, url)
            ):
                return entry.unit
    column = str(evidence.get("column") or "")
    for entry in entries:
        if entry.rule:
            continue
        if entry.prefix and (
            _prefix_matches(entry.prefix, page)
            or (page is None and _prefix_matches(entry.prefix, url))
        ):
            return entry.unit
        if entry.column and column and entry.column == column:
            return entry.unit
    return rule_default or config.units.default
