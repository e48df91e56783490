"""`make bench-serve`: photon.serve against Ray Serve (bench/serve_benchmark.py), the
same code on both, back to back on this machine.

    python bench/serve_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
serve-bench markers of docs/benchmarks.md and docs/benchmarks-serve.json."""
import sys

import compare

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
SETUP = ("One local cluster of 2 CPUs per system; replicas with num_cpus=0, "
         "max_ongoing_requests=100, one replica per deployment; the HTTP load generator "
         "(raw HTTP/1.1 keep-alive on asyncio, its own process) shares the 2 cores.")


if __name__ == "__main__":
    sys.exit(compare.library_main(name="serve", script="serve_benchmark.py", target="bench-serve",
                                  rows=ROWS, setup=SETUP))
