"""The in-browser half of the integrity audit: JavaScript run in a rendered page that judges
each link to another site by computed style and geometry (暗链), lists the scripts and
frames a page loads, finds known injection patterns in inline scripts, and reads the
homepage's title, 网站标识码 and chrome (header, navigation, footer).

Plain strings; knows nothing of Playwright or of findings.
"""

from __future__ import annotations

#: Helpers shared by the scripts below (prefixed to each).
_HELPERS = r"""
const SITE = new Set(arg.siteHosts);
const hostOf = (u) => { try { return new URL(u, location.href).hostname.toLowerCase(); } catch (e) { return ""; } };
const external = (a) => {
  const h = hostOf(a.href);
  const proto = (() => { try { return new URL(a.href, location.href).protocol; } catch (e) { return ""; } })();
  return h && (proto === "http:" || proto === "https:") && !SITE.has(h);
};
const rgb = (s) => { const m = (s || "").match(/[\d.]+/g); return m ? m.map(Number) : null; };
const bgOf = (el) => {
  for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && (c.length < 4 || c[3] > 0.5)) return c;
    if (getComputedStyle(e).backgroundImage !== "none") return null;  // an image: unknown
  }
  return [255, 255, 255];
};
const pageW = () => Math.max(document.documentElement.scrollWidth, innerWidth);
const pageH = () => Math.max(document.documentElement.scrollHeight, innerHeight);
// Why a link cannot be seen, or "" when it can. Also the element that hides it.
const hiddenHow = (a) => {
  for (let e = a; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.display === "none") return ["display:none", e];
    if (cs.visibility === "hidden" || cs.visibility === "collapse") return ["visibility:hidden", e];
    if (parseFloat(cs.opacity) === 0) return ["opacity:0", e];
    if (e.tagName === "MARQUEE") {
      const r = e.getBoundingClientRect();
      const amount = parseInt(e.getAttribute("scrollamount") || "6", 10);
      if (r.width <= 2 || r.height <= 2 || amount >= 500) return ["marquee", e];
    }
    if (cs.clipPath && cs.clipPath !== "none" && /inset\(\s*(50%|100%)|circle\(\s*0/.test(cs.clipPath)) return ["clip-path", e];
    if (cs.clip && /rect\(\s*0(px)?[ ,]+0(px)?[ ,]+0(px)?[ ,]+0/.test(cs.clip)) return ["clip", e];
  }
  const cs = getComputedStyle(a);
  if (parseFloat(cs.fontSize) === 0 && !a.querySelector("img")) return ["font-size:0", a];
  const r = a.getBoundingClientRect();
  const rects = Array.from(a.getClientRects());
  const w = rects.reduce((s, x) => s + x.width, 0), h = Math.max(0, ...rects.map((x) => x.height));
  if (w < 1 || h < 1) return ["zero size", a];
  const x = r.left + scrollX, y = r.top + scrollY;
  if (x + r.width <= 0 || y + r.height <= 0 || x >= pageW() || y >= pageH()) return ["off screen", a];
  for (let e = a.parentElement; e && e !== document.body; e = e.parentElement) {
    const ecs = getComputedStyle(e);
    const cut = (v) => v === "hidden" || v === "clip";
    if (!cut(ecs.overflowX) && !cut(ecs.overflowY)) continue;  // scrollable: reachable
    const b = e.getBoundingClientRect();
    if (r.right <= b.left || r.left >= b.right || r.bottom <= b.top || r.top >= b.bottom || b.width < 1 || b.height < 1)
      return ["clipped by overflow", e];
  }
  const fg = rgb(cs.color), bg = bgOf(a);
  if (fg && bg && (fg.length < 4 || fg[3] > 0.1)) {
    const d = Math.abs(fg[0] - bg[0]) + Math.abs(fg[1] - bg[1]) + Math.abs(fg[2] - bg[2]);
    if (d < 24) return ["text colour of its background", a];
  }
  return ["", null];
};
const describeEl = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
  (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "");
"""

