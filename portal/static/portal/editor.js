/* innominatus spec editor: line numbers and YAML highlighting over a plain <textarea>.
 * Small and self-contained (no CDN, no dependency). The textarea stays the form field: without this
 * script, or for assistive technology, it is an ordinary textarea. */
(function () {
  "use strict";

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  var SCALAR = /^(true|false|null|yes|no|on|off|~)$/i;
  var NUMBER = /^-?\d+(\.\d+)?$/;

  function highlightValue(text) {
    var trimmed = text.trim();
    var html = escapeHtml(text).replace(/\$\{[^}]*\}/g, function (m) { return '<span class="nv">' + m + "</span>"; });
    if (/^["']/.test(trimmed)) { return '<span class="s">' + html + "</span>"; }
    if (SCALAR.test(trimmed)) { return '<span class="kc">' + html + "</span>"; }
    if (NUMBER.test(trimmed)) { return '<span class="m">' + html + "</span>"; }
    return html;
  }

  function highlightLine(line) {
    var comment = "";
    var hash = line.search(/(^|\s)#/);
    if (hash !== -1) {
      comment = '<span class="c">' + escapeHtml(line.slice(hash)) + "</span>";
      line = line.slice(0, hash);
    }
    var match = /^(\s*(?:-\s+)?)([^\s:#][^:#]*?)(:)(\s|$)(.*)$/.exec(line);
    if (match) {
      return escapeHtml(match[1]) + '<span class="nt">' + escapeHtml(match[2]) + '</span><span class="p">:</span>' +
        match[4] + highlightValue(match[5]) + comment;
    }
    var item = /^(\s*-\s+)(.*)$/.exec(line);
    if (item) { return escapeHtml(item[1]) + highlightValue(item[2]) + comment; }
    return highlightValue(line) + comment;
  }

  function enhance(textarea) {
    var wrap = document.createElement("div");
    wrap.className = "editor";
    var gutter = document.createElement("div");
    gutter.className = "editor-gutter";
    gutter.setAttribute("aria-hidden", "true");
    var body = document.createElement("div");
    body.className = "editor-body";
    var pre = document.createElement("pre");
    pre.className = "editor-highlight code";
    pre.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(wrap, textarea);
    body.appendChild(pre);
    body.appendChild(textarea);
    wrap.appendChild(gutter);
    wrap.appendChild(body);
    textarea.classList.add("editor-input");

    function render() {
      var lines = textarea.value.split("\n");
      pre.innerHTML = lines.map(highlightLine).join("\n") + "\n";
      var numbers = [];
      for (var i = 1; i <= lines.length; i++) { numbers.push(i); }
      gutter.textContent = numbers.join("\n");
      sync();
    }
    function sync() {
      pre.scrollTop = textarea.scrollTop;
      pre.scrollLeft = textarea.scrollLeft;
      gutter.scrollTop = textarea.scrollTop;
    }
    textarea.addEventListener("input", render);
    textarea.addEventListener("scroll", sync);
    textarea.addEventListener("keydown", function (event) {
      // Tab indents by two spaces (YAML); Escape then Tab leaves the editor, as a keyboard user expects.
      if (event.key === "Escape") { textarea.dataset.tabOut = "true"; return; }
      if (event.key !== "Tab" || event.shiftKey || textarea.dataset.tabOut === "true") {
        textarea.dataset.tabOut = "";
        return;
      }
      event.preventDefault();
      var start = textarea.selectionStart;
      textarea.setRangeText("  ", start, textarea.selectionEnd, "end");
      render();
    });
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-editor=yaml]").forEach(enhance);
  });
})();
