/*
 * Embeddable chat widget. A shop adds one tag:
 *   <script src="https://PLATFORM/static/conversations/widget.js" data-chatbot="nordvin" async></script>
 * Optional attributes: data-title (panel heading), data-lang ("da" or "en"; default: the page's).
 * It speaks the chat websocket protocol of DESIGN.md ("Chat websocket") at /ws/chat/<chatbot>/
 * on the host it was loaded from. Server text is only ever inserted with textContent.
 * The attach button uploads an image to /api/v1/chatbots/<chatbot>/images/ with the conversation
 * token (X-Conversation-Token); the next message references it by image_id.
 * window.__chatWidget exposes a few hooks for tests and debugging (open, send, attach, dropConnection, state).
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[data-chatbot][src*="widget.js"]');
  var chatbotId = script && script.getAttribute("data-chatbot");
  if (!chatbotId || window.__chatWidget) return;

  var FATAL = ["chatbot_not_found", "origin_not_allowed", "rate_limited"];
  // Refusals of a rating: they concern neither the question waiting to be sent nor the answer.
  var RATING_ERRORS = ["invalid_rating", "message_not_an_answer", "message_not_found", "answer_in_progress"];
  var BACKOFF_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var STRINGS = {
    da: {
      open: "Åbn chat", close: "Luk chat", label: "Dit spørgsmål", placeholder: "Skriv en besked…",
      send: "Send", stop: "Stop", sources: "Kilder", stopped: "Svaret blev stoppet.",
      connecting: "Forbinder…", reconnecting: "Forbindelsen blev afbrudt. Forbinder igen…",
      queued: "Sendes, når forbindelsen er tilbage.", error: "Noget gik galt. Prøv igen.",
      unavailable: "Chatten er ikke tilgængelig lige nu.", hello: "Hej! Hvad kan jeg hjælpe med?",
      attach: "Vedhæft billede", removeImage: "Fjern billede", uploading: "Uploader billede…",
      attached: "Billedet sendes med din næste besked.", uploadFailed: "Billedet kunne ikke uploades. Prøv igen.",
      attachLater: "Vent, til chatten er forbundet, og prøv igen.", waitForUpload: "Vent, til billedet er uploadet.",
      image: "Dit billede",
      rateUp: "Svaret hjalp", rateDown: "Svaret hjalp ikke",
    },
    en: {
      open: "Open chat", close: "Close chat", label: "Your question", placeholder: "Write a message…",
      send: "Send", stop: "Stop", sources: "Sources", stopped: "The answer was stopped.",
      connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…",
      queued: "Will be sent when the connection is back.", error: "Something went wrong. Please try again.",
      unavailable: "The chat is not available right now.", hello: "Hi! How can I help?",
      attach: "Attach an image", removeImage: "Remove image", uploading: "Uploading image…",
      attached: "The image is sent with your next message.", uploadFailed: "The image could not be uploaded. Please try again.",
      attachLater: "Wait until the chat is connected, then try again.", waitForUpload: "Wait until the image is uploaded.",
      image: "Your image",
      rateUp: "This answer helped", rateDown: "This answer did not help",
    },
  };
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "en").slice(0, 2);
  var t = STRINGS[lang] || STRINGS.en;
  var title = script.getAttribute("data-title") || "Chat";

  var src = new URL(script.src, location.href);
  var wsBase = (src.protocol === "https:" ? "wss://" : "ws://") + src.host +
    "/ws/chat/" + encodeURIComponent(chatbotId) + "/";
  var storageKey = "chatWidget:" + chatbotId + ":conversation";
  var uploadUrl = src.protocol + "//" + src.host + "/api/v1/chatbots/" + encodeURIComponent(chatbotId) + "/images/";
  var IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp";

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f}",
    ".launcher{width:56px;height:56px;border-radius:50%;border:0;background:#6b1d3a;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;margin-left:auto}",
    ".launcher svg{width:26px;height:26px;fill:#fff}",
    ".panel{width:min(370px,calc(100vw - 40px));height:min(540px,calc(100vh - 110px));margin-bottom:12px;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{background:#6b1d3a;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}",
    "header h2{font-size:16px;margin:0;font-weight:600}",
    "header button{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}",
    ".status{font-size:13px;color:#6e4b00;background:#fff6dc;padding:6px 14px}",
    ".status:empty{display:none}",
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#faf7f5}",
    ".msg{max-width:88%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".user{align-self:flex-end;background:#6b1d3a;color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e6dede;border-bottom-left-radius:4px}",
    ".bot[aria-busy=true] .text::after{content:'▍';animation:blink 1s steps(1) infinite;color:#6b1d3a}",
    "@keyframes blink{50%{opacity:0}}",
    ".note{align-self:center;font-size:13px;color:#555;text-align:center}",
    ".note.error{color:#a4001d}",
    ".flag{display:block;font-size:12px;color:#777;margin-top:6px;font-style:italic}",
    ".sources{margin:8px 0 0;padding:6px 0 0;border-top:1px solid #eee;font-size:12px;color:#555;list-style:none}",
    ".sources strong{display:block;font-weight:600}",
    ".sources a{color:inherit}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #eee;background:#fff}",
    "input{flex:1;min-width:0;font:inherit;padding:9px 11px;border:1px solid #c9c0c0;border-radius:9px}",
    "input:focus,button:focus-visible{outline:2px solid #b8860b;outline-offset:1px}",
    "form button{font:inherit;border:0;border-radius:9px;padding:0 14px;cursor:pointer;background:#6b1d3a;color:#fff}",
    "form button.stop{background:#444}",
    "form button[hidden]{display:none}",
    "form button.attach{background:#fff;border:1px solid #c9c0c0;padding:0 9px;display:flex;align-items:center}",
    "form button.attach svg{width:20px;height:20px;fill:#6b1d3a}",
    ".attachment{display:flex;align-items:center;gap:10px;padding:8px 10px 0;background:#fff;font-size:13px;color:#555}",
    ".attachment[hidden]{display:none}",
    ".attachment img{width:44px;height:44px;object-fit:cover;border-radius:6px;border:1px solid #e6dede}",
    ".attachment button{margin-left:auto;background:none;border:0;font-size:20px;line-height:1;cursor:pointer;color:#555;padding:2px 6px}",
    ".rating{display:flex;gap:4px;margin-top:6px}",
    ".rating button{background:none;border:1px solid #e6dede;border-radius:6px;padding:1px 6px;cursor:pointer;display:flex;align-items:center}",
    ".rating svg{width:14px;height:14px;fill:#999}",
    ".rating button[aria-pressed=true]{border-color:#6b1d3a;background:#f6ecef}",
    ".rating button[aria-pressed=true] svg{fill:#6b1d3a}",
    ".msg .thumb{display:block;max-width:160px;max-height:160px;border-radius:8px;margin-bottom:6px}",
    "button:disabled,input:disabled{opacity:.55;cursor:not-allowed}",
    ".sr-only{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
  ].join("\n");

  // --- DOM -------------------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text != null) node.textContent = text;
    return node;
  }

  var host = el("chat-widget", { "data-chatbot": chatbotId });
  var shadow = host.attachShadow({ mode: "open" });
  var style = el("style", null, CSS);
  var root = el("div", { class: "root" });
  var panelId = "chat-panel";
  var panel = el("section", { class: "panel", id: panelId, role: "dialog", "aria-label": title, hidden: "" });
  var header = el("header");
  var closeButton = el("button", { type: "button", "aria-label": t.close }, "×");
  header.append(el("h2", null, title), closeButton);
  var status = el("div", { class: "status", role: "status" });
  var log = el("div", { class: "log" });
  // Streaming tokens into a live region would read out fragments; the finished answer goes here.
  var announcer = el("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
  var form = el("form");
  var input = el("input", { id: "chat-input", type: "text", autocomplete: "off", maxlength: "2000", placeholder: t.placeholder });
  var label = el("label", { for: "chat-input", class: "sr-only" }, t.label);
  var sendButton = el("button", { type: "submit", class: "send" }, t.send);
  var stopButton = el("button", { type: "button", class: "stop", hidden: "" }, t.stop);
  // Never attached to the page: the button opens its file chooser, and shop styles cannot reach it.
  var fileInput = el("input", { type: "file", accept: IMAGE_TYPES });
  var attachButton = el("button", { type: "button", class: "attach", "aria-label": t.attach, title: t.attach });
  attachButton.append(icon("M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z"));
  form.append(label, attachButton, input, sendButton, stopButton);
  var attachmentBar = el("div", { class: "attachment", hidden: "" });
  var attachmentPreview = el("img", { alt: t.image });
  var attachmentStatus = el("span", { role: "status" });
  var removeButton = el("button", { type: "button", "aria-label": t.removeImage }, "×");
  attachmentBar.append(attachmentPreview, attachmentStatus, removeButton);
  panel.append(header, status, log, announcer, attachmentBar, form);
  var launcher = el("button", { type: "button", class: "launcher", "aria-label": t.open, "aria-expanded": "false", "aria-controls": panelId });
  launcher.append(icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"));
  root.append(panel, launcher);
  shadow.append(style, root);

  // An SVG, not an emoji: many systems (and headless browsers) lack an emoji font.
  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  function note(text, isError) {
    var line = el("div", { class: isError ? "note error" : "note" }, text);
    log.append(line);
    scrollDown();
    if (isError) announcer.textContent = text;
    return line;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // --- protocol state ------------------------------------------------------------------------

  var ws = null;
  var ready = false; // the server has sent `conversation` on this socket
  var fatal = false;
  var attempt = 0;
  var reconnectTimer = null;
  var token = readToken();
  var pending = null; // {client_id, text}: sent or queued, no `start` seen yet
  var current = null; // the answer being streamed (see newAnswer)
  var answers = [];
  var reconnects = 0;
  var attachment = null; // {id, preview, uploading}: the image the next message carries

  function readToken() {
    try { return localStorage.getItem(storageKey) || ""; } catch (e) { return ""; }
  }

  function saveToken(value) {
    token = value;
    try { localStorage.setItem(storageKey, value); } catch (e) { /* private mode: per page only */ }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function transmit(event) {
    if (!ws || !ready || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(event));
    return true;
  }

  function connect() {
    if (fatal || ws) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    ready = false;
    var sock = new WebSocket(wsBase + (token ? "?conversation=" + encodeURIComponent(token) : ""));
    ws = sock;
    sock.onmessage = function (message) {
      if (sock !== ws) return;
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event && typeof event.type === "string") handle(event);
    };
    sock.onclose = function () {
      if (sock !== ws) return;
      ws = null;
      ready = false;
      if (fatal) return;
      status.textContent = t.reconnecting;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer || fatal) return;
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * Math.pow(2, attempt));
    attempt += 1;
    reconnects += 1;
    // Jitter, so that many visitors of a restarted server do not all come back at once.
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay * (0.5 + Math.random() / 2));
  }

  function handle(event) {
    switch (event.type) {
      case "conversation": return onConversation(event);
      case "start": return onStart(event);
      case "token": return onToken(event);
      case "end": return onEnd(event);
      case "error": return onError(event);
      case "rated": return onRated(event);
    }
  }

  function onConversation(event) {
    saveToken(event.token);
    ready = true;
    attempt = 0;
    status.textContent = "";
    if (current && !current.done) {
      transmit({ type: "resume", message_id: current.id, after_seq: current.lastSeq });
      if (current.stopWanted) transmit({ type: "stop" });
    } else if (pending) {
      // Same client_id: if the server did get it before the connection broke, it replays that answer.
      transmit(messageEvent(pending));
    }
  }

  function newAnswer(id) {
    var bubble = el("div", { class: "msg bot", "aria-busy": "true" });
    var text = el("span", { class: "text" });
    bubble.append(text);
    log.append(bubble);
    var answer = { id: id, lastSeq: 0, streamed: "", seqs: [], duplicates: 0, gaps: 0, gapAt: -1,
      final: null, status: "streaming", sources: [], done: false, bubble: bubble, text: text,
      rating: null, ratingButtons: null };
    answers.push(answer);
    return answer;
  }

  function onStart(event) {
    pending = null;
    if (current && current.id === event.message_id) return; // replayed by a resume
    current = newAnswer(event.message_id);
    setStreaming(true);
    scrollDown();
  }

  function onToken(event) {
    var answer = current;
    if (!answer || answer.id !== event.message_id || answer.done) return;
    if (event.seq <= answer.lastSeq) { answer.duplicates += 1; return; }
    if (event.seq > answer.lastSeq + 1) {
      // Frames were lost: ask for everything after the last one rendered, once per gap.
      answer.gaps += 1;
      if (answer.gapAt !== answer.lastSeq) {
        answer.gapAt = answer.lastSeq;
        transmit({ type: "resume", message_id: answer.id, after_seq: answer.lastSeq });
      }
      return;
    }
    answer.lastSeq = event.seq;
    answer.seqs.push(event.seq);
    answer.streamed += event.text;
    answer.text.textContent = answer.streamed;
    scrollDown();
  }

  function onEnd(event) {
    var answer = current && current.id === event.message_id ? current : null;
    if (!answer) {
      if (answers.some(function (a) { return a.id === event.message_id; })) return;
      pending = null;
      answer = current = newAnswer(event.message_id);
    }
    if (answer.done) return;
    answer.done = true;
    answer.final = event.text || "";
    answer.status = event.status || "completed";
    answer.sources = Array.isArray(event.sources) ? event.sources : [];
    // The end frame carries the whole answer: it wins over whatever the stream delivered.
    if (answer.streamed !== answer.final) answer.text.textContent = answer.final;
    answer.bubble.setAttribute("aria-busy", "false");
    if (answer.status === "stopped") answer.bubble.append(el("span", { class: "flag" }, t.stopped));
    if (answer.sources.length) {
      var list = el("ul", { class: "sources", "aria-label": t.sources });
      list.append(el("strong", null, t.sources));
      answer.sources.forEach(function (source) {
        var name = source.title || "";
        if (source.section && source.section !== name) name += " – " + source.section;
        var item = el("li");
        // A page the record names is linked; only web addresses, never other schemes.
        if (/^https?:\/\//i.test(source.url || "")) {
          item.append(el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer" }, name || source.url));
        } else {
          item.textContent = name;
        }
        list.append(item);
      });
      answer.bubble.append(list);
    }
    if (answer.final) addRating(answer);
    announcer.textContent = answer.final;
    setStreaming(false);
    scrollDown();
  }

  // Up and down under a finished answer; pressing one again after the other replaces the rating.
  function addRating(answer) {
    var bar = el("div", { class: "rating" });
    answer.ratingButtons = {};
    [["up", t.rateUp, "M12 4l8 11H4z"], ["down", t.rateDown, "M12 20L4 9h16z"]].forEach(function (spec) {
      var button = el("button", { type: "button", "aria-label": spec[1], title: spec[1], "aria-pressed": "false" });
      button.append(icon(spec[2]));
      button.addEventListener("click", function () {
        transmit({ type: "rating", message_id: answer.id, value: spec[0] });
      });
      answer.ratingButtons[spec[0]] = button;
      bar.append(button);
    });
    answer.bubble.append(bar);
  }

  function onRated(event) {
    var answer = answers.filter(function (a) { return a.id === event.message_id; })[0];
    if (!answer || !answer.ratingButtons) return;
    answer.rating = event.value;
    Object.keys(answer.ratingButtons).forEach(function (value) {
      answer.ratingButtons[value].setAttribute("aria-pressed", String(value === event.value));
    });
  }

  function onError(event) {
    var code = String(event.code || "");
    var text = typeof event.message === "string" && event.message ? event.message : t.error;
    if (RATING_ERRORS.indexOf(code) >= 0) { note(text, true); return; }
    if (FATAL.indexOf(code) >= 0) {
      fatal = true;
      clearTimeout(reconnectTimer);
      status.textContent = t.unavailable;
      input.disabled = sendButton.disabled = attachButton.disabled = true;
      stopButton.hidden = true;
    }
    if (code === "invalid_conversation_token") token = "";
    else if (pending && !event.message_id && code !== "resume_not_available") pending = null; // refused
    var answer = current && !current.done && (event.message_id === current.id || code === "resume_not_available") ? current : null;
    if (answer) {
      answer.done = true;
      answer.status = "failed";
      answer.bubble.setAttribute("aria-busy", "false");
      if (!answer.streamed) answer.bubble.remove();
      setStreaming(false);
    }
    note(text, true);
  }

  function setStreaming(on) {
    stopButton.hidden = !on;
    sendButton.hidden = on;
    if (!fatal) input.disabled = false;
  }

  // --- user actions --------------------------------------------------------------------------

  function messageEvent(message) {
    var event = { type: "message", text: message.text, client_id: message.client_id };
    if (message.image_id) event.image_id = message.image_id;
    return event;
  }

  function ask(text) {
    text = text.trim();
    if (!text || fatal || pending || (current && !current.done)) return false;
    if (attachment && attachment.uploading) { note(t.waitForUpload); return false; }
    pending = { client_id: uuid(), text: text, image_id: attachment ? attachment.id : null };
    var bubble = el("div", { class: "msg user" });
    if (attachment) bubble.append(el("img", { class: "thumb", src: attachment.preview, alt: t.image }));
    bubble.append(document.createTextNode(text));
    log.append(bubble);
    // The preview now belongs to the bubble: forget the attachment without revoking its URL.
    attachment = null;
    attachmentBar.hidden = true;
    scrollDown();
    if (!transmit(messageEvent(pending))) {
      note(t.queued);
      connect();
    }
    return true;
  }

  // --- images --------------------------------------------------------------------------------

  function clearAttachment() {
    if (attachment) URL.revokeObjectURL(attachment.preview);
    attachment = null;
    attachmentBar.hidden = true;
    attachmentPreview.removeAttribute("src");
  }

  function errorText(body) {
    var error = body && body.error;
    return error && typeof error.message === "string" && error.message ? error.message : t.uploadFailed;
  }

  // Uploads the image at once; the server validates it (type by content, size, pixels) and
  // describes it, and its refusal message is shown as it is, in the chatbot's language.
  function attach(file) {
    if (fatal || !file) return false;
    if (!ready || !token) { note(t.attachLater, true); connect(); return false; }
    clearAttachment();
    var mine = { id: null, preview: URL.createObjectURL(file), uploading: true };
    attachment = mine;
    attachmentPreview.src = mine.preview;
    attachmentStatus.textContent = t.uploading;
    attachmentBar.hidden = false;
    var body = new FormData();
    body.append("file", file, file.name || "image");
    fetch(uploadUrl, { method: "POST", body: body, headers: { "X-Conversation-Token": token }, credentials: "omit" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (attachment !== mine) return; // removed or replaced meanwhile
        if (!result.ok || !result.data.id) { clearAttachment(); note(errorText(result.data), true); return; }
        mine.id = result.data.id;
        mine.uploading = false;
        attachmentStatus.textContent = t.attached;
      })
      .catch(function () {
        if (attachment !== mine) return;
        clearAttachment();
        note(t.uploadFailed, true);
      });
    return true;
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t.close);
    if (!log.childNodes.length) note(t.hello);
    if (!ws && !reconnectTimer && !fatal) { status.textContent = t.connecting; connect(); }
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t.open);
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (ask(input.value)) input.value = "";
  });
  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file) attach(file);
  });
  removeButton.addEventListener("click", function () { clearAttachment(); input.focus(); });
  stopButton.addEventListener("click", function () {
    // While disconnected the stop is sent right after the resume.
    if (current && !current.done) current.stopWanted = !transmit({ type: "stop" });
  });
  window.addEventListener("online", function () {
    if (!ws && reconnectTimer && !fatal) { clearTimeout(reconnectTimer); reconnectTimer = null; connect(); }
  });

  function mount() { document.body.append(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.__chatWidget = {
    open: open,
    send: ask,
    attach: attach,
    // Simulates a lost connection: the widget reconnects with backoff and resumes.
    dropConnection: function () { if (ws) ws.close(); },
    state: function () {
      return {
        connected: ready,
        fatal: fatal,
        reconnects: reconnects,
        pending: pending ? pending.client_id : null,
        attachment: attachment ? { id: attachment.id, uploading: attachment.uploading } : null,
        answers: answers.map(function (a) {
          return { id: a.id, streamed: a.streamed, final: a.final, seqs: a.seqs.slice(), status: a.status,
            duplicates: a.duplicates, gaps: a.gaps, sources: a.sources, done: a.done, rating: a.rating };
        }),
      };
    },
  };
})();
