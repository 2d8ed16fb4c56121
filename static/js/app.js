// Ledgerbridge: the little JavaScript the pages use. Everything works without it.
(function () {
  "use strict";
  // "Select all on this page" on list pages: ticks the row checkboxes (they belong to the bulk-update form).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
    var table = box.closest("table");
    if (!table) return;
    table.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
  // A <details> menu closes when the user clicks elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
