// A background bulk upload's page (issue 12): every second while the run is queued or running,
// ask its status endpoint (the URL is on this script's data-status-url), move the bar, and load
// the result page once the run has finished. Without JavaScript the page says to reload it.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.statusUrl;
  if (!url) { return; }
  var bar = document.getElementById("import-progress");
  var done = document.getElementById("import-done");
  var state = document.getElementById("import-state");
  function show(status) {
    if (bar) { bar.value = status.percent; bar.textContent = status.percent + "%"; }
    if (state) { state.textContent = status.state_label; }
    if (done) { done.textContent = status.done + " / " + status.total; }
    if (status.finished) { window.location.replace(status.result_url); }
  }
  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) { show(status); }
        if (!status || !status.finished) { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
