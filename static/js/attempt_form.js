// A second click while the first submit is on its way would only reach the result page,
// but disabling the button tells the learner their answers were sent.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    // The button that was clicked ("Submit anyway" or "Submit answers"), not the first one.
    var button = event.submitter || form.querySelector("button[type=submit]");
    if (!button) return;
    window.setTimeout(function () { button.disabled = true; button.textContent = "Submitting…"; }, 0);
  });
})();
