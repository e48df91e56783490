"""The scalability envelope (Ray's release/benchmarks shapes, scaled to this
machine): how time and memory grow with the size of the work, for Photon or
Ray, with the same code.

    python bench/scalability.py --backend photon|ray [--sizes small|full] [--json F]
        [--only tasks,actors,pgs,get_refs,ref_args,puts,nodes,broadcast,idle]

Each (shape, size) runs in a fresh process with a fresh local cluster, so the
memory figures are that run's own: the driver's peak RSS (ru_maxrss) and the
RSS of the cluster's GCS at the end. Output: one line per run, and with --json
a file {"backend", "runs": [{shape, size, seconds, rate, driver_rss_mib,
gcs_rss_mib, extra}]}.

Shapes on a cluster of raylets on this host (cluster_utils.Cluster, the same
code for both): nodes (size raylets with fake resources: the time to start
them all and see them alive; extra: the GCS's CPU share while the cluster
idles 10 s), broadcast (size MiB in one object put by the driver and read by
one task on each of 4 nodes; rate in MiB/s delivered). idle (size seconds):
ray.init() of a default local cluster (seconds), then the RSS of all its
processes and the CPU they use while it idles for size seconds, and the time
of shutdown() (extra).
"""
import argparse
import json
import os
import subprocess
import sys

SIZES = {
    "small": {"tasks": [1000, 10000], "actors": [100], "pgs": [100], "get_refs": [1000, 10000],
              "ref_args": [1000], "puts": [10000], "nodes": [2, 8], "broadcast": [256],
              "idle": [10]},
    # actors: each is a process (~20 MiB of its own on Photon, ~32 MiB on Ray
    # 2.60, measured here), so 1,000 and 5,000 (Ray's release sizes, on many
    # nodes) do not fit 24 GiB; 400 is the most both hold with room.
    "full": {"tasks": [1000, 10000, 100000, 1000000], "actors": [100, 200, 400],
             "pgs": [100, 1000], "get_refs": [1000, 10000, 100000], "ref_args": [10000],
             "puts": [1000000], "nodes": [2, 8, 32], "broadcast": [1024], "idle": [60]},
}

# What both run scripts start with: the arguments and the cluster's processes.
PRELUDE = r"""import json, os, resource, sys, time
import psutil
backend, shape, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ray = __import__(backend)
MiB = 2**20


def cluster_procs():
    return psutil.Process().children(recursive=True)


def gcs_proc():
    for p in cluster_procs():
        try:
            cmd = " ".join(p.cmdline())
            if "photon-gcs" in cmd or "gcs_server" in cmd:
                return p
        except psutil.Error:
            pass
    return None


def cpu_of(procs):
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def rss_of(procs):
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total
"""

RUN = PRELUDE + r"""
kw = {"include_dashboard": False} if backend == "ray" else {}
ray.init(num_cpus=2, resources={"custom": 1000000}, **kw)

@ray.remote
def noop():
    return None

@ray.remote
def takes(*refs):
    return len(refs)

@ray.remote(num_cpus=0)
class Tiny:
    def ping(self):
        return 1

ray.get([noop.remote() for _ in range(100)])  # warm-up: workers started
t0 = time.perf_counter()
submit_s = None
if shape == "tasks":
    refs = [noop.remote() for _ in range(n)]
    submit_s = time.perf_counter() - t0
    ray.get(refs)
elif shape == "actors":
    actors = [Tiny.remote() for _ in range(n)]
    ray.get([a.ping.remote() for a in actors])
elif shape == "pgs":
    pgs = [ray.util.placement_group([{"custom": 0.001}]) for _ in range(n)]
    ray.get([pg.ready() for pg in pgs])
    for pg in pgs:
        ray.util.remove_placement_group(pg)
elif shape == "get_refs":
    refs = [ray.put(i) for i in range(n)]
    t0 = time.perf_counter()
    ray.get(refs)
elif shape == "ref_args":
    refs = [ray.put(i) for i in range(n)]
    t0 = time.perf_counter()
    assert ray.get(takes.remote(*refs)) == n
elif shape == "puts":
    held = [ray.put(i) for i in range(n)]
seconds = time.perf_counter() - t0
g = gcs_proc()
gcs = g.memory_info().rss if g else 0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"shape": shape, "size": n, "seconds": seconds, "rate": n / seconds,
                  "submit_rate": n / submit_s if submit_s else None,
                  "driver_rss_mib": rss / MiB, "gcs_rss_mib": gcs / MiB}))
ray.shutdown()
"""


