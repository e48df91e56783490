"""Ray's core microbenchmarks (ray_perf.py's metric names), run against Photon
or Ray with the same code, so both are measured on this machine in one run.

    python bench/python_microbenchmark.py --backend photon [--quick] [--json F]
    /path/to/venv-with-ray/bin/python bench/python_microbenchmark.py --backend ray

Measured as Ray measures: a warm-up, then 4 rounds of at least 2 s each; the
result is the mean and standard deviation of the rounds' rates. `--quick`
(for development only, and marked so in the output) runs 2 rounds of 0.5 s
with reduced counts. Output: "<metric> <mean> +- <std> <unit>" lines, and
with --json a file {"backend", "quick", "results": [{name, mean, std, unit}]}.
"""
import argparse
import importlib
import json
import os
import socket
import sys
import time

import numpy as np

RESULTS = []
ROUNDS = 4
ROUND_S = 2.0


def timeit(name, fn, multiplier=1, duration=None, unit="ops/s"):
    del duration  # every metric runs ROUNDS rounds of ROUND_S (Ray's ray_perf)
    start = time.perf_counter()
    while time.perf_counter() - start < min(ROUND_S, 1.0):  # warm-up
        fn()
    rates = []
    for _ in range(ROUNDS):
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < ROUND_S:
            fn()
            count += 1
        rates.append(multiplier * count / (time.perf_counter() - start))
    mean, std = float(np.mean(rates)), float(np.std(rates))
    RESULTS.append({"name": name, "mean": mean, "std": std, "unit": unit})
    print(f"{name:44s} {mean:14.1f} +- {std:10.1f} {unit}", flush=True)
    return mean


def unix_socket_ping_pong():
    """The baseline of one round trip between two processes on this machine:
    a byte sent over a Unix socket pair and echoed by a child process."""
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        while True:
            got = b.recv(1)
            if not got:
                os._exit(0)
            b.sendall(got)
    b.close()

    def ping():
        a.sendall(b"x")
        a.recv(1)

    try:
        timeit("unix_socket_ping_pong_baseline", ping, unit="round trips/s")
    finally:
        a.close()
        os.waitpid(pid, 0)


