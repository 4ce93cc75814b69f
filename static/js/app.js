// Behaviour every page shares. The Content-Security-Policy (script-src 'self') refuses inline
// event handlers, so elements ask for it with data attributes instead:
// <select data-autosubmit> submits its form when changed; <button data-print> prints the page.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
