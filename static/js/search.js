// The header's search box: "/" focuses it from anywhere on the page except while typing in a field.
(function () {
  "use strict";
  function typing(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable || !!target.closest("input, textarea, select, [contenteditable]");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var box = document.getElementById("search-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
