// Live progress of the Jobs page (JB-13): every 2 s while a run on the page is queued or running,
// ask the progress endpoint (its URL is on this script's data-progress-url) and update the rows.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.progressUrl;
  if (!url) { return; }
  function active() {
    return Array.prototype.map.call(document.querySelectorAll("tr[data-active]"), function (tr) { return tr.dataset.run; });
  }
  function show(run) {
    var tr = document.querySelector('tr[data-run="' + run.id + '"]');
    if (!tr) { return; }
    var bar = tr.querySelector(".progress");
    bar.value = run.percent;
    bar.textContent = run.percent + "%";
    var badge = tr.querySelector('[data-field="state"]');
    badge.textContent = run.state_label;
    badge.className = "badge" + ({succeeded: " badge-ok", failed: " badge-bad", running: " badge-warn"}[run.state] || "");
    tr.querySelector('[data-field="finished"]').textContent = run.finished || "—";
    tr.querySelector('[data-field="done"]').textContent = run.done + " / " + run.total;
    tr.querySelector('[data-field="attempts"]').textContent = run.attempts;
    tr.querySelector('[data-field="error"]').textContent = run.error;
    tr.querySelector('[data-field="counts"]').textContent = run.counts_text || "—";
    if (run.state !== "queued" && run.state !== "running") { tr.removeAttribute("data-active"); }
  }
  function poll() {
    var ids = active();
    if (!ids.length) { return; }
    fetch(url + "?ids=" + ids.join(","), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {runs: []}; })
      .then(function (data) { data.runs.forEach(show); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
