// The compose box's parts counter: asks the daemon (/ui/segments), which counts with the sender's codec.
"use strict";
(function () {
  const text = document.getElementById("text");
  const counter = document.getElementById("counter");
  if (!text || !counter) return;
  let timer = null;
  const update = async () => {
    const resp = await fetch("/ui/segments?text=" + encodeURIComponent(text.value), { credentials: "same-origin" });
    if (!resp.ok) { counter.textContent = "cannot be sent as SMS"; return; }
    const s = await resp.json();
    const name = { gsm7: "GSM 7-bit", ucs2: "UCS-2", "8bit": "8-bit" }[s.encoding] || s.encoding;
    counter.textContent = name + " · " + s.units + " · " + s.parts + " part" + (s.parts === 1 ? "" : "s")
      + " · " + s.remaining + " left in the last";
  };
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 120); });
  update();
})();
