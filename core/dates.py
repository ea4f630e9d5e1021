"""Dates as Chinese government pages write them.

Formats (see docs/domain.md): ``2020-09-30``, ``2020/9/30``, ``2020.09.30``,
``2020年9月30日``, ``二〇二〇年九月三十日`` (also 零/○ for zero, 十/廿/卅 forms), ``[09-30]``
in column lists with the year implied by an anchor date, label forms such as
``发布日期：…`` / ``更新时间：…`` / ``成文日期：…``, and the ``PubDate`` meta
(``YYYY-MM-DD HH:MM``).

Noise that must not become a date: a "today is …" widget in the header, copyright year
ranges (©2020-2026), telephone numbers (0539-8012345), ICP/公安 record numbers, and dates
that are part of a URL path (``/art/2020/9/30/art_1.html``).

Also here: working days between two dates, honouring Chinese public holidays and adjusted
working weekends through the maintained ``chinesecalendar`` package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

#: Labels that introduce a publication / update date, most specific first.
DATE_LABELS: tuple[str, ...] = (
    "更新日期",
    "更新时间",
    "最后更新",
    "最近更新",
    "修订日期",
    "发布日期",
    "发布时间",
    "公开日期",
    "公开时间",
    "成文日期",
    "发文日期",
    "印发日期",
    "生成日期",
    "信息时间",
    "日期",
    "时间",
)

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "o": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_YEAR_CHARS = "〇零○Ｏ一二三四五六七八九"
_CN_SMALL_CHARS = "一二三四五六七八九十廿卅"

_NOT_BEFORE = r"(?<![0-9A-Za-z/._\-])"
_RE_YMD = re.compile(
    _NOT_BEFORE
    + r"((?:19|20)\d{2})([-/.])(\d{1,2})\2(\d{1,2})"
    + r"(?![0-9])(?![-/.]\d)(?!/)"
    + r"(?:[T\s]+(\d{1,2}:\d{2}(?::\d{2})?))?"
)
_RE_YMD_CN = re.compile(
    r"(?<![0-9])((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号|(?![0-9]))"
    + r"(?:\s*(\d{1,2}[:：]\d{2}(?::\d{2})?))?"
)
_RE_CN_NUMERALS = re.compile(
    rf"([{_CN_YEAR_CHARS}]{{4}})\s*年\s*([{_CN_SMALL_CHARS}]{{1,3}})\s*月"
    rf"\s*([{_CN_SMALL_CHARS}]{{1,3}})\s*[日号]"
)
_RE_MD_BRACKET = re.compile(r"[\[【(（]\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*[\]】)）]")
_RE_MD_BARE = re.compile(r"^\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")
_RE_URL = re.compile(r"(?:https?://|www\.)[^\s\"'<>，。；]+", re.IGNORECASE)
# A "today is …" widget: the date of the visit, not of the content.
_RE_TODAY_WIDGET = re.compile(
    r"(?:今天是|今天|今日|当前日期|当前时间|现在时间|现在是)\s*[:：]?\s*$"
)


@dataclass(frozen=True)
class FoundDate:
    """One date found in a text: the date, where it was, and how it was written."""

    value: date
    start: int
    end: int
    text: str
    kind: str  # "ymd" (digits with - / .), "ymd_cn" (2020年9月30日), "cn" (二〇二〇年…), "md"
    time: str | None = None  # "10:21" when a time followed the date


# Full-width ASCII forms (０-９, －, ／, ：, ［ …) and the ideographic space, one character
# each way, so offsets into the normalised text are offsets into the original.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}


_FULLWIDTH_CHAR = re.compile("[\uff01-\uff5e\u3000\xa0]")
_FULLWIDTH_MAP = {chr(k): chr(v) for k, v in _FULLWIDTH.items()}


def normalize(text: str) -> str:
    """Full-width digits and punctuation → ASCII, keeping the length of the text.

    A regex over the few full-width characters, not ``str.translate``: translate looks up
    every character of the text in the table, ~2× slower on Chinese pages."""
    return _FULLWIDTH_CHAR.sub(lambda m: _FULLWIDTH_MAP[m.group()], text)


def cn_small_int(s: str) -> int | None:
    """一 … 三十一 in Chinese numerals (十, 十二, 二十, 二十一, 廿一, 卅, 卅一) → int."""
    s = s.strip()
    if not s:
        return None
    if s[0] in "廿卅":
        tens = 2 if s[0] == "廿" else 3
        rest = s[1:]
        if not rest:
            return tens * 10
        unit = _CN_DIGITS.get(rest)
        return tens * 10 + unit if unit is not None and len(rest) == 1 else None
    if "十" in s:
        head, _, tail = s.partition("十")
        if len(head) > 1 or len(tail) > 1:
            return None
        tens = _CN_DIGITS.get(head, -1) if head else 1
        units = _CN_DIGITS.get(tail, -1) if tail else 0
        if tens < 1 or units < 0:
            return None
        return tens * 10 + units
    if len(s) == 1 and s in _CN_DIGITS:
        return _CN_DIGITS[s]
    return None


def cn_year(s: str) -> int | None:
    """二〇二〇 / 二零二零 → 2020 (digit by digit)."""
    digits = [_CN_DIGITS.get(ch) for ch in s]
    if len(digits) != 4 or any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def _make(y: int, m: int, d: int, min_year: int, max_year: int) -> date | None:
    if not (min_year <= y <= max_year):
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _implied_year(month: int, day: int, anchor: date) -> date | None:
    """The latest month-day on or before ``anchor`` (column lists show recent items)."""
    for year in (anchor.year, anchor.year - 1):
        try:
            value = date(year, month, day)
        except ValueError:
            continue  # 02-29 in a non-leap year
        if value <= anchor:
            return value
    return None


def _blank_urls(text: str) -> str:
    return _RE_URL.sub(lambda m: " " * len(m.group(0)), text)


def find_dates(
    text: str,
    anchor: date | None = None,
    *,
    month_day: bool = True,
    min_year: int = 1990,
    max_year: int | None = None,
) -> list[FoundDate]:
    """Every date in ``text``, in order of position.

    ``anchor`` (usually the audit date) supplies the year of ``[09-30]``-style dates;
    without it those are skipped. Dates after ``max_year`` (default: anchor's year + 1)
    or before ``min_year`` are treated as noise.
    """
    if not text:
        return []
    norm = _blank_urls(normalize(text))
    top = max_year if max_year is not None else (anchor.year + 1 if anchor else 2100)
    found: list[FoundDate] = []
    taken = bytearray(len(norm))  # 1 where a date was already read

    def add(value: date | None, m: re.Match[str], kind: str, time: str | None = None) -> None:
        if value is None or any(taken[m.start() : m.end()]):
            return
        taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        if _RE_TODAY_WIDGET.search(norm[max(0, m.start() - 8) : m.start()]):
            return  # consumed, so no shorter form matches it either
        found.append(FoundDate(value, m.start(), m.end(), text[m.start() : m.end()], kind, time))

    for m in _RE_YMD_CN.finditer(norm):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        add(_make(y, mo, d, min_year, top), m, "ymd_cn", _time(m.group(4)))
    for m in _RE_CN_NUMERALS.finditer(norm):
        y = cn_year(m.group(1))
        mo, d = cn_small_int(m.group(2)), cn_small_int(m.group(3))
        if y is not None and mo is not None and d is not None:
            add(_make(y, mo, d, min_year, top), m, "cn")
    for m in _RE_YMD.finditer(norm):
        y, mo, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
        add(_make(y, mo, d, min_year, top), m, "ymd", _time(m.group(5)))
    if month_day and anchor is not None:
        for m in _RE_MD_BRACKET.finditer(norm):
            add(_implied_year(int(m.group(1)), int(m.group(2)), anchor), m, "md")
        m = _RE_MD_BARE.match(norm)
        if m and not found:
            add(_implied_year(int(m.group(1)), int(m.group(2)), anchor), m, "md")
    found.sort(key=lambda f: f.start)
    return found


def _time(value: str | None) -> str | None:
    return value.replace("：", ":") if value else None


def parse_date(s: str, anchor: date | None = None) -> date | None:
    """The first date in a short string (a list item's date cell, a meta value), or None."""
    found = find_dates(s, anchor)
    return found[0].value if found else None


def parse_pubdate(value: str | None) -> date | None:
    """The ``PubDate`` meta (``YYYY-MM-DD HH:MM``, seconds optional; other date formats too)."""
    if not value:
        return None
    value = value.strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return parse_date(value)


def labelled_dates(
    text: str,
    labels: tuple[str, ...] | list[str] = DATE_LABELS,
    anchor: date | None = None,
    reach: int = 6,
) -> list[tuple[str, FoundDate]]:
    """(label, date) for each label directly followed by a date (``发布日期：2020-09-30``).

    ``reach`` is how many characters (spaces, colons, brackets) may sit between the
    label and the date.
    """
    if not text or not labels:
        return []
    norm = normalize(text)
    out: list[tuple[str, FoundDate]] = []
    for m in _label_pattern(tuple(labels)).finditer(norm):
        window = text[m.end() : m.end() + reach + 40]
        dates = find_dates(window, anchor, month_day=False)
        if dates and dates[0].start <= reach and _only_separators(window[: dates[0].start]):
            first = dates[0]
            shifted = FoundDate(
                first.value,
                first.start + m.end(),
                first.end + m.end(),
                first.text,
                first.kind,
                first.time,
            )
            out.append((m.group(0), shifted))
    return out


@lru_cache(maxsize=64)
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """The labels as one regex, longest first (compiled once per label set: the text audits
    call this for every page)."""
    return re.compile("|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True)))


def _only_separators(s: str) -> bool:
    return all(ch in " \t\r\n:：为是于\u3000[]【】()（）-—|" for ch in s)


def labelled_date(
    text: str,
    labels: tuple[str, ...] | list[str] = DATE_LABELS,
    anchor: date | None = None,
) -> date | None:
    """The date after the most specific label present (labels are in preference order)."""
    found = labelled_dates(text, labels, anchor)
    if not found:
        return None
    rank = {label: i for i, label in enumerate(labels)}
    found.sort(key=lambda pair: (rank.get(pair[0], len(rank)), pair[1].start))
    return found[0][1].value


# --- working days -------------------------------------------------------------------


@dataclass(frozen=True)
class WorkdayCount:
    days: int
    exact: bool  # False when a year is outside the calendar package's data
    note: str = ""


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, from the official calendar). Outside the package's years the
    answer falls back to Monday–Friday and the second value is False."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day)), True
    except (NotImplementedError, ImportError):
        return day.weekday() < 5, False


def working_days_after(start: date, end: date) -> WorkdayCount:
    """Working days in (start, end]: 0 when ``end`` is on or before ``start``.

    A document published on Friday and interpreted the next Monday is 1 working day late.
    """
    count = 0
    exact = True
    day = start + timedelta(days=1)
    while day <= end:
        work, official = is_workday(day)
        exact = exact and official
        count += work
        day += timedelta(days=1)
    note = (
        "" if exact else "部分日期超出节假日日历数据范围，按周一至周五计算工作日，节假日调休未计入"
    )
    return WorkdayCount(count, exact, note)


@lru_cache(maxsize=4096)
def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    current = start
    remaining = max(days, 0)
    while remaining:
        current += timedelta(days=1)
        if is_workday(current)[0]:
            remaining -= 1
    return current
