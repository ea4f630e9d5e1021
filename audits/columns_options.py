"""The columns audit's options, default column lists and rule metadata (data, no logic).

Required columns are name sets: each column is accepted under any of its names. The default
is the national list; a bureau's own list (its work plan) is chosen or written in config.
Knows nothing about pages or snapshots.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audits.base import RuleSpec, Severity

REG_61 = "国办公开办函〔2019〕61号 关于政府信息公开专栏设置；本局政务公开工作要点 三(二)"
REG_PLAN = "本局政务公开工作要点 四(二)、五；政府网站发展指引（国办发〔2017〕47号）"
REG_19 = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标（单项否决/扣分）"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Part(_Model):
    name: str
    variants: list[str] = Field(default_factory=list, description="Names also accepted")


class RequiredColumn(_Model):
    """One promised column and every name it is accepted under."""

    name: str
    names: list[str] = Field(
        default_factory=list, description="Other names the column is accepted under"
    )
    variants: list[str] = Field(
        default_factory=list, description="Older spelling of ``names`` (same meaning)"
    )
    unit: str = "信息中心"

    def accepted(self) -> list[str]:
        """The whole name set, the canonical name first, without duplicates."""
        out: list[str] = []
        for n in (self.name, *self.names, *self.variants):
            n = "".join(n.split())
            if n and n not in out:
                out.append(n)
        return out


class Category(_Model):
    name: str
    keywords: list[str]
    limit_days: int = Field(ge=1)
    severity: Literal["error", "warning", "info"] = "error"
    counts_as: Literal["veto_stale", "long_stale", "none"] = "veto_stale"


def _parts() -> list[Part]:
    return [
        Part(name="政府信息公开指南", variants=["信息公开指南", "公开指南"]),
        Part(name="政府信息公开制度", variants=["信息公开制度", "公开制度"]),
        Part(
            name="法定主动公开内容",
            variants=["法定主动公开", "主动公开内容", "主动公开目录", "法定公开内容"],
        ),
        Part(
            name="政府信息公开工作年度报告",
            variants=[
                "政府信息公开年度报告",
                "政府信息公开年报",
                "信息公开年报",
                "信息公开年度报告",
                "信息公开工作年度报告",
                "公开年报",
                "年度报告",
            ],
        ),
    ]


#: Accepted names of the columns real sites show under several names.
INTERPRETATION = ["政策解读", "解读回应", "文件解读", "政策图解", "图解政策"]
INTERACTION = [
    "互动交流",
    "政民互动",
    "公众参与",
    "民意征集",
    "意见征集",
    "在线咨询",
    "网上咨询",
    "在线访谈",
    "咨询投诉",
    "信箱",
]


def national_columns() -> list[RequiredColumn]:
    """The national list (国办公开办函〔2019〕61号, 政府网站发展指引): 政策解读 and 互动交流.

    The four parts of the 政府信息公开 column are checked by ``columns.part_missing``."""
    return [
        RequiredColumn(name="政策解读", names=INTERPRETATION[1:], unit="信息中心"),
        RequiredColumn(name="互动交流", names=INTERACTION[1:], unit="信息中心"),
    ]


def work_plan_columns() -> list[RequiredColumn]:
    """The bureau's work plan (本局政务公开工作要点 四(二)、五): eight columns."""
    return [
        RequiredColumn(name="重点领域信息公开", names=["重点领域"], unit="信息中心"),
        RequiredColumn(name="政策解读", names=INTERPRETATION[1:], unit="信息中心"),
        RequiredColumn(
            name="公众参与", names=["互动交流", "政民互动", "民意征集"], unit="信息中心"
        ),
        RequiredColumn(
            name="建议提案办理",
            names=["建议提案", "提案办理", "建议办理", "议案提案"],
            unit="政策法规组",
        ),
        RequiredColumn(
            name="会议公开", names=["政府会议", "常务会议", "局务会议", "会议信息"], unit="综合组"
        ),
        RequiredColumn(
            name="意见征集", names=["征集意见", "征求意见", "预公开", "民意征集"], unit="信息中心"
        ),
        RequiredColumn(
            name="财政预决算",
            names=["预决算", "财政资金", "预算决算", "部门预算", "部门决算"],
            unit="财务审计组",
        ),
        RequiredColumn(name="局长信箱", names=["局长邮箱", "领导信箱"], unit="执法监督组"),
    ]