# Shapes that start their own cluster (cluster_utils) or time init itself.
CLUSTER_RUN = PRELUDE + r"""
Cluster = __import__(backend + ".cluster_utils", fromlist=["Cluster"]).Cluster

extra = {}
gcs_rss = 0
if shape == "idle":
    t0 = time.perf_counter()
    ray.init()
    seconds = time.perf_counter() - t0
    ray.get(ray.remote(lambda: 1).remote())  # a worker started, as after any first task
    time.sleep(2)
    procs = [psutil.Process()] + cluster_procs()
    extra["cluster_processes"] = len(procs)
    c0 = cpu_of(procs)
    time.sleep(n)
    procs = [psutil.Process()] + cluster_procs()
    extra["idle_cpu_pct"] = (cpu_of(procs) - c0) / n * 100
    extra["cluster_rss_mib"] = rss_of(procs) / MiB
    g = gcs_proc()
    gcs_rss = g.memory_info().rss if g else 0
    t1 = time.perf_counter()
    ray.shutdown()
    extra["shutdown_s"] = time.perf_counter() - t1
    rate = 1 / seconds
elif shape == "nodes":
    t0 = time.perf_counter()
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": 100 * MiB})
    for i in range(n - 1):
        cluster.add_node(num_cpus=1, resources={f"fake_{i}": 1}, object_store_memory=100 * MiB,
                         wait=False)
    cluster.wait_for_nodes(timeout=600)
    ray.init(address=cluster.address)
    while sum(1 for x in ray.nodes() if x["Alive"]) < n:
        time.sleep(0.1)
    seconds = time.perf_counter() - t0
    rate = n / seconds
    g = gcs_proc()
    time.sleep(2)
    if g:
        c0 = g.cpu_times()
        time.sleep(10)
        c1 = g.cpu_times()
        extra["gcs_idle_cpu_pct"] = (c1.user + c1.system - c0.user - c0.system) / 10 * 100
        gcs_rss = g.memory_info().rss
    extra["cluster_rss_mib"] = rss_of(cluster_procs()) / MiB
    ray.shutdown()
    cluster.shutdown()
elif shape == "broadcast":
    import numpy as np
    store = (2 * n + 256) * MiB
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 0, "object_store_memory": store})
    for i in range(4):
        cluster.add_node(num_cpus=1, resources={f"reader_{i}": 1}, object_store_memory=store)
    cluster.wait_for_nodes(timeout=600)
    ray.init(address=cluster.address)

    @ray.remote(num_cpus=1)
    def read(a):
        return int(a[::4096].sum())  # touches every page

    warm = [read.options(resources={f"reader_{i}": 1}).remote(np.zeros(1, np.uint8))
            for i in range(4)]
    ray.get(warm)
    data = np.ones(n * MiB, dtype=np.uint8)
    ref = ray.put(data)
    t0 = time.perf_counter()
    got = ray.get([read.options(resources={f"reader_{i}": 1}).remote(ref) for i in range(4)])
    seconds = time.perf_counter() - t0
    assert got == [int(data[::4096].sum())] * 4, got
    rate = 4 * n / seconds
    g = gcs_proc()
    gcs_rss = g.memory_info().rss if g else 0
    del ref
    ray.shutdown()
    cluster.shutdown()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"shape": shape, "size": n, "seconds": seconds, "rate": rate,
                  "submit_rate": None, "driver_rss_mib": rss / MiB, "gcs_rss_mib": gcs_rss / MiB,
                  "extra": extra}))
"""


def one(python, backend, shape, n, env):
    script = CLUSTER_RUN if shape in ("nodes", "broadcast", "idle") else RUN
    out = subprocess.run([python, "-c", script, backend, shape, str(n)], env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"shape": shape, "size": n, "error": out.stderr.strip()[-1500:]}
    # The result is the last JSON line; a system may print its own lines after it.
    for line in reversed(out.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {"shape": shape, "size": n,
            "error": "no result line in the output:\n" + (out.stdout + out.stderr).strip()[-1500:]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--sizes", choices=sorted(SIZES), default="small")
    p.add_argument("--only", default="")
    p.add_argument("--json", default="")
    a = p.parse_args()
    only = set(filter(None, a.only.split(",")))
    runs = []
    for shape, sizes in SIZES[a.sizes].items():
        if only and shape not in only:
            continue
        for n in sizes:
            r = one(sys.executable, a.backend, shape, n, dict(os.environ))
            runs.append(r)
            if "error" in r:
                print(f"{shape:10s} {n:>9,d}  FAILED: {r['error'].splitlines()[-1]}", flush=True)
            else:
                print(f"{shape:10s} {n:>9,d}  {r['seconds']:9.2f} s  {r['rate']:11.1f}/s  "
                      f"driver {r['driver_rss_mib']:7.1f} MiB  GCS {r['gcs_rss_mib']:7.1f} MiB"
                      + "".join(f"  {k} {v:,.2f}" for k, v in r.get("extra", {}).items()),
                      flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": a.backend, "sizes": a.sizes, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
