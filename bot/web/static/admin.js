// Yehua console: small progressive enhancements; every page works without this script.
"use strict";

(function () {
  // A page showing something in progress (a post being sent) refreshes itself.
  const refresh = Number(document.body.dataset.refresh || 0);
  if (refresh > 0) {
    setTimeout(function () { window.location.reload(); }, refresh * 1000);
  }

  // A lesson's voices being made: ask every 2 s, reload once none is still working.
  const voices = document.querySelector("[data-voice-poll]");
  if (voices) {
    const url = voices.dataset.voicePoll;
    const poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (states) {
          if (!states) { setTimeout(poll, 5000); return; }
          const working = Object.values(states).some(function (s) { return s.state === "working"; });
          if (working) { setTimeout(poll, 2000); } else { window.location.reload(); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 2000);
  }

  // The schedule form shows only the fields the chosen way of sending needs.
  const form = document.querySelector("[data-mode-switch]");
  if (form) {
    const owner = form.closest("form");
    const show = function () {
      const checked = owner.querySelector("input[name=mode]:checked");
      const mode = checked ? checked.value : "once";
      owner.querySelectorAll("[data-for-mode]").forEach(function (el) {
        el.hidden = el.dataset.forMode.split(" ").indexOf(mode) < 0;
      });
    };
    owner.addEventListener("change", show);
    show();
  }

  // Buttons that undo something ask first.
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
