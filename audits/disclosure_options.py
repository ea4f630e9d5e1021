"""Options and rule metadata of the ``disclosure_dates`` plugin (guide, 年报, timing rules).

Data only: what the plugin may be told in ``[plugins.disclosure_dates]`` and the RuleSpecs
reports render from. It must not know how pages are read or how the rules are decided.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audits.base import RuleSpec, Severity

REG_12 = "《中华人民共和国政府信息公开条例》第十二条；本局政务公开工作要点 六(二)"
REG_49 = "《中华人民共和国政府信息公开条例》第四十九条"
REG_INTERP = "本局政务公开工作要点 五(三)（解读材料在政策文件发布后3个工作日内公开）"
REG_CONSULT = (
    "本局政务公开工作要点 二(一)、五(一)（征求意见期限一般不少于30日，及时公开意见采纳情况）"
)
REG_26 = "《中华人民共和国政府信息公开条例》第二十六条"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisclosureDatesOptions(_Model):
    guide_names: list[str] = Field(
        default_factory=lambda: ["政府信息公开指南", "信息公开指南"],
        description="Titles that name the guide",
    )
    guide_labels: list[str] = Field(
        default_factory=lambda: [
            "更新日期",
            "更新时间",
            "最后更新",
            "最近更新",
            "修订日期",
            "发布日期",
            "发布时间",
            "成文日期",
            "印发日期",
            "日期",
            "时间",
        ],
        description="Labels whose date counts as the guide's update date, in preference order",
    )
    guide_signature_date: bool = Field(
        True, description="Also accept a date at the end of the guide's text (落款)"
    )
    guide_max_age_days: int = Field(
        365, ge=1, description="guide.update_date_stale when the update date is older"
    )
    report_deadline: str = Field(
        "01-31", description="MM-DD by which last year's annual report must be out"
    )

    @field_validator("report_deadline")
    @classmethod
    def _check_deadline(cls, value: str) -> str:
        month, _, day = value.partition("-")
        try:
            date(2024, int(month), int(day))
        except ValueError:
            raise ValueError(f"{value!r} is not MM-DD; write e.g. '01-31'") from None
        return value

    interpretation_limit_workdays: int = Field(
        3, ge=0, description="Working days (official holiday calendar) allowed for a 解读"
    )
    policy_columns: list[str] = Field(
        default_factory=lambda: ["政策文件", "规范性文件", "政府文件", "部门文件", "通知文件"],
        description="Columns whose articles are policy documents that need an interpretation",
    )
    interpretation_words: list[str] = Field(
        default_factory=lambda: ["解读"], description="Title words of an interpretation"
    )
    consultation_words: list[str] = Field(
        default_factory=lambda: ["征求意见", "意见征集", "征集意见", "公开征求", "征询意见"],
        description="Title words of a consultation notice",
    )
    feedback_words: list[str] = Field(
        default_factory=lambda: [
            "反馈",
            "采纳情况",
            "采纳",
            "意见收集",
            "征求意见情况",
            "结果公开",
        ],
        description="Title words of the feedback on a consultation",
    )
    lookback_days: int = Field(
        365,
        ge=0,
        description="Policies and consultations older than this many days are not checked "
        "(timing rules look at recent work); 0 = all",
    )
    consultation_min_days: int = Field(
        30, ge=1, description="Shortest consultation period, both ends counted"
    )
    feedback_grace_days: int = Field(
        15,
        ge=0,
        description="Working days after a consultation closes before its missing 反馈 "
        "(意见采纳情况) is reported",
    )
    publication_days: int = Field(
        20,
        ge=0,
        description="disclosure.publication_late when a document went online more than this many "
        "working days after its date (条例 第二十六条)",
    )
    publication_bulk_min: int = Field(
        10,
        ge=0,
        description="Late pages that all went online on the same day, this many or more, are taken "
        "for a site migration (URL dates are the import day) and not reported; 0 = off",
    )


RULES: list[RuleSpec] = [
    RuleSpec(
        id="guide.missing",
        title="未找到政府信息公开指南",
        severity=Severity.ERROR,
        regulation=REG_12,
        advice="在“政府信息公开”专栏发布政府信息公开指南，并标注更新日期。",
        unit="综合组",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="guide.update_date_missing",
        title="政府信息公开指南未标注更新日期",
        severity=Severity.ERROR,
        regulation=REG_12,
        advice="在指南中明确标注更新日期（如“更新日期：2026年10月9日”）。",
        unit="综合组",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="guide.update_date_stale",
        title="政府信息公开指南超过一年未更新",
        severity=Severity.WARNING,
        regulation=REG_12,
        advice="对照机构职能和办理流程的变化及时修订指南，并更新标注的日期。",
        unit="综合组",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="guide.annual_report_missing",
        title="未按期发布上一年度政府信息公开工作年度报告",
        severity=Severity.ERROR,
        regulation=REG_49,
        advice="每年1月31日前按统一格式发布上一年度政府信息公开工作年度报告。",
        unit="综合组",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="guide.annual_report_late",
        title="上一年度政府信息公开工作年度报告发布逾期",
        severity=Severity.WARNING,
        regulation=REG_49,
        advice="每年1月31日前发布上一年度政府信息公开工作年度报告；确已逾期的，下一年度提前安排编制和审核。",
        unit="综合组",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="guide.not_checked",
        title="政府信息公开指南或年报未能检查",
        severity=Severity.INFO,
        regulation=REG_12 + "；" + REG_49,
        advice="按原因处理：从网站首页开始检查、确保指南和年报页面可以访问并被抓取（脚本生成的页面需开启渲染），"
        "或人工核对指南的更新日期和年报的发布情况。",
        unit="综合组",
        description="证据中的 rule 为未能判定的规则，reason 为原因；未检查不等于通过。",
        category="公开指南与年报",
    ),
    RuleSpec(
        id="disclosure.publication_late",
        title="政府信息未在形成之日起20个工作日内公开",
        severity=Severity.WARNING,
        regulation=REG_26,
        advice="属于主动公开范围的政府信息，自形成或者变更之日起20个工作日内及时公开；"
        "网页标注的发布日期应如实反映上网时间。",
        unit="综合组",
        description="文件日期取成文日期、落款日期或早于网址日期的PubDate；上网日期取信息索引中的发布日期或网址中的日期（如t20260205_…），取较晚者。",
        category="公开时效",
    ),
    RuleSpec(
        id="disclosure.interpretation_late",
        title="政策解读发布超过3个工作日",
        severity=Severity.WARNING,
        regulation=REG_INTERP,
        advice="落实政策文件与解读材料同步起草、同步审批、同步发布，解读在文件发布后3个工作日内公开。",
        unit="综合组",
        description="责任单位为起草文件的科室；页面未标明起草单位时默认综合组（政务公开主管部门）。",
        category="政策解读",
    ),
    RuleSpec(
        id="disclosure.interpretation_missing",
        title="政策文件未找到解读材料",
        severity=Severity.INFO,
        regulation=REG_INTERP,
        advice="按“谁起草、谁解读”原则为政策文件发布解读，并在文件页面关联解读链接。",
        unit="综合组",
        category="政策解读",
    ),
    RuleSpec(
        id="disclosure.not_checked",
        title="政策解读情况未能检查",
        severity=Severity.INFO,
        regulation=REG_INTERP,
        advice="按原因处理：确保政策文件页面和网站的政策解读栏目可以访问并被抓取，或人工核对解读发布情况。",
        unit="综合组",
        description="证据中的 rule 为未能判定的规则，reason 为原因，policies 列出未能检查的政策文件；未检查不等于通过。",
        category="政策解读",
    ),
    RuleSpec(
        id="disclosure.consultation_short",
        title="意见征集期限少于30日",
        severity=Severity.WARNING,
        regulation=REG_CONSULT,
        advice="公开征求意见的期限一般不少于30日；确需缩短的应说明理由。",
        unit="信息中心",
        category="意见征集",
    ),
    RuleSpec(
        id="disclosure.consultation_no_feedback",
        title="意见征集结束后未公开反馈情况",
        severity=Severity.INFO,
        regulation=REG_CONSULT,
        advice="征集结束后及时公开意见收集和采纳情况，并与原征集公告关联。",
        unit="信息中心",
        category="意见征集",
    ),
]
