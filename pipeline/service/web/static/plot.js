// Small SVG charts for the cpt pages (our own code, no library): line charts and a scatter with error bars.
"use strict";
const cptPlot = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"];
  const M = { left: 58, right: 14, top: 14, bottom: 36 };

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, anchor) {
    const t = el("text", { x, y, "text-anchor": anchor || "middle" }, parent);
    t.textContent = s;
    return t;
  }
  function fmt(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
    return +v.toPrecision(3) + "";
  }
  function ticks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
    const mult = [1, 2, 5, 10].find(m => (hi - lo) / (step * m) <= n) || 10;
    const s = step * mult, out = [];
    for (let v = Math.ceil(lo / s) * s; v <= hi + s * 1e-9; v += s) out.push(v);
    return out;
  }
  function frame(svg, xs, ys, xlabel, ylabel) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
    let [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { const d = Math.abs(y0) * 0.05 || 1; y0 -= d; y1 += d; }
    const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    const sx = v => M.left + (v - x0) / (x1 - x0) * (W - M.left - M.right);
    const sy = v => H - M.bottom - (v - y0) / (y1 - y0) * (H - M.top - M.bottom);
    for (const t of ticks(y0, y1, 5)) {
      el("line", { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: "grid" }, svg);
      text(svg, M.left - 6, sy(t) + 4, fmt(t), "end");
    }
    for (const t of ticks(x0, x1, 6)) text(svg, sx(t), H - M.bottom + 15, fmt(t));
    el("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: "axis" }, svg);
    el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, svg);
    text(svg, (M.left + W - M.right) / 2, H - 4, xlabel);
    const yl = text(svg, 12, (M.top + H - M.bottom) / 2, ylabel);
    yl.setAttribute("transform", `rotate(-90 12 ${(M.top + H - M.bottom) / 2})`);
    return { sx, sy, W, H };
  }
  function empty(svg, message) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    text(svg, +svg.getAttribute("width") / 2, +svg.getAttribute("height") / 2, message).setAttribute("class", "empty");
  }
  function legend(svg, W, names) {
    names.forEach((name, i) => {
      el("rect", { x: W - M.right - 150, y: M.top + 4 + i * 15, width: 10, height: 3, fill: COLORS[i % COLORS.length] }, svg);
      text(svg, W - M.right - 136, M.top + 9 + i * 15, name, "start");
    });
  }
  // series: [{name, points: [[x, y], ...], dots: bool}]
  function lines(svg, series, opts) {
    series = series.map(s => ({ ...s, points: s.points.filter(p => Number.isFinite(p[0]) && Number.isFinite(p[1])) }));
    const all = series.flatMap(s => s.points);
    if (!all.length) return empty(svg, opts.empty || "no data yet");
    const f = frame(svg, all.map(p => p[0]), all.map(p => p[1]), opts.xlabel, opts.ylabel);
    series.forEach((s, i) => {
      const color = s.color || COLORS[i % COLORS.length];
      if (s.dots) {
        for (const p of s.points) el("circle", { cx: f.sx(p[0]), cy: f.sy(p[1]), r: 3.5, fill: color, class: "dot" }, svg);
      } else {
        el("polyline", { points: s.points.map(p => `${f.sx(p[0]).toFixed(1)},${f.sy(p[1]).toFixed(1)}`).join(" "),
                         stroke: color, class: "line", "data-series": s.name, "data-points": s.points.length }, svg);
      }
    });
    if (series.length > 1) legend(svg, f.W, series.map(s => s.name));
  }
  // points: [{label, x, y, xerr, yerr}]
  function scatter(svg, points, opts) {
    if (!points.length) return empty(svg, "no data yet");
    const xs = points.flatMap(p => [p.x - (p.xerr || 0), p.x + (p.xerr || 0)]);
    const ys = points.flatMap(p => [p.y - (p.yerr || 0), p.y + (p.yerr || 0)]);
    const f = frame(svg, xs, ys, opts.xlabel, opts.ylabel);
    points.forEach((p, i) => {
      const c = COLORS[i % COLORS.length];
      if (p.xerr) el("line", { x1: f.sx(p.x - p.xerr), x2: f.sx(p.x + p.xerr), y1: f.sy(p.y), y2: f.sy(p.y), stroke: c, class: "err" }, svg);
      if (p.yerr) el("line", { x1: f.sx(p.x), x2: f.sx(p.x), y1: f.sy(p.y - p.yerr), y2: f.sy(p.y + p.yerr), stroke: c, class: "err" }, svg);
      el("circle", { cx: f.sx(p.x), cy: f.sy(p.y), r: 5, fill: c, class: "point" }, svg);
      text(svg, f.sx(p.x) + 8, f.sy(p.y) - 8, p.label, "start");
    });
  }
  return { lines, scatter, COLORS };
})();
