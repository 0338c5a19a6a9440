/* The message browser's live tail (topic page): a websocket to the shared tail reader of the topic.
   Paused while the tab is hidden, so a tab nobody looks at costs the broker nothing. No inline scripts (CSP). */
(function () {
  "use strict";
  var MAX_ROWS = 200; // rows kept on the page; older ones are dropped

  function start(section) {
    var toggle = section.querySelector("[data-tail-toggle]");
    var box = section.querySelector("[data-tail]");
    var rows = section.querySelector("[data-tail-rows]");
    var state = section.querySelector("[data-tail-state]");
    var form = section.querySelector("form.browse-form");
    if (!toggle || !box || !rows || !state || !form) return;
    var socket = null;
    var wanted = false;
    var count = 0;

    function say(text) { state.textContent = text; }

    function query() {
      var params = new URLSearchParams();
      ["partition", "q", "in"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) params.set(name, field.value);
      });
      return params.toString();
    }

    function send(action) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: action }));
    }

    function open() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + section.getAttribute("data-tail-url") + "?" + query());
      say("Connecting…");
      socket.addEventListener("open", function () {
        if (document.visibilityState === "hidden") send("pause");
      });
      socket.addEventListener("message", function (event) {
        var msg;
        try { msg = JSON.parse(event.data); } catch (e) { return; }
        if (msg.rows) {
          rows.insertAdjacentHTML("afterbegin", msg.rows); // drawn and escaped by the server's row template
          count += msg.count || 0;
          while (rows.children.length > MAX_ROWS) rows.removeChild(rows.lastElementChild);
          say("Live: " + count + " new record" + (count === 1 ? "" : "s") + " since the tail started (newest first).");
          section.dataset.tailRecords = String(count);
        } else if (msg.state === "live") {
          say(count ? "Live again; records that arrived while the tab was hidden are not shown." : "Live: waiting for new records…");
          section.dataset.tailState = "live";
        } else if (msg.state === "paused") {
          say("Paused while this tab is hidden.");
          section.dataset.tailState = "paused";
        } else if (msg.note) {
          say(msg.note);
        } else if (msg.error) {
          say(msg.error);
          wanted = false;
        }
      });
      socket.addEventListener("close", function () {
        socket = null;
        section.dataset.tailState = "closed";
        if (wanted) { say("Connection lost; reconnecting…"); setTimeout(function () { if (wanted && !socket) open(); }, 2000); }
        else { setPressed(false); }
      });
    }

    function setPressed(on) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Stop live tail" : "Live tail";
      box.hidden = !on && rows.children.length === 0;
    }

    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      wanted = !wanted;
      setPressed(wanted);
      if (wanted) {
        count = 0;
        rows.textContent = "";
        box.hidden = false;
        open();
      } else if (socket) {
        socket.close();
        say("Stopped.");
      }
    });
    document.addEventListener("visibilitychange", function () {
      send(document.visibilityState === "hidden" ? "pause" : "resume");
    });
    window.addEventListener("pagehide", function () { if (socket) socket.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("[data-tail-url]");
    if (section) start(section);
  });
})();
