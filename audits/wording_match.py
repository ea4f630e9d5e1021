"""The wording audit's matchers: fixed phrases in a wrong form (near-miss search), known wrong
variants, common typos and abolished institution names, over one text, in one Aho-Corasick pass.

Reads the versioned dictionary audits/data/wording.json. Knows nothing of pages or findings.
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick

DATA = Path(__file__).parent / "data" / "wording.json"

_CJK = re.compile(r"[\u3400-\u9fff]")
#: Inserted characters that do not make a fixed phrase wrong (particles, punctuation).
_HARMLESS_INSERT = set("的之和与及、，,。 ·•-—")
#: A substituted administrative level is a different, legitimate body (全省人民代表大会 …).
_LEVELS = set("省市县区州盟旗乡镇村")


@lru_cache(maxsize=1)
def dictionary() -> dict[str, Any]:
    with open(DATA, encoding="utf-8") as fh:
        return json.load(fh)


def source_text(key: str) -> str:
    return dictionary()["sources"].get(key, key)


@lru_cache(maxsize=1)
def _readings() -> dict[int, str]:
    """pypinyin's character table (code point → "hé,hè,…") without its phrase dictionaries:
    importing the package costs ~55 MB of memory, the table alone ~11 MB."""
    spec = importlib.util.find_spec("pypinyin")
    table = Path(spec.origin).parent / "pinyin_dict.py" if spec and spec.origin else None
    if table is not None and table.exists():
        loader = importlib.util.spec_from_file_location("_govaudit_pinyin_dict", table)
        if loader is not None and loader.loader is not None:
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
            return module.pinyin_dict
    from pypinyin.pinyin_dict import pinyin_dict  # the package's own import path

    return pinyin_dict


@lru_cache(maxsize=8192)
def _sounds(char: str) -> frozenset[str]:
    """The toneless readings of one character (all of a polyphone's)."""
    raw = _readings().get(ord(char), "")
    plain = unicodedata.normalize("NFD", raw.replace("ü", "v"))
    return frozenset(
        "".join(c for c in r if not unicodedata.combining(c)) for r in plain.split(",") if r
    )


def same_sound(a: str, b: str) -> bool:
    """Two different characters that share a reading (和/合, 值/直): a pinyin-input slip."""
    return a != b and bool(_sounds(a) & _sounds(b))


@dataclass
class Hit:
    kind: str  # phrase | variant | typo | outdated | custom
    start: int
    end: int
    wrong: str
    right: str
    entry: dict[str, Any]
    how: str = ""  # phrase: 错字 / 多字 / 漏字 / 同音字


def one_edit(phrase: str, found: str) -> str | None:
    """How ``found`` is ``phrase`` with one interior edit (first and last characters kept),
    in Chinese (同音字, 错字, 多字, 漏字), or None."""
    n = len(phrase)
    if found == phrase or not found or found[0] != phrase[0] or found[-1] != phrase[-1]:
        return None
    if len(found) == n:
        diffs = [i for i in range(n) if found[i] != phrase[i]]
        if len(diffs) != 1:
            return None
        i = diffs[0]
        new, old = found[i], phrase[i]
        if not _CJK.match(new) or new in _LEVELS:
            return None
        if same_sound(new, old):
            return "同音字"
        return "错字" if n >= 7 else None
    if len(found) == n + 1 and n >= 5:
        for i in range(1, n):
            if found[:i] + found[i + 1 :] == phrase:
                return None if found[i] in _HARMLESS_INSERT or not _CJK.match(found[i]) else "多字"
        return None
    if len(found) == n - 1 and n >= 5:
        for i in range(1, n - 1):
            if phrase[:i] + phrase[i + 1 :] == found:
                return "漏字"
    return None


class Matcher:
    """Every dictionary entry in one automaton; ``scan`` yields hits in text order."""

    def __init__(self, custom: list[dict[str, Any]] | None = None) -> None:
        data = dictionary()
        self.phrases: list[str] = [p["phrase"] for p in data["phrases"]]
        self.phrase_entries = data["phrases"]
        self.legit = set(data.get("legit", []))
        auto = ahocorasick.Automaton()
        keys: dict[str, list[tuple[str, int]]] = {}

        def add(key: str, value: tuple[str, int]) -> None:
            keys.setdefault(key, []).append(value)

        for i, phrase in enumerate(self.phrases):
            half = len(phrase) // 2
            add(phrase[:half], ("head", i))
            add(phrase[half:], ("tail", i))
        for kind in ("variants", "typos", "outdated"):
            for i, entry in enumerate(data[kind]):
                add(entry["wrong"] if kind != "outdated" else entry["name"], (kind, i))
        for key, values in keys.items():
            auto.add_word(key, (key, values))
        auto.make_automaton()
        self.auto = auto
        self.data = data
        self.custom = []
        for entry in custom or []:
            pattern = entry.get("regex") or re.escape(entry["wrong"])
            self.custom.append((re.compile(pattern), entry))

    def scan(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        seen_phrase: set[tuple[int, int]] = set()
        for end_index, (key, values) in self.auto.iter(text):
            end = end_index + 1
            start = end - len(key)
            for kind, i in values:
                if kind in ("head", "tail"):
                    hit = self._near_miss(text, i, start, end, kind)
                    if hit and (hit.start, hit.end) not in seen_phrase:
                        seen_phrase.add((hit.start, hit.end))
                        hits.append(hit)
                    continue
                entry = self.data[kind][i]
                if kind == "outdated":
                    hits.append(
                        Hit("outdated", start, end, entry["name"], entry["replaced_by"], entry)
                    )
                else:
                    name = "variant" if kind == "variants" else "typo"
                    hits.append(Hit(name, start, end, entry["wrong"], entry["right"], entry))
        for pattern, entry in self.custom:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    hits.append(
                        Hit("custom", m.start(), m.end(), m.group(0), entry.get("right", ""), entry)
                    )
        # One finding per place: a hit inside a longer one (共合国 in 中华人民共合国, a typo
        # in a phrase) is dropped; at the same span a known variant beats a near-miss.
        rank = {"variant": 0, "phrase": 1, "custom": 2, "typo": 3, "outdated": 4}
        hits.sort(key=lambda h: (h.start, -(h.end - h.start), rank[h.kind]))
        kept: list[Hit] = []
        for h in hits:
            if any(k.start <= h.start and h.end <= k.end for k in kept[-8:]):
                continue
            kept.append(h)
        return kept

    def _near_miss(self, text: str, i: int, start: int, end: int, side: str) -> Hit | None:
        phrase = self.phrases[i]
        n = len(phrase)
        lo, hi = max(0, start - n - 1), min(len(text), end + n + 1)
        if phrase in text[lo:hi]:
            return None  # the correct phrase is right here
        for size in (n, n + 1, n - 1):
            a = start if side == "head" else end - size
            b = a + size
            if a < 0 or b > len(text):
                continue
            found = text[a:b]
            how = one_edit(phrase, found)
            if how is None:
                continue
            context = text[max(0, a - 2) : b + 2]
            if any(word in context for word in self.legit):
                return None
            return Hit("phrase", a, b, found, phrase, self.phrase_entries[i], how)
        return None


_FORMER_PLACE = re.compile(r"(?:原|前|撤销|撤并)(?:[\u4e00-\u9fff]{1,4}?[省市县区州旗]){1,3}$")


def quoted(text: str, start: int) -> bool:
    """True when ``start`` is inside a 《title》 (a cited document keeps its old name)."""
    open_at = text.rfind("《", max(0, start - 80), start)
    return open_at >= 0 and text.find("》", open_at, start) < 0


def effective(entry: dict[str, Any], local_date: date | None, overrides: dict[str, date]) -> date:
    if entry["name"] in overrides:
        return overrides[entry["name"]]
    if entry.get("level") == "local" and local_date is not None:
        return local_date
    return date.fromisoformat(entry["effective"])


def outdated_context_ok(text: str, hit: Hit) -> bool:
    """False when the name is history by its context: 原/前 before it, a longer name it is part of."""
    entry = hit.entry
    before = text[hit.start - 1] if hit.start > 0 else ""
    after = text[hit.end] if hit.end < len(text) else ""
    if before in ("原", "前") or text[max(0, hit.start - 2) : hit.start] in ("撤销", "撤并"):
        return False
    # 原临川市国土资源局: 原 before the place name that precedes the body's name
    if _FORMER_PLACE.search(text[max(0, hit.start - 14) : hit.start]):
        return False
    if before and before in entry.get("not_preceded_by", ""):
        return False
    if after and after in entry.get("not_followed_by", ""):
        return False
    if re.match(r"[（(](?:原|旧)", text[hit.end : hit.end + 3]):
        return False  # 临川市国土资源局（原网站）: labelled as the former body
    return not quoted(text, hit.start)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def reference_markdown() -> str:
    """The dictionaries as Markdown tables, with their sources (emitted into docs/rules.md)."""
    data = dictionary()
    out = [
        f"Dictionaries (`audits/data/wording.json`, version {data['version']}):",
        "",
        "Fixed phrases (wording.political_phrase: one interior character substituted, inserted "
        "or deleted; a same-sound substitute in phrases under 7 characters):",
        "",
        "| phrase | source |",
        "|---|---|",
    ]
    out += [f"| {p['phrase']} | {_cell(source_text(p['source']))} |" for p in data["phrases"]]
    out += ["", "Known wrong variants (wording.political_phrase):", ""]
    out += ["| wrong | right | source |", "|---|---|---|"]
    out += [
        f"| {v['wrong']} | {v['right']} | {_cell(source_text(v['source']))} |"
        for v in data["variants"]
    ]
    out += ["", "Common typos (wording.typo):", "", "| wrong | right | source |", "|---|---|---|"]
    out += [
        f"| {t['wrong']} | {t['right']} | {_cell(source_text(t['source']))} |"
        for t in data["typos"]
    ]
    out += [
        "",
        "Abolished institution names (wording.outdated_name; `local` dates can be set with "
        "`local_reform_date` / `reform_dates`):",
        "",
        "| name | replaced by | effective | level | source |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {o['name']} | {o['replaced_by']} | {o['effective']} | {o['level']} | "
        f"{_cell(source_text(o['source']))} |"
        for o in data["outdated"]
    ]
    return "\n".join(out) + "\n"
