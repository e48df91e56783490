"""Serve benchmarks, the same code on photon.serve and on Ray Serve, one backend per
process.

    python bench/serve_benchmark.py --backend photon|ray [--quick] [--json out.json]

http_noop_cN: a no-op deployment (1 replica) over HTTP, N connections with keep-alive
  sending requests back to back for DURATION s (a load generator in its own process,
  raw HTTP/1.1 on asyncio): requests/s, p50 and p99 latency (ms).
http_compose_cN: the same through a 3-deployment composition (ingress -> A -> B).
handle_noop: DeploymentHandle calls from the driver: one at a time (p50/p99 ms, calls/s)
  and 64 in flight at a time (calls/s).
handle_compose: the composition's ingress through a handle, one at a time.
scale_up: a running 1-replica deployment redeployed with num_replicas=2: seconds until
  serve.run returns with both replicas RUNNING (median of 3)."""
import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import time

BACKEND = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "photon"
if BACKEND == "photon":
    import photon as ray
    from photon import serve
else:
    import ray
    from ray import serve

NO_CPU = {"num_cpus": 0}


@serve.deployment(max_ongoing_requests=100, ray_actor_options=NO_CPU)
class Noop:
    def __call__(self, request=None):
        return "ok"


@serve.deployment(max_ongoing_requests=100, ray_actor_options=NO_CPU)
class Double:
    def __call__(self, x):
        return x * 2


@serve.deployment(max_ongoing_requests=100, ray_actor_options=NO_CPU)
class AddOne:
    def __call__(self, x):
        return x + 1


@serve.deployment(max_ongoing_requests=100, ray_actor_options=NO_CPU)
class Ingress:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    async def __call__(self, request=None):
        return str(await self.b.remote(self.a.remote(1)))


@serve.deployment(ray_actor_options=NO_CPU)
class Scaled:
    def __call__(self, request=None):
        return "ok"


# -- the load generator (its own process) -------------------------------------------
async def _connection(host, port, path, deadline, latencies, errors):
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            chunked = False
            for line in head.split(b"\r\n"):
                lower = line.lower()
                if lower.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                elif lower.startswith(b"transfer-encoding:") and b"chunked" in lower:
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _load(host, port, path, concurrency, duration, out):
    async def main():
        latencies, errors = [], []
        # Warm-up: one request per connection.
        await asyncio.gather(*[_connection(host, port, path, time.perf_counter() + 0.01,
                                           [], []) for _ in range(concurrency)])
        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(*[_connection(host, port, path, deadline, latencies, errors)
                               for _ in range(concurrency)])
        took = time.perf_counter() - start
        out.put({"requests": len(latencies), "seconds": took, "errors": len(errors),
                 "latencies": latencies})
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())


def _stats(latencies, took, n):
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else lat * 99
    return {"rps": round(n / took, 1), "p50_ms": round(q[49] * 1e3, 3),
            "p99_ms": round(q[98] * 1e3, 3), "requests": n}


def bench_http(port, path, concurrency, duration):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_load, args=("127.0.0.1", port, path, concurrency, duration, out))
    p.start()
    r = out.get(timeout=duration + 120)
    p.join()
    if r["errors"]:
        raise RuntimeError(f"{r['errors']} failed requests on {path}")
    return _stats(r["latencies"], r["seconds"], r["requests"])


def bench_handle_sequential(handle, duration):
    for _ in range(50):
        handle.remote().result()
    lat = []
    start = time.perf_counter()
    while time.perf_counter() - start < duration:
        t = time.perf_counter()
        handle.remote().result()
        lat.append(time.perf_counter() - t)
    return _stats(lat, time.perf_counter() - start, len(lat))


def bench_handle_parallel(handle, duration, inflight=64):
    for _ in range(5):
        [r.result() for r in [handle.remote() for _ in range(inflight)]]
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < duration:
        [r.result() for r in [handle.remote() for _ in range(inflight)]]
        n += inflight
    took = time.perf_counter() - start
    return {"calls_per_s": round(n / took, 1), "inflight": inflight}


def bench_scale_up(rounds):
    times = []
    for _ in range(rounds):
        serve.run(Scaled.options(num_replicas=1).bind(), name="scaled", route_prefix="/scaled")
        start = time.perf_counter()
        serve.run(Scaled.options(num_replicas=2).bind(), name="scaled", route_prefix="/scaled")
        times.append(time.perf_counter() - start)
        serve.delete("scaled")
    return {"seconds_median": round(statistics.median(times), 3),
            "seconds": [round(t, 3) for t in times]}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="photon")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    duration = 1.5 if a.quick else 5.0
    ray.init(num_cpus=2)
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    runs = {}
    noop = serve.run(Noop.bind(), name="noop", route_prefix="/noop")
    for c in (1, 16, 64):
        runs[f"http_noop_c{c}"] = bench_http(port, "/noop", c, duration)
        print(f"http_noop_c{c}", runs[f"http_noop_c{c}"], flush=True)
    runs["handle_noop"] = bench_handle_sequential(noop, duration)
    runs["handle_noop"].update(bench_handle_parallel(noop, duration))
    print("handle_noop", runs["handle_noop"], flush=True)
    compose = serve.run(Ingress.bind(Double.bind(), AddOne.bind()), name="compose",
                        route_prefix="/compose")
    assert compose.remote().result() == "3"
    for c in (1, 16, 64):
        runs[f"http_compose_c{c}"] = bench_http(port, "/compose", c, duration)
        print(f"http_compose_c{c}", runs[f"http_compose_c{c}"], flush=True)
    runs["handle_compose"] = bench_handle_sequential(compose, duration)
    print("handle_compose", runs["handle_compose"], flush=True)
    serve.delete("noop")
    serve.delete("compose")
    runs["scale_up"] = bench_scale_up(1 if a.quick else 3)
    print("scale_up", runs["scale_up"], flush=True)
    serve.shutdown()
    ray.shutdown()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": BACKEND, "quick": a.quick, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
