// Accessibility fixes for the admin's own markup. select2 (the autocomplete widget): its
// search field gets the label of the field it stands for, and the "clear" cross inside its
// list is hidden from assistive technology (Backspace clears; the cross is a mouse
// affordance). Tabular inlines: each field is named by its column header (the admin
// renders them without a label).
"use strict";
(function () {
  function fix(root) {
    root.querySelectorAll(".select2-container").forEach(function (container) {
      var select = container.previousElementSibling;
      var label = select && select.id && document.querySelector('label[for="' + select.id + '"]');
      var name = label ? label.textContent.replace(/:\s*$/, "").trim() : "Search";
      container.querySelectorAll(".select2-search__field").forEach(function (field) {
        if (!field.getAttribute("aria-label")) field.setAttribute("aria-label", name);
      });
      container.querySelectorAll(".select2-selection__clear").forEach(function (cross) {
        cross.setAttribute("aria-hidden", "true");
      });
    });
  }
  function labelTabular(root) {
    root.querySelectorAll(".tabular table").forEach(function (table) {
      var headers = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row, index) {
        Array.from(row.children).forEach(function (cell, column) {
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
            var labelled = field.id && document.querySelector('label[for="' + field.id + '"]');
            if (labelled || field.getAttribute("aria-label")) return;
            var header = headers[column] || (field.type === "checkbox" ? "Delete" : "Field");
            field.setAttribute("aria-label", header + ", row " + (index + 1));
          });
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    labelTabular(document);
    fix(document);
    new MutationObserver(function () {
      fix(document);
      labelTabular(document);
    }).observe(document.body, {
      childList: true,
      subtree: true,
    });
  });
})();
