"""Tune and Train benchmarks, the same code on photon (photon.tune / photon.train) and
on Ray (ray.tune / ray.train), one backend per process.

    python bench/tune_train_benchmark.py --backend photon|ray [--quick] [--json out.json]

tune_trials: 200 trivial trials (each reports once) → trials/s of Tuner.fit().
tune_report: one trial that reports N times; the cost of one report is the difference
  between N and 10 reports, divided by N - 10.
train_start: a 2-worker TorchTrainer whose loop reports once: the wall time of fit().
train_steps: 2-worker DDP of a small MLP (batch 64, 32→256→256→1), steps/s inside the loop.
train_restore: the same run, one worker kill -9'ed: seconds from the kill to the first
  step of the restarted group."""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

BACKEND = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "photon"
if BACKEND == "photon":
    import photon as ray
    from photon import train, tune
    from photon.train import Checkpoint, FailureConfig, RunConfig, ScalingConfig
    from photon.train.torch import TorchTrainer, prepare_model
else:
    import ray
    from ray import train, tune
    from ray.train import Checkpoint, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer, prepare_model

import torch  # noqa: E402

STORAGE = tempfile.mkdtemp(prefix=f"tune-train-bench-{BACKEND}-")


def _trivial(config):
    tune.report({"score": config["i"]})


def bench_tune_trials(n):
    start = time.perf_counter()
    results = tune.Tuner(_trivial, param_space={"i": tune.grid_search(list(range(n)))},
                         run_config=tune.RunConfig(name="trials", storage_path=STORAGE, verbose=0)).fit()
    took = time.perf_counter() - start
    assert len(results) == n and results.num_errors == 0
    return {"trials": n, "seconds": round(took, 3), "trials_per_s": round(n / took, 1)}


def _reporter(config):
    for i in range(config["n"]):
        tune.report({"i": i})


def _one_trial(n, name):
    start = time.perf_counter()
    tune.Tuner(_reporter, param_space={"n": n},
               run_config=tune.RunConfig(name=name, storage_path=STORAGE, verbose=0)).fit()
    return time.perf_counter() - start


def bench_tune_report(n):
    base = min(_one_trial(10, f"r10_{i}") for i in range(2))
    full = min(_one_trial(n, f"rn_{i}") for i in range(2))
    per = (full - base) / (n - 10)
    return {"reports": n, "ms_per_report": round(per * 1e3, 3), "reports_per_s": round(1 / per, 1)}


def _start_loop(config):
    train.report({"ok": 1})


def bench_train_start(rounds):
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        TorchTrainer(_start_loop, scaling_config=ScalingConfig(num_workers=2),
                     run_config=RunConfig(name=f"start{i}", storage_path=STORAGE)).fit()
        times.append(time.perf_counter() - start)
    return {"rounds": rounds, "seconds_median": round(sorted(times)[len(times) // 2], 3),
            "seconds_min": round(min(times), 3)}


def _mlp_loop(config):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = prepare_model(torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.ReLU(),
                                              torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                              torch.nn.Linear(256, 1)))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 32), torch.randn(64, 1)
    start_step = 0
    checkpoint = train.get_checkpoint()
    if checkpoint:
        start_step = checkpoint.get_metadata()["step"] + 1
        with open(config["restarted"], "w") as f:
            f.write(str(time.time()))
    rank = train.get_context().get_world_rank()
    t0 = time.perf_counter()
    steps = config["steps"]
    for step in range(start_step, steps):
        if config.get("kill_at") == step and rank == 1 and not os.path.exists(config["killed"]):
            with open(config["killed"], "w") as f:
                f.write(str(time.time()))
            os.kill(os.getpid(), signal.SIGKILL)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % config["report_every"] == 0 or step == steps - 1:
            with tempfile.TemporaryDirectory() as d:
                ckpt = None
                if rank == 0:
                    ckpt = Checkpoint.from_directory(d)
                    ckpt.set_metadata({"step": step})
                took = time.perf_counter() - t0
                train.report({"step": step, "steps_per_s": (step + 1 - start_step) / took},
                             checkpoint=ckpt)


def bench_train_steps(steps):
    result = TorchTrainer(_mlp_loop, train_loop_config={"steps": steps, "report_every": 100},
                          scaling_config=ScalingConfig(num_workers=2),
                          run_config=RunConfig(name="steps", storage_path=STORAGE)).fit()
    return {"steps": steps, "steps_per_s": round(result.metrics["steps_per_s"], 1)}


def bench_train_restore():
    killed, restarted = os.path.join(STORAGE, "killed"), os.path.join(STORAGE, "restarted")
    TorchTrainer(_mlp_loop, train_loop_config={"steps": 300, "report_every": 50, "kill_at": 120,
                                               "killed": killed, "restarted": restarted},
                 scaling_config=ScalingConfig(num_workers=2),
                 run_config=RunConfig(name="restore", storage_path=STORAGE,
                                      failure_config=FailureConfig(max_failures=1))).fit()
    with open(killed) as f:
        t_kill = float(f.read())
    with open(restarted) as f:
        t_back = float(f.read())
    return {"seconds": round(t_back - t_kill, 3)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    a = p.parse_args()
    if BACKEND == "ray":
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(num_cpus=2)
    q = a.quick
    runs = {}
    try:
        for name, fn in [("tune_trials", lambda: bench_tune_trials(20 if q else 200)),
                         ("tune_report", lambda: bench_tune_report(100 if q else 2000)),
                         ("train_start", lambda: bench_train_start(1 if q else 3)),
                         ("train_steps", lambda: bench_train_steps(200 if q else 2000)),
                         ("train_restore", bench_train_restore)]:
            runs[name] = fn()
            print(name, runs[name], flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(STORAGE, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": BACKEND, "quick": q, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
