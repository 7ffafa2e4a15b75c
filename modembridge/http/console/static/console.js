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
  source.onerror = () => live.classList.remove("on");
})();
