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

  // Sidebar actions run one at a time (hx-sync queues them on .ticket-layout). A queued one is
  // sent after the previous answer replaced the sidebar, so it takes the version and target from
  // the sidebar as it is now instead of the one it was clicked in; until then it shows "Queued".
  var sidebarBusy = 0;
  function sidebarForm(ctx) {
    var form = ctx && ctx.sourceElement && ctx.sourceElement.closest && ctx.sourceElement.closest("form");
    return form && form.closest("#ticket-sidebar") ? form : (form && form.dataset.sidebarForm ? form : null);
  }
  document.addEventListener("htmx:config:request", function (event) {
    var form = sidebarForm(event.detail.ctx);
    if (!form) return;
    form.dataset.sidebarForm = "1";
    if (sidebarBusy > 0) form.classList.add("is-queued");
  });
  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail.ctx, form = sidebarForm(ctx);
    if (!form) return;
    sidebarBusy++;
    var sidebar = document.getElementById("ticket-sidebar");
    if (!form.isConnected && sidebar) {
      var version = sidebar.querySelector('input[name="version"]');
      if (version && ctx.request.body && ctx.request.body.set) ctx.request.body.set("version", version.value);
      ctx.target = sidebar;
    }
    form.classList.remove("is-queued");
    if (sidebar) sidebar.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:finally:request", function (event) {
    if (!sidebarForm(event.detail.ctx)) return;
    sidebarBusy = Math.max(0, sidebarBusy - 1);
    var sidebar = document.getElementById("ticket-sidebar");
    if (sidebar && !sidebarBusy) sidebar.removeAttribute("aria-busy");
  });

  // A new severity shows in the header badge at once; the answer then confirms or restores it.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "severity") return;
    var badge = document.querySelector("#ticket-badges .sev");
    var level = event.target.value;
    if (!badge || !/^[1-5]$/.test(level)) return;
    badge.className = "sev sev-" + level + " is-pending";
    badge.textContent = "SEV " + level;
    event.target.className = event.target.className.replace(/sev-select-\d/, "sev-select-" + level);
  });

  // A field error goes away as soon as the field is changed into something its form accepts.
  function clearError(field) {
    if (field.getAttribute("aria-invalid") !== "true") return;
    var empty = field.type === "checkbox" ? false : !String(field.value || "").trim();
    if (empty || (field.checkValidity && !field.checkValidity())) return;
    field.removeAttribute("aria-invalid");
    (field.getAttribute("aria-describedby") || "").split(/\s+/).forEach(function (id) {
      var note = id && /-error$/.test(id) ? document.getElementById(id) : null;
      if (note) note.hidden = true;
    });
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.matches && event.target.matches("input, select, textarea")) clearError(event.target);
    });
  });

  // The whole queue row opens its ticket (its title link does the navigation, boosted by htmx).
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#results table.tickets tbody tr");
    if (!row || event.target.closest("a, button, input, select, label, textarea")) return;
    if (String(window.getSelection && window.getSelection()).length) return; // copying text
    var link = row.querySelector(".col-title a");
    if (!link) return;
    if (event.ctrlKey || event.metaKey || event.button === 1) window.open(link.href, "_blank", "noopener");
    else link.click();
  });

  // Unsaved text: an open title or overview editor that was changed, or a comment being written.
  // Leaving the page, or a swap that would replace the editor, asks first.
  var DRAFT_FIELDS = "#title-input, #overview-input, #comment-body";
  function dirtyFields(within) {
    return Array.prototype.filter.call((within || document).querySelectorAll(DRAFT_FIELDS), function (field) {
      if (field.id !== "comment-body") return field.value !== field.defaultValue;
      return field.value.trim() !== "" && field.value !== field.dataset.kept;
    });
  }
  window.ticketingDrafts = {
    isDirty: function (form) { return dirtyFields(form).length > 0; },
    forget: function (form) { dirtyFields(form).forEach(keep); },
  };
  function keep(field) {
    field.defaultValue = field.value;
    field.dataset.kept = field.value;
  }
  var LEAVE = "You have unsaved text here. Leave and lose it?";
  window.addEventListener("beforeunload", function (event) {
    if (!dirtyFields().length) return;
    event.preventDefault();
    event.returnValue = LEAVE;
  });
  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail.ctx, source = ctx.sourceElement;
    var target = typeof ctx.target === "string" ? document.querySelector(ctx.target) : ctx.target;
    var lost = dirtyFields().filter(function (field) {
      var own = source && source.closest && field.form && (field.form === source || field.form.contains(source));
      return !own && target && target.contains && (target === document.body || target.contains(field));
    });
    if (!lost.length) return;
    if (window.confirm(LEAVE)) lost.forEach(keep);
    else event.preventDefault();
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
