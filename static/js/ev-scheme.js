// The scoring-scheme editor (evaluation/year_setup.html): each indicator shows only the inputs
// its scoring function reads (one input, or the parts of a sum). Without this script every
// field stays visible and the server ignores the ones the function does not read.
(function () {
  "use strict";
  function update(card) {
    var select = card.querySelector("select[name$='-function']");
    if (!select) { return; }
    var parts = select.value === "capped_ratio_sum";
    var linear = select.value === "linear_descending" || select.value === "linear_ascending";
    card.querySelectorAll("[data-ev-for]").forEach(function (el) {
      var kind = el.getAttribute("data-ev-for");
      var shown = kind === "parts" ? parts : kind === "single" ? !parts
        : kind === "target" ? select.value === "capped_ratio" : kind === "breakpoints" ? linear : true;
      el.hidden = !shown;
    });
  }
  document.querySelectorAll(".ev-indicator").forEach(function (card) {
    update(card);
    card.addEventListener("change", function (event) {
      if (event.target.name && event.target.name.slice(-9) === "-function") { update(card); }
    });
  });
})();
