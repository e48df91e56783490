"""`make bench-serve`: photon.serve against Ray Serve (bench/serve_benchmark.py), the
same code on both, back to back on this machine.

    python bench/serve_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
serve-bench markers of docs/benchmarks.md and docs/benchmarks-serve.json."""
import argparse
import datetime
import json
import os
import sys

import compare

BEGIN, END = "<!-- serve-bench:begin -->", "<!-- serve-bench:end -->"
ROWS = []
for c in (1, 16, 64):
    ROWS += [(f"http_noop_c{c}", "rps", f"HTTP no-op, {c} connection(s): requests/s", True),
             (f"http_noop_c{c}", "p50_ms", f"HTTP no-op, {c} connection(s): p50 (ms)", False),
             (f"http_noop_c{c}", "p99_ms", f"HTTP no-op, {c} connection(s): p99 (ms)", False)]
ROWS += [("handle_noop", "rps", "Handle no-op, one at a time: calls/s", True),
         ("handle_noop", "p50_ms", "Handle no-op, one at a time: p50 (ms)", False),
         ("handle_noop", "p99_ms", "Handle no-op, one at a time: p99 (ms)", False),
         ("handle_noop", "calls_per_s", "Handle no-op, 64 in flight: calls/s", True)]
for c in (1, 16, 64):
    ROWS += [(f"http_compose_c{c}", "rps", f"HTTP 3-deployment composition, {c} conn.: requests/s", True),
             (f"http_compose_c{c}", "p50_ms", f"HTTP 3-deployment composition, {c} conn.: p50 (ms)", False),
             (f"http_compose_c{c}", "p99_ms", f"HTTP 3-deployment composition, {c} conn.: p99 (ms)", False)]
ROWS += [("handle_compose", "rps", "Handle 3-deployment composition, one at a time: calls/s", True),
         ("handle_compose", "p99_ms", "Handle 3-deployment composition, one at a time: p99 (ms)", False),
         ("scale_up", "seconds_median", "Scale up 1 → 2 replicas: serve.run until RUNNING (s, median of 3)", False)]


def run(python, backend, quick, out, env):
    return compare.run_json(python, "serve_benchmark.py", backend, ["--quick"] if quick else [],
                            os.path.join(out, f"serve_{backend}.json"), env)


def table(photon, ray):
    lines = ["| benchmark | Ray 2.60 | Photon | Photon vs Ray |", "|---|---:|---:|---:|"]
    for key, field, what, higher_better in ROWS:
        p = photon.get(key, {}).get(field)
        r = ray.get(key, {}).get(field) if ray else None
        if p is None:
            continue
        if r:
            ratio = p / r if higher_better else r / p
            verdict = f"{ratio:.2f}× {'faster' if ratio >= 1 else 'slower'}"
        else:
            verdict = "—"
        lines.append(f"| {what} | {r if r is not None else '—'} | {p} | {verdict} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--compare-ray", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=os.path.join(compare.ROOT, "bench", "results"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = compare.photon_env()
    photon = run(sys.executable, "photon", a.quick, a.out, env)
    ray = {}
    if a.compare_ray:
        ray = run(compare.ray_python(), "ray", a.quick, a.out, compare.ray_env())
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    m = compare.machine()
    text = "\n".join([
        BEGIN,
        f"Produced by `make bench-serve` (`python bench/serve_compare.py --compare-ray"
        f"{' --quick' if a.quick else ''}`) on {date}"
        + (" — QUICK, not a measurement" if a.quick else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. One local cluster of "
        "2 CPUs per system; replicas with num_cpus=0, max_ongoing_requests=100, one replica "
        "per deployment; the HTTP load generator (raw HTTP/1.1 keep-alive on asyncio, its own "
        "process) shares the 2 cores.",
        "",
        table(photon, ray),
        END])
    print(text)
    if a.compare_ray and not a.quick:
        compare.write_doc(text, BEGIN, END)
        with open(os.path.join(compare.ROOT, "docs", "benchmarks-serve.json"), "w") as f:
            json.dump({"date": date, "machine": m, "photon": photon, "ray": ray}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
