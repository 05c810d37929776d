// Admin panel behaviour: Escape cancels an inline rename, copy buttons, select-on-focus.
// Loaded from the admin layout; a boosted navigation may run it again, so it installs once.
(function () {
  "use strict";
  if (window.ticketingAdminLoaded) return;
  window.ticketingAdminLoaded = true;

  // Escape in an inline edit form clicks its Cancel link, which htmx turns into the cancel request.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest(".inline-edit");
    var cancel = form && form.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });

  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    // Plain-http deployments have no Clipboard API: fall back to selecting and copying.
    input.focus();
    input.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    var label = button.querySelector("[data-copy-label]") || button;
    if (!input) return;
    copyText(input).then(function () {
      label.textContent = "Copied";
      button.classList.add("is-copied");
    }, function () {
      input.focus();
      input.select();
      label.textContent = "Press Ctrl+C";
    });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-on-focus]")) {
      event.target.select();
    }
  });
})();
