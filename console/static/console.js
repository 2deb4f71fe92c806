// Muster console behaviour: keyboard shortcuts, reveal/greyscale, the
// message area for htmx errors. No inline handlers (CSP script-src 'self').
(function () {
  "use strict";

  function flash(msg) {
    var f = document.getElementById("flash");
    if (f) { f.textContent = msg; }
  }

  document.addEventListener("htmx:responseError", function (ev) {
    var x = ev.detail.xhr;
    flash(x && x.responseText ? x.responseText : "The request failed.");
    var lease = document.getElementById("lease");
    if (lease && ev.detail.elt && ev.detail.elt.id === "heartbeat" && x && x.status === 409) {
      lease.classList.add("lost");
      lease.textContent = "Your lease on this item was lost: it went back to its queue. Reload to see who holds it.";
    }
  });
  document.addEventListener("htmx:sendError", function () { flash("The server cannot be reached."); });

  function typing(el) {
    if (!el) { return false; }
    var t = el.tagName;
    return t === "INPUT" && !/^(radio|checkbox|button|submit)$/i.test(el.type) || t === "TEXTAREA" || t === "SELECT" || el.isContentEditable;
  }

  function toggleReveal() {
    document.querySelectorAll(".design.sensitive").forEach(function (d) {
      d.classList.toggle("revealed");
      d.classList.toggle("blurred", !d.classList.contains("revealed"));
      document.body.classList.toggle("revealed-all", d.classList.contains("revealed"));
    });
    var revealed = document.body.classList.contains("revealed-all");
    document.querySelectorAll("[data-reveal]").forEach(function (b) { b.setAttribute("aria-pressed", revealed ? "true" : "false"); });
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-reveal], .design.sensitive");
    if (t) { ev.preventDefault(); toggleReveal(); return; }
    if (ev.target.closest("[data-help]")) { var h = document.getElementById("help"); if (h) { h.showModal(); } return; }
    if (ev.target.closest("[data-grey]")) { document.querySelectorAll(".design").forEach(function (d) { d.classList.toggle("grey"); }); }
  });

  // Market rows of the decision form: j/k move, a/b set the outcome of the
  // focused row, or of every row when none is focused.
  function marketRows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-market]")); }
  function navRows() { return Array.prototype.slice.call(document.querySelectorAll(".nav-row")); }
  var current = -1;

  function focusRow(rows, i) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("focused", j === current); });
    var r = rows[current];
    var target = r.querySelector("input:checked") || r.querySelector("input, a") || r;
    target.focus();
  }

  function setOutcome(outcome) {
    var rows = marketRows();
    if (!rows.length) { return false; }
    var targets = current >= 0 ? [rows[current]] : rows;
    targets.forEach(function (r) {
      var input = r.querySelector('input[value="' + outcome + '"]');
      if (input) { input.checked = true; }
    });
    var reason = document.getElementById("reason");
    if (reason && !reason.value) {
      var opt = reason.querySelector('option[data-outcome="' + outcome + '"]');
      if (opt) { reason.value = opt.value; }
    }
    flash((current >= 0 ? rows[current].getAttribute("data-market") : "All markets") + ": " + outcome);
    return true;
  }

  function click(sel) { var b = document.querySelector(sel); if (b) { b.click(); return true; } return false; }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (ev.key === "Escape") { if (typing(document.activeElement)) { document.activeElement.blur(); } return; }
    if (typing(ev.target)) { return; }
    var help = document.getElementById("help");
    if (help && help.open && ev.key !== "?") { return; } // the help is modal
    // Enter on a focused button or link activates that control, not "submit & next".
    if (ev.key === "Enter" && ev.target.closest && ev.target.closest("button, a, summary, dialog")) { return; }
    var handled = true;
    switch (ev.key) {
      case "?": if (help) { if (help.open) { help.close(); } else { help.showModal(); } } break;
      case "a": handled = setOutcome("allow"); break;
      case "b": handled = setOutcome("block"); break;
      case "n": case "Enter": handled = click("[data-key=submit]"); break;
      case "s": handled = click("[data-key=skip]"); break;
      case "e": var e = document.getElementById("escalate-comment"); if (e) { e.focus(); } else { handled = false; } break;
      case "c": var c = document.getElementById("comment-body"); if (c) { c.focus(); } else { handled = false; } break;
      case "r": toggleReveal(); break;
      case "g": document.querySelectorAll(".design").forEach(function (d) { d.classList.toggle("grey"); }); break;
      case "j": case "k":
        var rows = marketRows().length ? marketRows() : navRows();
        if (!rows.length) { handled = false; break; }
        focusRow(rows, current + (ev.key === "j" ? 1 : -1));
        break;
      case "x":
        var xr = navRows();
        var box = current >= 0 && xr[current] ? xr[current].querySelector('input[type="checkbox"]') : null;
        if (box) { box.checked = !box.checked; } else { handled = false; }
        break;
      case "o":
        var nr = navRows();
        if (current >= 0 && nr[current]) { var a = nr[current].querySelector("a"); if (a) { a.click(); } } else { handled = false; }
        break;
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); }
  });
})();
