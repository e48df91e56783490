"""Rebuilding a lost chain of objects from lineage, against computing it.

    PYTHONPATH=python:build/python python3 bench/lineage_rebuild.py --backend photon
    /tmp/rayvenv/bin/python bench/lineage_rebuild.py --backend ray

A chain of --length tasks, each taking the previous one's 8 MB array and
working --work-ms on it, runs on a worker node; only the last ref is kept.
The node is killed (SIGKILL) once the chain is done, and a node that can run the
tasks joins; a get of the last object then rebuilds the whole chain. Reported:
the chain's compute time, and the get's time after the kill (detecting the loss,
and running the chain again), per trial."""
import argparse
import statistics
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--length", type=int, default=3)
    p.add_argument("--work-ms", type=float, default=200)
    args = p.parse_args()
    if args.backend == "ray":
        import ray
        from ray.cluster_utils import Cluster
    else:
        import photon as ray
        from photon.cluster_utils import Cluster

    @ray.remote(num_cpus=0, resources={"w": 0.1}, max_retries=-1)
    def first(n, work_s):
        time.sleep(work_s)
        return np.arange(n, dtype=np.int64)

    @ray.remote(num_cpus=0, resources={"w": 0.1}, max_retries=-1)
    def step(x, work_s):
        time.sleep(work_s)
        return x * 3 + 1

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    ray.init(address=cluster.address)
    compute, rebuild = [], []
    n, work_s = 1_000_000, args.work_ms / 1000
    try:
        node = cluster.add_node(num_cpus=1, resources={"w": 1})
        cluster.wait_for_nodes()
        expected = np.arange(n, dtype=np.int64)
        for _ in range(args.length - 1):
            expected = expected * 3 + 1
        for _ in range(args.trials):
            start = time.monotonic()
            ref = first.remote(n, work_s)
            for _ in range(args.length - 1):
                ref = step.remote(ref, work_s)
            ray.wait([ref], fetch_local=False, timeout=120)
            compute.append(time.monotonic() - start)
            spare = cluster.add_node(num_cpus=1, resources={"w": 1})
            cluster.wait_for_nodes()
            start = time.monotonic()
            cluster.remove_node(node, allow_graceful=False)
            value = ray.get(ref, timeout=300)
            rebuild.append(time.monotonic() - start)
            assert np.array_equal(value, expected)
            del ref, value
            node = spare
    finally:
        ray.shutdown()
        cluster.shutdown()

    def fmt(xs):
        return f"{statistics.mean(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f})"
    print(f"{args.backend}: chain of {args.length} tasks x {args.work_ms:.0f} ms, 8 MB objects, "
          f"{args.trials} trials")
    print(f"  compute:                        {fmt(compute)}")
    print(f"  kill -> rebuilt value in hand:  {fmt(rebuild)}")


if __name__ == "__main__":
    main()
