"""What task events cost: single_client_tasks_async-shaped runs (batches of
no-op tasks submitted at once, then waited for) with enable_task_events on and
off, alternating, each in its own fresh local cluster. Reports tasks/s and the
CPU time of every process of the cluster (the driver, GCS, raylet, workers)
per task, which is steadier than throughput on a busy 2-core machine.

    python bench/task_events_overhead.py [--rounds 6] [--tasks 20000]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

RUN = r"""
import os, sys, time, json
import psutil
import photon as ray
ray.init(num_cpus=2)

@ray.remote
def small_value():
    return b"ok"

def kind_of(p):
    if p.pid == os.getpid():
        return "driver"
    cmd = " ".join(p.cmdline())
    for k in ("photon-gcs", "photon-raylet"):
        if k in cmd:
            return k.split("-")[1]
    return "workers"

def cpu_of_cluster(by_kind=None):
    me = psutil.Process()
    total = 0.0
    for p in [me] + me.children(recursive=True):
        try:
            t = p.cpu_times()
            cpu = t.user + t.system + t.children_user + t.children_system
            total += cpu
            if by_kind is not None:
                k = kind_of(p)
                by_kind[k] = by_kind.get(k, 0.0) + cpu
        except psutil.NoSuchProcess:
            pass
    return total

ray.get([small_value.remote() for _ in range(2000)])  # warm-up: workers started
n = int(sys.argv[1])
kinds0 = {}
cpu0, t0 = cpu_of_cluster(kinds0), time.perf_counter()
done = 0
while done < n:
    ray.get([small_value.remote() for _ in range(1000)])
    done += 1000
wall = time.perf_counter() - t0
kinds1 = {}
cpu = cpu_of_cluster(kinds1) - cpu0
by_kind = {k: round((v - kinds0.get(k, 0.0)) / n * 1e6, 1) for k, v in kinds1.items()}
print(json.dumps({"tasks_per_s": n / wall, "cpu_us_per_task": cpu / n * 1e6, "by_kind": by_kind}))
ray.shutdown()
"""


def one(events, tasks):
    env = dict(os.environ, PHOTON_ENABLE_TASK_EVENTS="true" if events else "false")
    out = subprocess.run([sys.executable, "-c", RUN, str(tasks)], env=env, capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--tasks", type=int, default=20000)
    a = p.parse_args()
    runs = {True: [], False: []}
    for i in range(a.rounds):
        for events in (False, True) if i % 2 == 0 else (True, False):
            r = one(events, a.tasks)
            runs[events].append(r)
            print(f"events={'on ' if events else 'off'} {r['tasks_per_s']:8.1f} tasks/s "
                  f"{r['cpu_us_per_task']:7.1f} us CPU/task  {r['by_kind']}", flush=True)
    summary = {}
    for events, rs in runs.items():
        tps = [r["tasks_per_s"] for r in rs]
        cpu = [r["cpu_us_per_task"] for r in rs]
        summary["on" if events else "off"] = {
            "tasks_per_s_median": statistics.median(tps),
            "cpu_us_per_task_median": statistics.median(cpu)}
        summary["on" if events else "off"]["by_kind_median"] = {
            k: statistics.median(r["by_kind"].get(k, 0.0) for r in rs)
            for k in sorted({k for r in rs for k in r["by_kind"]})}
    on, off = summary["on"], summary["off"]
    print(json.dumps(summary, indent=1))
    print(f"throughput on/off {on['tasks_per_s_median'] / off['tasks_per_s_median']:.3f}; "
          f"CPU per task on/off {on['cpu_us_per_task_median'] / off['cpu_us_per_task_median']:.3f}")


if __name__ == "__main__":
    main()
