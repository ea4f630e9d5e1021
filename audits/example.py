"""A minimal plugin that doubles as documentation of the contract (see docs/plugins.md).

It flags pages without a <title>. Enable it with ``plugins.enabled = [..., "example"]``;
it is not run by default.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from core.snapshot import Page, SiteSnapshot


class ExampleOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_title_length: int = 1  # [plugins.example] min_title_length = 4


class ExampleAudit(AuditPlugin):
    name = "example"
    title = "示例：页面标题检查"
    Options = ExampleOptions
    rules = [
        RuleSpec(
            id="example.title_missing",
            title="页面缺少标题",
            severity=Severity.INFO,
            regulation="政府网站发展指引（国办发〔2017〕47号）",
            advice="为页面设置能概括内容的<title>。",
            unit="信息中心",
            category="示例",
        )
    ]

    def check_page(self, page: Page) -> Iterable[Finding]:
        # Called once per crawled HTML page; yield as many findings as apply.
        if len(page.title.strip()) < self.options.min_title_length:
            yield Finding(
                rule="example.title_missing",
                url=page.final_url,
                page=page.final_url,
                message=f"页面没有标题：{page.final_url}",
            )

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        # Called once with the whole snapshot; site_data feeds the scorecard and reports.
        self.ctx.site_data["example.pages"] = sum(1 for _ in snapshot.pages(with_html=False))
        return ()
