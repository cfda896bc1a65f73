/* gitqms registers: sort by a column (its heading's button), filter by text and by state.
   Works on the rows of the page shown; reads cell text only (textContent, data attributes),
   writes no HTML and loads nothing. */
(function () {
  "use strict";

  function key(cell) {
    var sort = cell.getAttribute("data-sort");
    return (sort !== null ? sort : cell.textContent).trim().toLowerCase();
  }

  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function setUp(wrap) {
    var table = wrap.querySelector("table");
    if (!table || !table.tBodies.length) return;
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var tools = wrap.previousElementSibling;
    var filter = tools && tools.querySelector(".qms-filter");
    var state = tools && tools.querySelector(".qms-state-filter");
    var count = tools && tools.querySelector(".qms-count");

    heads.forEach(function (th, column) {
      var button = th.querySelector("button.qms-sort");
      if (!button) return;
      button.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[column]), key(b.cells[column]));
          return up ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });

    function apply() {
      var words = filter ? filter.value.trim().toLowerCase() : "";
      var wanted = state ? state.value : "";
      var shown = 0;
      Array.prototype.forEach.call(body.rows, function (row) {
        var cell = row.querySelector("td.qms-state");
        var ok = (!words || row.textContent.toLowerCase().indexOf(words) >= 0)
          && (!wanted || (cell && cell.getAttribute("data-state") === wanted));
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      if (count) count.textContent = shown + " of " + body.rows.length + " shown";
    }

    if (filter) filter.addEventListener("input", apply);
    if (state) state.addEventListener("change", apply);
    if (tools && tools.classList.contains("qms-register-tools")) {
      tools.hidden = false;
      apply();
    }
  }

  function start() {
    document.querySelectorAll("[data-qms-register]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
