"""A seeded corpus for the text audits: pages and attachments in every format (html, pdf, docx,
xlsx, xls, doc) carrying real error forms quoted in 通报, generated valid ID/phone/card numbers
in 公示 tables, decoys, and clean official prose from tests/real (real government pages).

Numbers are generated (valid checksums, region 110101/330106, never a real person's list);
used by tests/test_text_audits.py and bench/text_bench.py. Knows nothing of govaudit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from stdnum import luhn
from stdnum.cn import ric

from tests import docgen

REAL = Path(__file__).parent / "real" / "sites"
FORMATS = ("html", "pdf", "docx", "xlsx", "xls", "doc")
CTYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "doc": "application/msword",
}


def clean_lines() -> list[str]:
    """Visible text lines of the real government pages in tests/real (no seeded errors)."""
    from audits.textlayer import visible_text

    lines: list[str] = []
    for path in sorted(REAL.rglob("*.htm*")):
        raw = path.read_bytes()
        for enc in ("utf-8", "gb18030"):
            try:
                html = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        for line in visible_text(html, keep_chrome=True).split("\n"):
            line = line.replace("\t", " ").strip()
            if len(line) >= 12:
                lines.append(line)
    return lines


def make_id(rng: random.Random, region: str = "110101") -> str:
    born = f"{rng.randint(1955, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"{region}{born}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_id(rng: random.Random) -> str:
    good = make_id(rng)
    wrong = "0123456789X".replace(good[-1], "")
    return good[:-1] + rng.choice(wrong)


def make_mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def make_card(rng: random.Random) -> str:
    body = "622848" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return body + luhn.calc_check_digit(body)


def make_uscc() -> str:
    from stdnum.cn import uscc

    body = "91330106MA2H3K5L8"
    return body + uscc.calc_check_digit(body)


NAMES = ["张建国", "李秀英", "王伟", "刘洋", "陈静", "杨明", "赵丽华", "黄海涛", "周敏", "吴刚"]


@dataclass
class Seed:
    rule: str
    token: str  # the wrong form (wording) or the masked number (privacy)
    fmt: str


@dataclass
class Document:
    fmt: str
    name: str
    lines: list[str]  # running text
    rows: list[list[str]] = field(default_factory=list)  # a 公示 table
    seeds: list[Seed] = field(default_factory=list)
    clean_chars: int = 0
    seeded_chars: int = 0  # the lines and table rows that carry seeds


def _mask(number: str) -> str:
    if len(number) == 11:
        return number[:3] + "****" + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


WORDING_SEEDS = [
    (
        "wording.political_phrase",
        "习近平近新时代中国特色社会主义思想",
        "深入学习贯彻{}，全面落实各项工作部署。",
    ),
    ("wording.political_phrase", "中华人民共合国", "依据{}土地管理法，开展年度执法检查。"),
    ("wording.political_phrase", "社会主义核心价直观", "大力培育和践行{}，营造良好风尚。"),
    ("wording.political_phrase", "全国人民代彪大会", "认真学习{}第二次会议精神。"),
    ("wording.outdated_name", "国土资源局", "临川市{}关于开展2024年度卫片执法检查的通知。"),
    ("wording.typo", "攻府", "进一步做好{}信息公开工作。"),
    ("wording.typo", "扫黑险恶", "常态化开展{}工作，维护社会稳定。"),
    ("wording.typo", "财政拔款", "项目资金来源为{}，按进度拨付。"),
]
WORDING_DECOYS = [
    "《临川市国土资源局关于印发土地执法工作规程的通知》（临国土资〔2016〕12号）继续有效。",
    "原临川市环境保护局的职责划入市生态环境局。",
    "学习贯彻习近平新时代中国特色社会主义思想主题教育。",
    "全省人民代表大会代表视察工作。",
    "中华人民共和国国务院令第711号。",
]
HISTORICAL = (
    "临川市国土资源局2016年度工作总结\n"
    "2016年，市国土资源局在市委、市政府的领导下，完成了各项工作任务。\n"
    "临川市国土资源局\n2017年1月10日"
)


def privacy_rows(rng: random.Random, fmt: str) -> tuple[list[list[str]], list[Seed], list[str]]:
    """A 公示 table with full numbers (seeds) and a text block of decoys."""
    rows = [["序号", "姓名", "身份证号码", "联系电话", "银行卡号", "补贴金额（元）"]]
    seeds: list[Seed] = []
    for i, name in enumerate(NAMES[:3], 1):
        pid, mobile, card = make_id(rng), make_mobile(rng), make_card(rng)
        rows.append([str(i), name, pid, mobile, card, f"{rng.randint(5, 50) * 100}"])
        seeds += [
            Seed("privacy.id_number", _mask(pid), fmt),
            Seed("privacy.phone", _mask(mobile), fmt),
            Seed("privacy.bank_card", _mask(card), fmt),
        ]
    decoys = [
        f"统一社会信用代码：{make_uscc()}",
        f"已打码名单：周敏 {make_id(rng)[:4]}**********{rng.randint(1000, 9999)}，"
        f"吴刚 {make_mobile(rng)[:3]}****{rng.randint(1000, 9999)}",
        f"证件号码校验位错误的示例：{bad_id(rng)}",
        "咨询电话：0571-87654321，服务热线：12345",
        f"联系人：王明，联系电话：{make_mobile(rng)}",
        f"临川市自然资源和规划局咨询电话：{make_mobile(rng)}",
        f"订单号：{make_id(rng)}",
        f"开户单位：临川市财政局，账号：{make_card(rng)}",
    ]
    return rows, seeds, decoys


def build(rng: random.Random, clean: list[str], per_doc_clean: int = 240) -> list[Document]:
    """One document per format with every seed and decoy, plus clean prose around them."""
    docs: list[Document] = []
    start = 0
    for fmt in FORMATS:
        seeds: list[Seed] = []
        lines: list[str] = []
        chunk = [clean[(start + i) % len(clean)] for i in range(per_doc_clean)]
        start += per_doc_clean
        clean_chars = sum(len(x) for x in chunk)
        for i, (rule, wrong, template) in enumerate(WORDING_SEEDS):
            lines += chunk[i * 6 : i * 6 + 6]
            lines.append(template.format(wrong))
            seeds.append(Seed(rule, wrong, fmt))
        rows, pseeds, decoys = privacy_rows(rng, fmt)
        seeds += pseeds
        lines += WORDING_DECOYS + decoys + chunk[len(WORDING_SEEDS) * 6 :]
        lines.append("临川市自然资源和规划局\n2024年6月18日")
        seeded = sum(len(t.format(w)) for _, w, t in WORDING_SEEDS) + sum(
            len("\t".join(r)) for r in rows[1:]
        )
        docs.append(Document(fmt, f"gs-{fmt}", lines, rows, seeds, clean_chars, seeded))
    return docs


def render(doc: Document) -> tuple[bytes, str]:
    """The document as a file of its format (bytes, content type); html as a page body."""
    table_text = "\n".join("\t".join(r) for r in doc.rows)
    if doc.fmt == "html":
        body = "".join(f"<p>{line}</p>" for line in doc.lines)
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in doc.rows)
        return (
            f"<html><head><meta charset='utf-8'><title>公示</title>"
            f"<meta name='PubDate' content='2024-06-18 09:00'></head><body>"
            f"<div class='nav'>首页 政务公开</div><div id='content'>{body}"
            f"<table>{rows}</table></div></body></html>"
        ).encode(), "text/html; charset=utf-8"
    if doc.fmt == "pdf":
        pages = ["\n".join(doc.lines[i : i + 25]) for i in range(0, len(doc.lines), 25)]
        pages.append(table_text)
        return docgen.make_pdf(pages), CTYPES["pdf"]
    if doc.fmt == "docx":
        return docgen.make_docx(doc.lines, doc.rows), CTYPES["docx"]
    if doc.fmt in ("xlsx", "xls"):
        sheets = {"名单": doc.rows, "说明": [[line] for line in doc.lines]}
        maker = docgen.make_xlsx if doc.fmt == "xlsx" else docgen.make_xls
        return maker(sheets), CTYPES[doc.fmt]
    return docgen.make_doc("\n".join(doc.lines) + "\n" + table_text), CTYPES["doc"]
