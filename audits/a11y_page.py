"""The page side of the accessibility audit: the scripts run in Chromium (axe, highlight, the
无障碍 entry), the static entry check, and the DOM-structure signature used to audit one page
per template.

Knows nothing of the plugin's options, findings or the browser pool.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from core.snapshot import Page

TOOLBAR_PATTERN = r"wza|cniil|assist|barrier|accessib|aria\.js|slh\.js|toolbar_old|zhangai"

IMPACT_RANK = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3}

# axe is there (from the tab's init script) and is ours, not a page's own ``axe``.
AXE_READY_JS = """
(version) => typeof axe === 'object' && axe !== null && typeof axe.run === 'function'
  && axe.version === version
"""

AXE_RUN_JS = """
async ([context, options, maxNodes]) => {
  const r = await axe.run(context || document, options);
  const cut = (s, n) => (s && s.length > n ? s.slice(0, n) + '…' : (s || ''));
  return {
    rules: r.violations.length + r.passes.length + r.inapplicable.length + r.incomplete.length,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, tags: v.tags, help: v.help, helpUrl: v.helpUrl,
      description: v.description, node_count: v.nodes.length,
      nodes: v.nodes.slice(0, maxNodes).map(n => ({
        target: n.target, html: cut(n.html, 300), impact: n.impact,
        summary: cut(n.failureSummary, 400),
      })),
    })),
  };
}
"""

# Outlines the element and returns a viewport clip around it (null: use the viewport).
HIGHLIGHT_JS = """
(selector) => {
  const el = document.querySelector(selector);
  if (!el || el === document.documentElement || el === document.body) return null;
  el.scrollIntoView({block: 'center', inline: 'nearest'});
  el.style.outline = '3px solid #e00';
  el.style.outlineOffset = '2px';
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return null;
  const vw = window.innerWidth, vh = window.innerHeight, pad = 60;
  const x = Math.max(0, r.left - pad), y = Math.max(0, r.top - pad);
  const w = Math.min(vw, r.right + pad) - x, h = Math.min(vh, r.bottom + pad) - y;
  if (w < 10 || h < 10) return null;
  return {x, y, width: w, height: h};
}
"""

# A 无障碍 entry: a link/button whose text, title, aria-label or alt names it, or a toolbar.
ENTRY_JS = """
([keywords, toolbar]) => {
  const re = new RegExp(toolbar, 'i');
  const sel = 'a, button, [role=button], [role=link], [onclick], area, input, img, span, li';
  for (const el of document.querySelectorAll(sel)) {
    const text = [el.innerText || el.textContent || '', el.getAttribute('title') || '',
      el.getAttribute('aria-label') || '', el.getAttribute('alt') || '',
      el.getAttribute('value') || ''].join(' ');
    if (text.length > 200) continue;
    const hit = keywords.find(k => text.includes(k));
    if (hit) return {found: true, via: 'link', keyword: hit, text: text.trim().slice(0, 80)};
  }
  for (const s of document.scripts) {
    if (s.src && re.test(s.src)) return {found: true, via: 'toolbar', text: s.src.slice(0, 200)};
  }
  for (const el of document.querySelectorAll('[id], [class]')) {
    const name = (el.id || '') + ' ' + (typeof el.className === 'string' ? el.className : '');
    if (/(^|[\\s_-])(wza|cniil|barrier-?free|zhangai)/i.test(name))
      return {found: true, via: 'toolbar', text: name.trim().slice(0, 80)};
  }
  return {found: false};
}
"""


def static_entry(html: str, keywords: list[str]) -> dict[str, Any]:
    """The same search on crawled HTML (when the homepage could not be rendered)."""
    from lxml import html as lxml_html

    try:
        doc = lxml_html.fromstring(html)
    except Exception:
        return {"found": False}
    for el in doc.iter("a", "button", "area", "input", "img", "span", "li"):
        text = " ".join(
            [el.text_content() or ""] + [el.get(a) or "" for a in ("title", "aria-label", "alt")]
        )
        if len(text) <= 200:
            hit = next((k for k in keywords if k in text), None)
            if hit:
                return {"found": True, "via": "link", "keyword": hit, "text": text.strip()[:80]}
    pattern = re.compile(TOOLBAR_PATTERN, re.I)
    for el in doc.iter("script"):
        src = el.get("src") or ""
        if src and pattern.search(src):
            return {"found": True, "via": "toolbar", "text": src[:200]}
    return {"found": False}


def _is_html_ok(page: Page) -> bool:
    ctype = (page.content_type or "").lower()
    return page.status_code == 200 and ("html" in ctype or not ctype)


def _selector(target: list[Any]) -> str:
    parts = [t if isinstance(t, str) else " ".join(map(str, t)) for t in target]
    return " >>> ".join(parts)


_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "br", "wbr"}
_DIGITS = re.compile(r"\d+")
_FRAME_TAGS = {
    "div",
    "ul",
    "ol",
    "dl",
    "section",
    "article",
    "nav",
    "header",
    "footer",
    "main",
    "aside",
    "form",
    "iframe",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}


def template_signature(html: str | None, url: str = "", max_depth: int = 7) -> str:
    """A hash of the page's DOM structure: tags, ids and classes (digits dropped) to
    ``max_depth``, with runs of identical siblings collapsed, so list pages with 5 or 50
    items, and articles with different text, fall in the same group."""
    if not html:
        path = _DIGITS.sub("N", urlsplit(url).path)
        return "path:" + hashlib.sha1(path.encode()).hexdigest()[:12]
    from lxml import html as lxml_html

    try:
        doc = lxml_html.fromstring(html)
    except Exception:
        return "unparsed:" + hashlib.sha1(url.encode()).hexdigest()[:12]

    def sig(el: Any, depth: int) -> str:
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in _SKIP_TAGS:
            return ""
        ident = _DIGITS.sub("", el.get("id") or "")
        classes = ".".join(sorted(_DIGITS.sub("", c) for c in (el.get("class") or "").split()))
        # Below the page frame, editor content (p, table, img …) varies from page to page:
        # keep only the template's own containers, which carry an id or a class.
        if depth > 3 and (tag not in _FRAME_TAGS or not (ident or classes)):
            return ""
        me = f"{tag}#{ident}.{classes}" if ident or classes else tag
        if depth >= max_depth:
            return me
        kids: list[str] = []
        for child in el:
            s = sig(child, depth + 1)
            if s and s not in kids:
                kids.append(s)
        return f"{me}({','.join(kids)})" if kids else me

    body = doc.find("body")
    root = body if body is not None else doc
    return hashlib.sha1(sig(root, 0).encode()).hexdigest()[:12]
