// Markdown preview for authoring textareas marked data-markdown-preview="<url>".
// The server renders and sanitises (the same filter learners' pages use); this script
// only posts the text and shows the answer. No inline script or style (strict CSP).
(function () {
  "use strict";

  function csrfToken(textarea) {
    var form = textarea.form;
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function attach(textarea) {
    if (textarea.dataset.previewReady) return;
    textarea.dataset.previewReady = "1";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button markdown-preview-button";
    button.textContent = "Preview";
    button.setAttribute("aria-controls", textarea.id + "-preview");
    var output = document.createElement("div");
    output.id = textarea.id + "-preview";
    output.className = "markdown-preview";
    output.setAttribute("aria-live", "polite");
    output.hidden = true;
    textarea.insertAdjacentElement("afterend", output);
    textarea.insertAdjacentElement("afterend", button);

    button.addEventListener("click", function () {
      if (!output.hidden && button.dataset.showing === "1") {
        output.hidden = true;
        button.dataset.showing = "";
        button.textContent = "Preview";
        return;
      }
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      button.disabled = true;
      fetch(textarea.dataset.markdownPreview, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea) },
        body: body,
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          // Sanitised by the server with the learner pages' allow-list.
          output.innerHTML = html || "<p><em>Nothing to preview.</em></p>";
          output.hidden = false;
          button.dataset.showing = "1";
          button.textContent = "Hide preview";
        })
        .catch(function () {
          output.textContent = "The preview could not be loaded; the text is unchanged.";
          output.hidden = false;
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  }

  function attachAll(root) {
    root.querySelectorAll("textarea[data-markdown-preview]").forEach(attach);
  }

  document.addEventListener("DOMContentLoaded", function () {
    attachAll(document);
  });
  // Inline rows added with "Add another" arrive after the page loaded.
  document.addEventListener("formset:added", function (event) {
    attachAll(event.target);
  });
})();
