"""Time from a raylet's kill -9 to the cluster reporting its node dead
(ray.nodes() shows Alive=False), with the default health-check settings.

    PYTHONPATH=python:build/python python3 bench/node_death_detection.py --backend photon
    /tmp/rayvenv/bin/python bench/node_death_detection.py --backend ray

Each trial adds a node, waits until it is alive, kills its raylet (Cluster.remove_node
with allow_graceful=False, a SIGKILL) and polls ray.nodes() every 10 ms."""
import argparse
import statistics
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--trials", type=int, default=5)
    args = p.parse_args()
    if args.backend == "ray":
        import ray
        from ray.cluster_utils import Cluster
    else:
        import photon as ray
        from photon.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    ray.init(address=cluster.address)
    times = []
    try:
        for _ in range(args.trials):
            node = cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            node_id = node.node_id if hasattr(node, "node_id") else node.unique_id
            start = time.monotonic()
            cluster.remove_node(node, allow_graceful=False)
            while True:
                alive = {n["NodeID"]: n["Alive"] for n in ray.nodes()}
                if not alive.get(node_id, False):
                    break
                if time.monotonic() - start > 120:
                    raise RuntimeError("the node was not reported dead within 120 s")
                time.sleep(0.01)
            times.append(time.monotonic() - start)
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(f"{args.backend}: dead node detected in {statistics.mean(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} trials)")


if __name__ == "__main__":
    main()
