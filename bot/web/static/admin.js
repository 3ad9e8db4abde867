// Yehua console: small progressive enhancements; every page works without this script.
"use strict";

(function () {
  // On a phone every table is a pile of cards: each cell is labelled with its column's
  // heading (admin.css shows the label); a cell with its own data-label keeps it.
  document.querySelectorAll("main table").forEach(function (table) {
    const heads = [];  // one entry per column, a heading spanning columns repeated
    if (table.tHead && table.tHead.rows.length) {
      Array.from(table.tHead.rows[0].cells).forEach(function (head) {
        for (let i = 0; i < (head.colSpan || 1); i += 1) { heads.push(head); }
      });
    }
    Array.from(table.tBodies).forEach(function (body) {
      Array.from(body.rows).forEach(function (row) {
        let column = 0;
        Array.from(row.cells).forEach(function (cell) {
          const head = heads[column];
          if (!cell.hasAttribute("data-label") && head) {
            cell.setAttribute("data-label", head.textContent.trim());
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });

  // The menu and the filters fold away on a phone and stay open on a wide screen.
  const narrow = window.matchMedia("(max-width: 640px)");
  const fold = function () {
    document.querySelectorAll("details[data-fold]").forEach(function (details) {
      details.open = !narrow.matches;
    });
  };
  fold();
  narrow.addEventListener("change", fold);

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

// The lesson editor: a character count under the body, and the listen voice when it is made.
(function () {
  document.querySelectorAll("textarea[data-max-chars]").forEach(function (area) {
    const count = area.form.querySelector("[data-count]");
    if (!count) { return; }
    const max = Number(area.dataset.maxChars);
    const show = function () {
      count.textContent = String(area.value.length);
      count.parentElement.classList.toggle("error", area.value.length > max);
    };
    area.addEventListener("input", show);
    show();
  });
  const listen = document.querySelector("[data-listen-poll]");
  if (listen) {
    const state = listen.querySelector("[data-listen-state]");
    const audio = listen.querySelector("[data-listen-audio]");
    const poll = function () {
      fetch(listen.dataset.listenPoll, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (found) {
          if (!found || found.state === "working") { setTimeout(poll, 2000); return; }
          listen.dataset.state = found.state;
          if (found.state === "ready") {
            state.hidden = true;
            audio.src = found.url;
            audio.hidden = false;
          } else {
            state.textContent = "语音没有生成出来（可能是语音服务连不上），可以再点一次试听。";
            state.className = "error";
          }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  }
})();
