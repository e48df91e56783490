"""RLlib benchmarks, the same code on photon.rllib and on RLlib (Ray 2.60), one backend
per process.

    python bench/rllib_benchmark.py --backend photon|ray [--quick] [--json out.json]

sampling: PPO on CartPole-v1 with 2 env runners (1 env each), batches of 4000 steps and
  one SGD step per iteration, so the iteration is nearly all sampling: env steps sampled
  per second of wall time over 5 iterations after a warm-up one.
to_450: PPO on CartPole-v1, 2 env runners x 4 envs, lr 3e-4, 10 epochs of minibatch 128,
  lambda 0.95, clip 0.2, vf_loss_coeff 0.5, [64, 64] nets: wall time from build_algo()
  until episode_return_mean >= 450 (and the iterations it took), median of 3 seeds."""
import argparse
import json
import statistics
import sys
import time

BACKEND = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "photon"
if BACKEND == "photon":
    import photon as ray
    from photon.rllib.algorithms.ppo import PPOConfig
else:
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig


def bench_sampling(iterations):
    config = (PPOConfig().environment("CartPole-v1")
              .env_runners(num_env_runners=2, num_envs_per_env_runner=1)
              .training(train_batch_size_per_learner=4000, minibatch_size=4000, num_epochs=1)
              .debugging(seed=0))
    algo = config.build_algo()
    try:
        algo.train()  # warm-up
        start = time.perf_counter()
        steps0 = None
        for _ in range(iterations):
            r = algo.train()
            if steps0 is None:
                steps0 = r["num_env_steps_sampled_lifetime"] - r["env_runners"]["num_env_steps_sampled"]
        took = time.perf_counter() - start
        steps = r["num_env_steps_sampled_lifetime"] - steps0
    finally:
        algo.stop()
    return {"env_steps_per_s": round(steps / took, 1), "steps": steps, "seconds": round(took, 2)}


def bench_to_450(seeds, max_iterations):
    times, iters = [], []
    for seed in seeds:
        config = (PPOConfig().environment("CartPole-v1")
                  .env_runners(num_env_runners=2, num_envs_per_env_runner=4)
                  .training(lr=3e-4, num_epochs=10, minibatch_size=128, lambda_=0.95,
                            clip_param=0.2, vf_loss_coeff=0.5, train_batch_size_per_learner=4000)
                  .rl_module(model_config={"fcnet_hiddens": [64, 64]})
                  .debugging(seed=seed))
        start = time.perf_counter()
        algo = config.build_algo()
        try:
            for i in range(max_iterations):
                r = algo.train()
                if r["env_runners"]["episode_return_mean"] >= 450:
                    break
            reached = r["env_runners"]["episode_return_mean"] >= 450
        finally:
            algo.stop()
        times.append(time.perf_counter() - start if reached else float("inf"))
        iters.append(i + 1)
        print(f"seed {seed}: {times[-1]:.1f} s, {iters[-1]} iterations", flush=True)
    return {"seconds_median": round(statistics.median(times), 2),
            "iterations_median": statistics.median(iters),
            "seconds": [round(t, 2) for t in times], "iterations": iters}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="photon")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    ray.init(num_cpus=4)
    runs = {"sampling": bench_sampling(2 if a.quick else 5)}
    print("sampling", runs["sampling"], flush=True)
    runs["to_450"] = bench_to_450([1] if a.quick else [1, 2, 3], 100)
    print("to_450", runs["to_450"], flush=True)
    ray.shutdown()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": BACKEND, "quick": a.quick, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
