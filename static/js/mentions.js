// @mention autocomplete in every markdown editor: type "@ca", pick a person with the arrow keys and
// Enter or Tab (or the mouse); Escape closes the list. The server renders the options
// (GET /mentions?q=…, active admins and agents only); this file only moves through them.
(function () {
  "use strict";
  var BEFORE_CARET = /(^|[^\w@./+-])@([A-Za-z0-9._-]{0,63})$/;
  var menu = null, field = null, start = 0, timer = null, asked = 0;

  function editorField(target) {
    return target && target.tagName === "TEXTAREA" && target.closest(".md-editor") ? target : null;
  }

  function options() {
    return menu ? Array.prototype.slice.call(menu.querySelectorAll(".mention-option")) : [];
  }

  function close() {
    if (menu) menu.remove();
    if (field) {
      field.setAttribute("aria-expanded", "false");
      field.removeAttribute("aria-activedescendant");
    }
    menu = null;
  }

  function select(option) {
    options().forEach(function (other) { other.setAttribute("aria-selected", String(other === option)); });
    if (option) {
      field.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function choose(option) {
    var name = option.getAttribute("data-username"), caret = field.selectionStart;
    var text = field.value, inserted = "@" + name + " ";
    field.value = text.slice(0, start) + inserted + text.slice(caret);
    field.selectionStart = field.selectionEnd = start + inserted.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    close();
    field.focus();
  }

  function show(html) {
    if (!menu) {
      menu = document.createElement("ul");
      menu.id = "mention-menu";
      menu.className = "mention-menu";
      menu.setAttribute("role", "listbox");
      menu.setAttribute("aria-label", "People to mention");
      field.parentNode.style.position = "relative";
      field.parentNode.appendChild(menu);
      field.setAttribute("aria-controls", menu.id);
      field.setAttribute("aria-autocomplete", "list");
    }
    menu.style.top = (field.offsetTop + field.offsetHeight + 2) + "px";
    menu.style.left = field.offsetLeft + "px";
    menu.innerHTML = html;
    field.setAttribute("aria-expanded", "true");
    var first = options()[0];
    if (first) select(first); else field.removeAttribute("aria-activedescendant");
  }

  function lookUp(query) {
    var ticket = ++asked;
    var url = document.body.getAttribute("data-mentions-url");
    if (!url) return;
    fetch(url + "?q=" + encodeURIComponent(query), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (ticket === asked && html && field) show(html); })
      .catch(function () { close(); });
  }

  document.addEventListener("input", function (event) {
    var target = editorField(event.target);
    if (!target) return;
    var match = BEFORE_CARET.exec(target.value.slice(0, target.selectionStart));
    if (!match) { if (field === target) close(); return; }
    field = target;
    start = target.selectionStart - match[2].length - 1;
    clearTimeout(timer);
    timer = setTimeout(function () { lookUp(match[2]); }, 120);
  });

  document.addEventListener("keydown", function (event) {
    if (!menu || event.target !== field) return;
    var all = options(), current = all.indexOf(menu.querySelector('[aria-selected="true"]'));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!all.length) return;
      var step = event.key === "ArrowDown" ? 1 : -1;
      select(all[(current + step + all.length) % all.length]);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey && current >= 0) {
      event.preventDefault();
      event.stopPropagation();
      choose(all[current]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // closes the list only, not the editor around it
      close();
    }
  }, true);

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest ? event.target.closest(".mention-option") : null;
    if (option && menu && menu.contains(option)) {
      event.preventDefault();
      choose(option);
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === field) setTimeout(function () { if (document.activeElement !== field) close(); }, 150);
  });
})();
