"""/metrics scrape time of a node running N actors, Photon and Ray side by side.

    PYTHONPATH=python:build/python python3 bench/metrics_scrape.py --backend photon
    /tmp/rayvenv/bin/python bench/metrics_scrape.py --backend ray

Starts a one-node cluster with a known metrics port, creates N tiny actors
(num_cpus=0), each of which records an application Counter, Gauge and Histogram
with its own tag value, and waits until the node's endpoint shows all N. Then
times --repeat scrapes of GET /metrics (median and max, seconds) and reports the
size of the answer and its number of samples (parsed with prometheus_client).
Ray's endpoint is its metrics agent's, which exports what workers reported at
their last report interval; Photon's raylet asks every process at scrape time.
"""
import argparse
import socket
import statistics
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
        return r.read().decode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--actors", type=int, default=100)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--wait", type=float, default=180,
                   help="seconds to wait for every actor's metrics to show")
    a = p.parse_args()
    if a.backend == "ray":
        import ray
        from ray.util.metrics import Counter, Gauge, Histogram
        prefix = "ray_"
    else:
        import photon as ray
        from photon.util.metrics import Counter, Gauge, Histogram
        prefix = "photon_"
    port = free_port()
    kwargs = {"include_dashboard": False} if a.backend == "ray" else {}
    ray.init(num_cpus=2, _metrics_export_port=port, **kwargs)

    @ray.remote(num_cpus=0)
    class Worker:
        def __init__(self, i):
            tags = {"actor": str(i)}
            self.c = Counter("bench_calls", tag_keys=("actor",)).set_default_tags(tags)
            self.g = Gauge("bench_value", tag_keys=("actor",)).set_default_tags(tags)
            self.h = Histogram("bench_ms", boundaries=[1, 10, 100],
                               tag_keys=("actor",)).set_default_tags(tags)

        def work(self):
            self.c.inc()
            self.g.set(1)
            self.h.observe(5)
            return True

    t0 = time.monotonic()
    actors = [Worker.remote(i) for i in range(a.actors)]
    ray.get([w.work.remote() for w in actors])
    created_s = time.monotonic() - t0
    name = prefix + "bench_value"
    deadline = time.monotonic() + a.wait
    seen = 0
    while time.monotonic() < deadline:
        text = scrape(port)
        seen = sum(1 for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == name)
        if seen >= a.actors:
            break
        time.sleep(1)
    times = []
    for _ in range(a.repeat):
        t = time.monotonic()
        text = scrape(port)
        times.append(time.monotonic() - t)
    samples = sum(len(f.samples) for f in text_string_to_metric_families(text))
    print(f"backend: {a.backend}")
    print(f"actors: {a.actors} (created and called in {created_s:.2f} s; "
          f"{seen} of them on the endpoint)")
    print(f"scrape: median {statistics.median(times):.4f} s, max {max(times):.4f} s "
          f"over {a.repeat}; {len(text)} bytes, {samples} samples")
    ray.shutdown()


if __name__ == "__main__":
    main()
