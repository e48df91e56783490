"""`make bench-rllib`: photon.rllib against RLlib (bench/rllib_benchmark.py), the same
code on both, back to back on this machine.

    python bench/rllib_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
rllib-bench markers of docs/benchmarks.md and docs/benchmarks-rllib.json."""
import argparse
import datetime
import json
import os
import sys

import compare

BEGIN, END = "<!-- rllib-bench:begin -->", "<!-- rllib-bench:end -->"
ROWS = [
    ("sampling", "env_steps_per_s", "PPO on CartPole-v1, 2 env runners: env steps sampled/s", True),
    ("to_450", "seconds_median", "PPO on CartPole-v1: wall time to episode_return_mean 450 (s, median of 3 seeds)", False),
    ("to_450", "iterations_median", "PPO on CartPole-v1: iterations to 450 (median)", False),
]


def run(python, backend, quick, out, env):
    return compare.run_json(python, "rllib_benchmark.py", backend, ["--quick"] if quick else [],
                            os.path.join(out, f"rllib_{backend}.json"), env)


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
        f"Produced by `make bench-rllib` (`python bench/rllib_compare.py --compare-ray"
        f"{' --quick' if a.quick else ''}`) on {date}"
        + (" — QUICK, not a measurement" if a.quick else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. One local cluster of "
        "4 CPUs per system (two env runners of 1 CPU each); torch 2.13.0 (CPU); gymnasium's "
        "CartPole-v1; the same PPOConfig calls on both.",
        "",
        table(photon, ray),
        END])
    print(text)
    if a.compare_ray and not a.quick:
        compare.write_doc(text, BEGIN, END)
        with open(os.path.join(compare.ROOT, "docs", "benchmarks-rllib.json"), "w") as f:
            json.dump({"date": date, "machine": m, "photon": photon, "ray": ray}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
