// Live overview: the status from /ui/events, written into the cards with textContent (never HTML).
"use strict";
(function () {
  const live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  const source = new EventSource("/ui/events");
  const set = (root, field, text) => {
    const el = root.querySelector('[data-field="' + field + '"]');
    if (el) el.textContent = text;
  };
  source.addEventListener("status", (event) => {
    live.classList.add("on");
    const status = JSON.parse(event.data);
    for (const [id, m] of Object.entries(status.modems || {})) {
      const card = document.querySelector('[data-modem="' + CSS.escape(id) + '"]');
      if (!card) continue;
      set(card, "state", m.state);
      set(card, "state_reason", m.state_reason);
      set(card, "network", (m.operator || "-") + " · " + m.registration);
      set(card, "signal", m.signal_dbm === null ? "-" : m.signal_dbm + " dBm");
      set(card, "last_error", m.last_error || "-");
      const usage = (status.usage || {})[id];
      if (usage) set(card, "sent_today", usage.sent_today + (usage.max_parts_per_day ? " / " + usage.max_parts_per_day : "")
        + (usage.waiting ? " · " + usage.waiting : ""));
    }
    const q = status.queues || {};
    const pairs = (o) => Object.entries(o || {}).filter(([, v]) => v).map(([k, v]) => k + " " + v).join(" ");
    set(document, "outbound_parts", pairs(q.outbound_parts));
    set(document, "journal_in", pairs((q.journal || {}).in));
    set(document, "journal_out", pairs((q.journal || {}).out));
  });
  const feed = document.getElementById("feed");
  source.addEventListener("feed", (event) => {
    if (!feed) return;
    const e = JSON.parse(event.data);
    if (e.seq <= Number(feed.dataset.seq || 0)) return;
    feed.dataset.seq = String(e.seq);
    const li = document.createElement("li");
    li.className = "feed-" + e.kind;
    const time = document.createElement("time");
    time.textContent = String(e.at).replace("T", " ").slice(0, 19);
    const kind = document.createElement("b");
    kind.textContent = e.kind;
    const link = document.createElement("a");
    link.href = "/ui/messages/" + encodeURIComponent(e.message_id);
    link.textContent = e.number;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = e.text;
    li.append(time, " ", kind, " ", link, " ", text);
    feed.prepend(li);
    while (feed.children.length > 30) feed.lastElementChild.remove();
  });
  source.onerror = () => live.classList.remove("on");
})();
