"""The scalability envelope (Ray's release/benchmarks shapes, scaled to this
machine): how time and memory grow with the size of the work, for Photon or
Ray, with the same code.

    python bench/scalability.py --backend photon|ray [--sizes small|full] [--json F]
        [--only tasks,actors,pgs,get_refs,ref_args,puts]

Each (shape, size) runs in a fresh process with a fresh local cluster, so the
memory figures are that run's own: the driver's peak RSS (ru_maxrss) and the
RSS of the cluster's GCS at the end. Output: one line per run, and with --json
a file {"backend", "runs": [{shape, size, seconds, rate, driver_rss_mib,
gcs_rss_mib}]}.
"""
import argparse
import json
import os
import subprocess
import sys

SIZES = {
    "small": {"tasks": [1000, 10000], "actors": [100], "pgs": [100], "get_refs": [1000, 10000],
              "ref_args": [1000], "puts": [10000]},
    "full": {"tasks": [1000, 10000, 100000, 1000000], "actors": [100, 1000, 5000],
             "pgs": [100, 1000], "get_refs": [1000, 10000, 100000], "ref_args": [10000],
             "puts": [1000000]},
}

RUN = r"""
import json, os, resource, sys, time
import psutil
backend, shape, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ray = __import__(backend)
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
gcs = 0
for p in psutil.Process().children(recursive=True):  # the cluster this driver started
    try:
        cmd = " ".join(p.cmdline())
        if "photon-gcs" in cmd or "gcs_server" in cmd:
            gcs = max(gcs, p.memory_info().rss)
    except psutil.Error:
        pass
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"shape": shape, "size": n, "seconds": seconds, "rate": n / seconds,
                  "submit_rate": n / submit_s if submit_s else None,
                  "driver_rss_mib": rss / 2**20, "gcs_rss_mib": gcs / 2**20}))
ray.shutdown()
"""


def one(python, backend, shape, n, env):
    out = subprocess.run([python, "-c", RUN, backend, shape, str(n)], env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"shape": shape, "size": n, "error": out.stderr.strip()[-1500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


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
                      f"driver {r['driver_rss_mib']:7.1f} MiB  GCS {r['gcs_rss_mib']:7.1f} MiB",
                      flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": a.backend, "sizes": a.sizes, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
