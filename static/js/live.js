// Live pages: the queue and the ticket page ask their own URL again every few seconds with the
// ETag they hold; the server answers 304 unless something they show changed (webapp/web/live.py).
// On a change the regions below are swapped from the fresh page and changed queue rows glow for a
// moment. Nothing someone is typing is ever replaced: a region holding an open editor, a focused
// control or ticked rows waits, and a notice offers to show the changes.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.dataset.live) return;
  var kind = main.dataset.live, etag = main.dataset.liveEtag, every = (+main.dataset.livePoll || 4) * 1000;
  var REGIONS = {
    queue: ["results", "notifications-bell"],
    ticket: ["ticket-title", "ticket-badges", "presence", "ticket-sidebar", "comment-count", "audit-count",
             "overview", "comment-list", "audit-log", "notifications-bell"]
  }[kind] || [];
  var waiting = {}, timer = null, busy = false;

  function presenceState() {
    if (document.querySelector("#overview form")) return "editing-overview";
    if (document.querySelector("#ticket-title form")) return "editing-title";
    var box = document.getElementById("comment-body");
    if (box && (box.value.trim() || document.activeElement === box)) return "commenting";
    return "viewing";
  }

  function held(region) {
    // Someone is working in it: an open form with a text box, focus inside, or ticked queue rows.
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return true;
    if (region.querySelector("form textarea, form input[type=text]:not([hidden]), .title-form, .comment-edit-form")) return true;
    return !!region.querySelector("input.pick:checked");
  }

  function glow(oldRegion, fresh) {
    var before = {};
    oldRegion.querySelectorAll("tr[data-id]").forEach(function (row) { before[row.dataset.id] = row.textContent; });
    fresh.querySelectorAll("tr[data-id]").forEach(function (row) {
      if (before[row.dataset.id] !== row.textContent) row.classList.add("live-changed");
    });
  }

  function swap(id, fresh) {
    var old = document.getElementById(id);
    if (!old) return;
    if (id === "results") {
      glow(old, fresh);
      // A bulk change's answer stays until the person moves on: the fresh queue does not carry it.
      var answer = old.querySelector(".bulk-answer"), title = fresh.querySelector(".results-title");
      if (answer && title && !fresh.querySelector(".bulk-answer")) title.after(answer);
    }
    old.replaceWith(fresh);
    if (window.htmx && htmx.process) htmx.process(fresh);
    delete waiting[id];
  }

  function notice() {
    var bar = document.getElementById("live-notice");
    if (!Object.keys(waiting).length) { if (bar) bar.remove(); return; }
    if (bar) return;
    var template = document.createElement("template");
    template.innerHTML = '<div id="live-notice" class="live-notice" role="status"><span></span> ' +
      '<button type="button" class="btn btn-sm">Show changes</button></div>';
    bar = template.content.firstChild;
    bar.querySelector("span").textContent =
      (kind === "ticket" ? "This ticket changed" : "The queue changed") + " while you were working.";
    bar.querySelector("button").addEventListener("click", function () {
      Object.keys(waiting).forEach(function (id) {
        var old = document.getElementById(id);
        if (old && old.querySelector("form textarea, .title-form")) return; // an open editor stays as typed
        swap(id, waiting[id]);
      });
      waiting = {};
      notice();
    });
    main.insertBefore(bar, main.firstChild);
  }

  function warnConflicts() {
    // Someone else editing the part I have open: say so beside my editor.
    ["title", "overview"].forEach(function (part) {
      var form = document.querySelector(part === "title" ? "#ticket-title form" : "#overview form");
      var other = document.querySelector('#presence .present[data-editing="' + part + '"]');
      var warning = form && form.querySelector(".presence-warning");
      if (form && other && !warning) {
        warning = document.createElement("p");
        warning.className = "alert alert-warn presence-warning";
        warning.setAttribute("role", "alert");
        form.insertBefore(warning, form.firstChild);
      }
      if (warning && other) {
        warning.textContent = other.dataset.name + " is editing the " + part + " too: whoever saves second sees the other's version first.";
      } else if (warning) warning.remove();
    });
  }

  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var freshMain = doc.getElementById("main");
    if (freshMain && freshMain.dataset.liveEtag) etag = freshMain.dataset.liveEtag;
    REGIONS.forEach(function (id) {
      var fresh = doc.getElementById(id), old = document.getElementById(id);
      if (!fresh || !old) return;
      if (held(old)) { waiting[id] = document.importNode(fresh, true); return; }
      swap(id, document.importNode(fresh, true));
    });
    notice();
    warnConflicts();
  }

  // Nothing is swapped while one of the page's own htmx requests is out: its answer is the fresher.
  var inflight = 0;
  document.addEventListener("htmx:before:request", function () { inflight++; });
  document.addEventListener("htmx:finally:request", function () { inflight = Math.max(0, inflight - 1); });

  function poll() {
    if (busy || inflight) return schedule();
    busy = true;
    var headers = { "X-Live-Poll": "1", "X-Presence": kind === "ticket" ? presenceState() : "viewing" };
    if (etag) headers["If-None-Match"] = '"' + etag + '"';
    fetch(location.pathname + location.search, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 200 && !inflight && response.url.split("#")[0] === location.href.split("#")[0]) {
          return response.text().then(apply);
        }
      })
      .catch(function () {})
      .then(function () { busy = false; schedule(); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.visibilityState === "hidden" ? every * 3 : every);
  }

  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") poll(); });
  // After htmx swaps in a fresh copy of the page's parts (a tab, a sort), the next poll starts from it.
  document.addEventListener("htmx:after:swap", function () { warnConflicts(); });
  schedule();
})();
