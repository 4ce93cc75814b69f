// Behaviour every page shares. The Content-Security-Policy (script-src 'self') refuses inline
// event handlers, so elements ask for it with data attributes instead:
// <select data-autosubmit> submits its form when changed; <button data-print> prints the page.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // On a phone the main navigation folds behind a "Menu" button (static/css/app.css, .js rules);
  // without this script the navigation simply stays open.
  document.documentElement.classList.add("js");
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("mainnav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  }
  // A table wider than its box scrolls inside it; keyboard users reach that scroll only if the
  // box can take focus (WCAG 2.1.1, axe "scrollable-region-focusable"). Checked again on resize.
  function focusableScrollers() {
    document.querySelectorAll("table.data, .table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); box.dataset.scrollFocus = "1"; }
        if (box.tagName !== "TABLE" && !box.hasAttribute("role")) {
          var caption = box.querySelector("caption");
          box.setAttribute("role", "region");
          if (caption) { box.setAttribute("aria-label", caption.textContent.trim()); }
        }
      } else if (box.dataset.scrollFocus) {
        box.removeAttribute("tabindex"); delete box.dataset.scrollFocus;
      }
    });
  }
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
