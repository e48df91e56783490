// The dashboard's pages: a hash-routed single page over the JSON API
// (/api/...). Every value from the cluster is put in the page as text, never
// as markup. The current page refreshes itself every few seconds.
"use strict";

const {lineChart, barChart, timelineChart, formatValue} = window.PhotonCharts;
const REFRESH_MS = 3000;
let refreshTimer = null;
let renderToken = 0;

// --- authentication: ?token= once, then the photon-token cookie ---
(function takeTokenFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const token = params.get("token");
  if (token) {
    document.cookie = `photon-token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
    history.replaceState(null, "", window.location.pathname + window.location.hash);
  }
})();

document.getElementById("auth-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const token = document.getElementById("auth-token").value.trim();
  document.cookie = `photon-token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
  document.getElementById("auth").classList.add("hidden");
  route();
});

class Unauthorized extends Error {}

async function api(path) {
  const r = await fetch(path, {credentials: "same-origin"});
  if (r.status === 401) throw new Unauthorized("the cluster token is needed");
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch (e) { body = text; }
  if (!r.ok) throw new Error(typeof body === "string" ? body : (body.msg || r.statusText));
  return body;
}

async function state(resource, params) {
  const q = new URLSearchParams(Object.assign({limit: 1000, detail: "true"}, params || {}));
  const body = await api(`/api/v0/${resource}?${q}`);
  return body.data.result.result;
}

// --- DOM helpers ---
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "onclick") e.addEventListener("click", v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function badge(text) { return el("span", {class: `badge ${text || ""}`}, text || "–"); }
function short(id) { return id ? String(id).slice(0, 12) : "–"; }
function when(ms) { return ms ? new Date(ms).toLocaleTimeString() : "–"; }

function table(columns, rows, onClick) {
  const t = el("table", {class: "data"});
  t.appendChild(el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c.title)))));
  const body = el("tbody");
  for (const r of rows) {
    const tr = el("tr", onClick ? {class: "click", onclick: () => onClick(r)} : {},
                  ...columns.map((c) => {
                    const v = c.render ? c.render(r) : r[c.key];
                    return el("td", {}, v instanceof Node ? v : (v === null || v === undefined ? "–" : String(v)));
                  }));
    body.appendChild(tr);
  }
  t.appendChild(body);
  if (!rows.length) body.appendChild(el("tr", {}, el("td", {colspan: columns.length, class: "muted"}, "none")));
  return t;
}

function card(title, ...children) { return el("div", {class: "card"}, el("h2", {}, title), ...children); }

function usageBar(used, total, unit) {
  const frac = total > 0 ? Math.min(1, used / total) : 0;
  const bar = el("div", {class: "bar"}, el("div", {style: `width:${(frac * 100).toFixed(1)}%`}));
  return el("div", {}, el("div", {class: "muted"}, `${formatValue(used, unit)} / ${formatValue(total, unit)}`), bar);
}

// --- metrics history ---
async function fetchHistory() { return api("/api/metrics/history"); }

function seriesOf(h, names) {
  // resources_used/CPU -> "used"; tasks/RUNNING -> "RUNNING"; mem_total -> "mem_total".
  const label = (n) => n.startsWith("resources_") ? n.slice(10).split("/")[0]
    : n.includes("/") ? n.split("/").pop() : n;
  return names.filter((n) => n in h.series).map((n) => ({name: label(n), values: h.series[n]}));
}

function chartCard(title, h, names, opts) {
  const holder = el("div", {class: "chart-holder", "data-chart": title});
  const c = card(title, holder);
  lineChart(holder, h.times, seriesOf(h, names), opts);
  return c;
}

// --- pages ---
const pages = {};

