"""`make bench-tune`: photon.tune / photon.train against Ray Tune / Ray Train
(bench/tune_train_benchmark.py), the same code on both, back to back on this machine.

    python bench/tune_train_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
tune-bench markers of docs/benchmarks.md and docs/benchmarks-tune.json."""
import argparse
import datetime
import json
import os
import sys

import compare

BEGIN, END = "<!-- tune-bench:begin -->", "<!-- tune-bench:end -->"
ROWS = [
    ("tune_trials", "trials_per_s", "Tune: 200 trivial trials (trials/s)", True),
    ("tune_report", "ms_per_report", "Tune: cost of one `tune.report` (ms)", False),
    ("train_start", "seconds_median", "Train: 2-worker TorchTrainer fit() that reports once (s, median of 3)", False),
    ("train_steps", "steps_per_s", "Train: 2-worker DDP steps/s (MLP 32→256→256→1, batch 64)", True),
    ("train_restore", "seconds", "Train: kill -9 of a worker → first step of the restarted group (s)", False),
]


def run(python, backend, quick, out, env):
    return compare.run_json(python, "tune_train_benchmark.py", backend, ["--quick"] if quick else [],
                            os.path.join(out, f"tune_train_{backend}.json"), env)


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
        f"Produced by `make bench-tune` (`python bench/tune_train_compare.py --compare-ray"
        f"{' --quick' if a.quick else ''}`) on {date}"
        + (" — QUICK, not a measurement" if a.quick else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. One local cluster of "
        "2 CPUs per system; torch 2.13.0 (CPU) with one thread per worker; gloo.",
        "",
        table(photon, ray),
        END])
    print(text)
    if a.compare_ray and not a.quick:
        compare.write_doc(text, BEGIN, END)
        with open(os.path.join(compare.ROOT, "docs", "benchmarks-tune.json"), "w") as f:
            json.dump({"date": date, "machine": m, "photon": photon, "ray": ray}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
