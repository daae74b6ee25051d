// Keyboard shortcuts for people who spend hours in the queue. Everything also
// works without JavaScript; this file only adds speed. No inline script (CSP).
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody a"));
  }

  function moveInQueue(step) {
    var rows = queueRows();
    if (!rows.length) return;
    var index = rows.indexOf(document.activeElement);
    var next = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + step));
    rows[next].focus();
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd+Enter sends the form being typed in (the reply, a note).
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && typing(event.target)) {
      var form = event.target.form;
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var reply = document.getElementById("id_reply");
    var filter = document.getElementById("f-status");
    if (event.key === "j") { moveInQueue(1); event.preventDefault(); }
    else if (event.key === "k") { moveInQueue(-1); event.preventDefault(); }
    else if (event.key === "/" && filter) { filter.focus(); event.preventDefault(); }
    else if (event.key === "r" && reply) { reply.focus(); event.preventDefault(); }
    else if (event.key === "g" && document.querySelector("a[data-queue]")) {
      window.location = document.querySelector("a[data-queue]").href;
    }
  });
})();