#: Hidden links to other sites, after trying to reveal them as a visitor would: CSS :hover
#: and :focus rules that would show the hiding element, and mouseover/click on the tab
#: headers and menu items near it (navigation is prevented meanwhile).
HIDDEN_LINKS_JS = (
    "(arg) => {"
    + _HELPERS
    + r"""
  const candidates = [];
  for (const a of document.querySelectorAll("a[href]")) {
    if (!external(a)) continue;
    const [how, by] = hiddenHow(a);
    if (how) candidates.push({ a, how, by });
  }
  if (!candidates.length) return [];
  // 1. CSS rules with :hover / :focus / :focus-within that would show the hiding element.
  const hoverSelectors = [];
  const walk = (rules) => {
    for (const rule of rules) {
      if (rule.cssRules && !rule.selectorText) { try { walk(rule.cssRules); } catch (e) {} continue; }
      const sel = rule.selectorText || "";
      if (!/:(hover|focus|focus-within|active)/.test(sel)) continue;
      const st = rule.style;
      if (!st || !(st.display && st.display !== "none" || st.visibility === "visible" || st.opacity || st.height || st.left || st.top || st.overflow)) continue;
      for (const part of sel.split(",")) {
        const plain = part.replace(/:(hover|focus-within|focus|active)/g, "").trim();
        if (plain) hoverSelectors.push(plain);
      }
    }
  };
  for (const sheet of document.styleSheets) { try { walk(sheet.cssRules); } catch (e) {} }
  const revealedByCss = (c) => {
    for (let e = c.by; e && e.nodeType === 1; e = e.parentElement) {
      for (const sel of hoverSelectors) { try { if (e.matches(sel)) return true; } catch (err) {} }
      if (e === document.body) break;
    }
    return false;
  };
  // 2. Scripted tabs and menus: mouseover / mouseenter / click on the elements near the
  //    hiding element that look like triggers; a link that then shows was only in a closed tab.
  const stop = (ev) => { if (ev.target.closest && ev.target.closest("a[href]")) ev.preventDefault(); };
  document.addEventListener("click", stop, true);
  const tried = new Set();
  const triggerLike = (e) => e.hasAttribute("onclick") || e.hasAttribute("onmouseover") ||
    e.hasAttribute("onmouseenter") || e.getAttribute("role") === "tab" ||
    /tab|menu|nav|title|head|hd|btn|item/i.test((typeof e.className === "string" ? e.className : "") + " " + e.id) ||
    e.tagName === "LI";
  const poke = (e) => {
    for (const type of ["mouseover", "mouseenter", "focus", "click"]) {
      try { e.dispatchEvent(new MouseEvent(type, { bubbles: type !== "mouseenter", cancelable: true, view: window })); } catch (err) {}
    }
  };
  const out = [];
  for (const c of candidates) {
    let revealed = revealedByCss(c) ? "css" : "";
    if (!revealed) {
      let scope = c.by.parentElement;
      for (let level = 0; level < 3 && scope && !revealed; level++, scope = scope.parentElement) {
        const triggers = Array.from(scope.querySelectorAll("*"))
          .filter((e) => !c.by.contains(e) && !e.contains(c.by) && triggerLike(e) && !hiddenHow(e)[0])
          .slice(0, 60);
        for (const t of triggers) {
          if (tried.has(t) && !revealed) { /* poke again: tabs toggle */ }
          tried.add(t);
          poke(t);
          if (!hiddenHow(c.a)[0]) { revealed = "script"; break; }
        }
      }
    }
    if (revealed) continue;
    out.push({ href: c.a.href, text: (c.a.textContent || "").trim().slice(0, 120), how: c.how,
               by: describeEl(c.by), html: c.a.outerHTML.slice(0, 300) });
  }
  document.removeEventListener("click", stop, true);
  return out;
}"""
)

#: Scripts and frames a page loads, inline-script injection patterns, links with spam text,
#: and (for the homepage) its title, 网站标识码 and chrome.
PAGE_FACTS_JS = (
    "(arg) => {"
    + _HELPERS
    + r"""
  const resources = [];
  for (const e of document.querySelectorAll("script[src], iframe[src], frame[src], embed[src], object[data]")) {
    const src = e.getAttribute("src") || e.getAttribute("data");
    let abs = ""; try { abs = new URL(src, location.href).href; } catch (err) { continue; }
    resources.push({ tag: e.tagName.toLowerCase(), src: abs, host: hostOf(abs) });
  }
  const patterns = [];
  for (const s of document.querySelectorAll("script:not([src])")) {
    const code = s.textContent || "";
    const checks = [
      ["document.write of a frame or script", /document\.write(ln)?\s*\(\s*(unescape\s*\()?["'][^"']*<\s*(iframe|script)/i],
      ["document.write of an escaped payload", /document\.write(ln)?\s*\(\s*unescape\s*\(\s*["']%3c/i],
      ["packed eval payload", /eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[rd]\s*\)/],
      ["script redirect", /(window\.|document\.|top\.)?location(\.href)?\s*=\s*["']https?:\/\/([^"'\/]+)/i],
    ];
    for (const [name, re] of checks) {
      const m = code.match(re);
      if (!m) continue;
      if (name === "script redirect") {
        const host = (m[3] || "").toLowerCase();
        if (SITE.has(host) || !new RegExp(arg.hostPattern, "i").test(host)) continue;
      }
      patterns.push({ pattern: name, excerpt: code.slice(Math.max(0, m.index - 40), m.index + 160) });
    }
  }
  const spam = [];
  for (const a of document.querySelectorAll("a[href]")) {
    const text = (a.textContent || "") + " " + (a.getAttribute("title") || "");
    const term = arg.terms.find((t) => text.includes(t));
    if (term) spam.push({ href: a.href, text: text.trim().slice(0, 120), term });
  }
  const zone = (sels) => {
    for (const sel of sels) {
      const e = document.querySelector(sel);
      if (e) return (e.innerText || "").slice(0, 4000);
    }
    return "";
  };
  const meta = (n) => { const m = document.querySelector(`meta[name="${n}" i]`); return m ? (m.getAttribute("content") || "").trim() : ""; };
  const footer = zone(["footer", "#footer", ".footer", "#foot", ".foot", "#bottom", ".bottom", ".copyright"]);
  const code = meta("SiteIDCode") || ((footer || document.body.innerText).match(/网站标识码[:：\s]*([0-9A-Za-z]{6,})/) || [])[1] || "";
  return {
    resources, patterns, spam,
    title: document.title.trim(),
    sitecode: code,
    header: zone(["header", "#header", ".header", "#head", ".head", "#top", ".top"]),
    nav: zone(["nav", "#nav", ".nav", "#menu", ".menu", ".navbar"]),
    footer,
  };
}"""
)
