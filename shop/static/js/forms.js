// Refused forms: focus goes to the error summary at the top of the form, and each link in
// it moves focus to its field. Without this file the summary still has autofocus and its
// links still lead to the fields.
(function () {
  "use strict";

  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary && (document.activeElement === document.body || !document.activeElement)) {
      summary.focus();
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-error-summary] a[href^='#']"),
      function (link) {
        link.addEventListener("click", function (event) {
          var field = document.getElementById(link.getAttribute("href").slice(1));
          if (!field) return;
          event.preventDefault();
          field.focus();
          field.scrollIntoView({ block: "center" });
        });
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
