// The tester's conversation, refreshed every 1.5 s (textContent only).
"use strict";
(function () {
  const chat = document.getElementById("chat");
  if (!chat || !chat.dataset.number) return;
  const refresh = async () => {
    const resp = await fetch("/ui/tester/replies?number=" + encodeURIComponent(chat.dataset.number),
                             { credentials: "same-origin" });
    if (!resp.ok) return;
    const lines = await resp.json();
    chat.replaceChildren(...lines.map((line) => {
      const li = document.createElement("li");
      li.className = line.who;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = line.text;
      const state = document.createElement("small");
      state.textContent = " " + line.state;
      li.append(text, state);
      return li;
    }));
  };
  setInterval(refresh, 1500);
})();
