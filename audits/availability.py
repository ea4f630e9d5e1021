"""Homepage availability over the last week (veto item of 国办秘函〔2019〕19号), read from
the probe log that ``govaudit serve`` keeps: every audit run measures the same figures.

Reads probes through ``ctx.history``; knows nothing of how or when they were made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from core.availability import figures, strip
from core.snapshot import SiteSnapshot

REGULATION = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标（单项否决：站点无法访问）"


class AvailabilityAudit(AuditPlugin):
    name = "availability"
    title = "首页可用性监测（近7天）"
    wants_pages = False
    rules = [
        RuleSpec(
            id="availability.homepage_down",
            title="首页一周内不可访问比例过高",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="排查服务器、网络、域名解析和证书，消除中断原因；首页一周内不可访问"
            "比例（单次超时15秒）达到5%即单项否决。",
            unit="信息中心",
            category="站点可用性",
        ),
        RuleSpec(
            id="availability.not_checked",
            title="首页可用性监测记录不足",
            severity=Severity.INFO,
            regulation=REGULATION,
            advice="以服务方式运行 govaudit serve，持续探测首页（默认每10分钟一次），"
            "满一天后即可判定，满7天后与检查指标口径一致。",
            unit="信息中心",
            category="站点可用性",
        ),
    ]

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        opts = self.ctx.config.availability
        home = snapshot.homepage_url
        end = self.ctx.now
        start = end - timedelta(days=opts.window_days)
        log = self.ctx.history.probes(start, end) if self.ctx.history is not None else []
        fig = figures(log, start, end, opts.min_hours)
        data = fig.as_dict() | {"threshold": opts.threshold, "window_days": opts.window_days}
        self.ctx.site_data["availability.figures"] = data
        self.ctx.site_data["availability.strip"] = strip(log, start, end)
        evidence = {
            "probes": fig.probes,
            "failures": fig.failures,
            "ratio": round(fig.ratio, 4),
            "covered_hours": round(fig.covered_hours, 1),
            "longest_outage": fig.longest.as_dict() if fig.longest else None,
            "by_kind": fig.by_kind,
            "window": f"{start:%Y-%m-%d %H:%M} — {end:%Y-%m-%d %H:%M}",
        }
        if not fig.checked:
            yield Finding(
                rule="availability.not_checked",
                url=home,
                message=f"首页可用性探测记录仅覆盖{fig.covered_hours:.1f}小时（{fig.probes}次探测），"
                f"不足{opts.min_hours:g}小时，无法判定一周内不可访问比例",
                evidence=evidence,
            )
            return
        if fig.ratio >= opts.threshold:
            longest = ""
            if fig.longest is not None:
                o = fig.longest
                until = f"{o.end:%m-%d %H:%M}" if o.end else "至今"
                longest = f"；最长中断 {o.start:%m-%d %H:%M} 至 {until}"
            yield Finding(
                rule="availability.homepage_down",
                url=home,
                message=f"近{opts.window_days}天首页探测{fig.probes}次，{fig.failures}次无法访问，"
                f"不可访问比例{fig.ratio:.1%}（≥{opts.threshold:.0%}）{longest}",
                evidence=evidence,
            )
