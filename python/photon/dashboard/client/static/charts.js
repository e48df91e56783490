// Charts drawn as SVG, with no library: line charts of time series, bars of
// counts, and the task timeline (one row per worker). Every chart records
// what it drew in data-* attributes (data-points, data-spans, data-bars), so
// a test can tell a chart with data from an empty one.
(function () {
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#2f6fde", "#1f9d55", "#d98b19", "#d64545", "#7b4fd6", "#1aa3b8",
                 "#c2417f", "#6b7385"];

function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function formatValue(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (unit === "bytes") {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
  }
  if (unit === "%") return `${v.toFixed(0)}%`;
  if (Math.abs(v) >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function legend(container, names) {
  const div = document.createElement("div");
  div.className = "legend";
  names.forEach((name, i) => {
    const span = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = PALETTE[i % PALETTE.length];
    span.appendChild(swatch);
    span.appendChild(document.createTextNode(name));
    div.appendChild(span);
  });
  container.appendChild(div);
}

// series: [{name, values: [number|null]}], times: [seconds since epoch].
function lineChart(container, times, series, opts) {
  opts = opts || {};
  const width = opts.width || 460, height = opts.height || 180;
  const pad = {l: 58, r: 10, t: 10, b: 24};
  container.textContent = "";
  const svg = svgEl("svg", {width: "100%", viewBox: `0 0 ${width} ${height}`,
                            class: "chart line-chart", role: "img"});
  container.appendChild(svg);
  let max = opts.max || 0, points = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  if (max <= 0) max = 1;
  if (opts.unit === "bytes") max = Math.max(max, 1024);
  const t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
  const span = Math.max(t1 - t0, 1);
  const x = (t) => pad.l + (width - pad.l - pad.r) * (t - t0) / span;
  const y = (v) => height - pad.b - (height - pad.t - pad.b) * v / max;
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4;
    svgEl("line", {x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), stroke: "#e2e5ec"}, svg);
    const label = svgEl("text", {x: pad.l - 6, y: y(v) + 4, "text-anchor": "end"}, svg);
    label.textContent = formatValue(v, opts.unit);
  }
  const ago = svgEl("text", {x: pad.l, y: height - 6}, svg);
  ago.textContent = !times.length ? "no data yet"
    : span < 120 ? `${Math.round(span)} s ago` : `${Math.round(span / 60)} min ago`;
  const now = svgEl("text", {x: width - pad.r, y: height - 6, "text-anchor": "end"}, svg);
  now.textContent = "now";
  series.forEach((s, i) => {
    let d = "";
    s.values.forEach((v, j) => {
      if (v === null || v === undefined) return;
      d += `${d ? "L" : "M"}${x(times[j]).toFixed(1)},${y(v).toFixed(1)}`;
      points++;
    });
    if (d) svgEl("path", {d, fill: "none", stroke: PALETTE[i % PALETTE.length],
                          "stroke-width": 2, "data-series": s.name}, svg);
  });
  svg.setAttribute("data-points", points);
  if (series.length > 1 || opts.legend) legend(container, series.map((s) => s.name));
  return svg;
}

// items: [{label, value}] as horizontal bars.
function barChart(container, items, opts) {
  opts = opts || {};
  container.textContent = "";
  const width = opts.width || 460, row = 22;
  const height = Math.max(row * items.length + 8, 30);
  const svg = svgEl("svg", {width: "100%", viewBox: `0 0 ${width} ${height}`,
                            class: "chart bar-chart", role: "img"});
  container.appendChild(svg);
  const max = Math.max(1, ...items.map((it) => it.value));
  const labelW = 190;
  items.forEach((it, i) => {
    const yy = 4 + i * row;
    const label = svgEl("text", {x: labelW - 6, y: yy + 14, "text-anchor": "end"}, svg);
    label.textContent = it.label;
    const w = (width - labelW - 50) * it.value / max;
    svgEl("rect", {x: labelW, y: yy + 3, width: Math.max(w, 1), height: row - 8, rx: 3,
                   fill: it.color || PALETTE[i % PALETTE.length]}, svg);
    const v = svgEl("text", {x: labelW + w + 6, y: yy + 14}, svg);
    v.textContent = formatValue(it.value, opts.unit);
  });
  if (!items.length) {
    const t = svgEl("text", {x: 8, y: 18}, svg);
    t.textContent = "nothing yet";
  }
  svg.setAttribute("data-bars", items.length);
  return svg;
}

// The tasks' executions from the Chrome trace of /api/v0/tasks/timeline:
// complete events (ph "X") in rows by (node, worker).
function timelineChart(container, events, opts) {
  opts = opts || {};
  container.textContent = "";
  const names = {};
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") names[`${e.pid}/${e.tid}`] = e.args.name;
  }
  const spans = events.filter((e) => e.ph === "X");
  const rows = [...new Set(spans.map((e) => `${e.pid}/${e.tid}`))].sort();
  const width = opts.width || 960, rowH = 20, labelW = 150;
  const height = Math.max(rows.length * rowH + 30, 40);
  const svg = svgEl("svg", {width: "100%", viewBox: `0 0 ${width} ${height}`,
                            class: "chart timeline", role: "img"});
  container.appendChild(svg);
  if (!spans.length) {
    const t = svgEl("text", {x: 8, y: 20}, svg);
    t.textContent = "no task has run yet";
    svg.setAttribute("data-spans", 0);
    return svg;
  }
  const t0 = Math.min(...spans.map((e) => e.ts));
  const t1 = Math.max(...spans.map((e) => e.ts + (e.dur || 0)));
  const x = (t) => labelW + (width - labelW - 10) * (t - t0) / Math.max(t1 - t0, 1);
  const colorOf = {};
  let nextColor = 0;
  rows.forEach((key, i) => {
    const label = svgEl("text", {x: labelW - 6, y: i * rowH + 14, "text-anchor": "end"}, svg);
    const full = names[key] || `worker ${key.split("/")[1]}`;
    const pid = /\(pid (\d+)\)/.exec(full);
    label.textContent = pid ? `pid ${pid[1]}` : full.slice(-22);
    svgEl("title", {}, label).textContent = full;
    svgEl("line", {x1: labelW, x2: width - 10, y1: i * rowH + rowH - 1, y2: i * rowH + rowH - 1,
                   stroke: "#eef0f4"}, svg);
  });
  for (const e of spans) {
    const i = rows.indexOf(`${e.pid}/${e.tid}`);
    if (!(e.name in colorOf)) colorOf[e.name] = PALETTE[nextColor++ % PALETTE.length];
    const rect = svgEl("rect", {x: x(e.ts), y: i * rowH + 3,
                                width: Math.max(x(e.ts + (e.dur || 0)) - x(e.ts), 1.5),
                                height: rowH - 6, rx: 2, fill: colorOf[e.name],
                                class: "span"}, svg);
    const title = svgEl("title", {}, rect);
    title.textContent = `${e.name} (${((e.dur || 0) / 1000).toFixed(1)} ms)`;
  }
  const axis = svgEl("text", {x: width - 10, y: height - 4, "text-anchor": "end"}, svg);
  axis.textContent = `${((t1 - t0) / 1e6).toFixed(2)} s`;
  svg.setAttribute("data-spans", spans.length);
  legend(container, Object.keys(colorOf));
  return svg;
}

window.PhotonCharts = {lineChart, barChart, timelineChart, formatValue};
})();
