// The comparison page: training losses overlaid (re-read while a compared job runs) and the forgetting
// vs adaptation scatter with the seed spread.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  const TERMINAL = ["succeeded", "failed", "cancelled", "interrupted"];
  function draw(series) {
    cptPlot.lines(document.getElementById("loss-overlay"),
      series.map(s => ({ name: s.id, points: s.train.map(p => [p[0], p[1]]) })),
      { xlabel: "step", ylabel: "training loss", empty: "no training step logged yet" });
  }
  const scatter = document.getElementById("scatter");
  if (scatter) cptPlot.scatter(scatter, data.points.map(p => ({ label: p.label, x: p.forgetting, y: p.adaptation,
    xerr: p.forgetting_std, yerr: p.adaptation_std })), { xlabel: "forgetting (old-domain loss increase)", ylabel: "adaptation (new-domain loss decrease)" });
  draw(data.series);
  if (data.series.some(s => !TERMINAL.includes(s.state))) {
    const timer = setInterval(async () => {
      const r = await fetch("/compare/data" + location.search).catch(() => null);
      if (!r || !r.ok) return;
      const fresh = await r.json();
      draw(fresh.series);
      if (fresh.series.every(s => TERMINAL.includes(s.state))) clearInterval(timer);
    }, 5000);
  }
})();
