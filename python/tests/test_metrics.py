"""Prometheus metrics as a Ray user reaches them: every node's /metrics endpoint (parsed with
prometheus_client's parser), system metrics with Ray's names under photon_, application
metrics from photon.util.metrics (Ray's ray.util.metrics API) recorded in tasks and actors,
the file_sd target list, and a real Prometheus server scraping a two-node cluster."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import photon as ray
from photon.cluster_utils import Cluster
from photon.util.metrics import Counter, Gauge, Histogram


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def _samples(text, name):
    """Every sample of the family `name` (sample names keep their suffixes)."""
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name:
                out.append(s)
    return out


def _wait_for(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def _node_port():
    ports = [n["MetricsExportPort"] for n in ray.nodes() if n["Alive"]]
    assert ports and all(p > 0 for p in ports), ray.nodes()
    return ports[0]


@ray.remote
def square(x):
    return x * x


@ray.remote
class Server:
    def __init__(self, name):
        self.requests = Counter("test_requests", description="Requests served.",
                                tag_keys=("actor_name",)).set_default_tags({"actor_name": name})
        self.depth = Gauge("test_queue_depth", description="Queue depth.",
                           tag_keys=("actor_name",)).set_default_tags({"actor_name": name})
        self.latency = Histogram("test_latency_ms", description="Latency.",
                                 boundaries=[1, 10, 100], tag_keys=("actor_name",))
        self.latency.set_default_tags({"actor_name": name})

    def serve(self, n):
        for i in range(n):
            self.requests.inc()
            self.latency.observe(5 if i % 2 else 50)
        self.depth.set(n)
        return n


def test_the_node_endpoint_parses_and_has_rays_system_metrics(ray_start_regular):
    ray.get([square.remote(i) for i in range(25)])
    port = _node_port()
    assert ray_start_regular["metrics_export_port"] == port

    def finished():
        text = _scrape(port)
        n = sum(s.value for s in _samples(text, "photon_tasks")
                if s.labels["State"] == "FINISHED" and s.labels["Name"] == "square")
        return text if n == 25 else None
    text = _wait_for(finished, what="photon_tasks{State=FINISHED,Name=square} == 25")
    names = {fam.name for fam in text_string_to_metric_families(text)}
    for expected in ["photon_tasks", "photon_actors", "photon_resources",
                     "photon_object_store_memory", "photon_object_store_num_local_objects",
                     "photon_spill_manager_objects", "photon_node_cpu_utilization",
                     "photon_node_mem_used", "photon_node_disk_usage", "photon_running_jobs",
                     "photon_scheduler_tasks", "photon_grpc_server_req_process_time_ms"]:
        assert expected in names, expected
    # Ray's labels on every sample; the source process named.
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            assert s.labels["SessionName"].startswith("session_"), s
            assert s.labels["NodeAddress"] == "127.0.0.1", s
            assert s.labels["Version"] == ray.__version__, s
            assert s.labels["Component"] in ("raylet", "core_worker", "gcs_server"), s
    cpu = [s for s in _samples(text, "photon_resources") if s.labels["Name"] == "CPU"]
    assert {s.labels["State"] for s in cpu} == {"AVAILABLE", "USED"}
    assert sum(s.value for s in cpu) == 2
    assert [s.value for s in _samples(text, "photon_running_jobs")] == [1]
    # The per-method gRPC histogram of the workers that ran the tasks.
    pushes = [s for s in _samples(text, "photon_grpc_server_req_process_time_ms_count")
              if s.labels["Method"] == "CoreWorkerService.PushTask"]
    assert sum(s.value for s in pushes) >= 25


def test_application_metrics_from_an_actor_reach_the_endpoint(ray_start_regular):
    a = Server.remote("alpha")
    assert ray.get(a.serve.remote(4)) == 4
    port = _node_port()

    def recorded():
        text = _scrape(port)
        c = [s for s in _samples(text, "photon_test_requests_total")
             if s.labels.get("actor_name") == "alpha"]
        return text if c and c[0].value == 4 else None
    text = _wait_for(recorded, what="photon_test_requests_total from the actor")
    (depth,) = [s for s in _samples(text, "photon_test_queue_depth")
                if s.labels["actor_name"] == "alpha"]
    assert depth.value == 4 and depth.labels["Component"] == "core_worker"
    assert depth.labels["WorkerId"]
    buckets = {s.labels["le"]: s.value for s in _samples(text, "photon_test_latency_ms_bucket")}
    assert buckets == {"1.0": 0, "10.0": 2, "100.0": 4, "+Inf": 4}
    (count,) = _samples(text, "photon_test_latency_ms_count")
    (total,) = _samples(text, "photon_test_latency_ms_sum")
    assert count.value == 4 and total.value == 110
    helps = {fam.name: fam.documentation for fam in text_string_to_metric_families(text)}
    assert helps["photon_test_requests"] == "Requests served."


def test_driver_metrics_with_explicit_tags_are_exported(ray_start_regular):
    c = Counter("test_driver_events", tag_keys=("kind",))
    c.inc(2, tags={"kind": "a"})
    c.inc(tags={"kind": "b"})
    text = _scrape(_node_port())
    values = {s.labels["kind"]: s.value for s in _samples(text, "photon_test_driver_events_total")}
    assert values == {"a": 2, "b": 1}


def test_metric_api_checks_its_input_as_ray_does():
    with pytest.raises(ValueError, match="Empty name"):
        Counter("")
    with pytest.raises(TypeError, match="tag_keys should be a tuple"):
        Counter("test_x", tag_keys=["a"])
    with pytest.raises(TypeError, match="Tag keys must be str"):
        Gauge("test_x2", tag_keys=(1,))
    c = Counter("test_checked", tag_keys=("a",))
    with pytest.raises(ValueError, match="Unrecognized tag key b"):
        c.set_default_tags({"b": "1"})
    with pytest.raises(ValueError, match="Missing value for tag key"):
        c.inc()
    with pytest.raises(ValueError, match="value must be >0"):
        c.inc(0, tags={"a": "x"})
    with pytest.raises(TypeError, match="value must be int or float"):
        c.inc("1", tags={"a": "x"})
    with pytest.raises(TypeError, match="Tag values must be str"):
        c.inc(1, tags={"a": 1})
    with pytest.raises(ValueError, match="boundaries argument should be provided"):
        Histogram("test_h")
    with pytest.raises(ValueError, match="Use positive values"):
        Histogram("test_h2", boundaries=[0, 1])
    with pytest.warns(UserWarning, match="Invalid metric name"):
        bad = Counter("bad-name")
    bad.inc()  # discarded, not an error
    g = Gauge("test_gauge_none")
    g.set(None)  # a no-op, as in Ray
    assert g.info == {"name": "test_gauge_none", "description": "", "tag_keys": (),
                      "default_tags": {}}
    with pytest.raises(ValueError, match="already defined as a counter"):
        Gauge("test_checked", tag_keys=("a",))


def test_metrics_pickle_into_tasks(ray_start_regular):
    c = Counter("test_pickled", tag_keys=("where",))

    @ray.remote
    def bump(counter):
        counter.inc(3, tags={"where": "task"})
        return True
    assert ray.get(bump.remote(c))
    port = _node_port()
    _wait_for(lambda: [s for s in _samples(_scrape(port), "photon_test_pickled_total")
                       if s.labels["where"] == "task" and s.value == 3],
              what="a counter recorded in a task")


def test_init_takes_the_metrics_port_and_refuses_a_bad_one(shutdown_only):
    with pytest.raises(ValueError, match="_metrics_export_port must be a port number"):
        ray.init(num_cpus=1, _metrics_export_port=-5)
    port = _free_port()
    info = ray.init(num_cpus=1, _metrics_export_port=port)
    assert info["metrics_export_port"] == port
    assert ray.nodes()[0]["MetricsExportPort"] == port
    assert "photon_node_mem_total" in _scrape(port)


def test_a_taken_metrics_port_is_named(shutdown_only):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        taken = s.getsockname()[1]
        with pytest.raises(ConnectionError, match=f"metrics.*{taken}"):
            ray.init(num_cpus=1, _metrics_export_port=taken)


def _service_discovery(session_dir):
    path = os.path.join(session_dir, "prom_metrics_service_discovery.json")
    with open(path) as f:
        return json.load(f)


def test_the_head_lists_every_nodes_endpoint_for_prometheus(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    cluster.connect()
    nodes = ray.nodes()
    expected = sorted(f"{n['NodeManagerAddress']}:{n['MetricsExportPort']}" for n in nodes)
    assert len(expected) == 2
    doc = _wait_for(lambda: (d := _service_discovery(cluster.session_dir)) and
                    sorted(d[0]["targets"]) == expected and d, what="both nodes listed")
    assert doc[0]["labels"] == {"job": "photon"}
    # Each endpoint serves its own node: the second node's has no GCS metrics.
    for target in expected:
        text = _scrape(int(target.rsplit(":", 1)[1]))
        components = {s.labels["Component"] for f in text_string_to_metric_families(text)
                      for s in f.samples}
        assert "raylet" in components


def test_prometheus_scrapes_every_node_through_the_target_list(ray_start_cluster, tmp_path):
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.fail("prometheus is not installed (scripts/setup.sh installs it)")
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    cluster.connect()
    ray.get([square.remote(i) for i in range(30)])
    sd_file = os.path.join(cluster.session_dir, "prom_metrics_service_discovery.json")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: photon\n    file_sd_configs:\n"
        f"      - files: ['{sd_file}']\n        refresh_interval: 1s\n")
    port = _free_port()
    proc = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    try:
        def api(path, **params):
            url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(params)
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.loads(r.read())["data"]
            except OSError:
                return None

        def all_up():
            data = api("targets")
            if not data:
                return None
            active = data["activeTargets"]
            return active if len(active) == 2 and all(t["health"] == "up" for t in active) \
                else None
        active = _wait_for(all_up, timeout=60, what="Prometheus scraping both nodes")
        assert len({t["labels"]["instance"] for t in active}) == 2

        def finished():
            data = api("query", query='sum(photon_tasks{State="FINISHED",Name="square"})')
            if not data or not data["result"]:
                return None
            return float(data["result"][0]["value"][1]) == 30
        _wait_for(finished, timeout=60, what="photon_tasks FINISHED == 30 in Prometheus")
        nodes = api("query", query="count(photon_node_mem_total)")
        assert float(nodes["result"][0]["value"][1]) == 2
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
