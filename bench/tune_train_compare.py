"""`make bench-tune`: photon.tune / photon.train against Ray Tune / Ray Train
(bench/tune_train_benchmark.py), the same code on both, back to back on this machine.

    python bench/tune_train_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
tune-bench markers of docs/benchmarks.md and docs/benchmarks-tune.json."""
import sys

import compare

ROWS = [
    ("tune_trials", "trials_per_s", "Tune: 200 trivial trials (trials/s)", True),
    ("tune_report", "ms_per_report", "Tune: cost of one `tune.report` (ms)", False),
    ("train_start", "seconds_median", "Train: 2-worker TorchTrainer fit() that reports once (s, median of 3)", False),
    ("train_steps", "steps_per_s", "Train: 2-worker DDP steps/s (MLP 32→256→256→1, batch 64)", True),
    ("train_restore", "seconds", "Train: kill -9 of a worker → first step of the restarted group (s)", False),
]
SETUP = ("One local cluster of 2 CPUs per system; torch 2.13.0 (CPU) with one thread per "
         "worker; gloo.")


if __name__ == "__main__":
    sys.exit(compare.library_main(name="tune", script="tune_train_benchmark.py", target="bench-tune",
                                  rows=ROWS, setup=SETUP))
