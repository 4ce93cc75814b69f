// The counter-guarantee plan editor: adds and removes measure cards and runs the live check
// (CG-1 … CG-11) against the check API as the user types, showing each finding next to its field.
(function () {
  "use strict";
  var form = document.getElementById("cg-plan-form");
  if (!form) { return; }
  var labels = JSON.parse(document.getElementById("cg-labels").textContent || "{}");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var total = form.querySelector("[name=m-TOTAL_FORMS]");
  var box = document.getElementById("cg-measures");
  var timer = null, seq = 0;

  function cards() { return Array.prototype.filter.call(box.querySelectorAll(".cg-measure"), function (c) { return !c.hidden; }); }
  function input(card, name) { return card.querySelector('[name="' + card.dataset.prefix + "-" + name + '"]'); }
  function val(card, name) {
    var el = input(card, name);
    if (!el) { return null; }
    if (el.type === "checkbox") { return el.checked; }
    var v = el.value.trim();
    return v === "" ? null : v;
  }
  function names(v) { return v ? v.split(/[、,，;；\n]+/).map(function (s) { return s.trim(); }).filter(Boolean) : []; }
  function checked(name) { return Array.prototype.map.call(form.querySelectorAll('[name="' + name + '"]:checked'), function (e) { return e.value; }); }

  function payload() {
    var g = {amount: form.dataset.amount, start: form.dataset.start, end: form.dataset.end,
             credit_grounds: checked("credit_grounds"), lowered_grounds: checked("lowered_grounds"),
             resolving_existing_risk: form.querySelector("[name=resolving_existing_risk]").checked};
    var reason = form.querySelector("[name=resolving_reason]").value.trim();
    if (reason) { g.resolving_reason = reason; }
    var measures = cards().map(function (card, i) {
      card.querySelector(".cg-number").textContent = String(i + 1);
      var kind = val(card, "kind"), m = {kind: kind};
      ["start", "end", "contract_no", "registry", "registration_number", "flexible_form", "innovative_reason"].forEach(function (k) {
        var v = val(card, k); if (v !== null) { m[k] = v; }
      });
      ["organisation", "resolution_on_file", "registered_online", "innovative"].forEach(function (k) { m[k] = !!val(card, k); });
      m.owners = names(val(card, "owners"));
      m.signatories = names(val(card, "signatories"));
      if (kind !== "guarantee") {
        ["asset_class", "value", "rate", "valued_on", "valuation_valid_until", "valuation_source"].forEach(function (k) {
          var v = val(card, k); if (v !== null) { m[k] = v; }
        });
      } else {
        ["registry", "registration_number", "flexible_form", "innovative_reason"].forEach(function (k) { delete m[k]; });
        m.innovative = false; m.registered_online = false;
      }
      return m;
    });
    return {checked_on: form.dataset.today, guarantee: g, measures: measures};
  }

  function slot(measure, field) {
    if (measure === null || measure === undefined) { return form.querySelector('.cg-plan .cg-hint[data-field="' + field + '"]'); }
    var card = cards()[measure];
    return card ? card.querySelector('.cg-hint[data-field="' + field + '"]') : null;
  }
  function add(where, rule, outcome, message) {
    if (!where) { where = form.querySelector('.cg-hint[data-field="__sum"]'); }
    var div = document.createElement("div");
    div.className = "cg-finding cg-" + outcome;
    var span = document.createElement("span");
    span.className = "cg-rule"; span.textContent = rule;
    div.appendChild(span);
    div.appendChild(document.createTextNode(" " + message));
    where.appendChild(div);
  }
  function clear() { Array.prototype.forEach.call(form.querySelectorAll(".cg-hint"), function (h) { h.textContent = ""; }); }
  function badge(el, outcome, text) { el.className = "cg-badge cg-" + outcome; el.textContent = text; }

  function render(data) {
    clear();
    var tbody = document.querySelector("#cg-results tbody");
    tbody.textContent = "";
    data.results.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.rule = r.rule; tr.dataset.outcome = r.outcome;
      var a = document.createElement("td"); a.textContent = r.rule + " " + (labels.titles[r.rule] || "");
      var b = document.createElement("td"); var s = document.createElement("span"); badge(s, r.outcome, labels.outcomes[r.outcome] || r.outcome); b.appendChild(s);
      var c = document.createElement("td"); c.textContent = r.message;
      tr.appendChild(a); tr.appendChild(b); tr.appendChild(c); tbody.appendChild(tr);
      if (r.rule === "CG-7") { add(slot(null, "__sum"), r.rule, r.outcome, r.message); }
      else if (r.field) { add(slot(null, r.field), r.rule, r.outcome, r.message); }
      r.details.forEach(function (d) { add(slot(d.measure, d.field), r.rule, d.outcome, d.message); });
    });
    badge(document.getElementById("cg-passed"), data.passed ? "pass" : "fail", data.passed ? labels.passes : labels.fails);
  }
  function renderErrors(errors) {
    clear();
    errors.forEach(function (e) {
      var m = /^measures\[(\d+)\]\.(\w+)$/.exec(e.field || "");
      var where = m ? slot(Number(m[1]), m[2]) : slot(null, (e.field || "").replace("guarantee.", ""));
      add(where, e.rule || "", "fail", e.message);
    });
    badge(document.getElementById("cg-passed"), "fail", labels.incomplete);
  }
  function run() {
    var mine = ++seq;
    fetch(form.dataset.api, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(payload())})
      .then(function (response) { return response.json().then(function (body) { return {ok: response.ok, body: body}; }); })
      .then(function (x) {
        if (mine !== seq) { return; }
        if (x.ok) { render(x.body); } else { renderErrors(x.body.errors || []); }
        form.dataset.checks = String(mine);
      })
      .catch(function () {});
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(run, 250); }

  function toggle(card) {
    var guarantee = val(card, "kind") === "guarantee";
    Array.prototype.forEach.call(card.querySelectorAll("[data-collateral-only]"), function (el) {
      var field = el.closest(".cg-field"); if (field) { field.hidden = guarantee; }
    });
  }
  function wire(card) {
    toggle(card);
    card.querySelector(".cg-remove").addEventListener("click", function () {
      var del = input(card, "DELETE"); if (del) { del.checked = true; }
      card.hidden = true; schedule();
    });
    var del = input(card, "DELETE"); if (del) { del.closest(".cg-delete").firstElementChild.hidden = true; }
  }
  document.getElementById("cg-add").addEventListener("click", function () {
    var index = Number(total.value);
    var html = document.getElementById("cg-empty-measure").innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div"); holder.innerHTML = html;
    var card = holder.firstElementChild;
    box.appendChild(card);
    total.value = String(index + 1);
    var start = input(card, "start"), end = input(card, "end");
    if (start && !start.value) { start.value = form.dataset.start; }
    if (end && !end.value) { end.value = form.dataset.end; }
    wire(card); schedule();
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", function (event) {
    var card = event.target.closest(".cg-measure");
    if (card) { toggle(card); }
    schedule();
  });
  Array.prototype.forEach.call(box.querySelectorAll(".cg-measure"), wire);
  run();
})();
