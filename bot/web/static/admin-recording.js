/* Yehua console: record a lesson's speaker in the browser and keep it as the lesson's voice. */
(function () {
  "use strict";

  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
  var MAX_SECONDS = 30 * 60;

  function pickType() {
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(TYPES[i])) {
        return TYPES[i];
      }
    }
    return "";
  }

  function clock(seconds) {
    var whole = Math.floor(seconds);
    var s = whole % 60;
    return Math.floor(whole / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  function setUp(box) {
    var q = function (name) { return box.querySelector("[data-recorder-" + name + "]"); };
    var start = q("start"), stop = q("stop"), save = q("save"), preview = q("preview"),
        time = q("clock"), status = q("status");
    var state = { recorder: null, stream: null, chunks: [], blob: null, startedAt: 0,
                  timer: null };

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    function tick() {
      var seconds = (Date.now() - state.startedAt) / 1000;
      time.textContent = clock(seconds);
      if (seconds >= MAX_SECONDS) { finish(); }
    }

    function finish() {
      if (state.recorder && state.recorder.state !== "inactive") { state.recorder.stop(); }
    }

    function stopped() {
      clearInterval(state.timer);
      if (state.stream) { state.stream.getTracks().forEach(function (t) { t.stop(); }); }
      var type = (state.recorder && state.recorder.mimeType) || "audio/webm";
      state.blob = new Blob(state.chunks, { type: type.split(";")[0] });
      preview.src = URL.createObjectURL(state.blob);
      preview.hidden = false;
      save.hidden = false;
      start.hidden = false;
      start.textContent = "重新录";
      stop.hidden = true;
      say("录好了，先听一听，满意就点「保存这段录音」。");
    }

    start.addEventListener("click", function () {
      if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
            window.MediaRecorder)) {
        say(window.isSecureContext === false ? "浏览器只在 https 网址下才让用话筒。"
                                            : "这个浏览器不能录音，请换一个或上传录音文件。", true);
        return;
      }
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var type = pickType();
        state.stream = stream;
        state.chunks = [];
        state.blob = null;
        state.recorder = type ? new MediaRecorder(stream, { mimeType: type })
                              : new MediaRecorder(stream);
        state.recorder.ondataavailable = function (event) {
          if (event.data && event.data.size) { state.chunks.push(event.data); }
        };
        state.recorder.onstop = stopped;
        state.recorder.start(1000);
        state.startedAt = Date.now();
        state.timer = setInterval(tick, 250);
        time.textContent = "0:00";
        start.hidden = true;
        stop.hidden = false;
        save.hidden = true;
        preview.hidden = true;
        say("正在录音…读完点「停止」。");
      }, function () {
        say("没能打开话筒，请允许这个网页使用话筒后再试。", true);
      });
    });

    stop.addEventListener("click", finish);

    save.addEventListener("click", function () {
      if (!state.blob) { return; }
      var extension = state.blob.type.indexOf("mp4") >= 0 ? "m4a" :
                      state.blob.type.indexOf("ogg") >= 0 ? "ogg" : "webm";
      var form = new FormData();
      form.append("csrf_token", box.getAttribute("data-csrf"));
      form.append("audio", state.blob, "浏览器录音." + extension);
      save.disabled = true;
      say("正在保存和转码，长录音要等一会儿…");
      fetch(box.getAttribute("data-action"), {
        method: "POST", body: form, credentials: "same-origin",
        headers: { "Accept": "application/json",
                   "X-CSRF-Token": box.getAttribute("data-csrf") }
      }).then(function (response) {
        return response.json().then(function (body) { return [response.ok, body]; });
      }).then(function (result) {
        if (!result[0]) {
          save.disabled = false;
          say(result[1].error || "没有保存成功，请再试一次。", true);
          return;
        }
        say(result[1].message);
        window.location.hash = "recording";
        window.location.reload();
      }).catch(function () {
        save.disabled = false;
        say("网络断了，没有保存成功，请再试一次。", true);
      });
    });
  }

  document.querySelectorAll("[data-recorder]").forEach(setUp);
})();