PRESETS = {"national": national_columns, "work_plan": work_plan_columns}

_REQUIRED_HELP = (
    'write a preset name ("national" or "work_plan"), a list of name sets such as '
    'required_columns = [["会议公开", "政府会议", "常务会议"], ["政策解读"]] (the first name is '
    "the column's name), or [[plugins.columns.required_columns]] tables with name, names "
    "(or variants) and unit"
)


def _required_item(item: Any, i: int) -> Any:
    if isinstance(item, str):
        item = [item]
    if isinstance(item, list):
        if not item or not all(isinstance(n, str) and n.strip() for n in item):
            raise ValueError(
                f"item {i} ({item!r}) must be a non-empty list of names; {_REQUIRED_HELP}"
            )
        return {"name": item[0], "names": item[1:]}
    if isinstance(item, dict | RequiredColumn):
        return item
    raise ValueError(f"item {i} ({item!r}) is not a name set; {_REQUIRED_HELP}")


def _categories() -> list[Category]:
    return [
        Category(
            name="动态要闻",
            keywords=["要闻", "动态", "新闻", "图片新闻", "时政", "资讯"],
            limit_days=14,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="通知公告",
            keywords=["通知公告", "公示公告", "通知", "公告", "公示"],
            limit_days=180,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="政策文件",
            keywords=["政策文件", "规范性文件", "政策法规", "文件"],
            limit_days=180,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="人事信息",
            keywords=["人事", "招考", "招聘", "任免"],
            limit_days=365,
            severity="warning",
            counts_as="long_stale",
        ),
        Category(
            name="规划计划",
            keywords=["规划计划", "发展规划", "工作计划", "计划", "规划"],
            limit_days=365,
            severity="warning",
            counts_as="long_stale",
        ),
    ]


class ColumnsOptions(_Model):
    disclosure_name: str = Field("政府信息公开", description="The unified column name")
    near_names: list[str] = Field(
        default_factory=lambda: [
            "政府信息公开专栏",
            "政府信息公开目录",
            "政府信息公开平台",
            "政务信息公开",
            "信息公开目录",
            "信息公开专栏",
            "信息公开",
            "政务公开",
            "政府公开",
        ],
        description="Names that mean the 政府信息公开 column under another name",
    )
    parts: list[Part] = Field(
        default_factory=_parts,
        description="The four parts the 政府信息公开 column must have, each with accepted variants",
    )
    required_columns: list[RequiredColumn] = Field(
        default_factory=national_columns,
        description='Columns the site must have, each with the names it is accepted under: "national" '
        '(default: 政策解读, 互动交流), "work_plan" (the bureau\'s eight columns), a list of '
        'name sets [["会议公开", "政府会议", "常务会议"], …] or '
        "[[plugins.columns.required_columns]] tables (name, names, unit)",
    )
    categories: list[Category] = Field(
        default_factory=_categories,
        description="Freshness categories: name, keywords matched in the column name, "
        "limit_days, severity, counts_as (veto_stale | long_stale | none)",
    )
    column_categories: dict[str, str] = Field(
        default_factory=dict,
        description="Column name → category name; an empty string exempts the column",
    )
    homepage_limit_days: int = Field(
        14, ge=1, description="The homepage must show an item newer than this many days"
    )
    max_list_pages: int = Field(50, ge=1, description="List pages followed per column")
    max_name_length: int = Field(16, ge=2, description="Longer link texts are not column names")
    blank_max_chars: int = Field(
        10,
        ge=0,
        description="A column page without entries and with at most this much text (besides "
        "headings) is blank; so is one saying 暂无信息",
    )
    ignore_columns: list[str] = Field(
        default_factory=list, description="Column names never checked for freshness"
    )
    skip_names: list[str] = Field(
        description="Link texts that are never column names (首页, 更多, 网站地图 …)",
        default_factory=lambda: [
            "首页",
            "网站首页",
            "返回首页",
            "更多",
            "更多>>",
            "more",
            "English",
            "相关网站",
            "友情链接",
            "无障碍",
            "长者模式",
            "关怀版",
            "网站地图",
            "联系我们",
            "登录",
            "注册",
            "搜索",
        ],
    )

    @field_validator("required_columns", mode="before")
    @classmethod
    def _required_forms(cls, value: Any) -> Any:
        """A preset name, a list of name sets, or the table form."""
        if isinstance(value, str):
            preset = PRESETS.get(value.strip())
            if preset is None:
                raise ValueError(f"unknown preset {value!r}; {_REQUIRED_HELP}")
            return preset()
        if not isinstance(value, list):
            raise ValueError(f"{type(value).__name__} is not a column list; {_REQUIRED_HELP}")
        return [_required_item(item, i) for i, item in enumerate(value)]


