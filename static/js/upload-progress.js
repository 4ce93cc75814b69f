// Upload forms marked data-upload-progress show how much of the file has been sent, then how
// the server is doing: the form is sent with XMLHttpRequest so the browser reports progress,
// and the server's answer (the result page, or the form with its errors) replaces the page as a
// normal submission would. Without JavaScript the form submits as usual.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !bar) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open(form.method || "post", form.action || window.location.href);
      bar.hidden = false;
      bar.value = 0;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          if (status) { status.textContent = Math.round(100 * e.loaded / e.total) + "%"; }
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate while the server checks every row
        if (status) { status.textContent = status.dataset.checking || ""; }
      });
      xhr.addEventListener("load", function () {
        // The answer (after any redirect) is shown as it came, so its one-time messages are kept.
        if (xhr.responseURL && xhr.responseURL !== window.location.href) {
          window.history.replaceState(null, "", xhr.responseURL);
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.send(new FormData(form));
    });
  });
})();