def main():
    global ROUNDS, ROUND_S
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--quick", action="store_true", help="development only: shorter rounds")
    p.add_argument("--only", default="")
    p.add_argument("--json", default="", help="write the results to this file")
    a = p.parse_args()
    if a.quick:
        ROUNDS, ROUND_S = 2, 0.5
        print("QUICK RUN (development only: 2 rounds of 0.5 s, reduced counts)", flush=True)
    ray = importlib.import_module(a.backend)
    dur = None

    def want(name):
        return not a.only or a.only in name

    if want("unix_socket_ping_pong"):
        unix_socket_ping_pong()  # before init: the fork has no cluster threads
    # "custom" is what Ray's placement-group metric reserves (ray_perf.py).
    if a.backend == "ray":
        ray.init(num_cpus=2, resources={"custom": 100}, include_dashboard=False)
    else:
        ray.init(num_cpus=2, resources={"custom": 100})

    @ray.remote
    def small_value():
        return b"ok"

    @ray.remote(num_cpus=0)
    class Actor:
        def small_value(self):
            return b"ok"

        def small_value_arg(self, x):
            return b"ok"

    print(f"backend: {a.backend} {getattr(ray, '__version__', '')}", flush=True)
    if want("single_client_get_calls"):
        value = ray.put(0)
        timeit("single_client_get_calls_Plasma_Store", lambda: ray.get(value), duration=dur)
    if want("single_client_put_calls"):
        timeit("single_client_put_calls_Plasma_Store", lambda: ray.put(0), duration=dur)
    if want("single_client_put_gigabytes"):
        arr = np.zeros(100 * 1024 * 1024, dtype=np.int64)  # 800 MiB, as in Ray
        # The baseline: 800 MiB copied by numpy between two arrays whose pages
        # are resident (np.zeros pages are all one shared zero page, which
        # reads unrealistically fast, so both sides are filled first).
        src, dst = np.ones_like(arr), np.ones_like(arr)
        timeit("memcpy_800mib_baseline", lambda: np.copyto(dst, src), multiplier=0.8,
               duration=dur, unit="GB/s")
        del dst
        timeit("single_client_put_gigabytes", lambda: ray.put(arr), multiplier=0.8,
               duration=dur, unit="GB/s")
        timeit("single_client_put_gigabytes_resident_source", lambda: ray.put(src), multiplier=0.8,
               duration=dur, unit="GB/s")
        del arr, src
    if want("single_client_get_object_size"):
        # A get maps the object: its time should not grow with the size.
        for mib in (8, 800):
            ref = ray.put(np.zeros(mib * 1024 * 1024 // 8, dtype=np.int64))
            timeit(f"single_client_get_object_{mib}mib", lambda: ray.get(ref), duration=dur,
                   unit="gets/s")
            del ref
    if want("multi_client_put_gigabytes"):
        @ray.remote
        def do_put():
            for _ in range(10):
                ray.put(np.zeros(10 * 1024 * 1024, dtype=np.int64))

        timeit("multi_client_put_gigabytes", lambda: ray.get([do_put.remote() for _ in range(10)]),
               multiplier=10 * 8 * 0.1, duration=dur, unit="GB/s")
    if want("multi_client_put_calls"):
        @ray.remote
        def do_put_small():
            for _ in range(100):
                ray.put(0)

        timeit("multi_client_put_calls_Plasma_Store",
               lambda: ray.get([do_put_small.remote() for _ in range(10)]), multiplier=1000,
               duration=dur)
    if want("single_client_tasks_and_get_batch"):
        timeit("single_client_tasks_and_get_batch",
               lambda: ray.get([small_value.remote() for _ in range(1000)]), duration=dur,
               unit="batches/s")
    if want("single_client_tasks_sync"):
        timeit("single_client_tasks_sync", lambda: ray.get(small_value.remote()), duration=dur)
    if want("single_client_tasks_async"):
        timeit("single_client_tasks_async",
               lambda: ray.get([small_value.remote() for _ in range(1000)]), multiplier=1000,
               duration=dur)
    if want("single_client_wait_1k_refs"):
        def wait_1k():
            not_ready = [small_value.remote() for _ in range(1000)]
            while not_ready:
                _, not_ready = ray.wait(not_ready)
        timeit("single_client_wait_1k_refs", wait_1k, duration=dur)
    if want("1_1_actor_calls"):
        actor = Actor.remote()
        ray.get(actor.small_value.remote())
        timeit("1_1_actor_calls_sync", lambda: ray.get(actor.small_value.remote()), duration=dur)
        timeit("1_1_actor_calls_async",
               lambda: ray.get([actor.small_value.remote() for _ in range(1000)]),
               multiplier=1000, duration=dur)
        conc = Actor.options(max_concurrency=16).remote()
        ray.get(conc.small_value.remote())
        timeit("1_1_actor_calls_concurrent",
               lambda: ray.get([conc.small_value.remote() for _ in range(1000)]),
               multiplier=1000, duration=dur)
    if want("n_n_actor_calls_with_arg_async"):
        actors = [Actor.remote() for _ in range(2)]
        ref = ray.put(0)
        timeit("n_n_actor_calls_with_arg_async",
               lambda: ray.get([a.small_value_arg.remote(ref) for a in actors for _ in range(500)]),
               multiplier=1000, duration=dur)
    n_cpu = 2
    calls = 1000 if a.quick else 5000  # Ray: 5000 calls per server actor

    @ray.remote(num_cpus=0)
    class Client:
        def __init__(self, servers):
            self.servers = servers

        def small_value_batch(self, n):
            refs = []
            for s in self.servers:
                refs.extend(s.small_value.remote() for _ in range(n))
            ray.get(refs)

        def tasks_batch(self, n):
            ray.get([small_value.remote() for _ in range(n)])

    @ray.remote(num_cpus=0)
    class AsyncActor:
        async def small_value(self):
            return b"ok"

        async def small_value_with_arg(self, x):
            return b"ok"

    @ray.remote
    def call_round_robin(actors, n):
        ray.get([actors[i % len(actors)].small_value.remote() for i in range(n)])

    if want("multi_client_tasks_async"):
        batch = 2000 if a.quick else 10000  # Ray: 10000 per client
        clients = [Client.remote([]) for _ in range(4)]
        ray.get([c.tasks_batch.remote(10) for c in clients])
        timeit("multi_client_tasks_async",
               lambda: ray.get([c.tasks_batch.remote(batch) for c in clients]),
               multiplier=4 * batch, duration=dur)
    for kind, cls in (("actor", Actor), ("async_actor", AsyncActor)):
        if want(f"1_n_{kind}_calls_async"):
            servers = [cls.remote() for _ in range(n_cpu)]
            client = Client.remote(servers)
            ray.get(client.small_value_batch.remote(1))
            timeit(f"1_n_{kind}_calls_async",
                   lambda: ray.get(client.small_value_batch.remote(calls)),
                   multiplier=calls * n_cpu, duration=dur)
        if want(f"n_n_{kind}_calls_async"):
            servers = [cls.remote() for _ in range(n_cpu)]
            ray.get([s.small_value.remote() for s in servers])
            timeit(f"n_n_{kind}_calls_async",
                   lambda: ray.get([call_round_robin.remote(servers, calls) for _ in range(4)]),
                   multiplier=4 * calls, duration=dur)
    if want("1_1_async_actor_calls"):
        aa = AsyncActor.remote()
        ray.get(aa.small_value.remote())
        timeit("1_1_async_actor_calls_sync", lambda: ray.get(aa.small_value.remote()),
               duration=dur)
        timeit("1_1_async_actor_calls_async",
               lambda: ray.get([aa.small_value.remote() for _ in range(1000)]),
               multiplier=1000, duration=dur)
        timeit("1_1_async_actor_calls_with_args_async",
               lambda: ray.get([aa.small_value_with_arg.remote(i) for i in range(1000)]),
               multiplier=1000, duration=dur)
    if want("single_client_get_object_containing_10k_refs"):
        @ray.remote
        def create_object_containing_refs():
            return [ray.put(1) for _ in range(10000)]

        containing = create_object_containing_refs.remote()
        ray.get(containing)
        timeit("single_client_get_object_containing_10k_refs", lambda: ray.get(containing),
               duration=dur)
    if want("placement_group_create/removal"):
        # Ray's definition: 100 groups of one tiny bundle, waited for, then removed.
        def create_remove(num_pgs=100):
            pgs = [ray.util.placement_group(bundles=[{"custom": 0.001}]) for _ in range(num_pgs)]
            [pg.wait(timeout_seconds=30) for pg in pgs]
            for pg in pgs:
                ray.util.remove_placement_group(pg)

        timeit("placement_group_create/removal", create_remove, multiplier=100, duration=dur)
    ray.shutdown()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": a.backend, "version": getattr(ray, "__version__", ""),
                       "quick": a.quick, "rounds": ROUNDS, "round_s": ROUND_S,
                       "results": RESULTS}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
