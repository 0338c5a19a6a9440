/* Kafka dashboard: data age, websocket state, lag chart, cluster switch. No inline scripts (CSP). */
(function () {
  "use strict";

  function ageText(seconds) {
    if (seconds < 2) return "just now";
    if (seconds < 60) return Math.round(seconds) + " s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + Math.round(seconds % 60) + " s ago";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min ago";
  }

  function tickAges() {
    document.querySelectorAll("time[data-age]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) return;
      var age = Math.max(0, (Date.now() - t) / 1000);
      el.textContent = ageText(age);
      el.title = el.getAttribute("datetime");
      el.classList.toggle("old", age > 30);
    });
  }

  function setWsState(text, cls) {
    document.querySelectorAll("[data-ws-state]").forEach(function (el) {
      // Connected but the cluster is unreachable: the data is stale, not live (the server marks it).
      var stale = el.hasAttribute("data-stale") && cls === "open";
      el.textContent = stale ? "stale" : text;
      el.className = "ws-state " + (stale ? "stale" : (cls || ""));
    });
    document.body.dataset.ws = cls || "";
  }

  var charts = {};

  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-chart=lag]").forEach(function (box) {
      var dataEl = box.querySelector("script[type='application/json']");
      if (!dataEl) return;
      var d = JSON.parse(dataEl.textContent);
      var id = box.id;
      if (charts[id]) { charts[id].destroy(); delete charts[id]; }
      if (!d.t || d.t.length < 2) return;
      var width = Math.max(320, box.clientWidth - 8);
      charts[id] = new uPlot({
        width: width,
        height: 260,
        scales: { x: { time: true }, lag: { auto: true }, secs: { auto: true } },
        axes: [
          {},
          { scale: "lag", label: "messages", size: 70 },
          { scale: "secs", side: 1, label: "seconds", grid: { show: false }, size: 60 }
        ],
        series: [
          {},
          { label: "lag", scale: "lag", stroke: "#2457c5", width: 2, fill: "rgba(36,87,197,0.08)" },
          { label: "time lag (s)", scale: "secs", stroke: "#b7791f", width: 1.5, dash: [4, 3] }
        ]
      }, [d.t, d.lag, d.time_lag], box);
    });
  }

  /* A card whose table is wider than a phone scrolls sideways: keyboard users must reach it too. */
  function markScrollable() {
    document.querySelectorAll(".card").forEach(function (card) {
      if (card.scrollWidth > card.clientWidth + 1) {
        card.setAttribute("tabindex", "0");
        if (!card.hasAttribute("aria-label")) {
          var title = card.querySelector("h2");
          card.setAttribute("aria-label", title ? title.textContent.trim() : "table");
        }
        if (card.tagName === "DIV" && !card.hasAttribute("role")) card.setAttribute("role", "region");
      } else if (card.getAttribute("tabindex") === "0") {
        card.removeAttribute("tabindex");
      }
    });
  }

  /* Actions on "selected" records stay disabled until a record of their form is selected. */
  function syncSelectionActions(form) {
    var any = form.querySelector("input[type=checkbox][name=key]:checked") !== null;
    form.querySelectorAll("[data-needs-selection]").forEach(function (b) {
      b.disabled = !any;
      if (any) b.removeAttribute("title"); else b.title = "select records below first";
    });
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (e.target.name === "key" && form && form.querySelector("[data-needs-selection]")) syncSelectionActions(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (f) { if (f.querySelector("[data-needs-selection]")) syncSelectionActions(f); });
    markScrollable();
    window.addEventListener("resize", markScrollable);
    tickAges();
    setInterval(tickAges, 1000);
    drawCharts();
    var sw = document.querySelector("[data-cluster-switch]");
    if (sw) sw.addEventListener("change", function () { window.location = "/c/" + encodeURIComponent(sw.value) + "/"; });
  });
  window.addEventListener("load", drawCharts);

  /* Live updates replace whole fragments; the focused link or control would go with them and focus
     fall back to <body> every few seconds. Remember what had focus (its fragment, tag, href or name,
     and its position among its likes) before the swap and focus its twin afterwards. */
  var focusKey = null;

  function keyOf(el) {
    if (!el || el === document.body || el === document.documentElement) return null;
    var root = el.parentElement && el.parentElement.closest("[id]");
    if (el.id) return { id: el.id };
    if (!root) return null;
    var attr = el.hasAttribute("href") ? "href" : el.hasAttribute("name") ? "name" : null;
    var likes = candidates(root, el.tagName, attr, attr && el.getAttribute(attr));
    return { root: root.id, tag: el.tagName, attr: attr, value: attr && el.getAttribute(attr), index: likes.indexOf(el) };
  }

  function candidates(root, tag, attr, value) {
    return Array.prototype.filter.call(root.getElementsByTagName(tag), function (c) {
      return !attr || c.getAttribute(attr) === value;
    });
  }

  function restoreFocus(key) {
    if (!key || (document.activeElement && document.activeElement !== document.body)) return;
    var target = null;
    if (key.id) {
      target = document.getElementById(key.id);
    } else {
      var root = document.getElementById(key.root);
      var likes = root ? candidates(root, key.tag, key.attr, key.value) : [];
      target = likes[key.index] || likes[0] || null;
    }
    if (target && typeof target.focus === "function") target.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:wsBeforeMessage", function () { focusKey = keyOf(document.activeElement); });

  document.addEventListener("htmx:wsOpen", function () { setWsState("live", "open"); });
  document.addEventListener("htmx:wsClose", function () { setWsState("reconnecting…", "closed"); });
  document.addEventListener("htmx:wsError", function () { setWsState("reconnecting…", "closed"); });
  document.addEventListener("htmx:wsAfterMessage", function () {
    restoreFocus(focusKey);
    focusKey = null;
    markScrollable();
    tickAges();
    setWsState("live", "open");
    drawCharts();
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
})();
