// Learner activity events for a lesson page: view, heartbeat while the tab is visible,
// video play/pause/seek. Events are queued in sessionStorage, sent in batches to the
// events endpoint, retried with backoff when the network or server fails, and flushed
// with fetch({keepalive: true}) when the page is hidden or left. Each event carries a
// client-made UUID, so a retry of a batch the server already stored is not counted twice.
(function () {
  "use strict";

  var root = document.querySelector("[data-events-url]");
  if (!root || !window.fetch) {
    return;
  }

  var STORAGE_KEY = "skillstudio.events.queue";
  var HEARTBEAT_MS = 30000;
  var FLUSH_MS = 10000;
  var MAX_BATCH = 100;
  var MAX_QUEUE = 1000;
  var MAX_BACKOFF_MS = 120000;

  var url = root.getAttribute("data-events-url");
  var context = {
    course_id: toId(root.getAttribute("data-course-id")),
    lesson_id: toId(root.getAttribute("data-lesson-id")),
  };
  var inFlight = false;
  var backoffMs = 0;
  var retryTimer = null;

  function toId(value) {
    var number = parseInt(value, 10);
    return isNaN(number) ? null : number;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    // RFC 4122 version 4 from getRandomValues, for browsers without randomUUID (non-HTTPS).
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function load() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (e) {
      return [];
    }
  }

  function save(queue) {
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(queue.slice(-MAX_QUEUE)));
    } catch (e) {
      // Storage full or disabled: events stay in memory for this page only.
    }
  }

  var queue = load();

  function track(type, data) {
    queue.push({
      event_id: uuid(),
      type: type,
      occurred_at: new Date().toISOString(),
      course_id: context.course_id,
      lesson_id: context.lesson_id,
      data: data || {},
    });
    save(queue);
  }

  function drop(sent) {
    var ids = {};
    sent.forEach(function (event) { ids[event.event_id] = true; });
    queue = queue.filter(function (event) { return !ids[event.event_id]; });
    save(queue);
  }

  function scheduleRetry() {
    backoffMs = Math.min(backoffMs ? backoffMs * 2 : 2000, MAX_BACKOFF_MS);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, backoffMs);
  }

  function send(batch, keepalive) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ events: batch }),
    });
  }

  function flush(keepalive) {
    if (inFlight || queue.length === 0) {
      return;
    }
    var batch = queue.slice(0, MAX_BATCH);
    inFlight = true;
    send(batch, Boolean(keepalive)).then(function (response) {
      inFlight = false;
      if (response.ok || (response.status >= 400 && response.status < 500 &&
          response.status !== 408 && response.status !== 429)) {
        // Stored, duplicates and per-event rejections are all final answers: a rejected
        // event would be rejected again, so it is dropped rather than retried forever.
        drop(batch);
        backoffMs = 0;
        if (queue.length) {
          flush(keepalive);
        }
      } else {
        scheduleRetry();
      }
    }, function () {
      inFlight = false;
      scheduleRetry();
    });
  }

  track("lesson_viewed", { path: window.location.pathname });
  flush();

  setInterval(function () {
    if (document.visibilityState === "visible") {
      track("heartbeat", { seconds: HEARTBEAT_MS / 1000 });
    }
  }, HEARTBEAT_MS);
  setInterval(flush, FLUSH_MS);

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flush(true);
    }
  });
  window.addEventListener("pagehide", function () { flush(true); });
  window.addEventListener("online", function () { flush(); });

  Array.prototype.forEach.call(document.querySelectorAll("video[data-track]"), function (video) {
    function position() {
      return { position: Math.floor(video.currentTime || 0) };
    }
    video.addEventListener("play", function () { track("video_play", position()); });
    video.addEventListener("pause", function () {
      track("video_pause", position());
      flush();
    });
    video.addEventListener("seeked", function () { track("video_seek", position()); });
  });

  window.SkillStudioEvents = { track: track, flush: flush, pending: function () { return queue.length; } };
})();
