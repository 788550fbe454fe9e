// Streams the assistant's answer into the page as server-sent events arrive.
(function () {
  "use strict";
  const form = document.getElementById("chat-form");
  if (!form) return;
  const log = document.getElementById("chat-log");
  const input = document.getElementById("chat-message");
  const button = document.getElementById("chat-send");
  const meta = document.getElementById("chat-meta");
  const conversation = document.getElementById("conversation-id");
  const list = document.getElementById("chat-conversations");
  const working = document.getElementById("chat-working");

  // A new conversation joins the top of the list as soon as the server names it (no reload).
  function listConversation(id, title, url) {
    if (!list || !url) return;
    const empty = document.getElementById("chat-conversations-empty");
    if (empty) empty.remove();
    list.querySelectorAll("a.active").forEach(function (a) { a.classList.remove("active"); });
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = url;
    link.className = "active";
    link.dataset.conversationId = String(id);
    link.textContent = title || "…";
    item.appendChild(link);
    list.prepend(item);
  }

  function bubble(role, text) {
    const empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    const el = document.createElement("div");
    el.className = "bubble " + role;
    el.textContent = text;
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function handle(event, answer) {
    if (event.conversation_id) {
      conversation.value = event.conversation_id;
      history.replaceState(null, "", form.dataset.conversationUrl + event.conversation_id + "/");
      if (event.url) listConversation(event.conversation_id, event.title, event.url);
    }
    if (event.delta) answer.textContent += event.delta;
    if (event.error) {
      answer.classList.add("bubble-error");
      answer.textContent += (answer.textContent ? "\n\n" : "") + "⚠ " + event.error;
    }
    if (event.done) {
      // cost_usd is the ledger's decimal string; money.js formats it exactly, in the page's language.
      const label = form.dataset.tokensLabel || "tokens";
      meta.textContent = event.model + " · " + Money.tokens(event.tokens) + " " + label + " · " + Money.usd(event.cost_usd);
    }
    log.scrollTop = log.scrollHeight;
  }

  async function send(e) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const data = new FormData(form);
    bubble("user", text);
    const answer = bubble("assistant", "");
    button.disabled = true;
    input.value = "";
    // Cancel closes the stream: the server sees the connection go, closes the upstream stream and
    // the ledger row ends "cancelled".
    const controller = new AbortController();
    let cancelled = false;
    const stopWorking = working && window.Working
      ? window.Working.start(working, function () { cancelled = true; controller.abort(); })
      : function () {};
    try {
      const response = await fetch(form.action, { method: "POST", body: data, signal: controller.signal });
      if (!response.body) throw new Error("no body");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const events = buffer.split("\n\n");
        buffer = events.pop();
        for (const raw of events) {
          if (raw.startsWith("data: ")) handle(JSON.parse(raw.slice(6)), answer);
        }
      }
    } catch (err) {
      if (cancelled) {
        answer.classList.add("bubble-cancelled");
        answer.textContent += (answer.textContent ? "\n\n" : "") + (form.dataset.cancelled || "Cancelled.");
      } else {
        handle({ error: form.dataset.networkError || "Network error" }, answer);
      }
    } finally {
      stopWorking();
      button.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", send);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) send(e);
  });
})();
