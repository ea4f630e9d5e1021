(function () {
  "use strict";
  // Sort any table.sortable by clicking its header; numbers and dates sort naturally.
  function cellKey(row, idx) {
    var cell = row.cells[idx];
    if (!cell) return "";
    var v = cell.getAttribute("data-sort");
    if (v === null) v = cell.textContent.trim();
    return v;
  }
  function compare(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    if (!isNaN(na) && !isNaN(nb) && /^-?[\d.]+$/.test(a) && /^-?[\d.]+$/.test(b)) return na - nb;
    return a.localeCompare(b, "zh-CN");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, idx) {
      th.setAttribute("role", "button");
      th.setAttribute("tabindex", "0");
      th.title = "点击排序";
      var sort = function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (r1, r2) {
          var c = compare(cellKey(r1, idx), cellKey(r2, idx));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  });
  // Filter every finding row by text, severity, state and unit.
  var q = document.getElementById("f-text");
  var sev = document.getElementById("f-sev");
  var state = document.getElementById("f-state");
  var unit = document.getElementById("f-unit");
  var counter = document.getElementById("f-count");
  function apply() {
    var text = (q.value || "").trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll("tr.finding").forEach(function (tr) {
      var ok = (!sev.value || tr.getAttribute("data-sev") === sev.value) &&
        (!state.value || tr.getAttribute("data-state") === state.value ||
          (state.value === "overdue" && tr.getAttribute("data-overdue") === "1")) &&
        (!unit.value || tr.getAttribute("data-unit") === unit.value) &&
        (!text || tr.textContent.toLowerCase().indexOf(text) !== -1);
      tr.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll("section.rule").forEach(function (sec) {
      sec.hidden = sec.querySelectorAll("tr.finding:not([hidden])").length === 0;
    });
    document.querySelectorAll("section.unit").forEach(function (sec) {
      sec.hidden = !!(sev.value || state.value || unit.value || text) &&
        sec.querySelectorAll("tr.finding:not([hidden])").length === 0;
    });
    counter.textContent = "显示 " + shown + " 条";
  }
  [q, sev, state, unit].forEach(function (el) {
    if (el) el.addEventListener(el === q ? "input" : "change", apply);
  });
  if (q && sev && state && unit && counter) apply();
})();
