// The queue's bulk selection: tick rows (Shift-click, or Shift+Space, ticks the range from the row
// ticked last), the "N selected" count in the sticky action bar, and "select all matching this
// filter". Kept out of the page itself: the CSP forbids inline script.
(function () {
  "use strict";
  var anchor = null; // the box last ticked or unticked: one end of a Shift range
  var shiftHeld = false; // a click made with the keyboard (Space) carries no shiftKey of its own

  function bar() { return document.getElementById("bulk-form"); }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#results input.pick")); }
  function scoped() { return document.querySelector('input[name="scope"][form="bulk-form"]'); }

  function dropFilterScope() {
    var matching = document.getElementById("bulk-matching");
    if (matching && scoped()) matching.replaceChildren();
  }

  function refresh() {
    var form = bar();
    if (!form) return;
    var all = boxes();
    var ticked = all.filter(function (box) { return box.checked; });
    var total = scoped() && document.querySelector("[data-bulk-total]");
    form.querySelector("[data-bulk-count]").textContent = total ? total.textContent : String(ticked.length);
    form.classList.toggle("is-active", ticked.length > 0 || !!total || form.hasAttribute("data-bulk-keep"));
    var page = document.querySelector("#results input.pick-page");
    if (page) {
      page.checked = all.length > 0 && ticked.length === all.length;
      page.indeterminate = ticked.length > 0 && ticked.length < all.length;
    }
    var everything = document.querySelector("#results [data-bulk-all]");
    if (everything) everything.hidden = !!total || all.length === 0 || ticked.length < all.length;
  }

  function tickRange(from, to, checked) {
    var all = boxes();
    var a = all.indexOf(from), b = all.indexOf(to);
    if (a < 0 || b < 0) return;
    all.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (box) { box.checked = checked; });
  }

  function tickAll(checked) {
    boxes().forEach(function (box) { box.checked = checked; });
    anchor = null;
  }

  document.addEventListener("keydown", function (event) { shiftHeld = event.shiftKey; });
  document.addEventListener("keyup", function (event) { shiftHeld = event.shiftKey; });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.matches) return;
    if (target.matches("#results input.pick")) {
      var shift = event.shiftKey || (event.detail === 0 && shiftHeld);
      if (shift && anchor && anchor !== target && document.contains(anchor)) tickRange(anchor, target, target.checked);
      anchor = target;
    } else if (target.matches("#results input.pick-page")) {
      tickAll(target.checked);
    } else if (target.closest("[data-bulk-clear]")) {
      tickAll(false);
    } else {
      return;
    }
    dropFilterScope();
    refresh();
  });

  // New rows (a page, a filter, the answer to a change) or the "all matching" count swapped in.
  document.addEventListener("htmx:after:swap", function () {
    if (anchor && !document.contains(anchor)) anchor = null;
    refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);
})();
