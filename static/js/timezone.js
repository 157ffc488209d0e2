// Sign-up: preselect the browser's own time zone so nobody silently stays on UTC.
// The <select> keeps working without JavaScript; a choice already made is kept.
(function () {
  "use strict";
  var select = document.querySelector("select[data-browser-timezone]");
  if (!select || select.dataset.touched === "true") return;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || select.value !== "UTC") return;
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      select.value = zone;
      return;
    }
  }
})();