pages.overview = async (root) => {
  const [status, h, jobs] = await Promise.all([api("/api/cluster_status"), fetchHistory(), api("/api/jobs/")]);
  const alive = status.nodes.filter((n) => n.state === "ALIVE");
  const total = status.total, avail = status.available;
  const stats = el("div", {class: "grid"},
    card("Nodes", el("div", {class: "stat", id: "stat-nodes"}, alive.length),
         el("div", {class: "muted"}, `${status.nodes.length - alive.length} dead`)),
    card("CPU", el("div", {id: "stat-cpu"}, usageBar((total.CPU || 0) - (avail.CPU || 0), total.CPU || 0))),
    card("Object store", usageBar(alive.reduce((a, n) => a + ((n.object_store || {}).bytes_used || 0), 0),
                                  alive.reduce((a, n) => a + ((n.object_store || {}).capacity || 0), 0), "bytes")),
    card("Jobs", el("div", {class: "stat", id: "stat-jobs"}, jobs.length),
         el("div", {class: "muted"}, `${jobs.filter((j) => j.status === "RUNNING").length} running`)));
  const charts = el("div", {class: "grid"},
    chartCard("CPU utilization", h, ["cpu_utilization"], {unit: "%", max: 100}),
    chartCard("Memory used", h, ["mem_used"], {unit: "bytes"}),
    chartCard("Object store used", h, ["object_store_used"], {unit: "bytes"}),
    chartCard("CPUs in use", h, ["resources_used/CPU", "resources_total/CPU"], {}));
  const recent = jobs.slice().sort((a, b) => (b.start_time || 0) - (a.start_time || 0)).slice(0, 8);
  root.append(el("h1", {}, "Cluster overview"), stats, charts,
              card("Recent jobs", jobsTable(recent)));
};

function jobsTable(jobs) {
  return table([
    {title: "Submission id", render: (j) => j.submission_id || "–"},
    {title: "Job id", render: (j) => j.job_id || "–"},
    {title: "Type", key: "type"},
    {title: "Status", render: (j) => badge(j.status)},
    {title: "Entrypoint", key: "entrypoint"},
    {title: "Started", render: (j) => when(j.start_time)},
    {title: "Ended", render: (j) => when(j.end_time)},
  ], jobs, (j) => { location.hash = `#/jobs/${encodeURIComponent(j.submission_id || j.job_id)}`; });
}

pages.jobs = async (root, arg) => {
  if (arg) return jobDetail(root, arg);
  const jobs = await api("/api/jobs/");
  jobs.sort((a, b) => (b.start_time || 0) - (a.start_time || 0));
  root.append(el("h1", {}, "Jobs"), card(`${jobs.length} jobs`, jobsTable(jobs)));
};

async function jobDetail(root, id) {
  const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
  const facts = el("table", {class: "data"}, el("tbody", {},
    ...[["Status", badge(job.status)], ["Submission id", job.submission_id || "–"], ["Job id", job.job_id || "–"],
        ["Entrypoint", job.entrypoint || "–"], ["Message", job.message || "–"],
        ["Exit code", job.driver_exit_code ?? "–"], ["Started", when(job.start_time)], ["Ended", when(job.end_time)],
        ["Runtime env", JSON.stringify(job.runtime_env || {})], ["Metadata", JSON.stringify(job.metadata || {})]]
      .map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v instanceof Node ? v : String(v))))));
  const logs = el("pre", {class: "log", id: "job-logs"}, "");
  root.append(el("h1", {}, `Job ${id}`), card("Details", facts), card("Logs", logs));
  if (job.type === "SUBMISSION") {
    const got = await api(`/api/jobs/${encodeURIComponent(id)}/logs`);
    logs.textContent = got.logs || "(no output yet)";
  } else {
    logs.textContent = "(a driver that was not submitted: its output is in its own terminal)";
  }
  if (job.job_id) {
    const [tasks, actors] = await Promise.all([state("tasks", {filter_keys: "job_id", filter_predicates: "=", filter_values: job.job_id}),
                                               state("actors", {filter_keys: "job_id", filter_predicates: "=", filter_values: job.job_id})]);
    root.append(card(`Tasks (${tasks.length})`, tasksTable(tasks)), card(`Actors (${actors.length})`, actorsTable(actors)));
  }
}

function actorsTable(actors) {
  return table([
    {title: "Actor id", render: (a) => short(a.actor_id)},
    {title: "Class", key: "class_name"},
    {title: "Name", render: (a) => a.name || "–"},
    {title: "State", render: (a) => badge(a.state)},
    {title: "Node", render: (a) => short(a.node_id)},
    {title: "Pid", key: "pid"},
    {title: "Restarts", key: "num_restarts"},
    {title: "Logs", render: (a) => el("a", {href: `#/logs/actor/${a.actor_id}`}, "logs")},
  ], actors);
}

