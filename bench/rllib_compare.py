"""`make bench-rllib`: photon.rllib against RLlib (bench/rllib_benchmark.py), the same
code on both, back to back on this machine.

    python bench/rllib_compare.py [--compare-ray] [--quick] [--out bench/results]

With --compare-ray (and without --quick) it rewrites the section between the
rllib-bench markers of docs/benchmarks.md and docs/benchmarks-rllib.json."""
import sys

import compare

ROWS = [
    ("sampling", "env_steps_per_s", "PPO on CartPole-v1, 2 env runners: env steps sampled/s", True),
    ("to_450", "seconds_median", "PPO on CartPole-v1: wall time to episode_return_mean 450 (s, median of 3 seeds)", False),
    ("to_450", "iterations_median", "PPO on CartPole-v1: iterations to 450 (median)", False),
]
SETUP = ("One local cluster of 4 CPUs per system (two env runners of 1 CPU each); torch "
         "2.13.0 (CPU); gymnasium's CartPole-v1; the same PPOConfig calls on both.")


if __name__ == "__main__":
    sys.exit(compare.library_main(name="rllib", script="rllib_benchmark.py", target="bench-rllib",
                                  rows=ROWS, setup=SETUP))
