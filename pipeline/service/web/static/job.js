// A job's page, live: the job's events over SSE (stages, progress, curves, the event log), the log tail
// by polling, and the results section reloaded from the server when a stage that feeds it finishes.
"use strict";
(() => {
  const live = JSON.parse(document.getElementById("live").textContent);
  const TERMINAL = ["succeeded", "failed", "cancelled", "interrupted"];
  const LABEL = { reuse: "will reuse", cached: "cache hit", completed: "done" };
  const KINDS = ["state", "stage_started", "stage_cached", "stage_completed", "stage_failed", "progress", "warning",
                 "slurm_submitted", "reattached"];
  const RESULT_STAGES = ["curate", "dedup", "evaluate", "report", "export"];
  const $ = id => document.getElementById(id);
  let train = live.train, evals = live.eval, terminal = live.terminal, logOffset = live.log_offset;
  let startedAt = live.started_at, stageStartedAt = live.stage_started_at, docs = {}, docHistory = [], stage = live.stage;

  function fmtDuration(s) {
    if (s == null || !isFinite(s)) return "-";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m${String(r).padStart(2, "0")}s` : m ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
  }
  function when(ts) { return new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC"; }

  function drawCurves() {
    const domains = {};
    for (const [step, losses] of evals) for (const [d, v] of Object.entries(losses || {})) (domains[d] = domains[d] || []).push([step, v]);
    cptPlot.lines($("loss-chart"), [{ name: "train loss", points: train.map(p => [p[0], p[1]]) },
      ...Object.entries(domains).map(([d, pts]) => ({ name: `eval ${d}`, points: pts, dots: true }))],
      { xlabel: "step", ylabel: "loss", empty: "no training step logged yet" });
    cptPlot.lines($("lr-chart"), [{ name: "LR", points: train.map(p => [p[0], p[2]]) }],
      { xlabel: "step", ylabel: "learning rate", empty: "no training step logged yet" });
  }

  function setStage(name, status, data) {
    const label = LABEL[status] || status;
    const node = document.querySelector(`#stage-graph g[data-stage="${CSS.escape(name)}"]`);
    if (node) {
      node.setAttribute("class", `node st-${status}`);
      node.querySelector("text.status").textContent = label;
    }
    const row = document.querySelector(`#stage-table tr[data-stage="${CSS.escape(name)}"]`);
    if (!row) return;
    const badge = row.querySelector(".state .badge");
    badge.className = `badge st-${status}`;
    badge.textContent = label;
    if (data.fingerprint) row.children[2].textContent = data.fingerprint;
    if (data.duration_s != null) row.querySelector(".dur").textContent = fmtDuration(data.duration_s);
    const run = row.querySelector(".run");
    if (status === "failed" && data.error) { run.textContent = data.error; run.className = "run error-text"; }
    else if (status === "completed" || status === "cached") {
      run.textContent = status === "cached" ? "reuses " : "made ";
      const a = document.createElement("a");
      a.className = "mono";
      a.href = `/runs?stage=${encodeURIComponent(name)}#run-${name}-${data.fingerprint}`;
      a.textContent = `${name}/${data.fingerprint}`;
      run.appendChild(a);
    }
  }

  function progress(d, ts) {
    if (d.metric === "train") {
      if (stage === live.curve_stage) train.push([d.step, d.loss, d.lr]);
      $("p-step").textContent = `${d.step}/${d.total}`;
      if (d.loss != null) $("p-loss").textContent = d.loss.toFixed(4);
      if (d.lr != null) $("p-lr").textContent = d.lr.toPrecision(3);
      if (d.tokens_per_s != null) $("p-tps").textContent = Math.round(d.tokens_per_s).toLocaleString("en");
      if (stageStartedAt && d.step > 0 && d.total) $("p-eta").textContent = fmtDuration((ts - stageStartedAt) / d.step * (d.total - d.step));
      drawCurves();
    } else if (d.metric === "eval") {
      if (stage === live.curve_stage) evals.push([d.step, d.eval_loss]);
      drawCurves();
    } else if (d.metric === "tasks") {
      $("p-tasks").textContent = `${d.step}/${d.total}`;
    } else if (d.metric === "documents") {
      docs[d.task] = d.documents;
      const total = Object.values(docs).reduce((a, b) => a + b, 0);
      docHistory.push([ts, total]);
      while (docHistory.length > 2 && ts - docHistory[0][0] > 15) docHistory.shift();
      $("p-docs").textContent = total.toLocaleString("en");
      const [t0, n0] = docHistory[0];
      if (ts > t0) $("p-docs-rate").textContent = Math.round((total - n0) / (ts - t0)).toLocaleString("en");
    }
  }

  function addEventRow(id, kind, d) {
    let what;
    if (kind === "state") what = d.state + (d.error ? `: ${d.error}` : "");
    else if (kind.startsWith("stage_")) what = `${d.stage} ${String(d.fingerprint || "").slice(0, 16)}` +
      (d.duration_s != null ? ` in ${fmtDuration(d.duration_s)}` : "") + (d.error ? `: ${d.error}` : "");
    else if (kind === "warning") what = `${d.category}: ${d.message}`;
    else if (kind === "slurm_submitted") what = `${d.what}: Slurm job(s) ${(d.job_ids || []).join(", ")}`;
    else { const { ts, ...rest } = d; what = JSON.stringify(rest).slice(0, 500); }
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    for (const s of [id, when(d.ts), kind, what]) { const td = document.createElement("td"); td.textContent = s; tr.appendChild(td); }
    const body = document.querySelector("#events tbody");
    body.insertBefore(tr, body.firstChild);
  }

  function setState(state, d) {
    const badge = $("job-state");
    badge.textContent = state;
    badge.className = `badge s-${state}`;
    terminal = TERMINAL.includes(state);
    $("cancel-form").hidden = terminal;
    $("retry-form").hidden = !terminal;
    if (d.error) $("job-error").textContent = d.error;
    if (state === "running" && !startedAt) { startedAt = d.ts; $("job-started").textContent = when(d.ts); }
    if (terminal && startedAt) $("job-duration").textContent = fmtDuration(d.ts - startedAt);
    if (terminal) { $("job-finished").textContent = when(d.ts); $("p-stage").textContent = "-"; refreshResults(); pollLog(); }
  }

  let resultsTimer = null;
  function refreshResults() {
    clearTimeout(resultsTimer);
    resultsTimer = setTimeout(async () => {
      try {
        const r = await fetch(`/jobs/${live.id}/results`);
        if (r.redirected) { location.assign(r.url); return; }  // signed out (or the token revoked)
        if (r.ok) $("results").innerHTML = await r.text();
      } catch (err) { /* the next finished stage or a reload shows them */ }
    }, 300);
  }

  function onEvent(kind, e) {
    const id = +e.lastEventId, d = JSON.parse(e.data);
    if (kind === "progress") { if (id > live.progress_after) progress(d, d.ts); return; }
    if (kind === "stage_started" && id > live.progress_after) stage = d.stage;
    if (id <= live.after) return;
    addEventRow(id, kind, d);
    if (kind === "state") setState(d.state, d);
    else if (kind === "stage_started") {
      setStage(d.stage, "running", d);
      $("p-stage").textContent = d.stage;
      for (const id of ["p-tasks", "p-docs", "p-docs-rate", "p-step", "p-loss", "p-lr", "p-tps", "p-eta"]) $(id).textContent = "-";
      docs = {}; docHistory = [];
      stageStartedAt = d.ts;
    } else if (kind === "stage_cached" || kind === "stage_completed" || kind === "stage_failed") {
      setStage(d.stage, { stage_cached: "cached", stage_completed: "completed", stage_failed: "failed" }[kind], d);
      if (RESULT_STAGES.includes(d.stage)) refreshResults();
    }
  }

  let busy = false;
  async function pollLog() {
    if (busy) return;
    busy = true;
    try {
      const r = await fetch(`/api/v1/jobs/${live.id}/log?offset=${logOffset}`).catch(() => null);
      if (!r || !r.ok) return;
      const text = await r.text();
      logOffset = +r.headers.get("X-Log-Offset") || logOffset;
      if (text) {
        const pre = $("log"), atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
        pre.textContent = (pre.textContent + text).slice(-200000);
        if (atBottom) pre.scrollTop = pre.scrollHeight;
      }
    } finally { busy = false; }
  }

  drawCurves();
  const pre = $("log");
  pre.scrollTop = pre.scrollHeight;
  if (!terminal) {
    const source = new EventSource(`/api/v1/jobs/${live.id}/events?after=${live.after}`);
    for (const kind of KINDS) source.addEventListener(kind, e => {
      onEvent(kind, e);
      if (terminal) source.close();
    });
    const logTimer = setInterval(() => { pollLog(); if (terminal) clearInterval(logTimer); }, 2000);
    const clock = setInterval(() => {  // the duration ticks while the job runs
      if (terminal) return clearInterval(clock);
      if (startedAt) $("job-duration").textContent = fmtDuration(Date.now() / 1000 - startedAt);
    }, 1000);
  }
  window.cptJobPage = { loadedAt: Date.now() };  // a test can tell that the page was not reloaded
})();
