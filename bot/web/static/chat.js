/* Yehua web group chat. Vanilla JS, no build step. All data goes into the DOM via textContent. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("chat-data").textContent);
  var T = data.texts;
  var chatId = data.chat_id;
  var MAX_TEXT = 2000;
  var MAX_NAME = 20;
  var PAGE = 50;
  var SVG = "http://www.w3.org/2000/svg";

  var $ = function (id) { return document.getElementById(id); };
  var els = {
    join: $("join"), joinForm: $("join-form"), nameInput: $("name-input"),
    joinError: $("join-error"), chat: $("chat"), scroller: $("messages"),
    list: $("message-list"), earlier: $("earlier"), newMessages: $("new-messages"),
    composer: $("composer"), box: $("message-box"), status: $("status"),
    toast: $("toast"), rename: $("rename")
  };
  var state = {
    ws: null, ready: false, retries: 0, retryTimer: null, started: false,
    oldestId: null, newestId: 0, hasMore: !!data.history.has_more, loadingOlder: false,
    seen: {}, myTag: store("yehua.tag") || "", toastTimer: null
  };

  /* --- small helpers --- */
  function store(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: keep going without memory */ }
    return null;
  }

  function userId() {
    var id = store("yehua.user_id");
    if (id && /^[A-Za-z0-9_-]{8,64}$/.test(id)) { return id; }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    store("yehua.user_id", id);
    return id;
  }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined && text !== null) { el.textContent = text; }
    return el;
  }

  function chars(text) { return Array.from(text).length; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* SubRip text -> [{start, end, text}] in seconds. */
  function parseSrt(text) {
    var out = [];
    var stamp = function (s) {
      var m = /(\d+):(\d+):(\d+)[,.](\d+)/.exec(s);
      return m ? (+m[1]) * 3600 + (+m[2]) * 60 + (+m[3]) + (+m[4]) / 1000 : 0;
    };
    String(text).replace(/\r/g, "").split(/\n\s*\n/).forEach(function (block) {
      var lines = block.split("\n").filter(function (l) { return l.trim() !== ""; });
      for (var i = 0; i < lines.length; i++) {
        if (lines[i].indexOf("-->") > 0) {
          var ends = lines[i].split("-->");
          out.push({ start: stamp(ends[0]), end: stamp(ends[1]),
                     text: lines.slice(i + 1).join(" ") });
          break;
        }
      }
    });
    return out;
  }

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) { seconds = 0; }
    seconds = Math.floor(seconds);
    return Math.floor(seconds / 60) + ":" + pad(seconds % 60);
  }

  /* Date parts in the group's own time zone, whatever the phone's clock is set to. */
  var zoned = (function () {
    try {
      return new Intl.DateTimeFormat("en-CA", {
        timeZone: data.timezone || undefined, year: "numeric", month: "numeric",
        day: "numeric", hour: "numeric", minute: "numeric", hourCycle: "h23"
      });
    } catch (e) {
      return new Intl.DateTimeFormat("en-CA", {
        year: "numeric", month: "numeric", day: "numeric", hour: "numeric",
        minute: "numeric", hourCycle: "h23"
      });
    }
  })();

  function parts(d) {
    var out = {};
    zoned.formatToParts(d).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    var p = parts(d);
    var time = pad(+p.hour) + ":" + pad(+p.minute);
    var day = p.year + "-" + p.month + "-" + p.day;
    var now = parts(new Date());
    var y = parts(new Date(Date.now() - 86400000));
    if (day === now.year + "-" + now.month + "-" + now.day) { return time; }
    if (day === y.year + "-" + y.month + "-" + y.day) { return T.yesterday + " " + time; }
    return T.date_format.replace("{month}", +p.month).replace("{day}", +p.day) + " " + time;
  }

  function toast(text) {
    els.toast.textContent = text;
    els.toast.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { els.toast.hidden = true; }, 5000);
  }

  function setStatus(text) {
    els.status.textContent = text || "";
    els.status.hidden = !text;
  }

  /* --- drawing messages --- */
  function icon(playing) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", playing ? "M6 4h4v16H6zM14 4h4v16h-4z" : "M7 4l13 8-13 8z");
    svg.appendChild(path);
    return svg;
  }

  function player(m, testid) {
    var wrap = node("div", "player-wrap");
    var row = node("div", "player");
    var button = node("button", "play");
    button.type = "button";
    button.setAttribute("data-testid", "play-button");
    button.setAttribute("aria-label", T.play);
    button.appendChild(icon(false));
    var info = node("div", "play-info");
    var total = m.audio_duration || 0;
    var time = node("div", "clock", clock(0) + " / " + clock(total));
    var bar = node("div", "progress");
    var fill = node("span");
    bar.appendChild(fill);
    info.appendChild(time);
    info.appendChild(bar);
    row.appendChild(button);
    row.appendChild(info);

    // One big button is easier for older hands than the browser's small controls.
    var audio = document.createElement("audio");
    audio.controls = false;
    audio.preload = "none";
    audio.src = m.audio_url;
    audio.setAttribute("data-testid", testid);

    function length() { return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : total; }
    function show() {
      var all = length();
      time.textContent = clock(audio.currentTime) + " / " + clock(all);
      fill.style.width = all ? Math.min(100, 100 * audio.currentTime / all) + "%" : "0";
    }
    function mode(playing) {
      button.replaceChild(icon(playing), button.firstChild);
      button.setAttribute("aria-label", playing ? T.pause : T.play);
    }
    button.addEventListener("click", function () {
      if (audio.paused) {
        var started = audio.play();
        if (started && started.catch) { started.catch(function () { toast(T.load_failed); }); }
      } else {
        audio.pause();
      }
    });
    // Subtitles: the sentence being read, shown large under the button while it plays.
    var line = null, cues = null;
    if (m.subtitle_url) {
      line = node("p", "subtitle", "");
      line.setAttribute("data-testid", "subtitle");
      line.setAttribute("aria-live", "polite");
    }
    function loadCues() {
      if (!line || cues) { return; }
      cues = [];
      fetch(m.subtitle_url).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (text) { cues = parseSrt(text); caption(); })
        .catch(function () { cues = []; });
    }
    function caption() {
      if (!line || !cues) { return; }
      var t = audio.currentTime, said = "";
      for (var i = 0; i < cues.length; i++) {
        if (cues[i].start <= t && t < cues[i].end) { said = cues[i].text; break; }
      }
      if (line.textContent !== said) { line.textContent = said; }
    }
    audio.addEventListener("play", loadCues);
    audio.addEventListener("timeupdate", caption);

    bar.addEventListener("click", function (event) {
      var all = length();
      if (!all) { return; }
      var box = bar.getBoundingClientRect();
      audio.currentTime = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * all;
      show();
    });
    audio.addEventListener("timeupdate", show);
    audio.addEventListener("loadedmetadata", show);
    audio.addEventListener("play", function () { mode(true); });
    audio.addEventListener("pause", function () { mode(false); });
    audio.addEventListener("ended", function () { mode(false); show(); });
    wrap.appendChild(row);
    if (line) { wrap.appendChild(line); }
    wrap.appendChild(audio);
    return wrap;
  }

  /* A grey line above a reply: who said what, as in WeChat's quoted replies. */
  function quoteLine(q) {
    var line = node("div", "quote", q.sender_name + "：" + q.text);
    line.setAttribute("data-testid", "quote");
    return line;
  }

  /* 「听完了」 under a lesson: says so in the group as the member, then stays 「已听」. */
  var LISTENED_KEY = "yehua.listened." + chatId;

  function listenedKeys() {
    try { return JSON.parse(store(LISTENED_KEY) || "[]"); } catch (e) { return []; }
  }

  function listenedButton(key) {
    var button = node("button", "listened", T.listened);
    button.type = "button";
    button.setAttribute("data-testid", "listened-button");
    button.setAttribute("data-lesson", key);
    if (listenedKeys().indexOf(key) >= 0) { markListened(button); }
    button.addEventListener("click", function () {
      if (!state.ready) { toast(T.not_connected); return; }
      state.ws.send(JSON.stringify({ type: "post", text: T.listened }));
      var keys = listenedKeys().filter(function (k) { return k !== key; });
      keys.push(key);
      store(LISTENED_KEY, JSON.stringify(keys.slice(-200)));
      var same = els.list.querySelectorAll(".listened");
      for (var i = 0; i < same.length; i++) {
        if (same[i].getAttribute("data-lesson") === key) { markListened(same[i]); }
      }
    });
    return button;
  }

  function markListened(button) {
    button.textContent = T.listened_done;
    button.disabled = true;
  }

  /* A lesson comes as a text card and its voice cards: one 「听完了」, under the last of them. */
  function tidyListened() {
    var items = els.list.children;
    for (var i = 0; i < items.length; i++) {
      var button = items[i].querySelector(".listened");
      if (!button) { continue; }
      var next = items[i + 1];
      var nextKey = next && next.getAttribute("data-lesson");
      button.hidden = nextKey === items[i].getAttribute("data-lesson");
    }
  }

  /* 「要把这段语音记成建议吗？」 under a member's voice: a button for them to say 「是」. */
  var ASKED_KEY = "yehua.voice-asked." + chatId;

  function askedIds() {
    try { return JSON.parse(store(ASKED_KEY) || "[]"); } catch (e) { return []; }
  }

  function voiceAskButton(m) {
    var button = node("button", "voice-ask", T.voice_ask_button);
    button.type = "button";
    button.setAttribute("data-testid", "voice-ask-button");
    button.setAttribute("data-for", m.quote ? m.quote.sender_tag || "" : "");
    button.hidden = !!m.quote && m.quote.sender_tag !== state.myTag;
    if (askedIds().indexOf(m.id) >= 0) { answered(button); }
    button.addEventListener("click", function () {
      if (!state.ready) { toast(T.not_connected); return; }
      state.ws.send(JSON.stringify({ type: "post", text: T.voice_ask_answer }));
      store(ASKED_KEY, JSON.stringify(askedIds().concat([m.id]).slice(-50)));
      answered(button);
    });
    return button;
  }

  function answered(button) {
    button.textContent = T.voice_ask_done;
    button.disabled = true;
  }

  /* A member's picture, tapped open full size. */
  function photo(url) {
    var link = node("a", "photo-link");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    var img = document.createElement("img");
    img.className = "photo";
    img.src = url;
    img.alt = T.quote_photo;
    img.loading = "lazy";
    img.setAttribute("data-testid", "message-photo");
    link.appendChild(img);
    return link;
  }

  function render(m) {
    var mine = !m.from_bot && state.myTag && m.sender_tag === state.myTag;
    var lesson = m.from_bot && (m.lesson_slug || m.audio_url);
    var li = node("li", "message" + (mine ? " mine" : "") + (m.from_bot ? " from-bot" : "") +
      (lesson ? " lesson" : "") + (!m.from_bot && m.audio_url ? " voice" : "") +
      (m.private ? " private" : ""));
    li.setAttribute("data-testid", "message");
    li.setAttribute("data-id", String(m.id));
    if (m.sender_tag) { li.setAttribute("data-tag", m.sender_tag); }

    var meta = node("div", "meta");
    meta.appendChild(node("span", "who", mine ? T.me : m.sender_name));
    meta.appendChild(node("time", "when", when(m.created_at)));
    // An answer for this member alone: the others in the room never see it.
    if (m.private) { meta.appendChild(node("span", "private-note", T.private)); }
    li.appendChild(meta);

    if (lesson) {
      var key = m.lesson_slug || "message-" + m.id;
      li.setAttribute("data-lesson", key);
      var card = node("article", "card");
      if (m.quote) { card.appendChild(quoteLine(m.quote)); }
      card.appendChild(node("span", "badge", T.lesson));
      card.appendChild(node("strong", "title", m.lesson_title || T.lesson));
      var body = m.text || "";
      var headline = "【" + T.lesson + "】" + (m.lesson_title || "");
      // The card already shows the title: drop the text's own headline line under it.
      if (m.lesson_title && body.indexOf(headline + "\n") === 0) {
        body = body.slice(headline.length + 1);
      }
      if (body === m.lesson_title) { body = ""; }  // a voice clip's caption is just the title
      if (body) { card.appendChild(node("p", "text", body)); }
      if (m.audio_url) { card.appendChild(player(m, "lesson-audio")); }
      card.appendChild(listenedButton(key));
      li.appendChild(card);
    } else {
      var bubble = node("div", "bubble");
      if (m.quote) { bubble.appendChild(quoteLine(m.quote)); }
      if (m.text) { bubble.appendChild(node("span", "text", m.text)); }
      if (m.from_bot && m.text === T.voice_ask) { bubble.appendChild(voiceAskButton(m)); }
      if (m.image_url) { bubble.appendChild(photo(m.image_url)); }
      // A member's voice plays with the same big button as a lesson.
      if (m.audio_url) { bubble.appendChild(player(m, "voice-audio")); }
      if (m.voice_expired) {
        var gone = node("span", "expired", T.voice_expired);
        gone.setAttribute("data-testid", "voice-expired");
        bubble.appendChild(gone);
      }
      li.appendChild(bubble);
    }
    return li;
  }

  function markMine() {
    var items = els.list.querySelectorAll(".message[data-tag]");
    for (var i = 0; i < items.length; i++) {
      var mine = items[i].getAttribute("data-tag") === state.myTag;
      items[i].classList.toggle("mine", mine);
    }
    var asks = els.list.querySelectorAll(".voice-ask[data-for]");
    for (var j = 0; j < asks.length; j++) {
      var whose = asks[j].getAttribute("data-for");
      asks[j].hidden = !!whose && whose !== state.myTag;
    }
  }

  function nearBottom() {
    var s = els.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  function toBottom() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
    els.newMessages.hidden = true;
  }

  /* Insert messages in id order, skipping ones already shown (reconnects can repeat). */
  function add(messages) {
    var added = [];
    messages.forEach(function (m) {
      if (state.seen[m.id]) { return; }
      state.seen[m.id] = true;
      var li = render(m);
      var next = null;
      var items = els.list.children;
      for (var i = items.length - 1; i >= 0; i--) {
        if (Number(items[i].getAttribute("data-id")) < m.id) { break; }
        next = items[i];
      }
      els.list.insertBefore(li, next);
      if (state.oldestId === null || m.id < state.oldestId) { state.oldestId = m.id; }
      if (m.id > state.newestId) { state.newestId = m.id; }
      added.push(li);
    });
    if (added.length) { tidyListened(); }
    return added;
  }

  function receive(m) {
    var stick = nearBottom();
    var added = add([m]);
    if (!added.length) { return; }
    if (stick || added[0].classList.contains("mine")) { toBottom(); } else { els.newMessages.hidden = false; }
  }

  function showEarlierButton() {
    els.earlier.disabled = !state.hasMore;
    els.earlier.textContent = state.hasMore ? T.earlier : T.no_earlier;
  }

  function api(query) {
    return fetch("/api/rooms/" + encodeURIComponent(chatId) + "/messages?" + query, {
      // Our own id brings the answers meant for us alone along with the room's messages.
      headers: { "Accept": "application/json", "X-Yehua-User": userId() }, cache: "no-store"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function loadOlder() {
    if (state.loadingOlder || !state.hasMore || state.oldestId === null) { return; }
    state.loadingOlder = true;
    els.earlier.textContent = T.loading;
    api("before=" + state.oldestId + "&limit=" + PAGE).then(function (page) {
      var s = els.scroller;
      var height = s.scrollHeight;
      var top = s.scrollTop;
      state.hasMore = !!page.has_more;
      add(page.messages);
      s.scrollTop = top + (s.scrollHeight - height);
    }).catch(function () {
      toast(T.load_failed);
    }).then(function () {
      state.loadingOlder = false;
      showEarlierButton();
    });
  }

  /* Once connected: fetch whatever was said since the page was drawn or the socket dropped. */
  function catchUp() {
    var fresh = !state.newestId;
    api(fresh ? "limit=" + PAGE : "after=" + state.newestId + "&limit=200").then(function (page) {
      if (fresh) { state.hasMore = !!page.has_more; showEarlierButton(); }
      page.messages.forEach(receive);
      if (!fresh && page.has_more && page.messages.length) { catchUp(); }
    }).catch(function () { /* the next reconnect tries again */ });
  }

  /* The page was drawn without the answers meant for us alone: fetch the latest page again. */
  function mineToo() {
    if (state.privateLoaded) { return; }
    api("limit=" + PAGE).then(function (page) {
      state.privateLoaded = true;
      add(page.messages.filter(function (m) { return m.private; }));
    }).catch(function () { /* the next hello tries again */ });
  }

  /* --- the live connection --- */
  function hello() {
    if (!state.ws || state.ws.readyState !== 1) { return; }
    state.ws.send(JSON.stringify({ type: "hello", user_id: userId(), name: store("yehua.name") || "" }));
  }

  function reconnectLater() {
    if (state.retryTimer) { return; }
    var delay = Math.min(30000, 1000 * Math.pow(2, state.retries)) * (0.75 + Math.random() / 2);
    state.retries += 1;
    state.retryTimer = setTimeout(function () { state.retryTimer = null; connect(); }, delay);
  }

  function connect() {
    if (state.ws && state.ws.readyState <= 1) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + "/ws/" + encodeURIComponent(chatId));
    state.ws = ws;
    ws.onopen = hello;
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.type === "ready") {
        state.ready = true;
        state.retries = 0;
        state.myTag = msg.tag;
        store("yehua.tag", msg.tag);
        setStatus("");
        markMine();
        catchUp();
        mineToo();
      } else if (msg.type === "message") {
        receive(msg.message);
      } else if (msg.type === "error") {
        refused(msg);
      } else if (msg.type === "not_saved") {
        toast(msg.text);
        restoreDraft(msg.draft);
      }
    };
    ws.onclose = function () {
      if (state.ws !== ws) { return; }
      state.ready = false;
      setStatus(T.reconnecting);
      reconnectLater();
    };
  }

  /* A refusal: a post not taken goes back in the box; a refused name asks for another. */
  function refused(msg) {
    if (msg.about === "name") {
      askName();
      els.joinError.textContent = msg.text;
      els.joinError.hidden = false;
      return;
    }
    restoreDraft(msg.draft);
    if (!state.ready) { setStatus(msg.text); }  // a refused hello: say why until it changes
    toast(msg.text);
  }

  function reconnectNow() {
    if (!state.started || (state.ws && state.ws.readyState <= 1)) { return; }
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    connect();
  }

  /* --- joining, renaming and sending --- */
  function askName() {
    els.chat.hidden = true;
    els.rename.hidden = true;
    els.join.hidden = false;
    els.nameInput.value = store("yehua.name") || "";
    els.nameInput.focus();
  }

  function startChat() {
    els.join.hidden = true;
    els.chat.hidden = false;
    els.rename.hidden = false;
    toBottom();
    if (!state.started) {
      state.started = true;
      setStatus(T.connecting);
      connect();
    } else {
      hello();
    }
  }

  els.joinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = els.nameInput.value.replace(/\s+/g, " ").trim();
    if (chars(name) < 1 || chars(name) > MAX_NAME) {
      els.joinError.textContent = T.error_name;
      els.joinError.hidden = false;
      els.nameInput.focus();
      return;
    }
    els.joinError.hidden = true;
    store("yehua.name", name);
    startChat();
  });

  els.rename.addEventListener("click", askName);

  els.composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = els.box.value.trim();
    if (!text) { toast(T.error_empty); return; }
    if (chars(text) > MAX_TEXT) { toast(T.error_too_long.replace("{limit}", MAX_TEXT)); return; }
    if (!state.ready) { toast(T.not_connected); return; }
    state.ws.send(JSON.stringify({ type: "post", text: text }));
    els.box.value = "";
    grow();
    els.box.focus();
  });

  /* A message the server could not save goes back in the box, ready to be sent again. */
  function restoreDraft(draft) {
    if (typeof draft !== "string" || !draft) { return; }
    var typed = els.box.value.trim();
    if (typed === draft) { return; }
    els.box.value = typed ? draft + "\n" + typed : draft;
    grow();
  }

  function grow() {
    els.box.style.height = "auto";
    els.box.style.height = Math.min(els.box.scrollHeight + 6, 180) + "px";
  }

  els.box.addEventListener("input", grow);
  els.box.addEventListener("keydown", function (event) {
    /* Enter while a Chinese input method is composing picks a candidate: never send then. */
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) { return; }
    event.preventDefault();
    if (els.composer.requestSubmit) { els.composer.requestSubmit(); } else { els.composer.dispatchEvent(new Event("submit", { cancelable: true })); }
  });

  els.earlier.addEventListener("click", loadOlder);
  els.scroller.addEventListener("scroll", function () {
    if (els.scroller.scrollTop < 80) { loadOlder(); }
    if (nearBottom()) { els.newMessages.hidden = true; }
  }, { passive: true });
  els.newMessages.addEventListener("click", toBottom);

  /* One lesson at a time: starting one pauses the others. */
  document.addEventListener("play", function (event) {
    var all = document.querySelectorAll("audio");
    for (var i = 0; i < all.length; i++) {
      if (all[i] !== event.target) { all[i].pause(); }
    }
  }, true);

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { reconnectNow(); }
  });

  /* --- voice messages (chat-voice.js) --- */
  if (window.YehuaVoice) {
    window.YehuaVoice({
      texts: T, chatId: chatId, clock: clock, toast: toast, receive: receive, userId: userId,
      name: function () { return store("yehua.name") || ""; },
      busy: function (text) { setStatus(text || (state.ready ? "" : T.reconnecting)); }
    });
  }

  /* --- photos: the camera button sends a picture, with what is in the box as its caption --- */
  var photoInput = document.getElementById("photo-input");
  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file) { return; }
    var caption = els.box.value.trim();
    var form = new FormData();
    form.append("user_id", userId());
    form.append("name", store("yehua.name") || "");
    form.append("text", caption);
    form.append("photo", file, file.name || "photo.jpg");
    setStatus(T.photo_sending);
    fetch("/api/rooms/" + encodeURIComponent(chatId) + "/photo", {
      method: "POST", body: form, headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.message) {
          if (els.box.value.trim() === caption) { els.box.value = ""; grow(); }
          receive(body.message);
          return;
        }
        toast(body.error || T.photo_not_saved);
      });
    }).catch(function () {
      toast(T.photo_not_saved);
    }).then(function () {
      setStatus(state.ready ? "" : T.reconnecting);
    });
  });
  /* --- 签到 while a night talk is open (chat-checkin.js) --- */
  if (window.YehuaCheckIn) {
    window.YehuaCheckIn({
      texts: T, chatId: chatId, toast: toast, list: els.list,
      post: function (text) {
        if (!state.ready) { toast(T.not_connected); return false; }
        state.ws.send(JSON.stringify({ type: "post", text: text }));
        return true;
      }
    });
  }

  /* --- start --- */
  add(data.history.messages);
  showEarlierButton();
  var saved = store("yehua.name");
  if (saved && chars(saved) >= 1 && chars(saved) <= MAX_NAME) { startChat(); } else { askName(); }
})();
