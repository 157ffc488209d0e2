// A second click while the first submit is on its way would only reach the result page,
// but disabling the button tells the learner their answers were sent.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]");
    window.setTimeout(function () { button.disabled = true; button.textContent = "Submitting…"; }, 0);
  });
})();
