/* innominatus portal: the little behaviour htmx does not cover. Everything works without it. */
(function () {
  "use strict";

  // Auto-follow: a log panel scrolled to its end stays at its end when new lines arrive.
  var following = new Map();

  function atBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  }

  document.addEventListener("htmx:beforeSwap", function () {
    following.clear();
    document.querySelectorAll(".log-lines").forEach(function (el) {
      following.set(el.id, atBottom(el));
    });
  });

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".log-lines").forEach(function (el) {
      if (following.get(el.id) !== false) {
        el.scrollTop = el.scrollHeight;
      }
    });
  });

  // A step's log panel opens when its first output arrives, unless the reader closed it on purpose.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    // Only new log lines open a panel (badge updates in the summary must not).
    if (!target || !target.classList || !target.classList.contains("log-lines")) { return; }
    var panel = target.closest("details.log-panel");
    if (panel && !panel.open && panel.dataset.closedByReader !== "true") {
      panel.open = true;
    }
  });

  document.addEventListener("click", function (event) {
    var summary = event.target.closest ? event.target.closest("details.log-panel > summary") : null;
    if (summary) {
      summary.parentElement.dataset.closedByReader = summary.parentElement.open ? "true" : "false";
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".log-lines").forEach(function (el) {
      el.scrollTop = el.scrollHeight;
    });
  });

  // --- Times in the viewer's time zone -------------------------------------------------------------
  var pad = function (n) { return String(n).padStart(2, "0"); };
  var zoneName = (function () {
    try {
      var part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(new Date())
        .find(function (p) { return p.type === "timeZoneName"; });
      return part ? part.value : "";
    } catch (e) { return ""; }
  })();

  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]:not([data-localised])").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) { return; }
      var clock = pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
      if (el.dataset.local === "time") {
        el.textContent = clock;
      } else {
        el.textContent = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
          " " + clock + (zoneName ? " " + zoneName : "");
      }
      el.title = date.toString();
      el.dataset.localised = "true";
    });
  }

  // --- Live elapsed timers of running steps ----------------------------------------------------------
  function formatSeconds(total) {
    total = Math.max(0, Math.floor(total));
    if (total < 60) { return total + "s"; }
    if (total < 3600) { return Math.floor(total / 60) + "m " + pad(total % 60) + "s"; }
    if (total < 86400) { return Math.floor(total / 3600) + "h " + pad(Math.floor(total % 3600 / 60)) + "m"; }
    return Math.floor(total / 86400) + "d " + Math.floor(total % 86400 / 3600) + "h";
  }

  setInterval(function () {
    document.querySelectorAll(".elapsed[data-ticking=true]").forEach(function (el) {
      var start = Date.parse(el.dataset.start);
      if (!isNaN(start)) { el.textContent = formatSeconds((Date.now() - start) / 1000); }
    });
  }, 1000);

  // --- Step graph: pan (drag), zoom (wheel, buttons), kept across live refreshes ---------------------
  var graphView = null; // [x, y, width, height] chosen by the reader; null = the whole graph

  function graphSvg() { return document.querySelector("[data-pan-zoom] svg"); }

  function fullBox(svg) {
    if (!svg.dataset.full) { svg.dataset.full = svg.getAttribute("viewBox"); }
    return svg.dataset.full.split(/[\s,]+/).map(Number);
  }

  function applyView(svg) {
    if (!svg) { return; }
    var full = fullBox(svg);
    var box = graphView || full;
    svg.setAttribute("viewBox", box.join(" "));
    svg.style.width = "100%";
    svg.style.height = Math.min(Math.max(full[3] * 1.33, 120), 520) + "px";
  }

  function zoom(factor, cx, cy) {
    var svg = graphSvg();
    if (!svg) { return; }
    var box = graphView || fullBox(svg);
    cx = cx === undefined ? box[0] + box[2] / 2 : cx;
    cy = cy === undefined ? box[1] + box[3] / 2 : cy;
    graphView = [cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, box[2] * factor, box[3] * factor];
    applyView(svg);
  }

  function toGraph(svg, event) {
    var box = graphView || fullBox(svg);
    var rect = svg.getBoundingClientRect();
    var scale = Math.max(box[2] / rect.width, box[3] / rect.height);
    return { x: box[0] + (event.clientX - rect.left) * scale, y: box[1] + (event.clientY - rect.top) * scale, scale: scale };
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-zoom]") : null;
    if (!button) { return; }
    if (button.dataset.zoom === "fit") { graphView = null; applyView(graphSvg()); }
    else { zoom(button.dataset.zoom === "in" ? 0.8 : 1.25); }
  });

  document.addEventListener("wheel", function (event) {
    var svg = event.target.closest ? event.target.closest("[data-pan-zoom] svg") : null;
    if (!svg || !event.ctrlKey && !event.metaKey) { return; } // plain scrolling keeps scrolling the page
    event.preventDefault();
    var at = toGraph(svg, event);
    zoom(event.deltaY < 0 ? 0.85 : 1 / 0.85, at.x, at.y);
  }, { passive: false });

  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    var svg = event.target.closest ? event.target.closest("[data-pan-zoom] svg") : null;
    if (!svg || event.button !== 0) { return; }
    drag = { svg: svg, start: toGraph(svg, event), box: (graphView || fullBox(svg)).slice(), moved: false, x: event.clientX, y: event.clientY };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > 4) { drag.moved = true; }
    if (!drag.moved) { return; }
    var scale = drag.start.scale;
    graphView = [drag.box[0] - (event.clientX - drag.x) * scale, drag.box[1] - (event.clientY - drag.y) * scale, drag.box[2], drag.box[3]];
    applyView(drag.svg);
  });
  document.addEventListener("pointerup", function () {
    if (drag && drag.moved) {
      // A drag is not a click on the node it ended on.
      var swallow = function (e) { e.preventDefault(); e.stopPropagation(); document.removeEventListener("click", swallow, true); };
      document.addEventListener("click", swallow, true);
      setTimeout(function () { document.removeEventListener("click", swallow, true); }, 0);
    }
    drag = null;
  });

  // --- Log panels: open on running/failed steps, on links to a step or a line -----------------------
  function openStepPanels() {
    document.querySelectorAll("#steps-table tr[data-step]").forEach(function (row) {
      var status = row.dataset.status;
      var panel = document.getElementById("step-" + row.dataset.step);
      if (!panel || panel.tagName !== "DETAILS" || panel.dataset.closedByReader === "true") { return; }
      if (status === "running" || status === "waiting" ||
          status === "failed" && panel.querySelector(".log-line")) { panel.open = true; }
    });
  }

  function followHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) { return; }
    var panel = target.closest("details.log-panel");
    if (panel) { panel.open = true; }
    document.querySelectorAll(".log-line.selected").forEach(function (el) { el.classList.remove("selected"); });
    if (target.classList.contains("log-line")) { target.classList.add("selected"); }
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", followHash);

  // --- Log search: hides lines that do not match, opens panels that do -----------------------------
  function searchLogs() {
    var input = document.querySelector("[data-log-search]");
    if (!input) { return; }
    var query = input.value.trim().toLowerCase();
    var hits = 0;
    document.querySelectorAll(".log-line").forEach(function (line) {
      var text = (line.querySelector(".msg") || line).textContent.toLowerCase();
      var match = !query || text.indexOf(query) !== -1;
      line.hidden = !match;
      if (query && match) {
        hits += 1;
        var panel = line.closest("details.log-panel");
        if (panel) { panel.open = true; }
      }
    });
    var count = document.getElementById("log-search-count");
    if (count) { count.textContent = query ? hits + (hits === 1 ? " line" : " lines") : ""; }
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-log-search]")) { searchLogs(); }
  });

  // --- Event stream: refresh at once on a change; polling stays as the fallback ----------------------
  function connectStream() {
    var live = document.getElementById("live");
    if (!live || !live.dataset.execution || !window.EventSource || !window.htmx) { return; }
    var stream = new EventSource("/api/events/stream?execution=" + encodeURIComponent(live.dataset.execution) +
      "&types=" + encodeURIComponent("execution.,step."));
    var pending = null;
    var refresh = function () {
      if (pending) { return; }
      pending = setTimeout(function () {
        pending = null;
        var current = document.getElementById("live");
        if (current && current.dataset.following === "true") {
          window.htmx.trigger(current, "refresh");
          var poller = document.getElementById("log-poller");
          if (poller && poller.getAttribute("hx-get")) { window.htmx.trigger(poller, "refresh"); }
        } else {
          stream.close();
        }
      }, 150);
    };
    ["execution.started", "execution.succeeded", "execution.failed", "execution.cancelled",
      "execution.waiting_approval", "step.started", "step.succeeded", "step.failed", "step.skipped",
      "step.cancelled"].forEach(function (type) { stream.addEventListener(type, refresh); });
    stream.onmessage = refresh;
    // No stream on this server (404) or the connection failed for good: polling carries on alone.
    stream.onerror = function () { if (stream.readyState === EventSource.CLOSED) { stream.close(); } };
  }

  // A region that scrolls sideways (a wide table on a phone) must be reachable by keyboard.
  function focusableScrollers() {
    document.querySelectorAll(".table-wrap, .graph-wrap").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) {
        if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "0"); }
        if (!el.hasAttribute("role")) { el.setAttribute("role", "region"); }
        if (!el.hasAttribute("aria-label")) {
          var heading = el.closest("section") && el.closest("section").querySelector("h2, h3");
          el.setAttribute("aria-label", (heading ? heading.textContent.trim() + ": " : "") + "scrollable");
        }
      }
    });
  }
  window.addEventListener("resize", focusableScrollers);

  document.addEventListener("htmx:afterSettle", function (event) {
    focusableScrollers();
    localTimes(event.target);
    openStepPanels();
    applyView(graphSvg());
    searchLogs();
  });

  document.addEventListener("DOMContentLoaded", function () {
    focusableScrollers();
    localTimes(document);
    applyView(graphSvg());
    openStepPanels();
    followHash();
    connectStream();
  });
})();

