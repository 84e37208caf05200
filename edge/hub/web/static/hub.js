// parcel-edge hub: a little plain JavaScript, nothing remote.
// 1. The work queue keeps itself current: every data-poll-s seconds it asks whether anything
//    changed (204 when not) and swaps in the server-rendered, escaped rows when it did.
// 2. Buttons with data-confirm ask before a form is sent.
(function () {
  "use strict";
  function pollQueue(box) {
    var seconds = parseFloat(box.getAttribute("data-poll-s")) || 5;
    var stamp = document.getElementById("live-stamp");
    function tick() {
      var url = box.getAttribute("data-src") + "&since=" + box.getAttribute("data-change");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html", "X-Requested-With": "fetch"}})
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); }
          if (!r.ok) { throw new Error(String(r.status)); }
          box.setAttribute("data-change", r.headers.get("X-Change") || "-1");
          return r.status === 204 ? null : r.text();
        })
        .then(function (html) {
          if (html !== null) { box.innerHTML = html; }  // our own server-rendered, escaped rows
          if (stamp) { stamp.textContent = "live, checked " + new Date().toLocaleTimeString(); }
        })
        .catch(function () { if (stamp) { stamp.textContent = "offline: retrying"; } })
        .finally(function () { setTimeout(tick, seconds * 1000); });
    }
    setTimeout(tick, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-poll-s][data-src]");
    if (box) { pollQueue(box); }
    document.querySelectorAll("button[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (e) {
        if (!window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  });
})();