pages.actors = async (root) => {
  const actors = await state("actors");
  const byState = {};
  for (const a of actors) byState[a.state] = (byState[a.state] || 0) + 1;
  const chart = el("div", {"data-chart": "actors by state"});
  root.append(el("h1", {}, "Actors"), card("By state", chart), card(`${actors.length} actors`, actorsTable(actors)));
  barChart(chart, Object.entries(byState).map(([label, value]) => ({label, value})));
};

function tasksTable(tasks) {
  return table([
    {title: "Task id", render: (t) => short(t.task_id)},
    {title: "Name", key: "name"},
    {title: "State", render: (t) => badge(t.state)},
    {title: "Type", key: "type"},
    {title: "Node", render: (t) => short(t.node_id)},
    {title: "Worker pid", render: (t) => t.worker_pid ?? "–"},
    {title: "Why pending / error", render: (t) => t.pending_reason || t.error_message || ""},
  ], tasks);
}

let taskFilters = {state: "", name: ""};

pages.tasks = async (root) => {
  const params = {};
  const keys = [], preds = [], vals = [];
  for (const [k, v] of Object.entries(taskFilters)) if (v) { keys.push(k); preds.push("="); vals.push(v); }
  const q = new URLSearchParams({limit: 1000, detail: "true"});
  keys.forEach((k, i) => { q.append("filter_keys", k); q.append("filter_predicates", preds[i]); q.append("filter_values", vals[i]); });
  const [body, summary, trace] = await Promise.all([api(`/api/v0/tasks?${q}`), api("/api/v0/tasks/summarize"),
                                                    api("/api/v0/tasks/timeline")]);
  const tasks = body.data.result.result;
  const counts = {};
  for (const t of tasks) counts[t.state] = (counts[t.state] || 0) + 1;
  const stateSel = el("select", {id: "task-state-filter"}, el("option", {value: ""}, "any state"),
    ...["PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "SUBMITTED_TO_WORKER", "RUNNING", "FINISHED", "FAILED"]
      .map((s) => el("option", {value: s}, s)));
  stateSel.value = taskFilters.state;
  const nameIn = el("input", {id: "task-name-filter", placeholder: "name", value: taskFilters.name});
  const apply = el("button", {onclick: () => { taskFilters = {state: stateSel.value, name: nameIn.value.trim()}; route(); }}, "Filter");
  const bars = el("div", {"data-chart": "tasks by state"});
  const byFunction = el("div", {"data-chart": "tasks by function"});
  const timeline = el("div", {id: "timeline", "data-chart": "timeline"});
  const groups = summary.data.result;  // {"summary": {name: {state_counts}}, "total_tasks"}
  root.append(el("h1", {}, "Tasks"),
              el("div", {class: "grid"}, card("By state", bars),
                 card("By function", byFunction)),
              card("Timeline (recent executions, one row per worker)", timeline),
              card(`${tasks.length} tasks`, el("div", {class: "filters"}, stateSel, nameIn, apply), tasksTable(tasks)));
  barChart(bars, Object.entries(counts).map(([label, value]) => ({label, value})));
  barChart(byFunction, Object.entries(groups.summary || {}).map(([name, g]) => ({
    label: name.length > 28 ? "…" + name.slice(-27) : name,
    value: Object.values(g.state_counts || {}).reduce((a, b) => a + b, 0)})));
  timelineChart(timeline, trace);
};

pages.nodes = async (root) => {
  const status = await api("/api/cluster_status");
  root.append(el("h1", {}, "Nodes"));
  const grid = el("div", {class: "grid"});
  for (const n of status.nodes) {
    const total = n.resources_total || {}, avail = n.resources_available || {};
    const res = Object.keys(total).filter((k) => !k.startsWith("node:")).sort().map((k) =>
      el("div", {}, el("b", {}, k), usageBar(total[k] - (avail[k] ?? total[k]), total[k], k.includes("memory") ? "bytes" : "")));
    const store = n.object_store || {};
    grid.appendChild(el("div", {class: "card node-card", "data-node-id": n.node_id},
      el("h2", {}, `${n.is_head_node ? "Head node" : "Node"} ${short(n.node_id)} `, badge(n.state)),
      el("div", {class: "muted"}, `${n.node_ip}:${n.raylet_port} — ${n.num_workers ?? "?"} workers (${n.num_idle_workers ?? "?"} idle)`),
      ...res,
      el("div", {}, el("b", {}, "object store"), usageBar(store.bytes_used || 0, store.capacity || 0, "bytes")),
      el("a", {href: `#/logs/node/${n.node_id}`}, "logs")));
  }
  root.appendChild(grid);
};

pages["placement-groups"] = async (root) => {
  const groups = await state("placement_groups");
  root.append(el("h1", {}, "Placement groups"), card(`${groups.length} placement groups`, table([
    {title: "Id", render: (g) => short(g.placement_group_id)},
    {title: "Name", render: (g) => g.name || "–"},
    {title: "State", render: (g) => badge(g.state)},
    {title: "Strategy", key: "strategy"},
    {title: "Bundles", render: (g) => (g.bundles || []).map((b) => JSON.stringify(b.unit_resources)).join(" ")},
  ], groups)));
};

pages.serve = async (root) => {
  const serve = await api("/api/serve/applications/");
  const apps = Object.values(serve.applications || {});
  const http = serve.http_options;
  root.append(el("h1", {}, "Serve"));
  if (!serve.controller_info || !serve.controller_info.actor_id) {
    root.append(card("Serve is not running", el("p", {class: "muted"},
      "Start it with serve.run(...) or `serve deploy config.yaml`.")));
    return;
  }
  root.append(el("div", {class: "grid"},
    card("Applications", el("div", {class: "stat", id: "stat-serve-apps"}, apps.length),
         el("div", {class: "muted"}, `${apps.filter((a) => a.status === "RUNNING").length} running`)),
    card("HTTP", el("div", {id: "serve-http"}, http ? `http://${http.host}:${http.port}` : "no proxy"),
         el("div", {class: "muted"}, `${Object.keys(serve.proxies || {}).length} proxy`))));
  root.append(card("Applications", table([
    {title: "Name", key: "name"},
    {title: "Route prefix", render: (a) => a.route_prefix || "–"},
    {title: "Status", render: (a) => badge(a.status)},
    {title: "Deployments", render: (a) => Object.keys(a.deployments).length},
    {title: "Deployed", render: (a) => when(a.last_deployed_time_s * 1000)},
    {title: "Docs", render: (a) => a.docs_path && a.route_prefix ? `${a.route_prefix === "/" ? "" : a.route_prefix}${a.docs_path}` : "–"},
    {title: "Message", render: (a) => a.message || ""},
  ], apps)));
  for (const a of apps) {
    const deployments = Object.values(a.deployments);
    root.append(card(`Application ${a.name}: deployments`, table([
      {title: "Deployment", key: "name"},
      {title: "Status", render: (d) => badge(d.status)},
      {title: "Trigger", key: "status_trigger"},
      {title: "Replicas", render: (d) => `${d.replicas.filter((r) => r.state === "RUNNING").length} running / ${d.target_num_replicas} wanted`},
      {title: "Replica states", render: (d) => d.replicas.map((r) => `${r.replica_id}:${r.state}`).join(" ") || "–"},
      {title: "Max ongoing", render: (d) => d.deployment_config.max_ongoing_requests},
      {title: "Message", render: (d) => d.message || ""},
    ], deployments)));
  }
};

let tailTimer = null;

pages.logs = async (root, arg, arg2) => {
  const status = await api("/api/cluster_status");
  const nodes = status.nodes.filter((n) => n.state === "ALIVE");
  let nodeId = arg === "node" && arg2 ? arg2 : (nodes.find((n) => n.is_head_node) || nodes[0] || {}).node_id;
  const view = el("pre", {class: "log", id: "log-view"}, "Pick a file.");
  const live = el("input", {type: "checkbox", id: "log-live"});
  const title = el("h2", {id: "log-title"}, "Log");
  let current = null;
  async function show(query, label) {
    current = query;
    title.textContent = label;
    const text = await fetch(`/api/v0/logs/file?${new URLSearchParams(Object.assign({lines: 1000}, query))}`,
                             {credentials: "same-origin"}).then((r) => r.text());
    view.textContent = text || "(empty)";
    view.scrollTop = view.scrollHeight;
  }
  if (tailTimer) clearInterval(tailTimer);
  tailTimer = setInterval(() => { if (live.checked && current && location.hash.startsWith("#/logs")) show(current, title.textContent); }, 2000);
  const nodeSel = el("select", {id: "log-node"}, ...nodes.map((n) => el("option", {value: n.node_id}, `${n.is_head_node ? "head " : ""}${short(n.node_id)} (${n.node_ip})`)));
  if (nodeId) nodeSel.value = nodeId;
  nodeSel.addEventListener("change", () => { location.hash = `#/logs/node/${nodeSel.value}`; });
  const files = el("div", {id: "log-files"});
  root.append(el("h1", {}, "Logs"), el("div", {class: "filters"}, nodeSel, el("label", {}, live, " live tail")),
              el("div", {class: "grid"}, card("Files", files), el("div", {class: "card"}, title, view)));
  if (arg === "actor" && arg2) { await show({actor_id: arg2}, `actor ${short(arg2)}`); }
  if (!nodeId) return;
  const listing = await api(`/api/v0/logs?node_id=${nodeId}`);
  const byKind = listing.data.result;
  for (const [kind, names] of Object.entries(byKind)) {
    if (!names.length) continue;
    files.appendChild(el("h2", {}, kind));
    for (const name of names) {
      files.appendChild(el("div", {}, el("a", {href: "javascript:void 0", class: "log-file",
        onclick: () => show({node_id: nodeId, filename: name}, name)}, name)));
    }
  }
};

pages.metrics = async (root) => {
  const h = await fetchHistory();
  const names = Object.keys(h.series);
  const tasks = names.filter((n) => n.startsWith("tasks/")).sort();
  const actors = names.filter((n) => n.startsWith("actors/")).sort();
  root.append(el("h1", {}, "Metrics"), el("p", {class: "muted"},
    `The last ${h.times.length > 1 ? Math.round(h.times[h.times.length - 1] - h.times[0]) : 0} s, sampled every ${h.period_s} s from every node's /metrics endpoint (the photon_* series).`),
    el("div", {class: "grid"},
      chartCard("photon_tasks by State", h, tasks, {legend: true}),
      chartCard("photon_actors by State", h, actors, {legend: true}),
      chartCard("photon_node_cpu_utilization", h, ["cpu_utilization"], {unit: "%", max: 100}),
      chartCard("photon_node_mem_used", h, ["mem_used", "mem_total"], {unit: "bytes"}),
      chartCard("photon_object_store_memory", h, ["object_store_used", "object_store_capacity"], {unit: "bytes"}),
      chartCard("photon_resources CPU", h, ["resources_used/CPU", "resources_total/CPU"], {}),
      chartCard("photon_running_jobs", h, ["running_jobs"], {})));
};

// --- routing ---
async function route() {
  const parts = (location.hash || "#/overview").slice(2).split("/").map(decodeURIComponent);
  const name = pages[parts[0]] ? parts[0] : "overview";
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === name));
  const token = ++renderToken;
  const fresh = el("main", {id: "page", "data-page": name});
  try {
    await pages[name](fresh, parts[1], parts[2]);
  } catch (e) {
    if (e instanceof Unauthorized) {
      document.getElementById("auth").classList.remove("hidden");
      return;
    }
    fresh.appendChild(el("div", {class: "card error"}, `Could not load this page: ${e.message}`));
  }
  if (token !== renderToken) return;  // a newer render won
  fresh.setAttribute("data-loaded", "true");
  document.getElementById("page").replaceWith(fresh);
  clearTimeout(refreshTimer);
  // Pages with inputs (tasks' filters, logs) refresh on demand only.
  if (["overview", "metrics", "nodes", "actors", "jobs", "placement-groups"].includes(name)) {
    refreshTimer = setTimeout(route, REFRESH_MS);
  }
}

window.addEventListener("hashchange", route);
api("/api/version").then((v) => { document.getElementById("session").textContent = `${v.session_name} · Photon ${v.photon_version}`; }).catch(() => {});
route();
