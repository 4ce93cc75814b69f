// Issue 15: the simulation page polls its progress while the replay runs, and reloads when it ends.
(function () {
  var el = document.getElementById("sim-state");
  if (!el) return;
  var url = el.getAttribute("data-progress-url");
  var bar = el.querySelector("progress");
  var text = el.querySelector("small");
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (bar) bar.value = data.percent;
      if (text) text.textContent = data.done + " / " + data.total;
      if (data.state === "succeeded" || data.state === "failed") { window.location.reload(); return; }
      window.setTimeout(poll, 1000);
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
