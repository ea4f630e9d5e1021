"""Chinese metadata for axe-core rules: title, remediation advice, usual impact, WCAG criteria.

Every rule axe 4.12 runs under the default tags (wcag2a, wcag2aa, wcag21a, wcag21aa) is
covered, plus the common best-practice rules; a rule missing here falls back to axe's own
help text. Reports and emails render from this table, never from strings in the checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: WCAG principle (first digit of a success criterion) → the work plan's wording.
PRINCIPLES = {"1": "可感知性", "2": "可操作性", "3": "可理解性", "4": "兼容性"}

REGULATION = "GB/T 37668-2019《信息技术 互联网内容无障碍可访问性技术要求与测试方法》"
WORK_PLAN = "工作方案：网站无障碍应符合可感知性、可操作性、可理解性、兼容性要求"
ENTRY_REGULATION = (
    "工业和信息化部《互联网应用适老化及无障碍改造专项行动方案》（工信部信管〔2020〕200号）"
)


@dataclass(frozen=True)
class A11yRule:
    axe_id: str
    impact: str  # axe's usual impact: critical | serious | moderate | minor
    title: str  # Chinese
    advice: str  # Chinese remediation advice
    criteria: tuple[str, ...] = ()  # WCAG success criteria, e.g. ("1.1.1",)

    @property
    def principles(self) -> list[str]:
        return list(dict.fromkeys(PRINCIPLES[c[0]] for c in self.criteria if c[:1] in PRINCIPLES))


def _r(axe_id: str, impact: str, title: str, advice: str, *criteria: str) -> A11yRule:
    return A11yRule(axe_id, impact, title, advice, tuple(criteria))


RULES: dict[str, A11yRule] = {
    r.axe_id: r
    for r in [
        # ---- 可感知性 -----------------------------------------------------------------
        _r(
            "image-alt",
            "critical",
            "图片缺少替代文本",
            '为有意义的图片添加准确描述其内容的alt属性；纯装饰图片使用alt=""。',
            "1.1.1",
        ),
        _r(
            "input-image-alt",
            "critical",
            "图片按钮缺少替代文本",
            '为<input type="image">添加说明按钮功能的alt属性（如“搜索”）。',
            "1.1.1",
            "4.1.2",
        ),
        _r(
            "area-alt",
            "critical",
            "图片热区缺少替代文本",
            "为<map>中每个<area>添加说明链接目标的alt属性。",
            "2.4.4",
            "4.1.2",
        ),
        _r(
            "object-alt",
            "serious",
            "嵌入对象缺少替代文本",
            "为<object>提供替代内容或aria-label/title说明其内容。",
            "1.1.1",
        ),
        _r(
            "role-img-alt",
            "serious",
            "图片角色元素缺少替代文本",
            '为role="img"的元素添加aria-label或aria-labelledby。',
            "1.1.1",
        ),
        _r(
            "svg-img-alt",
            "serious",
            "SVG图形缺少替代文本",
            '为role="img"的<svg>添加<title>子元素或aria-label。',
            "1.1.1",
        ),
        _r(
            "aria-meter-name",
            "serious",
            "仪表元素缺少可访问名称",
            '为role="meter"的元素添加aria-label或aria-labelledby。',
            "1.1.1",
        ),
        _r(
            "aria-progressbar-name",
            "serious",
            "进度条缺少可访问名称",
            '为role="progressbar"的元素添加aria-label或aria-labelledby。',
            "1.1.1",
        ),
        _r(
            "video-caption",
            "critical",
            "视频缺少字幕",
            '为<video>提供同步字幕（<track kind="captions">）。',
            "1.2.2",
        ),
        _r(
            "audio-caption",
            "critical",
            "音频缺少文字说明",
            "为<audio>提供字幕轨道或等同的文字稿。",
            "1.2.1",
        ),
        _r(
            "color-contrast",
            "serious",
            "文字与背景颜色对比度不足",
            "调整文字或背景颜色，使正文对比度不低于4.5:1、大号文字不低于3:1。",
            "1.4.3",
        ),
        _r(
            "link-in-text-block",
            "serious",
            "正文中的链接仅靠颜色区分",
            "为正文中的链接加下划线等非颜色标识，或使其与周围文字对比度不低于3:1。",
            "1.4.1",
        ),
        _r(
            "meta-viewport",
            "critical",
            "页面禁止用户缩放",
            '从<meta name="viewport">中去掉user-scalable=no，并保证maximum-scale不小于2。',
            "1.4.4",
        ),
        _r(
            "avoid-inline-spacing",
            "serious",
            "行内样式阻止调整文字间距",
            "不要在style属性中用!important固定行高、字间距和词间距。",
            "1.4.12",
        ),
        _r(
            "css-orientation-lock",
            "serious",
            "页面锁定了屏幕方向",
            "去掉把页面锁定为横屏或竖屏的CSS媒体查询。",
            "1.3.4",
        ),
        _r(
            "autocomplete-valid",
            "serious",
            "表单autocomplete属性取值无效",
            "为收集个人信息的输入框使用HTML规范中的autocomplete取值（如name、tel、email）。",
            "1.3.5",
        ),
        _r(
            "no-autoplay-audio",
            "moderate",
            "音视频自动播放声音",
            "取消自动播放，或保证声音不超过3秒并提供暂停/静音控件。",
            "1.4.2",
        ),
        _r(
            "list",
            "serious",
            "列表结构不规范",
            "<ul>/<ol>下只能直接包含<li>、<script>或<template>元素。",
            "1.3.1",
        ),
        _r(
            "listitem",
            "serious",
            "列表项不在列表中",
            "把<li>放在<ul>或<ol>中。",
            "1.3.1",
        ),
        _r(
            "definition-list",
            "serious",
            "定义列表结构不规范",
            "<dl>下只能直接包含按顺序排列的<dt>/<dd>组（或包裹它们的<div>）。",
            "1.3.1",
        ),
        _r(
            "dlitem",
            "serious",
            "定义列表项不在<dl>中",
            "把<dt>、<dd>放在<dl>中。",
            "1.3.1",
        ),
        _r(
            "td-headers-attr",
            "serious",
            "表格单元格的headers属性引用错误",
            "headers属性只能引用同一表格中<th>的id。",
            "1.3.1",
        ),
        _r(
            "th-has-data-cells",
            "serious",
            "表头没有对应的数据单元格",
            "删除空表头或补全表头对应的数据单元格。",
            "1.3.1",
        ),
        _r(
            "td-has-header",
            "critical",
            "大型数据表格的单元格缺少表头",
            "为数据表格使用<th>（及scope属性）标出行、列表头。",
            "1.3.1",
        ),
        _r(
            "table-fake-caption",
            "serious",
            "用单元格冒充表格标题",
            "用<caption>给表格加标题，不要用合并的首行单元格。",
            "1.3.1",
        ),
        _r(
            "p-as-heading",
            "serious",
            "用加粗段落冒充标题",
            "标题使用<h1>–<h6>元素，不要只用加粗或放大的<p>。",
            "1.3.1",
        ),
        _r(
            "aria-required-children",
            "critical",
            "ARIA角色缺少必需的子元素",
            '补齐该角色要求的子元素角色（如role="list"下需有role="listitem"）。',
            "1.3.1",
        ),
        _r(
            "aria-required-parent",
            "critical",
            "ARIA角色不在必需的父元素中",
            '把该元素放入其角色要求的父角色中（如role="tab"须在role="tablist"中）。',
            "1.3.1",
        ),
        _r(
            "aria-hidden-body",
            "critical",
            "页面主体被aria-hidden隐藏",
            '删除<body>上的aria-hidden="true"，否则读屏软件读不到整个页面。',
            "1.3.1",
            "4.1.2",
        ),
        # ---- 可操作性 -----------------------------------------------------------------
        _r(
            "link-name",
            "serious",
            "链接没有可识别的文字",
            "为链接提供说明目标的文字；图片链接为图片写alt，图标链接加aria-label。",
            "2.4.4",
            "4.1.2",
        ),
        _r(
            "bypass",
            "serious",
            "缺少跳过重复内容的方式",
            "在页面开头提供“跳到主要内容”链接，或使用<main>、标题等结构。",
            "2.4.1",
        ),
        _r(
            "document-title",
            "serious",
            "页面缺少标题",
            "为每个页面设置能概括内容的<title>。",
            "2.4.2",
        ),
        _r(
            "frame-focusable-content",
            "serious",
            "框架内容无法用键盘访问",
            '含可聚焦内容的<iframe>不要设置tabindex="-1"。',
            "2.1.1",
        ),
        _r(
            "scrollable-region-focusable",
            "serious",
            "滚动区域无法用键盘访问",
            '为可滚动区域设置tabindex="0"，或确保其中有可聚焦元素。',
            "2.1.1",
            "2.1.3",
        ),
        _r(
            "server-side-image-map",
            "minor",
            "使用了服务器端图片热区",
            "改用客户端<map>/<area>或普通链接，便于键盘操作。",
            "2.1.1",
        ),
        _r(
            "meta-refresh",
            "critical",
            "页面定时自动刷新或跳转",
            '去掉<meta http-equiv="refresh">的定时刷新，改由用户操作或服务器跳转。',
            "2.2.1",
        ),
        _r(
            "blink",
            "serious",
            "使用了闪烁元素<blink>",
            "删除<blink>，改用静态强调样式。",
            "2.2.2",
        ),
        _r(
            "marquee",
            "serious",
            "使用了滚动字幕<marquee>",
            "删除<marquee>，或改为可暂停、停止的滚动组件。",
            "2.2.2",
        ),
        _r(
            "label-content-name-mismatch",
            "serious",
            "控件可见文字与可访问名称不一致",
            "让aria-label等可访问名称包含控件上可见的文字，便于语音操控。",
            "2.5.3",
        ),
        # ---- 可理解性 -----------------------------------------------------------------
        _r(
            "html-has-lang",
            "serious",
            "页面未声明语言",
            '在<html>上声明页面语言，中文网站写<html lang="zh-CN">。',
            "3.1.1",
        ),
        _r(
            "html-lang-valid",
            "serious",
            "页面语言代码无效",
            "把<html>的lang改为有效的语言代码，如zh-CN。",
            "3.1.1",
        ),
        _r(
            "html-xml-lang-mismatch",
            "moderate",
            "lang与xml:lang声明的语言不一致",
            "让<html>的lang与xml:lang取相同的语言。",
            "3.1.1",
        ),
        _r(
            "valid-lang",
            "serious",
            "局部语言代码无效",
            "元素上的lang属性使用有效语言代码（如en、zh-CN）。",
            "3.1.2",
        ),
        _r(
            "form-field-multiple-labels",
            "moderate",
            "表单控件有多个标签",
            "每个表单控件只关联一个<label>。",
            "3.3.2",
        ),
        # ---- 兼容性 -------------------------------------------------------------------
        _r(
            "label",
            "critical",
            "表单控件缺少标签",
            "为输入框、下拉框等表单控件添加<label for>，或使用aria-label/aria-labelledby。",
            "4.1.2",
        ),
        _r(
            "button-name",
            "critical",
            "按钮没有可识别的文字",
            "为按钮提供可见文字，图标按钮添加aria-label或title。",
            "4.1.2",
        ),
        _r(
            "input-button-name",
            "critical",
            "输入按钮没有可识别的文字",
            '为<input type="button|submit|reset">设置value或aria-label。',
            "4.1.2",
        ),
        _r(
            "select-name",
            "critical",
            "下拉框缺少标签",
            "为<select>添加<label>或aria-label。",
            "4.1.2",
        ),
        _r(
            "summary-name",
            "serious",
            "折叠摘要没有可识别的文字",
            "为<summary>提供说明其内容的文字。",
            "4.1.2",
        ),
        _r(
            "frame-title",
            "serious",
            "框架缺少标题",
            "为<iframe>/<frame>添加说明其内容的title属性。",
            "4.1.2",
        ),
        _r(
            "frame-title-unique",
            "serious",
            "多个框架标题重复",
            "为每个<iframe>使用不同的、能区分内容的title。",
            "4.1.2",
        ),
        _r(
            "duplicate-id-aria",
            "critical",
            "ARIA或标签引用的id重复",
            "保证被aria-labelledby、for等引用的id在页面中唯一。",
            "4.1.2",
        ),
        _r(
            "nested-interactive",
            "serious",
            "交互控件相互嵌套",
            "不要在链接或按钮中再嵌套链接、按钮或输入框。",
            "4.1.2",
        ),
        _r(
            "aria-allowed-attr",
            "critical",
            "使用了该角色不支持的ARIA属性",
            "删除元素角色不支持的aria-*属性。",
            "4.1.2",
        ),
        _r(
            "aria-prohibited-attr",
            "serious",
            "使用了被禁止的ARIA属性",
            "删除该元素上被禁止的aria-*属性（如无角色的<div>上的aria-label）。",
            "4.1.2",
        ),
        _r(
            "aria-conditional-attr",
            "serious",
            "ARIA属性用法与角色不符",
            "按该角色的规定使用ARIA属性（如原生复选框不要再设aria-checked）。",
            "4.1.2",
        ),
        _r(
            "aria-required-attr",
            "critical",
            "缺少ARIA角色必需的属性",
            '补齐该角色必需的aria-*属性（如role="checkbox"需aria-checked）。',
            "4.1.2",
        ),
        _r(
            "aria-valid-attr",
            "critical",
            "ARIA属性名无效",
            "更正拼写错误的aria-*属性名。",
            "4.1.2",
        ),
        _r(
            "aria-valid-attr-value",
            "critical",
            "ARIA属性值无效",
            "更正aria-*属性的取值（如引用的id必须存在）。",
            "4.1.2",
        ),
        _r(
            "aria-roles",
            "critical",
            "ARIA角色值无效",
            "role属性只使用WAI-ARIA规范中的有效角色。",
            "4.1.2",
        ),
        _r(
            "aria-deprecated-role",
            "minor",
            "使用了已废弃的ARIA角色",
            "改用当前规范中的角色。",
            "4.1.2",
        ),
        _r(
            "aria-roledescription",
            "serious",
            "aria-roledescription用在无语义角色的元素上",
            "只在具有语义角色的元素上使用aria-roledescription。",
            "4.1.2",
        ),
        _r(
            "aria-braille-equivalent",
            "serious",
            "盲文ARIA属性缺少对应的普通属性",
            "使用aria-braillelabel等属性时同时提供aria-label等普通属性。",
            "4.1.2",
        ),
        _r(
            "aria-hidden-focus",
            "serious",
            "被隐藏的元素仍可获得焦点",
            'aria-hidden="true"的元素及其子元素不能获得键盘焦点（设tabindex="-1"或去掉隐藏）。',
            "4.1.2",
        ),
        _r(
            "aria-command-name",
            "serious",
            "ARIA按钮、链接或菜单项缺少名称",
            '为role="button|link|menuitem"的元素提供文字或aria-label。',
            "4.1.2",
        ),
        _r(
            "aria-input-field-name",
            "serious",
            "ARIA输入控件缺少名称",
            '为role="combobox|searchbox|textbox"等元素添加aria-label或aria-labelledby。',
            "4.1.2",
        ),
        _r(
            "aria-toggle-field-name",
            "serious",
            "ARIA开关控件缺少名称",
            '为role="checkbox|switch|radio"等元素提供文字或aria-label。',
            "4.1.2",
        ),
        _r(
            "aria-tooltip-name",
            "serious",
            "提示框缺少名称",
            '为role="tooltip"的元素提供文字或aria-label。',
            "4.1.2",
        ),
        _r(
            "aria-tab-name",
            "serious",
            "选项卡缺少名称",
            '为role="tab"的元素提供文字或aria-label。',
            "4.1.2",
        ),
        # ---- 最佳实践（启用best-practice标签时运行） -------------------------------------
        _r(
            "region",
            "moderate",
            "内容不在页面区域（landmark）中",
            "用<header>、<nav>、<main>、<footer>等区域元素组织页面内容。",
        ),
        _r(
            "landmark-one-main",
            "moderate",
            "页面缺少主要内容区域",
            "用<main>标出页面的主要内容。",
        ),
        _r(
            "page-has-heading-one",
            "moderate",
            "页面缺少一级标题",
            "为页面添加一个<h1>标题。",
        ),
        _r(
            "heading-order",
            "moderate",
            "标题层级跳跃",
            "标题按层级依次使用，不要从<h2>直接跳到<h4>。",
        ),
        _r(
            "empty-heading",
            "minor",
            "标题为空",
            "为标题元素填写文字，或删除空标题。",
        ),
        _r(
            "image-redundant-alt",
            "minor",
            "图片替代文本与周围文字重复",
            "删去与相邻链接或文字重复的alt内容。",
        ),
        _r(
            "tabindex",
            "serious",
            "tabindex取值大于0",
            "不要使用正数tabindex，按文档顺序安排键盘焦点。",
        ),
    ]
}

_WCAG_TAG = re.compile(r"^wcag(\d)(\d)(\d+)$")


def criteria_from_tags(tags: list[str]) -> list[str]:
    """axe tags → WCAG success criteria: ['wcag2a', 'wcag111'] → ['1.1.1']."""
    out = []
    for tag in tags:
        m = _WCAG_TAG.match(tag)
        if m:
            out.append(".".join(m.groups()))
    return out


def principles_of(criteria: list[str]) -> list[str]:
    return list(dict.fromkeys(PRINCIPLES[c[0]] for c in criteria if c[:1] in PRINCIPLES))
