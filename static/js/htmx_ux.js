// Keyboard and history behaviour for the HTMX fragments (loaded on every page).
(function () {
  "use strict";

  // 1. After a fragment swap, focus goes to the updated element when it asks for it
  //    (data-focus-after-swap), so a keyboard user continues from the card they acted
  //    on instead of the top of the page. The element carries tabindex="-1"; its
  //    role="status" text is announced by screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.id) return;
    var updated = document.getElementById(target.id);
    if (!updated || !updated.hasAttribute("data-focus-after-swap")) return;
    var inner = updated.querySelector("[data-focus-here]");
    (inner || updated).focus({ preventScroll: false });
  });

  // 2. htmx keeps a snapshot of the page's HTML for Back, taken just before the next URL
  //    is pushed, when the controls already show the *next* filters. Controls' live values
  //    are not in the HTML either. So just before the snapshot, write the filters of the
  //    URL being left into the controls' attributes: the snapshot then shows results and
  //    filters that agree (the URL is the filter state).
  document.addEventListener("htmx:beforeHistorySave", function () {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[hx-push-url]").forEach(function (form) {
      form.querySelectorAll("select[name]").forEach(function (select) {
        var wanted = params.getAll(select.name);
        if (!wanted.length) wanted = [""];
        Array.prototype.forEach.call(select.options, function (option) {
          if (wanted.indexOf(option.value) !== -1) option.setAttribute("selected", "");
          else option.removeAttribute("selected");
        });
      });
      form.querySelectorAll("input[name]").forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (params.getAll(input.name).indexOf(input.value) !== -1) {
            input.setAttribute("checked", "");
          } else {
            input.removeAttribute("checked");
          }
        } else if (input.type !== "hidden" && input.type !== "password") {
          input.setAttribute("value", params.get(input.name) || "");
        }
      });
    });
  });

  // 3. A 429 from the tutor carries a message for the learner ("try again in ..."):
  //    show it in place instead of dropping the response as htmx does for errors.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
