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
    var panel = target && target.closest ? target.closest("details.log-panel") : null;
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
})();
