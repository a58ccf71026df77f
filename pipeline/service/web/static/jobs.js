// The jobs page: the table's rows are re-read from the server every few seconds (kept checked boxes).
"use strict";
(() => {
  const body = document.getElementById("job-rows");
  const button = document.getElementById("compare-button");
  const picked = new Set();
  function sync() {
    for (const box of body.querySelectorAll("input.pick")) box.checked = picked.has(box.value);
    button.disabled = picked.size < 2;
    button.textContent = picked.size ? `Compare selected (${picked.size})` : "Compare selected";
  }
  body.addEventListener("change", e => {
    if (!e.target.classList.contains("pick")) return;
    e.target.checked ? picked.add(e.target.value) : picked.delete(e.target.value);
    sync();
  });
  async function refresh() {
    if (document.hidden) return;
    try {
      const r = await fetch("/jobs/rows" + location.search);
      if (r.redirected) { location.assign(r.url); return; }  // signed out (or the token revoked)
      if (r.ok) { body.innerHTML = await r.text(); sync(); }
    } catch (err) { /* the server is restarting or the page is closing: the next tick tries again */ }
  }
  setInterval(refresh, 3000);
  sync();
})();
