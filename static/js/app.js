// Small behaviours htmx does not cover. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  // Sends the CSRF token on every htmx request.
  document.addEventListener("htmx:config:request", function (event) {
    event.detail.ctx.request.headers["X-CSRFToken"] = csrfToken();
  });

  // Markdown editors: Write / Preview tabs. Preview itself is an htmx POST rendered by the server.
  document.addEventListener("click", function (event) {
    var tab = event.target.closest ? event.target.closest("[data-md-tab]") : null;
    if (!tab) return;
    var editor = tab.closest(".md-editor");
    var preview = tab.getAttribute("data-md-tab") === "preview";
    editor.querySelector(".md-write").hidden = preview;
    var pane = editor.querySelector(".md-preview");
    pane.hidden = !preview;
    if (preview) pane.textContent = "Rendering preview…";
    editor.querySelectorAll("[data-md-tab]").forEach(function (other) {
      other.setAttribute("aria-selected", String(other === tab));
    });
    if (!preview) editor.querySelector("textarea").focus();
  });

  // When the server cannot be reached at all, say so instead of failing silently.
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.response) return; // the server answered; its response was swapped in place
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var note = document.createElement("div");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.textContent = "Could not reach the server. Check your connection and try again.";
    flashes.replaceChildren(note);
  });
})();
