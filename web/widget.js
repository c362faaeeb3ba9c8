/*
 * Toolkit Advisor chat widget: vanilla JavaScript over socket.io (Rasa's socketio channel).
 *
 * Why it is written this way:
 * - Every piece of user or bot text goes into the page through textContent or
 *   createTextNode, never innerHTML: a message like <img src=x onerror=...> is shown,
 *   not run. Links come only from Markdown [text](url) with an http(s) URL.
 * - The session id lives in localStorage and is sent in `session_request`; with
 *   session_persistence on the server, a reload continues the same conversation.
 *   The messages shown are kept in localStorage too, so a reload shows them again.
 * - socket.io-client reconnects by itself; the status line says so in words.
 */
(function () {
  "use strict";

  var SESSION_KEY = "toolkitAdvisor.sessionId";
  var HISTORY_PREFIX = "toolkitAdvisor.history.";
  var HISTORY_LIMIT = 200;
  var TYPING_TIMEOUT_MS = 30000;
  var START = { title: "Let's start", payload: "/greet" };

  var chat = document.querySelector(".chat");
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var typing = document.getElementById("typing");
  var statusBox = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var newChat = document.getElementById("new-chat");

  var config = { socketPath: "/socket.io", userMessageEvent: "user_uttered", botMessageEvent: "bot_uttered" };
  var socket = null;
  var sessionId = storageGet(SESSION_KEY);
  var confirmed = false;
  var history = loadHistory(sessionId);
  var typingTimer = null;

  // -- storage (private browsing or a full quota must not break the chat) ------------------

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* keep going without persistence */ }
  }
  function storageRemove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing stored */ }
  }
  function loadHistory(id) {
    if (!id) return [];
    try {
      var items = JSON.parse(storageGet(HISTORY_PREFIX + id) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }
  function saveHistory() {
    if (!sessionId) return;
    if (history.length > HISTORY_LIMIT) history = history.slice(history.length - HISTORY_LIMIT);
    storageSet(HISTORY_PREFIX + sessionId, JSON.stringify(history));
  }

  // -- rendering: text only, links checked -----------------------------------------------

  function safeUrl(raw) {
    try {
      var url = new URL(raw, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(text, href) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // Inline Markdown the catalogue uses: **bold** and [text](url).
  function appendInline(parent, text) {
    var pattern = /\*\*([^*]+)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        var strong = document.createElement("strong");
        strong.textContent = match[1];
        parent.appendChild(strong);
      } else {
        var href = safeUrl(match[3]);
        parent.appendChild(href ? link(match[2], href) : document.createTextNode(match[2]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function appendRichText(parent, text) {
    text.split("\n").forEach(function (raw) {
      var line = document.createElement("p");
      line.className = "msg__line";
      var heading = /^#{1,6}\s+(.*)$/.exec(raw);
      var emphasis = /^_([^_].*)_$/.exec(raw);
      var bullet = /^\s*(?:[-*•])\s+(.*)$/.exec(raw);
      if (heading) {
        line.classList.add("msg__line--heading");
        raw = heading[1];
      } else if (bullet) {
        line.classList.add("msg__line--bullet");
        raw = "• " + bullet[1];
      } else if (emphasis) {
        var em = document.createElement("em");
        appendInline(em, emphasis[1]);
        line.appendChild(em);
        parent.appendChild(line);
        return;
      }
      appendInline(line, raw);
      parent.appendChild(line);
    });
  }

  function comparisonTable(custom) {
    var names = (custom.toolkits || []).map(function (t) { return String(t.name || t.id || ""); });
    var wrap = document.createElement("div");
    wrap.className = "comparison";
    var table = document.createElement("table");
    var caption = document.createElement("caption");
    caption.textContent = names.join(" vs ");
    table.appendChild(caption);
    var head = table.createTHead().insertRow();
    var corner = document.createElement("th");
    corner.scope = "col";
    corner.textContent = "Aspect";
    head.appendChild(corner);
    names.forEach(function (name) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    });
    var body = table.createTBody();
    (custom.rows || []).forEach(function (row) {
      var tr = body.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(row.label || "");
      tr.appendChild(th);
      (row.values || []).forEach(function (value, i) {
        var td = tr.insertCell();
        td.setAttribute("data-label", names[i] || "");
        appendInline(td, String(value == null ? "" : value));
      });
    });
    wrap.appendChild(table);
    return wrap;
  }

  function downloadLink(custom) {
    var a = document.createElement("a");
    a.className = "download";
    a.textContent = "Download as Markdown";
    a.href = URL.createObjectURL(new Blob([String(custom.markdown)], { type: "text/markdown;charset=utf-8" }));
    a.download = "toolkit-advisor-decision-record" + (custom.date ? "-" + String(custom.date).replace(/[^0-9-]/g, "") : "") + ".md";
    return a;
  }

  // The first bot bubble of the current turn: a long answer is read from its start,
  // a short one just brings the log to the bottom.
  var turnStart = null;

  function scrollToLatest(bubble) {
    if (bubble && !turnStart) turnStart = bubble;
    if (turnStart && log.scrollHeight - (turnStart.offsetTop - log.offsetTop) > log.clientHeight) {
      log.scrollTop = turnStart.offsetTop - log.offsetTop - 8;
    } else {
      log.scrollTop = log.scrollHeight;
    }
  }

  function quickReplies(entry) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    entry.quickReplies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "quick-reply";
      button.textContent = String(reply.title);
      button.addEventListener("click", function () {
        if (!send(String(reply.payload), String(reply.title))) return;
        entry.answered = true;
        saveHistory();
        group.remove();
      });
      group.appendChild(button);
    });
    return group;
  }

  function render(entry) {
    var bubble = document.createElement("div");
    bubble.className = "msg msg--" + entry.who;
    if (entry.who === "user") {
      turnStart = null;
      chat.setAttribute("data-started", "true");
    }
    if (entry.who === "user" || entry.who === "notice") {
      bubble.textContent = entry.text;
    } else {
      var custom = entry.custom && typeof entry.custom === "object" ? entry.custom : null;
      if (custom && custom.type === "comparison" && Array.isArray(custom.rows)) {
        bubble.appendChild(comparisonTable(custom));
        var common = (entry.text || "").split("\n").filter(function (l) { return /^In common:/.test(l); });
        if (common.length) appendRichText(bubble, common.join("\n"));
      } else if (entry.text) {
        appendRichText(bubble, entry.text);
      }
      if (custom && custom.type === "decision_record" && typeof custom.markdown === "string") {
        bubble.appendChild(downloadLink(custom));
      }
      if (entry.image) {
        var src = safeUrl(entry.image);
        if (src) bubble.appendChild(link(src, src));
      }
      if (entry.quickReplies && entry.quickReplies.length && !entry.answered) {
        bubble.appendChild(quickReplies(entry));
      }
    }
    log.appendChild(bubble);
    scrollToLatest(entry.who === "bot" ? bubble : null);
    return bubble;
  }

  function add(entry, keep) {
    if (keep !== false) {
      history.push(entry);
      saveHistory();
    }
    return render(entry);
  }

  function dismissQuickReplies() {
    history.forEach(function (entry) { if (entry.quickReplies) entry.answered = true; });
    saveHistory();
    Array.prototype.forEach.call(log.querySelectorAll(".quick-replies"), function (g) { g.remove(); });
  }

  // -- state -------------------------------------------------------------------------

  function setStatus(state, text) {
    statusBox.setAttribute("data-state", state);
    statusText.textContent = text;
    sendButton.setAttribute("aria-disabled", state === "online" ? "false" : "true");
  }

  function showTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
  }

  function send(message, shown) {
    if (!socket || !socket.connected || !confirmed) {
      setStatus("offline", "Not connected - your message was not sent. Reconnecting\u2026");
      return false;
    }
    dismissQuickReplies();
    add({ who: "user", text: shown });
    socket.emit(config.userMessageEvent, { message: message, session_id: sessionId });
    showTyping(true);
    input.focus();
    return true;
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    showTyping(false);
    var entry = { who: "bot", text: typeof message.text === "string" ? message.text : "" };
    var replies = message.quick_replies || message.buttons;
    if (Array.isArray(replies) && replies.length) {
      entry.quickReplies = replies.map(function (r) { return { title: String(r.title), payload: String(r.payload) }; });
    }
    if (message.custom && typeof message.custom === "object") entry.custom = message.custom;
    if (message.attachment && message.attachment.type === "image" && message.attachment.payload) {
      entry.image = String(message.attachment.payload.src || "");
    }
    if (!entry.text && !entry.quickReplies && !entry.custom && !entry.image) return;
    add(entry);
  }

  function offerStart() {
    if (history.length) return;
    add({ who: "bot", text: "Hi! Ready when you are.", quickReplies: [START] });
  }

  function startSession() {
    confirmed = false;
    socket.emit("session_request", { session_id: sessionId });
  }

  function connect() {
    if (typeof window.io !== "function") {
      setStatus("offline", "The chat client did not load (run `make install`).");
      return;
    }
    socket = window.io({
      path: config.socketPath,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 8000,
    });
    socket.on("connect", function () {
      setStatus("connecting", "Connected, opening the conversation\u2026");
      startSession();
    });
    socket.on("session_confirm", function (id) {
      var confirmedId = typeof id === "string" ? id : id && id.session_id;
      if (confirmedId && confirmedId !== sessionId) {
        sessionId = confirmedId;
        storageSet(SESSION_KEY, sessionId);
        history = loadHistory(sessionId);
      }
      confirmed = true;
      setStatus("online", "Connected");
      offerStart();
    });
    socket.on(config.botMessageEvent, onBotMessage);
    socket.on("disconnect", function (reason) {
      confirmed = false;
      showTyping(false);
      setStatus("offline", "Connection lost (" + reason + "). Reconnecting\u2026");
    });
    socket.on("connect_error", function () {
      confirmed = false;
      setStatus("offline", "Can't reach the Toolkit Advisor server. Retrying\u2026");
    });
  }

  function restart() {
    storageRemove(HISTORY_PREFIX + sessionId);
    storageRemove(SESSION_KEY);
    sessionId = null;
    history = [];
    while (log.firstChild) log.removeChild(log.firstChild);
    chat.removeAttribute("data-started");
    if (socket && socket.connected) startSession();
    input.focus();
  }

  // -- wiring ------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    if (send(text, text)) input.value = "";
  });
  newChat.addEventListener("click", restart);

  history.forEach(function (entry) { render(entry); });
  input.focus();

  fetch("/chat/config.json", { cache: "no-store" })
    .then(function (r) { return r.ok ? r.json() : {}; })
    .catch(function () { return {}; })
    .then(function (serverConfig) {
      Object.keys(serverConfig || {}).forEach(function (k) { config[k] = serverConfig[k]; });
      connect();
    });
})();