NOT_CHECKED = "columns.not_checked"

RULES = [
    RuleSpec(
        id="columns.disclosure_missing",
        title="首页未设置“政府信息公开”专栏",
        severity=Severity.ERROR,
        regulation=REG_61,
        advice="在网站首页显著位置设置统一命名为“政府信息公开”的专栏。",
        unit="信息中心",
        category="政府信息公开专栏",
    ),
    RuleSpec(
        id="columns.disclosure_misnamed",
        title="政府信息公开专栏名称不规范",
        severity=Severity.ERROR,
        regulation=REG_61,
        advice="将专栏名称统一修改为“政府信息公开”，不得使用“信息公开”“政务公开”等名称。",
        unit="信息中心",
        category="政府信息公开专栏",
    ),
    RuleSpec(
        id="columns.part_missing",
        title="政府信息公开专栏缺少必设板块",
        severity=Severity.ERROR,
        regulation=REG_61,
        advice="专栏须涵盖政府信息公开指南、政府信息公开制度、法定主动公开内容和政府信息公开工作年度报告四部分，补设缺少的板块。",
        unit="信息中心",
        category="政府信息公开专栏",
    ),
    RuleSpec(
        id="columns.required_missing",
        title="未设置要求的栏目",
        severity=Severity.WARNING,
        regulation=REG_PLAN,
        advice="按要求建设该栏目并及时维护内容；栏目以其他名称设置的，可在配置中为该栏目补充可接受的名称。",
        unit="信息中心",
        category="栏目设置",
    ),
    RuleSpec(
        id="columns.blank",
        title="空白栏目",
        severity=Severity.ERROR,
        regulation=REG_19 + "：空白栏目数量≥5个单项否决",
        advice="为栏目补充内容；确无内容可发布的栏目应予撤并。",
        unit="信息中心",
        category="栏目更新",
    ),
    RuleSpec(
        id="columns.stale",
        title="栏目超期未更新",
        severity=Severity.ERROR,
        regulation=REG_19 + "：动态要闻类2周、通知公告/政策文件类6个月、人事/规划计划类1年未更新",
        advice="及时发布栏目信息并标注发布日期；无日期的信息视为未更新。",
        unit="信息中心",
        category="栏目更新",
    ),
    RuleSpec(
        id="columns.homepage_stale",
        title="网站首页超过2周未更新",
        severity=Severity.ERROR,
        regulation=REG_19 + "：首页栏目信息超过2周未更新单项否决",
        advice="保持首页动态、要闻等栏目持续更新，信息须标注发布日期。",
        unit="信息中心",
        category="栏目更新",
    ),
    RuleSpec(
        id=NOT_CHECKED,
        title="栏目检查项未能检测",
        severity=Severity.INFO,
        regulation=REG_61 + "；" + REG_19,
        advice="按原因处理后重新检查：从网站首页开始检查；修复失效的栏目链接；栏目位于其他"
        "主机的，在 crawl.follow_entrances 中保留其入口名称或把该主机加入 site.extra_hosts。",
        unit="信息中心",
        description="该项检查所需的页面未能读取，本次不作判断（不视为通过）；"
        "evidence.rule 为未检测的规则，evidence.reason 为原因。",
        category="政府信息公开专栏",
    ),
]
