"""`make bench-data`: photon.data against Ray Data (bench/data_benchmark.py),
the same code on both, back to back on this machine.

    python bench/data_compare.py [--compare-ray] [--size quick|full] [--out bench/results]

With --compare-ray (and --size full) it rewrites the section between the
data-bench markers of docs/benchmarks.md and docs/benchmarks-data.json.
Ray runs from .venv-ray (bench/compare.py makes it, with ray[data])."""
import argparse
import datetime
import json
import os
import sys

import compare

BEGIN, END = "<!-- data-bench:begin -->", "<!-- data-bench:end -->"
WHAT = {
    "etl": "read_parquet → map_batches(numpy, batch_size=4096) → write_parquet",
    "groupby": "groupby(\"k\").mean(\"v\") over 1,000 groups",
    "sort": "sort(\"v\"), materialized",
    "iter_batches": "iter_batches(batch_size=4096) from parquet",
    "actor_pool": "map_batches(class, ActorPoolStrategy(size=2)), iterated",
}


def run(python, backend, size, out, env):
    return compare.run_json(python, "data_benchmark.py", backend, ["--size", size],
                            os.path.join(out, f"data_{backend}.json"), env)


def table(photon, ray):
    by_ray = {r["benchmark"]: r for r in ray}
    lines = ["| benchmark | rows | Ray Data s | photon.data s | speed-up | Ray peak MiB | "
             "Photon peak MiB | throughput (Ray / Photon) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in photon:
        o = by_ray.get(r["benchmark"], {})
        ratio = f"{o['seconds'] / r['seconds']:.1f}×" if o else "—"
        if "gb_per_s" in r:
            tput = f"{o.get('gb_per_s', '—')} / {r['gb_per_s']} GB/s"
        else:
            tput = f"{o.get('rows_per_s', 0):,} / {r['rows_per_s']:,} rows/s"
        lines.append(f"| {r['benchmark']}: {WHAT.get(r['benchmark'], '')} | {r['rows']:,} | "
                     f"{o.get('seconds', '—')} | {r['seconds']} | {ratio} | "
                     f"{o.get('peak_mib', '—')} | {r['peak_mib']} | {tput} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--compare-ray", action="store_true")
    p.add_argument("--size", choices=["quick", "full"], default="full")
    p.add_argument("--out", default=os.path.join(compare.ROOT, "bench", "results"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = compare.photon_env()
    photon = run(sys.executable, "photon", a.size, a.out, env)
    ray = []
    if a.compare_ray:
        ray = run(compare.ray_python(), "ray", a.size, a.out, compare.ray_env())
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    m = compare.machine()
    text = "\n".join([
        BEGIN,
        f"Produced by `make bench-data` (`python bench/data_compare.py --compare-ray --size "
        f"{a.size}`) on {date}" + (" — QUICK SIZE, not a measurement" if a.size != "full"
                                   else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. One local cluster of "
        "2 CPUs per system; `wide`: id and 8 float64 columns (72 B a row in memory), `kv`: an "
        "int key and a float value; peak MiB: the summed PSS of the driver and every process "
        "it started (shared memory counted once), sampled every 50 ms during the benchmark.",
        "",
        table(photon, ray),
        END])
    print(text)
    if a.compare_ray and a.size == "full":
        compare.write_doc(text, BEGIN, END)
        with open(os.path.join(compare.ROOT, "docs", "benchmarks-data.json"), "w") as f:
            json.dump({"date": date, "machine": m, "photon": photon, "ray": ray}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
