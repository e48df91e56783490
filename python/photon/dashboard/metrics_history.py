"""The dashboard's memory of the last minutes: every `period_s` it asks the
cluster for its nodes (the state API's ClusterStatus) and scrapes each live
node's Prometheus /metrics endpoint, and keeps a ring of samples per series
for the charts of the Overview and Metrics pages.

Series (cluster-wide, summed over nodes unless said):
  cpu_utilization      photon_node_cpu_utilization, mean over nodes (percent)
  mem_used             photon_node_mem_used (bytes)       mem_total
  object_store_used    the stores' bytes in use           object_store_capacity
  resources_used/CPU   CPU in use by leases               resources_total/CPU
  tasks/<State>        photon_tasks by State
  actors/<State>       photon_actors by State
  running_jobs         photon_running_jobs
"""
import collections
import json
import logging
import threading
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from photon import _photon

logger = logging.getLogger(__name__)

DEFAULT_PERIOD_S = 2.0
DEFAULT_WINDOW_S = 600.0
_SCRAPE_TIMEOUT_S = 3.0


def scrape(ip, port):
    """{metric name: [(labels, value)]} of one node's endpoint."""
    with urllib.request.urlopen(f"http://{ip}:{port}/metrics", timeout=_SCRAPE_TIMEOUT_S) as r:
        text = r.read().decode("utf-8", errors="replace")
    out = collections.defaultdict(list)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name].append((s.labels, s.value))
    return out


def sample_of(status, scrapes):
    """One sample (series name -> value) from a ClusterStatus and the scrapes
    of its live nodes."""
    values = collections.defaultdict(float)
    alive = [n for n in status["nodes"] if n["state"] == "ALIVE"]
    values["nodes_alive"] = len(alive)
    for n in alive:
        store = n.get("object_store") or {}
        values["object_store_used"] += store.get("bytes_used", 0)
        values["object_store_capacity"] += store.get("capacity", 0)
        total, avail = n.get("resources_total", {}), n.get("resources_available", {})
        for r in ("CPU", "GPU"):
            if r in total:
                values[f"resources_total/{r}"] += total[r]
                values[f"resources_used/{r}"] += total[r] - avail.get(r, total[r])
    cpu = []
    for metrics in scrapes:
        for _, v in metrics.get("photon_node_cpu_utilization", []):
            cpu.append(v)
        for name, key in (("photon_node_mem_used", "mem_used"),
                          ("photon_node_mem_total", "mem_total")):
            for _, v in metrics.get(name, []):
                values[key] += v
        for labels, v in metrics.get("photon_tasks", []):
            values[f"tasks/{labels.get('State', '?')}"] += v
        for labels, v in metrics.get("photon_actors", []):
            values[f"actors/{labels.get('State', '?')}"] += v
        for _, v in metrics.get("photon_running_jobs", []):
            values["running_jobs"] += v
    if cpu:
        values["cpu_utilization"] = sum(cpu) / len(cpu)
    return dict(values)


class MetricsHistory:
    def __init__(self, gcs_address, period_s=DEFAULT_PERIOD_S, window_s=DEFAULT_WINDOW_S):
        self.gcs_address = gcs_address
        self.period_s = period_s
        self.times = collections.deque(maxlen=max(2, int(window_s / period_s)))
        self.series = {}  # name -> deque of values (None where missing), aligned with times
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None
        self.last_status = None

    def start(self):
        self.thread = threading.Thread(target=self._run, name="metrics-history", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def _run(self):
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.record(self.collect())
            except Exception as e:  # noqa: BLE001 - the cluster may be restarting; try again
                logger.debug("metrics sample failed: %s", e)
            self.stopping.wait(max(0.1, self.period_s - (time.monotonic() - started)))

    def collect(self):
        status = json.loads(_photon.state_cluster_status(self.gcs_address))
        self.last_status = status
        scrapes = []
        for n in status["nodes"]:
            if n["state"] != "ALIVE" or not n.get("metrics_export_port"):
                continue
            try:
                scrapes.append(scrape(n["node_ip"], n["metrics_export_port"]))
            except OSError as e:
                logger.debug("scrape of %s failed: %s", n["node_id"], e)
        return sample_of(status, scrapes)

    def record(self, values, when=None):
        with self.lock:
            self.times.append(time.time() if when is None else when)
            n = len(self.times)
            for name in set(self.series) | set(values):
                q = self.series.get(name)
                if q is None:
                    q = self.series[name] = collections.deque(maxlen=self.times.maxlen)
                q.append(values.get(name))
                while len(q) < n:  # a series that appeared late: pad its past
                    q.appendleft(None)

    def snapshot(self, since=0.0):
        with self.lock:
            times = list(self.times)
            start = next((i for i, t in enumerate(times) if t >= since), len(times))
            return {"period_s": self.period_s, "times": times[start:],
                    "series": {k: list(v)[start:] for k, v in self.series.items()}}
