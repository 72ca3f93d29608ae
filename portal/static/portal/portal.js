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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".log-lines").forEach(function (el) {
      el.scrollTop = el.scrollHeight;
    });
  });
})();
