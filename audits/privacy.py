"""Privacy audit (泄露个人隐私): full 居民身份证号码, personal mobile numbers in lists and 公示,
and bank card numbers, in page text and in attachment text (PDF, Word, Excel).

Numbers are never kept whole: messages, evidence and fingerprints carry a masked form
(at most the first 4 and last 4 characters) and a hash. Knows no Scrapy and no network.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from stdnum import luhn
from stdnum.cn import ric, uscc

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from audits.textlayer import Located, attachment_texts, excerpt, page_located
from audits.wording import not_checked_findings
from core.snapshot import Page, SiteSnapshot, TextPiece

REG = (
    "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》：泄露个人隐私（单项否决）；"
    "《中华人民共和国个人信息保护法》第二十八条（身份证件号码、金融账户属敏感个人信息）；"
    "《政府信息公开条例》第十五条"
)

#: GB/T 2260 province-level codes (the first two digits of a 居民身份证号码).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
_ID = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx])(?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![\d*])(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![\d*])")
_CARD = re.compile(r"(?<![\d*])(\d{4}(?: \d{4}){3}(?: \d{1,3})?|\d{16,19})(?![\d*])")
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{1,3}·[\u4e00-\u9fff]{1,6}$")
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚"
    "符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆"
    "农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋"
    "商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木")  # fmt: skip
#: Words that make a 2–4 character cell a unit, a title or a heading, not a person.
_NOT_NAME = re.compile(
    r"[局办委科处所站队院部厅会司中心组室馆校区县市省镇乡村街道号码电话合计总计序姓名备注]"
)
_CONTACT = re.compile(
    r"联系电话|咨询电话|监督电话|举报电话|投诉电话|服务热线|热线|办公电话|值班电话|联系人|联系方式|传真|受理电话"
)
_CARD_WORDS = re.compile(r"银行|卡号|账号|帐号|开户|账户|帐户")
_CORPORATE = re.compile(r"户名|开户单位|收款单位|单位名称|公司|有限|财政局|国库")
_NOT_ID_WORDS = re.compile(r"信用代码|机构代码|订单|流水|单号|文号|税号|登记号|批号")


def is_personal_name(cell: str) -> bool:
    cell = cell.strip()
    if not _CJK_NAME.match(cell) or _NOT_NAME.search(cell):
        return False
    return cell[0] in SURNAMES or cell[:2] in COMPOUND_SURNAMES


def mask(number: str) -> str:
    """At most the first 4 and the last 4 characters; phones as 138****5678."""
    digits = re.sub(r"[\s-]", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    keep = 4 if len(digits) >= 12 else 2
    return digits[:keep] + "*" * (len(digits) - 2 * keep) + digits[-keep:]


_ANY_NUMBER = re.compile(r"\d[\d Xx-]{9,}\d|\d{11,}[Xx]?")


def mask_all(text: str) -> str:
    """``text`` with every run of 11 or more digits masked (for excerpts)."""
    return _ANY_NUMBER.sub(
        lambda m: mask(m.group(0)) if sum(c.isdigit() for c in m.group(0)) >= 11 else m.group(0),
        text,
    )


def valid_id(number: str, today: date) -> bool:
    """GB 11643 check character, a real birth date up to ``today``, a province code. (Not
    stdnum's ric.validate: its county table misses codes that real cards carry.)"""
    number = number.upper()
    if number[:2] not in PROVINCES or ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        born = ric.get_birth_date(number)
    except Exception:
        return False
    return date(1900, 1, 1) <= born <= today


class PrivacyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attachments: bool = Field(True, description="Also read attachment text (PDF, Word, Excel)")
    phones: bool = Field(True, description="Report personal mobile numbers in lists and tables")
    bank_cards: bool = Field(True, description="Report bank card numbers")
    max_per_document: int = Field(
        50, ge=1, description="At most this many findings for one page or attachment"
    )


class PrivacyAudit(AuditPlugin):
    name = "privacy"
    title = "个人隐私泄露检查"
    Options = PrivacyOptions
    wants_texts = True
    rules = [
        RuleSpec(
            id="privacy.id_number",
            title="公开了完整的居民身份证号码",
            severity=Severity.ERROR,
            regulation=REG,
            advice="立即撤下或替换页面与附件，身份证号码只保留前后少量位数（如 3301**********1234）；"
            "排查同批次公示的其他页面、附件和转载。",
            unit="信息中心",
            category="个人隐私",
            description="18位居民身份证号码，校验码（GB 11643）、出生日期和地区码均有效；"
            "统一社会信用代码、订单号、文号及已打码的号码不报告。",
        ),
        RuleSpec(
            id="privacy.phone",
            title="公开了个人手机号码",
            severity=Severity.ERROR,
            regulation=REG,
            advice="名单、表格和公示中的个人手机号码应删除或打码（如 138****1234）；"
            "对外公布的单位联系电话、咨询电话不受影响。",
            unit="信息中心",
            category="个人隐私",
            description="与个人姓名同行（名单、表格、公示）的手机号码；单位的联系电话、咨询电话、"
            "热线及已打码的号码不报告。",
        ),
        RuleSpec(
            id="privacy.bank_card",
            title="公开了银行卡号",
            severity=Severity.ERROR,
            regulation=REG,
            advice="删除或打码银行卡号（只保留前后4位）。",
            unit="信息中心",
            category="个人隐私",
            description="16–19位、通过 Luhn 校验、旁边有“银行”“卡号”“账号”等字样的号码；单位对公账户不报告。",
        ),
        RuleSpec(
            id="privacy.not_checked",
            title="附件无法检查个人信息（扫描件、超限或无法读取）",
            severity=Severity.WARNING,
            regulation=REG,
            advice="扫描的公示名单须人工核查是否含身份证号码、手机号码；超过大小或时间上限的附件"
            "可调高 [attachments] 的上限后复查。",
            unit="信息中心",
            category="个人隐私",
        ),
    ]

    @classmethod
    def reference(cls) -> str:
        """How numbers are recognised, and the sources, for docs/rules.md."""
        return (
            "How numbers are recognised:\n\n"
            "| rule | recognised | not reported | source |\n|---|---|---|---|\n"
            "| privacy.id_number | 18 characters, GB 11643-1999 check character (ISO 7064 "
            "MOD 11-2, X = 10), a real birth date (1900 to the audit date), a GB/T 2260 "
            "province code | masked forms (3301**********1234), valid 统一社会信用代码 "
            "(GB 32100-2015) after 信用代码, numbers after 订单/流水/单号/文号/税号 | "
            "GB 11643-1999《公民身份号码》; GB 32100-2015; python-stdnum (stdnum.cn.ric, "
            "stdnum.cn.uscc) |\n"
            "| privacy.phone | 1[3-9]xxxxxxxxx (spaces or hyphens allowed) in a table row with "
            "a personal name (2–4 characters starting with one of ~300 common surnames) or "
            "under a 姓名 column, or right after a name in running text | masked 138****1234; "
            "numbers after 联系人/联系电话/咨询电话/热线/传真; landlines and hotlines | "
            "《个人信息保护法》第二十八条; 国办秘函〔2019〕19号 |\n"
            "| privacy.bank_card | 16–19 digits passing the Luhn check after 银行/卡号/账号/开户, "
            "or under such a column | account numbers of units (户名/开户单位/公司/财政局) | "
            "ISO/IEC 7812 (Luhn) |\n\n"
            "Evidence keeps at most the first 4 and last 4 characters (phones 3 and 4); the "
            "fingerprint key is a SHA-256 of the site and the number.\n"
        )

    def __init__(self, options: BaseModel, context: Any) -> None:
        super().__init__(options, context)
        self.opts: PrivacyOptions = self.options  # type: ignore[assignment]
        self._home = ""
        self.salt = context.config.homepage.encode("utf-8") if context.config.site.urls else b""
        self.checked_chars = 0
        self.counts: dict[str, int] = {}

    def check_page(self, page: Page) -> Iterable[Finding]:
        if not self._home:
            self._home = self.ctx.snapshot.homepage_url
        located = page_located(page, self._home, self.ctx.today)
        if located is not None:
            yield from self._scan(located)

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        if self.opts.attachments:
            for item in attachment_texts(snapshot, {}):
                if isinstance(item, TextPiece):
                    yield from not_checked_findings("privacy.not_checked", item, "个人信息")
                else:
                    yield from self._scan(item)
        self.ctx.site_data["privacy.checked_chars"] = self.checked_chars
        self.ctx.site_data["privacy.counts"] = dict(self.counts)

    # -- scanning ----------------------------------------------------------------------
    def _scan(self, doc: Located) -> Iterator[Finding]:
        text = doc.text
        self.checked_chars += len(text)
        if not any(c.isdigit() for c in text):
            return
        found: list[tuple[str, int, int, str]] = []  # rule, start, end, number
        taken: list[tuple[int, int]] = []
        for m in _ID.finditer(text):
            number = m.group(1)
            before = text[max(0, m.start() - 16) : m.start()]
            if _NOT_ID_WORDS.search(before) and uscc.is_valid(number):
                continue
            if _NOT_ID_WORDS.search(before[-8:]):
                continue
            if valid_id(number, self.ctx.today):
                found.append(("privacy.id_number", m.start(1), m.end(1), number))
                taken.append((m.start(), m.end()))
        if self.opts.phones:
            header_has_name = "姓名" in text
            for m in _MOBILE.finditer(text):
                if self._personal_phone(text, m.start(), m.end(), header_has_name):
                    found.append(("privacy.phone", m.start(), m.end(), "".join(m.groups())))
        if self.opts.bank_cards:
            for m in _CARD.finditer(text):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                number = m.group(1).replace(" ", "")
                if len(number) == 18 and valid_id(number, self.ctx.today):
                    continue  # an ID number (reported as one when it is in ID context)
                if luhn.is_valid(number) and self._card_context(text, m.start()):
                    found.append(("privacy.bank_card", m.start(), m.end(), number))
        for n, (rule, start, end, number) in enumerate(found):
            if n >= self.opts.max_per_document:
                break
            yield self._finding(doc, rule, start, end, number)

    def _line(self, text: str, start: int, end: int) -> tuple[str, int]:
        a = text.rfind("\n", 0, start) + 1
        b = text.find("\n", end)
        return text[a : b if b >= 0 else len(text)], a

    def _personal_phone(self, text: str, start: int, end: int, header_has_name: bool) -> bool:
        before = text[max(0, start - 14) : start]
        if _CONTACT.search(before):
            return False  # a published contact (联系人/联系电话/热线 …)
        line, _ = self._line(text, start, end)
        cells = [c for c in line.split("\t") if c.strip()]
        if len(cells) >= 2:  # a table row: a person's name in it, or a 姓名 column
            return header_has_name or any(is_personal_name(c) for c in cells)
        # Running text: a name right before the number (张三（13812345678）, 张三 138…)
        m = re.search(
            r"([\u4e00-\u9fff·]{2,6})[\s：:，,（(]*(?:手机号码|手机|电话)?[：:\s]*[（(]?$", before
        )
        if m:
            word = m.group(1)
            for size in (2, 3, 4):
                if len(word) >= size and is_personal_name(word[-size:]):
                    return True
        return False

    def _card_context(self, text: str, start: int) -> bool:
        before = text[max(0, start - 24) : start]
        line, _ = self._line(text, start, start)
        if _CORPORATE.search(before) or _CORPORATE.search(line):
            return False
        if _CARD_WORDS.search(before):
            return True
        # A table row under a header that names the column (银行卡号, 账号)
        line_start = text.rfind("\n", 0, start) + 1
        return "\t" in line and bool(
            _CARD_WORDS.search(text[max(0, line_start - 600) : line_start])
        )

    def _finding(self, doc: Located, rule: str, start: int, end: int, number: str) -> Finding:
        masked = mask(number)
        where = doc.describe(start)
        shown = mask_all(excerpt(doc.text, start, end, shown=masked))
        what = {
            "privacy.id_number": "完整的居民身份证号码",
            "privacy.phone": "个人手机号码",
            "privacy.bank_card": "银行卡号",
        }[rule]
        digest = hashlib.sha256(self.salt + b"|" + number.upper().encode()).hexdigest()[:16]
        self.counts[rule] = self.counts.get(rule, 0) + 1
        evidence: dict[str, Any] = {
            "masked": masked,
            "excerpt": shown,
            "location": doc.where(start),
            "number_hash": digest,
        }
        if doc.is_attachment:
            evidence["attachment"] = doc.url
            evidence["format"] = doc.piece.format if doc.piece else ""
        return Finding(
            rule=rule,
            url=doc.url,
            page=doc.page or doc.url,
            message=f"公开了{what} {masked}。位置：{where}；原文：{shown}",
            evidence=evidence,
            key=digest,
        )
