"""Chaos: a load of dependent tasks, large objects and actor calls runs while a
killer removes random workers and non-head raylets (and adds nodes back).
Every result is checked; afterwards the driver's object count returns to its
baseline and no process of the cluster is left.

    PYTHONPATH=python:build/python python3 tests/chaos/chaos.py --duration 120
    make chaos DURATION=600

Exit status 0 when nothing was lost or wrong. python/tests/test_chaos.py runs a
bounded version of it inside `make test`.
"""
import argparse
import glob
import os
import random
import re
import signal
import subprocess
import threading
import time

import numpy as np

import photon
from photon.cluster_utils import Cluster
from photon import _photon

N = 200_000  # int64 elements: 1.6 MB, in the object store


@photon.remote(num_cpus=0, resources={"chaos": 1}, max_retries=-1)
def produce(i):
    return np.full(N, i, dtype=np.int64)


@photon.remote(num_cpus=0, resources={"chaos": 1}, max_retries=-1)
def combine(a, b):
    return a + b


@photon.remote(num_cpus=0, resources={"chaos": 1}, max_retries=-1)
def small(i):
    return i * i


@photon.remote(num_cpus=0, resources={"chaos": 1}, max_restarts=-1, max_task_retries=-1)
class Stateless:
    def f(self, x):
        return 3 * x + 1


def children_of(pid):
    """The child processes of `pid` (its workers, for a raylet)."""
    kids = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids


class Killer(threading.Thread):
    def __init__(self, cluster, rng, period_s):
        super().__init__(daemon=True)
        self.cluster, self.rng, self.period_s = cluster, rng, period_s
        self.stop = threading.Event()
        self.kills = {"worker": 0, "raylet": 0}
        self.added = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.period_s):
                nodes = list(self.cluster.worker_nodes)
                if self.rng.random() < 0.7:
                    node = self.rng.choice(nodes)
                    kids = children_of(node.pid)
                    if kids:
                        try:
                            os.kill(self.rng.choice(kids), signal.SIGKILL)
                            self.kills["worker"] += 1
                        except ProcessLookupError:
                            pass
                else:
                    # A node goes (like a crash) and another joins.
                    node = self.rng.choice(nodes)
                    self.cluster.remove_node(node, allow_graceful=False)
                    self.kills["raylet"] += 1
                    self.cluster.add_node(num_cpus=2, resources={"chaos": 100})
                    self.added += 1
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e


def one_round(i, actors, timeout):
    """Submits a round of work and checks every result; returns tasks done."""
    a, b = produce.remote(i), produce.remote(i + 1)
    c = combine.remote(a, b)
    smalls = [small.remote(i + j) for j in range(20)]
    calls = [actors[j % len(actors)].f.remote(i + j) for j in range(10)]
    got = photon.get(c, timeout=timeout)
    if got.shape != (N,) or not np.all(got == 2 * i + 1):
        raise AssertionError(f"round {i}: combine gave a wrong value")
    if photon.get(smalls, timeout=timeout) != [(i + j) ** 2 for j in range(20)]:
        raise AssertionError(f"round {i}: a small task gave a wrong value")
    if photon.get(calls, timeout=timeout) != [3 * (i + j) + 1 for j in range(10)]:
        raise AssertionError(f"round {i}: an actor call gave a wrong value")
    return 3 + len(smalls) + len(calls)


def run(duration_s, seed=0, period_s=2.0, timeout_s=180):
    rng = random.Random(seed)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    summary = {}
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=2, resources={"chaos": 100})
        cluster.wait_for_nodes()
        cluster.connect()
        session = cluster.session_dir
        actors = [Stateless.remote() for _ in range(2)]
        photon.get([x.f.remote(0) for x in actors], timeout=60)
        baseline = _photon.num_tracked_objects()

        quiet_s = max(5.0, duration_s * 0.15)
        done, i, start = 0, 0, time.monotonic()
        while time.monotonic() - start < quiet_s:
            done += one_round(i, actors, timeout_s)
            i += 2
        quiet_rate = done / (time.monotonic() - start)

        killer = Killer(cluster, rng, period_s)
        killer.start()
        done, rounds, start = 0, 0, time.monotonic()
        try:
            while time.monotonic() - start < duration_s:
                done += one_round(i, actors, timeout_s)
                i += 2
                rounds += 1
                if killer.error is not None:
                    raise killer.error
        finally:
            killer.stop.set()
            killer.join(60)
        chaos_rate = done / (time.monotonic() - start)

        # Every reference of the rounds is gone: the count comes back.
        deadline = time.monotonic() + 30
        while _photon.num_tracked_objects() > baseline and time.monotonic() < deadline:
            time.sleep(0.1)
        leftover = _photon.num_tracked_objects() - baseline
        driver_logs = "".join(open(p).read() for p in glob.glob(f"{session}/logs/driver-*.log"))
        summary = {
            "rounds under chaos": rounds,
            "kills": dict(killer.kills),
            "nodes added": killer.added,
            "objects rebuilt": len(re.findall(r"rebuilding it by running task", driver_logs)),
            "tasks retried": len(re.findall(r"retrying|retried", driver_logs)),
            "throughput quiet (results/s)": round(quiet_rate, 1),
            "throughput under chaos (results/s)": round(chaos_rate, 1),
            "chaos / quiet": round(chaos_rate / quiet_rate, 2),
            "objects left over": leftover,
        }
        if leftover > 0:
            raise AssertionError(f"{leftover} objects still tracked after the load ended")
    finally:
        session = cluster.session_dir
        photon.shutdown()
        cluster.shutdown()
    # Nothing of the cluster is left.
    if session:
        left = subprocess.run(["pgrep", "-f", session], capture_output=True, text=True).stdout
        if left.strip():
            raise AssertionError(f"processes left after shutdown: {left.split()}")
    return summary


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=120, help="seconds of chaos")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--period", type=float, default=2.0, help="mean seconds between kills")
    args = p.parse_args()
    summary = run(args.duration, args.seed, args.period)
    print("chaos summary:")
    for k, v in summary.items():
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
