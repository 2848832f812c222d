// Progressive enhancement for the wizard. Everything works without this file.
(function () {
  "use strict";

  // Step 3: the SIM question only matters for tablets; without JavaScript it is always shown.
  function syncSimQuestion(root) {
    var question = root.querySelector("[data-shown-for]");
    if (!question) return;
    var form = question.closest("form");
    var chosen = form.querySelector("input[name=device]:checked");
    var show = chosen && chosen.value === question.getAttribute("data-shown-for");
    question.hidden = !show;
    question.querySelectorAll("input").forEach(function (input) { input.disabled = !show; });
  }

  // Show/hide toggles for password fields (paste stays allowed).
  function addPasswordToggles(root) {
    root.querySelectorAll("input[type=password]").forEach(function (input) {
      if (input.dataset.toggle) return;
      input.dataset.toggle = "1";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button-secondary password-toggle";
      button.textContent = "顯示密碼";
      button.setAttribute("aria-controls", input.id);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        button.textContent = show ? "隱藏密碼" : "顯示密碼";
        button.setAttribute("aria-pressed", show ? "true" : "false");
      });
      input.insertAdjacentElement("afterend", button);
    });
  }

  // After a step is swapped in, move focus like a page load would: to the error summary when
  // there are errors, else to the new heading.
  function focusNewStep(target) {
    var summary = target.querySelector("#error-summary");
    var heading = target.querySelector("h1");
    var focusable = summary || heading;
    if (!focusable) return;
    if (!focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
    focusable.focus();
    window.scrollTo(0, 0);
  }

  function enhance(root) {
    syncSimQuestion(root);
    addPasswordToggles(root);
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "device") syncSimQuestion(document);
  });
  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    var summary = document.querySelector("#error-summary");
    if (summary) summary.focus();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(document);
    if (event.detail.target && event.detail.target.id === "main") focusNewStep(event.detail.target);
  });
})();
