// Keyboard shortcuts (press ? for the list). Never while typing in a field, except Ctrl+Enter and
// Esc inside an editor. Everything is looked up when a key is pressed, so htmx swaps need no rebinding.
(function () {
  "use strict";
  if (window.ticketingKeysLoaded) return;
  window.ticketingKeysLoaded = true;

  var SHORTCUTS = [
    ["Anywhere", [["?", "Show this help"], ["/", "Search"], ["g then d", "Go to the dashboard"],
      ["g then m", "Go to my tickets"]]],
    ["Ticket lists", [["j / k", "Next / previous ticket"], ["Enter or o", "Open the ticket"],
      ["x", "Select the ticket"]]],
    ["A ticket", [["c", "Write a comment"], ["e", "Edit (the overview on its tab, else the title)"],
      ["s", "Change the status"], ["a", "Assign to me"], ["Ctrl+Enter", "Send the comment (save the editor)"],
      ["Esc", "Cancel the edit"]]],
  ];
  var pendingG = 0;
  var focusAfterSwap = null;

  function isTyping(el) {
    if (!el || !el.closest) return false;
    if (el.isContentEditable) return true;
    if (el.closest("textarea, select")) return true;
    var input = el.closest("input");
    return !!input && !/^(checkbox|radio|button|submit|reset|image|range|color|file)$/.test(input.type);
  }

  function visible(el) {
    return !!el && el.getClientRects().length > 0;
  }

  function $(selector) {
    return document.querySelector(selector);
  }

  function say(message) {
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var note = document.createElement("div");
    note.className = "flash flash-info";
    note.setAttribute("role", "status");
    note.textContent = message;
    flashes.replaceChildren(note);
  }

  // The help overlay: a modal <dialog>, built once from SHORTCUTS.
  function helpDialog() {
    var dialog = document.getElementById("kbd-help");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "kbd-help";
    dialog.className = "kbd-help";
    dialog.setAttribute("aria-labelledby", "kbd-help-title");
    var head = document.createElement("div");
    head.className = "kbd-help-head";
    var title = document.createElement("h2");
    title.id = "kbd-help-title";
    title.textContent = "Keyboard shortcuts";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-sm";
    close.textContent = "Close";
    close.addEventListener("click", function () { dialog.close(); });
    head.append(title, close);
    dialog.append(head);
    SHORTCUTS.forEach(function (group) {
      var section = document.createElement("section");
      var h3 = document.createElement("h3");
      h3.textContent = group[0];
      var list = document.createElement("dl");
      group[1].forEach(function (pair) {
        var dt = document.createElement("dt");
        pair[0].split(" ").forEach(function (word) {
          var joiner = pair[0] !== "/" && /^(then|or|\/)$/.test(word);
          var part = document.createElement(joiner ? "span" : "kbd");
          part.textContent = word;
          dt.append(part, " ");
        });
        var dd = document.createElement("dd");
        dd.textContent = pair[1];
        list.append(dt, dd);
      });
      section.append(h3, list);
      dialog.append(section);
    });
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "Shortcuts are off while you type in a field. Esc closes this.";
    dialog.append(hint);
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
    document.body.append(dialog);
    return dialog;
  }

  function toggleHelp() {
    var dialog = helpDialog();
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  function focusSearch() {
    var field = $("#search-q") || $("#filter-status");
    if (!field) {
      say("No search here: press g then d for the dashboard and its filters.");
      return;
    }
    field.focus();
    if (field.select) field.select();
  }

  function navLink(path) {
    var links = document.querySelectorAll(".topnav a");
    for (var i = 0; i < links.length; i++) {
      if (new URL(links[i].href).pathname === path) return links[i];
    }
    return null;
  }

  // Queue rows: the dashboard's table; the row under the cursor carries .is-cursor.
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results table.tickets tbody tr"));
  }

  function moveCursor(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (row) { return row.classList.contains("is-cursor"); });
    var next = current < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(current + step, 0), all.length - 1);
    all.forEach(function (row) { row.classList.remove("is-cursor"); });
    all[next].classList.add("is-cursor");
    var link = all[next].querySelector(".col-title a");
    if (link) link.focus({ preventScroll: true });
    all[next].scrollIntoView({ block: "nearest" });
  }

  function cursorRow() {
    return $("#results table.tickets tbody tr.is-cursor");
  }

  function openRow() {
    var row = cursorRow();
    var link = row && row.querySelector(".col-title a");
    if (!link) return false;
    link.click();
    return true;
  }

  function selectRow() {
    var row = cursorRow();
    if (!row) { moveCursor(1); row = cursorRow(); }
    if (!row) return;
    var box = row.querySelector("input[type=checkbox]");
    if (box) { box.click(); return; }
    var marked = row.classList.toggle("is-marked");
    row.setAttribute("aria-selected", String(marked));
  }

  // On a ticket page.
  function onTicket() {
    return !!document.getElementById("ticket-sidebar");
  }

  function comment() {
    var body = $("#comment-body");
    if (body) { body.focus(); body.scrollIntoView({ block: "center" }); return; }
    var tab = $('.tabs a[href$="/comments"]');
    if (!tab) return;
    focusAfterSwap = "#comment-body";
    tab.click();
  }

  function edit() {
    var overview = $('#overview a[href$="/overview/edit"]');
    var link = visible(overview) ? overview : $('#ticket-title a[href$="/title/edit"]');
    if (link) link.click();
  }

  function status() {
    var button = $("#ticket-sidebar .status-actions button");
    if (button) { button.focus(); return; }
    say("This ticket is closed: its status cannot change.");
  }

  function assignToMe() {
    var forms = document.querySelectorAll("#ticket-sidebar form");
    for (var i = 0; i < forms.length; i++) {
      var button = forms[i].querySelector('button[name="assignee_id"]');
      if (button) { forms[i].requestSubmit(button); return; }
    }
    say("This ticket is already assigned to you.");
  }

  function inEditor(target) {
    return target.closest && target.closest("#ticket-title form, #overview form, #comment-form");
  }

  // Ctrl+Enter and Esc work inside the ticket's editors; every other key only outside fields.
  function editorKeys(event) {
    var form = inEditor(event.target);
    if (!form) return false;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return true;
    }
    if (event.key === "Escape" && form.id !== "comment-form") {
      var cancel = form.querySelector("[data-cancel]");
      if (!cancel) return false;
      event.preventDefault();
      if (window.ticketingDrafts && window.ticketingDrafts.isDirty(form) &&
          !window.confirm("Discard your changes?")) return true;
      if (window.ticketingDrafts) window.ticketingDrafts.forget(form);
      cancel.click();
      return true;
    }
    return false;
  }

  var PLAIN = {
    "?": toggleHelp,
    "/": focusSearch,
    j: function () { moveCursor(1); },
    k: function () { moveCursor(-1); },
    o: openRow,
    x: selectRow,
  };
  var TICKET = { c: comment, e: edit, s: status, a: assignToMe };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (editorKeys(event)) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (isTyping(event.target)) return;
    var dialog = document.getElementById("kbd-help");
    if (dialog && dialog.open && event.key !== "?") return; // the dialog handles Esc itself
    var key = event.key;
    if (Date.now() - pendingG < 1500 && (key === "d" || key === "m")) {
      pendingG = 0;
      var path = key === "d" ? "/" : "/my-tickets";
      var link = navLink(path);  // the header's link when it has one (htmx boosts or not), else the page itself
      event.preventDefault();
      if (link) link.click(); else window.location.assign(path);
      return;
    }
    if (key === "g") { pendingG = Date.now(); return; }
    pendingG = 0;
    if (key === "Enter" && cursorRow() && event.target.closest && !event.target.closest("a, button")) {
      if (openRow()) event.preventDefault();
      return;
    }
    var action = PLAIN[key] || (onTicket() && TICKET[key]);
    if (!action) return;
    if ((key === "j" || key === "k" || key === "o" || key === "x") && !rows().length) return;
    event.preventDefault();
    action();
  });

  // After an htmx swap: put the focus where the shortcut meant it to go (e.g. c on another tab).
  document.addEventListener("htmx:after:settle", function () {
    if (!focusAfterSwap) return;
    var target = $(focusAfterSwap);
    if (target) { focusAfterSwap = null; target.focus(); }
  });
})();
