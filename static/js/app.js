// Sends the CSRF token on every htmx request (no inline script: the CSP forbids it).
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  document.addEventListener("htmx:config:request", function (event) {
    event.detail.ctx.request.headers["X-CSRFToken"] = csrfToken();
  });
})();
