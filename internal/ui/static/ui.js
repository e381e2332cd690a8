// weir ui: when the server says that an object this page shows changed,
// fetch the page's live part again and put it in place, keeping focus.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!live || !live.dataset.events || !window.EventSource) return;
  var running = false, again = false, lost = false;

  function say(text) { if (status) status.textContent = text; }

  function refresh() {
    if (running) { again = true; return; }
    running = true;
    fetch(location.href, { headers: { "X-Weir-Live": "1" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var focused = document.activeElement;
        var id = focused && live.contains(focused) ? focused.id : "";
        live.innerHTML = html;
        if (id && document.getElementById(id)) document.getElementById(id).focus();
        live.dataset.updated = String(Date.now());
      })
      .catch(function () { say("Update failed; reload the page"); })
      .then(function () {
        running = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource(live.dataset.events);
  source.addEventListener("change", refresh);
  source.addEventListener("open", function () {
    say("Live");
    if (lost) { lost = false; refresh(); }
  });
  source.addEventListener("error", function () { lost = true; say("Reconnecting…"); });

  // Ask before an action that cannot be undone.
  document.addEventListener("submit", function (e) {
    var msg = e.target.dataset && e.target.dataset.confirm;
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
})();
