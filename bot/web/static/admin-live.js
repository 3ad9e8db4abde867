// The live list of an open night talk: asks for new suggestions every few seconds.
// Everything a member wrote goes in as textContent, never as markup.
"use strict";
(function () {
  const live = document.querySelector("[data-live-url]");
  if (!live) return;
  const list = live.querySelector("[data-role=list]");
  const count = live.querySelector("[data-role=count]");
  const state = live.querySelector("[data-role=state]");
  const empty = live.querySelector("[data-role=empty]");
  const seconds = Number(live.dataset.poll) || 3;
  let after = Number(live.dataset.after) || 0;
  let timer = null;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
  }

  function add(item) {
    const li = document.createElement("li");
    li.dataset.testid = "live-item";
    li.dataset.number = String(item.number);
    li.className = "arrived";
    const link = document.createElement("a");
    link.href = item.url;
    link.textContent = fill(live.dataset.numberLabel, { number: item.number });
    const who = document.createElement("strong");
    who.textContent = item.author;
    li.append(link, " ", who);
    if (item.raised_by) {
      const by = document.createElement("small");
      by.textContent = " " + fill(live.dataset.raisedBy, { name: item.raised_by });
      li.append(by);
    }
    li.append("：");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = item.text;
    li.append(text);
    if (item.voice_url) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = item.voice_url;
      li.append(" ", audio);
    }
    const meta = document.createElement("small");
    meta.textContent = " " + item.category + " · " + item.status;
    li.append(meta);
    list.append(li);
  }

  async function poll() {
    try {
      const response = await fetch(live.dataset.liveUrl + "?after=" + after,
                                   { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        for (const item of data.suggestions) {
          add(item);
          after = Math.max(after, item.number);
        }
        count.textContent = String(data.count);
        if (empty && data.count > 0) empty.hidden = true;
        if (data.status !== "open") {
          if (state) state.textContent = live.dataset.ended;
          return; // the talk is over: nothing more will arrive
        }
      }
    } catch (error) {
      // The bot restarting or the phone losing signal: try again at the next tick.
    }
    timer = window.setTimeout(poll, seconds * 1000);
  }

  timer = window.setTimeout(poll, seconds * 1000);
  window.addEventListener("pagehide", () => window.clearTimeout(timer));
})();
