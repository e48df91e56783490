"""GCS restart with Redis: time from starting the GCS again (after a kill -9)
to the cluster answering again, Photon and Ray side by side.

    PYTHONPATH=python:build/python python3 bench/gcs_restart.py --backend photon
    /tmp/rayvenv/bin/python bench/gcs_restart.py --backend ray

Each trial, on a 2-node cluster whose head keeps the GCS's tables in a private
redis-server, with --actors named actors alive: kill -9 the GCS, start it again on
its address, and time (a) until a named actor is found again (get_actor), (b) until a
new actor answers its first call. Also reported: how long a call on a live actor
takes while the GCS is down (it needs no GCS)."""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return proc, workdir, f"127.0.0.1:{port}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--actors", type=int, default=20)
    args = p.parse_args()
    redis, workdir, address = start_redis()
    if args.backend == "ray":
        os.environ["RAY_REDIS_ADDRESS"] = address
        import ray
        from ray.cluster_utils import Cluster
        head_args = {"num_cpus": 2}
    else:
        import photon as ray
        from photon.cluster_utils import Cluster
        head_args = {"num_cpus": 2, "redis_address": address}

    @ray.remote(num_cpus=0)
    class Echo:
        def ping(self, x=0):
            return x

    cluster = Cluster(initialize_head=True, head_node_args=head_args)
    found, fresh, during = [], [], []
    try:
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, namespace="bench")
        actors = [Echo.options(name=f"a{i}").remote() for i in range(args.actors)]
        ray.get([a.ping.remote() for a in actors])
        for trial in range(args.trials):
            cluster.head_node.kill_gcs_server()
            t = time.monotonic()
            ray.get(actors[0].ping.remote(1), timeout=60)
            during.append(time.monotonic() - t)
            start = time.monotonic()
            cluster.head_node.start_gcs_server()
            while True:
                try:
                    ray.get_actor(f"a{trial % args.actors}")
                    break
                except Exception:  # noqa: BLE001 - not back yet
                    if time.monotonic() - start > 120:
                        raise
                    time.sleep(0.01)
            found.append(time.monotonic() - start)
            new = Echo.remote()
            ray.get(new.ping.remote(), timeout=120)
            fresh.append(time.monotonic() - start)
            ray.kill(new)
    finally:
        ray.shutdown()
        cluster.shutdown()
        redis.kill()
        redis.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    def fmt(xs):
        return f"{statistics.mean(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f})"
    print(f"{args.backend}: {args.trials} GCS restarts with Redis, {args.actors} named actors")
    print(f"  restart -> named actor found again:   {fmt(found)}")
    print(f"  restart -> a new actor's first reply: {fmt(fresh)}")
    print(f"  live actor call while the GCS is down: {fmt(during)}")


if __name__ == "__main__":
    main()
