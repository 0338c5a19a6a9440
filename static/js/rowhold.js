/* Live updates never move the row under the pointer: while the pointer is over a table, or focus is
   inside it, an update keeps that table's row order (the values change in place, new rows come
   last) and the order the server sent is applied once the pointer and focus have left. A row is
   known by its data-key, else by its first cell's text (the group, topic or DLQ name). */
(function () {
  "use strict";

  function rowKey(tr) {
    return tr.getAttribute("data-key") || (tr.cells[0] ? tr.cells[0].textContent.trim() : "");
  }

  function held(table) {
    return table.matches(":hover") || table.contains(document.activeElement);
  }

  function bodyRows(table) {
    return table.tBodies[0] ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  }

  /* Put the rows of `table` in the order of `keys`; rows whose key is not listed keep their order, last. */
  function arrange(table, keys) {
    var body = table.tBodies[0];
    if (!body) return;
    var byKey = {};
    bodyRows(table).forEach(function (tr) { (byKey[rowKey(tr)] = byKey[rowKey(tr)] || []).push(tr); });
    keys.forEach(function (k) {
      var list = byKey[k];
      if (list && list.length) body.appendChild(list.shift());
    });
    Object.keys(byKey).forEach(function (k) { byKey[k].forEach(function (tr) { body.appendChild(tr); }); });
  }

  function sameOrder(a, b) {
    return a.length === b.length && a.every(function (k, i) { return k === b[i]; });
  }

  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    var fragment = e.detail && e.detail.fragment;
    if (!target || !fragment || !fragment.querySelectorAll) return;
    var before = target.querySelectorAll("table");
    var after = fragment.querySelectorAll("table");
    for (var i = 0; i < before.length && i < after.length; i++) {
      if (!held(before[i])) continue;
      var shown = bodyRows(before[i]).map(rowKey);
      var sent = bodyRows(after[i]).map(rowKey);
      if (sameOrder(shown, sent)) continue;
      arrange(after[i], shown);
      after[i].setAttribute("data-held-order", JSON.stringify(sent));
    }
  });

  function release() {
    document.querySelectorAll("table[data-held-order]").forEach(function (table) {
      if (held(table)) return;
      var keys = JSON.parse(table.getAttribute("data-held-order"));
      table.removeAttribute("data-held-order");
      arrange(table, keys);
    });
  }

  function soon() { window.setTimeout(release, 0); }

  document.addEventListener("mouseout", soon);
  document.addEventListener("focusout", soon);
  document.addEventListener("htmx:wsAfterMessage", soon);
})();
