// The submit form, validated as you type against the server's dry run: the one-line error beside the
// field at fault, else the plan (stages, cache hits, token budget, memory per GPU).
"use strict";
(() => {
  const form = document.getElementById("submit-form");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const fields = ["command", "config", "overrides"];
  let seq = 0, timer = null;
  async function validate() {
    const mine = ++seq;
    document.getElementById("validity").textContent = "Checking…";
    const body = Object.fromEntries(fields.map(f => [f, form.elements[f].value]));
    let result;
    try {
      const r = await fetch("/submit/validate", { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } });
      result = await r.json();
      if (!r.ok) result = { ok: false, field: "command", error: result.detail || `HTTP ${r.status}`, plan_html: "" };
    } catch (err) {
      result = { ok: false, field: "command", error: `the server did not answer (${err})`, plan_html: "" };
    }
    if (mine !== seq) return;  // a newer check is under way
    for (const f of fields) {
      document.getElementById(`error-${f}`).textContent = result.field === f ? result.error : "";
      form.elements[f].classList.toggle("invalid", result.field === f);
    }
    document.getElementById("plan").innerHTML = result.plan_html || "";
    document.getElementById("validity").textContent = result.ok ? "Valid: the plan is below." : "Not valid yet.";
    form.dataset.valid = result.ok ? "yes" : "no";
  }
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 400); });
  validate();
})();
