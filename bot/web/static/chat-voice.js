/* Yehua web chat: voice messages. Hold the big button to talk, release to send, slide off to
   cancel; a quick tap starts a recording that a second tap sends, for hands that cannot hold. */
(function () {
  "use strict";

  var MAX_SECONDS = 120;
  var MIN_SECONDS = 0.5;
  var MAX_BYTES = 2 * 1024 * 1024;
  var TAP_MS = 500;        // shorter than this is a tap: keep recording until the next tap
  var SLIDE_OFF_PX = 40;   // how far past the button's edge a finger may drift before cancelling
  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

  window.YehuaVoice = function (chat) {
    var T = chat.texts;
    var $ = function (id) { return document.getElementById(id); };
    var button = $("record"), label = $("record-label"), bar = $("recording"),
        seconds = $("rec-seconds"), hint = $("rec-hint"), cancelButton = $("rec-cancel");
    // phase: idle -> starting (asking for the microphone) -> recording -> sending -> idle
    var rec = { phase: "idle", mode: "hold", token: 0, pointerId: null, downAt: 0,
                outside: false, stream: null, recorder: null, chunks: [], startedAt: 0,
                stoppedAt: 0, timer: null, send: false };

    function supported() {
      return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
                window.MediaRecorder);
    }

    function pickType() {
      for (var i = 0; i < TYPES.length; i++) {
        if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(TYPES[i])) {
          return TYPES[i];
        }
      }
      return "";
    }

    function elapsed() {
      return rec.startedAt ? ((rec.stoppedAt || Date.now()) - rec.startedAt) / 1000 : 0;
    }

    /* The bar and the button say what letting go will do. */
    function show() {
      var recording = rec.phase === "starting" || rec.phase === "recording";
      bar.hidden = !recording;
      button.classList.toggle("active", recording);
      // Only one 「发送」 while recording: the text box's button would send nothing.
      if (button.form) { button.form.classList.toggle("is-recording", recording); }
      bar.classList.toggle("cancelling", recording && rec.mode === "hold" && rec.outside);
      cancelButton.hidden = !(recording && rec.mode === "tap");
      var left = Math.ceil(MAX_SECONDS - elapsed());
      seconds.textContent = chat.clock(elapsed());
      if (!recording) {
        label.textContent = T.voice_hold;
      } else if (rec.mode === "tap") {
        label.textContent = T.send;
      } else {
        label.textContent = rec.outside ? T.voice_release_cancel : T.voice_release_send;
      }
      if (rec.phase === "starting") {
        hint.textContent = T.voice_starting;
      } else if (rec.mode === "hold" && rec.outside) {
        hint.textContent = T.voice_cancel_hint;
      } else if (left <= 10) {
        hint.textContent = T.voice_time_left.replace("{seconds}", Math.max(0, left));
      } else {
        hint.textContent = rec.mode === "tap" ? T.voice_tap_hint : T.voice_hold_hint;
      }
    }

    function begin(mode) {
      if (rec.phase !== "idle") { return; }
      if (!supported()) {
        // Browsers hide the microphone from plain-http pages other than this computer's own.
        chat.toast(window.isSecureContext === false ? T.voice_needs_https : T.voice_unsupported);
        return;
      }
      var token = ++rec.token, askedAt = Date.now();
      rec.phase = "starting";
      rec.mode = mode;
      rec.outside = false;
      rec.startedAt = rec.stoppedAt = 0;
      // The microphone would pick up a lesson playing aloud.
      var all = document.querySelectorAll("audio");
      for (var i = 0; i < all.length; i++) { all[i].pause(); }
      show();
      navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }
      }).then(function (stream) {
        if (token !== rec.token || rec.phase !== "starting") {
          stream.getTracks().forEach(function (t) { t.stop(); });
          // Let go while the browser asked for permission: the next press records at once.
          if (Date.now() - askedAt > 1000) { chat.toast(T.voice_mic_ready); }
          return;
        }
        record(stream);
      }).catch(function (error) {
        if (token !== rec.token) { return; }
        rec.phase = "idle";
        show();
        var refused = error && (error.name === "NotAllowedError" ||
                                error.name === "SecurityError" || error.name === "NotFoundError");
        chat.toast(refused ? T.voice_no_mic : T.voice_unsupported);
      });
    }

    function record(stream) {
      var options = { audioBitsPerSecond: 32000 };  // 2 minutes stay far under 2 MB
      var type = pickType();
      if (type) { options.mimeType = type; }
      var recorder;
      try {
        recorder = new MediaRecorder(stream, options);
      } catch (e) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        rec.phase = "idle";
        show();
        chat.toast(T.voice_unsupported);
        return;
      }
      rec.stream = stream;
      rec.recorder = recorder;
      rec.chunks = [];
      rec.send = false;
      recorder.ondataavailable = function (event) {
        if (event.data && event.data.size) { rec.chunks.push(event.data); }
      };
      recorder.onstop = finish;
      recorder.start();
      rec.phase = "recording";
      rec.startedAt = Date.now();
      rec.timer = setInterval(function () {
        if (elapsed() >= MAX_SECONDS) { stop(true); } else { show(); }
      }, 250);
      show();
    }

    function stop(send) {
      if (rec.phase === "starting") {
        rec.token++;  // forget the pending request for the microphone
        rec.phase = "idle";
        show();
        return;
      }
      if (rec.phase !== "recording") { return; }
      rec.send = send;
      rec.stoppedAt = Date.now();
      rec.phase = "sending";
      clearInterval(rec.timer);
      show();
      rec.recorder.stop();
      if (!send) { chat.toast(T.voice_cancelled); }
    }

    function finish() {
      var recorder = rec.recorder;
      rec.stream.getTracks().forEach(function (t) { t.stop(); });
      rec.stream = rec.recorder = null;
      var blob = new Blob(rec.chunks, { type: recorder.mimeType || "audio/webm" });
      rec.chunks = [];
      if (!rec.send) { idle(); return; }
      if (elapsed() < MIN_SECONDS || !blob.size) { chat.toast(T.voice_too_short); idle(); return; }
      if (blob.size > MAX_BYTES) { chat.toast(T.voice_too_big); idle(); return; }
      upload(blob);
    }

    function idle() {
      rec.phase = "idle";
      rec.pointerId = null;
      show();
    }

    function upload(blob) {
      var form = new FormData();
      form.append("user_id", chat.userId());
      form.append("name", chat.name());
      var ext = /ogg/.test(blob.type) ? "ogg" : /mp4/.test(blob.type) ? "m4a" : "webm";
      form.append("audio", blob, "voice." + ext);
      chat.busy(T.voice_sending);
      fetch("/api/rooms/" + encodeURIComponent(chat.chatId) + "/voice", {
        method: "POST", body: form, headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.ok && body.message) { chat.receive(body.message); return; }
          chat.toast(body.error || T.voice_failed);
        });
      }).catch(function () {
        chat.toast(T.voice_failed);
      }).then(function () {
        chat.busy("");
        idle();
      });
    }

    function within(event) {
      var box = button.getBoundingClientRect();
      return event.clientX >= box.left - SLIDE_OFF_PX && event.clientX <= box.right + SLIDE_OFF_PX &&
             event.clientY >= box.top - SLIDE_OFF_PX && event.clientY <= box.bottom + SLIDE_OFF_PX;
    }

    button.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      event.preventDefault();
      if (rec.mode === "tap" && (rec.phase === "recording" || rec.phase === "starting")) {
        stop(true);  // the second tap sends
        return;
      }
      if (rec.phase !== "idle") { return; }
      rec.pointerId = event.pointerId;
      rec.downAt = Date.now();
      if (button.setPointerCapture) { button.setPointerCapture(event.pointerId); }
      begin("hold");
    });

    button.addEventListener("pointermove", function (event) {
      if (event.pointerId !== rec.pointerId || rec.mode !== "hold") { return; }
      var outside = !within(event);
      if (outside !== rec.outside) { rec.outside = outside; show(); }
    });

    function release(event, cancelled) {
      if (event.pointerId !== rec.pointerId) { return; }
      rec.pointerId = null;
      if (rec.mode !== "hold" || (rec.phase !== "starting" && rec.phase !== "recording")) { return; }
      // A quick tap, or the system taking the finger away: keep recording until "发送".
      if (cancelled || Date.now() - rec.downAt < TAP_MS) {
        rec.mode = "tap";
        rec.outside = false;
        show();
      } else {
        stop(!rec.outside);
      }
    }

    button.addEventListener("pointerup", function (event) { release(event, false); });
    button.addEventListener("pointercancel", function (event) { release(event, true); });
    button.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    button.addEventListener("keydown", function (event) {
      if ((event.key !== "Enter" && event.key !== " ") || event.repeat) { return; }
      event.preventDefault();
      if (rec.phase === "idle") { begin("tap"); } else if (rec.mode === "tap") { stop(true); }
    });
    cancelButton.addEventListener("click", function () { stop(false); });
    show();
  };
})();
