/* Yehua web chat: the 「签到」 button, shown while the room's night talk is open. A tap says
   「签到」 in the chat as the member, the way typing it would; the bot counts each member once. */
(function () {
  "use strict";

  window.YehuaCheckIn = function (chat) {
    var T = chat.texts;
    var button = document.getElementById("check-in");
    if (!button) { return; }
    var KEY = "yehua.checked-in." + chat.chatId;
    var asking = false, again = false;

    function checkedTalk() {
      try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
    }

    function show(talk) {
      button.setAttribute("data-talk", talk ? String(talk) : "");
      button.hidden = !talk;
      var done = !!talk && checkedTalk() === String(talk);
      button.disabled = done;
      button.textContent = done ? T.check_in_done : T.check_in;
    }

    /* The opening note and the closing summary come from the bot: ask again after its posts.
       A post arriving while an answer is on its way asks once more after it, since that answer
       may predate the post. */
    function refresh() {
      if (asking) { again = true; return; }
      asking = true;
      again = false;
      fetch("/api/rooms/" + encodeURIComponent(chat.chatId) + "/talk", { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) { if (state) { show(state.open ? state.talk : null); } })
        .catch(function () { /* the next bot post asks again */ })
        .then(function () {
          asking = false;
          if (again) { refresh(); }
        });
    }

    button.addEventListener("click", function () {
      var talk = button.getAttribute("data-talk");
      if (!talk || !chat.post(T.check_in)) { return; }
      try { window.localStorage.setItem(KEY, talk); } catch (e) { /* counted all the same */ }
      show(talk);
    });

    new MutationObserver(function (changes) {
      for (var i = 0; i < changes.length; i++) {
        var added = changes[i].addedNodes;
        for (var j = 0; j < added.length; j++) {
          if (added[j].classList && added[j].classList.contains("from-bot")) { refresh(); return; }
        }
      }
    }).observe(chat.list, { childList: true });

    show(button.getAttribute("data-talk"));
  };
})();
