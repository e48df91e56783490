"""photon.tune end to end: real trials as actors in placement groups on a local
cluster, as a Ray Tune user writes them."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import photon as ray
from photon import train, tune
from photon.tune import Checkpoint
from photon.tune.schedulers import ASHAScheduler, PopulationBasedTraining
from photon.tune.search import ConcurrencyLimiter

pytestmark = pytest.mark.timeout(240, method="thread")


def _quadratic(config):
    for i in range(3):
        tune.report({"loss": (config["x"] - 3) ** 2 + config["y"], "i": i})


def test_grid_and_random_search(ray_start_regular, tmp_path):
    tuner = tune.Tuner(
        _quadratic,
        param_space={"x": tune.grid_search([1, 2, 3, 4]), "y": tune.uniform(0, 0.1),
                     "nested": {"c": tune.choice(["a", "b"])}},
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=2),
        run_config=tune.RunConfig(name="grid", storage_path=str(tmp_path), verbose=0))
    results = tuner.fit()
    assert len(results) == 8 and results.num_errors == 0 and results.num_terminated == 8
    assert sorted(r.config["x"] for r in results) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert all(0 <= r.config["y"] <= 0.1 and r.config["nested"]["c"] in "ab" for r in results)
    best = results.get_best_result()
    assert best.config["x"] == 3
    assert best.metrics["training_iteration"] == 3 and best.metrics["i"] == 2
    assert best.metrics["config"] == best.config
    assert best.path.startswith(str(tmp_path / "grid" / "_quadratic_"))
    assert os.path.exists(os.path.join(best.path, "result.json"))
    assert os.path.exists(os.path.join(best.path, "params.json"))
    assert len(best.metrics_dataframe) == 3
    df = results.get_dataframe()
    assert len(df) == 8 and {"loss", "config/x", "config/nested/c", "logdir", "trial_id"} <= set(df.columns)
    worst = results.get_best_result(metric="loss", mode="max")
    assert worst.config["x"] == 1
    with pytest.raises(ValueError, match="mode"):
        results.get_best_result(metric="loss", mode="avg")
    assert tune.Tuner.can_restore(str(tmp_path / "grid"))


def _slow_loss(config):
    for i in range(20):
        tune.report({"loss": config["q"] * 10 + 1.0 / (i + 1)})


def test_asha_stops_bad_trials_early(ray_start_regular, tmp_path):
    results = tune.Tuner(
        _slow_loss, param_space={"q": tune.grid_search([0, 1, 2, 3, 4, 5, 6, 7])},
        tune_config=tune.TuneConfig(metric="loss", mode="min", scheduler=ASHAScheduler(
            max_t=20, grace_period=2, reduction_factor=2), max_concurrent_trials=2),
        run_config=tune.RunConfig(name="asha", storage_path=str(tmp_path), verbose=0)).fit()
    iterations = {r.config["q"]: r.metrics["training_iteration"] for r in results}
    assert iterations[0] == 20  # the best trial ran its whole budget
    assert sum(iterations.values()) < 8 * 20 / 2
    assert any(n < 20 for n in iterations.values())
    assert results.get_best_result().config["q"] == 0


def _pbt_trainable(config):
    state = {"step": 0, "value": 0.0}
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            with open(os.path.join(d, "state.json")) as f:
                state = json.load(f)
    while state["step"] < 30:
        state["step"] += 1
        state["value"] += config["lr"]
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "state.json"), "w") as f:
                json.dump(state, f)
            tune.report({"value": state["value"], "lr": config["lr"]},
                        checkpoint=Checkpoint.from_directory(d))


def test_pbt_exploits_checkpoints(ray_start_regular, tmp_path):
    pbt = PopulationBasedTraining(time_attr="training_iteration", perturbation_interval=5,
                                  hyperparam_mutations={"lr": tune.uniform(0.0, 1.0)},
                                  quantile_fraction=0.5, resample_probability=1.0)
    results = tune.Tuner(
        _pbt_trainable, param_space={"lr": tune.grid_search([0.01, 0.02, 0.9, 1.0])},
        tune_config=tune.TuneConfig(metric="value", mode="max", scheduler=pbt),
        run_config=tune.RunConfig(name="pbt", storage_path=str(tmp_path), verbose=0)).fit()
    assert results.num_errors == 0
    # Bottom trials took the top ones' state: their value grew far beyond
    # what 30 steps at their own initial lr give.
    finals = sorted(r.metrics["value"] for r in results)
    assert finals[0] > 1.0
    assert any(r.config["lr"] not in (0.01, 0.02, 0.9, 1.0) for r in results)


def test_optuna_search(ray_start_regular, tmp_path):
    pytest.importorskip("optuna")
    from photon.tune.search.optuna import OptunaSearch

    def objective(config):
        tune.report({"loss": (config["x"] - 2) ** 2})

    results = tune.Tuner(
        objective, param_space={"x": tune.uniform(-10, 10)},
        tune_config=tune.TuneConfig(metric="loss", mode="min", num_samples=16,
                                    search_alg=ConcurrencyLimiter(OptunaSearch(seed=1), 2)),
        run_config=tune.RunConfig(name="optuna", storage_path=str(tmp_path), verbose=0)).fit()
    assert len(results) == 16
    assert results.get_best_result().metrics["loss"] < 1.0


def _dies_once(config):
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        start = checkpoint.get_metadata()["i"] + 1
    for i in range(start, 6):
        if i == 3 and not os.path.exists(config["marker"]):
            open(config["marker"], "w").close()
            # Let the previous report's reply reach the driver first: a process killed
            # while sending it loses that report (and its checkpoint) too.
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        with tempfile.TemporaryDirectory() as d:
            ckpt = Checkpoint.from_directory(d)
            ckpt.set_metadata({"i": i})
            tune.report({"i": i, "start": start}, checkpoint=ckpt)


def test_trial_killed_is_retried_from_its_checkpoint(ray_start_regular, tmp_path):
    results = tune.Tuner(
        _dies_once, param_space={"marker": str(tmp_path / "died")},
        run_config=tune.RunConfig(name="retry", storage_path=str(tmp_path), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=1))).fit()
    assert os.path.exists(tmp_path / "died")
    r = results[0]
    assert r.error is None
    assert r.metrics["i"] == 5 and r.metrics["start"] == 3
    assert r.metrics["training_iteration"] == 6  # counting continued from the checkpoint
    assert os.path.exists(os.path.join(r.path, "error.txt"))


def test_trial_error_without_retries(ray_start_regular, tmp_path):
    def broken(config):
        tune.report({"ok": 1})
        raise ValueError(f"broken config {config['k']}")

    results = tune.Tuner(
        broken, param_space={"k": tune.grid_search([1, 2])},
        run_config=tune.RunConfig(name="err", storage_path=str(tmp_path), verbose=0)).fit()
    assert results.num_errors == 2 and len(results.errors) == 2
    assert all(isinstance(e, ValueError) and "broken config" in str(e) for e in results.errors)
    assert results[0].metrics["ok"] == 1


_INTERRUPTED = textwrap.dedent("""
    import os, sys, tempfile, time
    import photon as ray
    from photon import tune
    from photon.tune import Checkpoint
    sys.path.insert(0, {tests!r})
    from test_tune import _resumable
    ray.init(address={address!r})
    tune.Tuner(_resumable, param_space={{"k": tune.grid_search([0, 1, 2, 3]), "out": {out!r}}},
               tune_config=tune.TuneConfig(max_concurrent_trials=2),
               run_config=tune.RunConfig(name="resume", storage_path={storage!r}, verbose=0)).fit()
""")


def _resumable(config):
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        start = checkpoint.get_metadata()["i"] + 1
    for i in range(start, 4):
        with open(os.path.join(config["out"], f"{config['k']}-{i}"), "w"):
            pass
        time.sleep(0.5 if config["k"] < 2 else 0.2)
        with tempfile.TemporaryDirectory() as d:
            ckpt = Checkpoint.from_directory(d)
            ckpt.set_metadata({"i": i})
            tune.report({"i": i, "start": start}, checkpoint=ckpt)


def test_resume_an_interrupted_experiment(ray_start_regular, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(_INTERRUPTED.format(
        tests=os.path.dirname(__file__), address=ray_start_regular["gcs_address"], out=str(out),
        storage=str(tmp_path)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        # Interrupt the driver once the first two trials are half-way through.
        deadline = time.monotonic() + 60
        while not (os.path.exists(out / "0-2") and os.path.exists(out / "1-2")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        proc.kill()
        proc.wait()
    path = str(tmp_path / "resume")
    assert tune.Tuner.can_restore(path)
    results = tune.Tuner.restore(path, trainable=_resumable).fit()
    assert len(results) == 4 and results.num_errors == 0
    by_k = {r.config["k"]: r.metrics for r in results}
    assert all(m["i"] == 3 for m in by_k.values())
    assert by_k[0]["start"] > 0 and by_k[1]["start"] > 0  # resumed from their checkpoints
    assert by_k[2]["start"] == 0 and by_k[3]["start"] == 0


class _Counter(tune.Trainable):
    def setup(self, config):
        self.total = config.get("base", 0)

    def step(self):
        self.total += 1
        return {"total": self.total, "done": self.total >= 7}

    def save_checkpoint(self, checkpoint_dir):
        return {"total": self.total}

    def load_checkpoint(self, checkpoint):
        self.total = checkpoint["total"]


def test_class_trainable_with_checkpoint_frequency(ray_start_regular, tmp_path):
    results = tune.Tuner(
        _Counter, param_space={"base": tune.grid_search([0, 3])},
        run_config=tune.RunConfig(name="cls", storage_path=str(tmp_path), verbose=0,
                                  checkpoint_config=tune.CheckpointConfig(checkpoint_frequency=2,
                                                                          checkpoint_at_end=True))).fit()
    totals = sorted(r.metrics["total"] for r in results)
    assert totals == [7, 7]
    iterations = sorted(r.metrics["training_iteration"] for r in results)
    assert iterations == [4, 7]
    assert all(r.checkpoint is not None for r in results)


def test_stop_criteria_with_parameters_and_resources(ray_start_regular, tmp_path):
    big = list(range(100_000))

    def trainable(config, data):
        for i in range(100):
            tune.report({"i": i, "n": len(data),
                         "cpus": tune.get_context().get_trial_resources().required_resources["CPU"]})

    results = tune.Tuner(
        tune.with_resources(tune.with_parameters(trainable, data=big), {"cpu": 2}),
        param_space={"k": tune.grid_search([1, 2])},
        run_config=tune.RunConfig(name="stop", storage_path=str(tmp_path), verbose=0,
                                  stop={"training_iteration": 4})).fit()
    assert [r.metrics["training_iteration"] for r in results] == [4, 4]
    assert all(r.metrics["n"] == 100_000 and r.metrics["cpus"] == 2 for r in results)


def test_tuner_over_a_trainer(ray_start_regular, tmp_path):
    from photon.train import DataParallelTrainer, ScalingConfig

    def loop(config):
        for epoch in range(3):
            with tempfile.TemporaryDirectory() as d:
                ckpt = None
                if train.get_context().get_world_rank() == 0:
                    ckpt = Checkpoint.from_directory(d)
                    ckpt.set_metadata({"epoch": epoch})
                train.report({"score": config["lr"] * (epoch + 1),
                              "world": train.get_context().get_world_size()}, checkpoint=ckpt)

    # Each trial reserves its two workers' bundles (the whole 2-CPU cluster), so the
    # two trials run one after the other.
    trainer = DataParallelTrainer(loop, train_loop_config={"lr": 0.0},
                                  scaling_config=ScalingConfig(num_workers=2))
    results = tune.Tuner(
        trainer, param_space={"train_loop_config": {"lr": tune.grid_search([0.1, 0.5])}},
        tune_config=tune.TuneConfig(metric="score", mode="max"),
        run_config=tune.RunConfig(name="overtrain", storage_path=str(tmp_path), verbose=0)).fit()
    best = results.get_best_result()
    assert best.config["train_loop_config"]["lr"] == 0.5
    assert best.metrics["score"] == 1.5 and best.metrics["training_iteration"] == 3
    assert best.metrics["world"] == 2
    assert best.checkpoint.get_metadata() == {"epoch": 2}
    assert best.checkpoint.path.startswith(best.path)
    assert os.path.basename(best.path).startswith("DataParallelTrainer_")


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        tune.TuneConfig(mode="maximize")
    with pytest.raises(ValueError, match="num_samples"):
        tune.TuneConfig(num_samples=0)
    with pytest.raises(ValueError, match="max_concurrent_trials"):
        tune.TuneConfig(max_concurrent_trials=0)
    with pytest.raises(TypeError):
        tune.Tuner(42)
    with pytest.raises(FileNotFoundError, match="Could not find"):
        tune.Tuner.restore("/nonexistent/experiment", trainable=_quadratic)
    with pytest.raises(RuntimeError, match="function trainable"):
        tune.report({"x": 1})
    with pytest.raises(ValueError, match="grid_search|Failed|domain|lower"):
        tune.loguniform(0, 1)


def _ckpt_loss(config):
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        start = checkpoint.get_metadata()["i"] + 1
    for i in range(start, 9):
        with tempfile.TemporaryDirectory() as d:
            ckpt = Checkpoint.from_directory(d)
            ckpt.set_metadata({"i": i})
            tune.report({"loss": config["q"] + 1.0 / (i + 1), "start": start}, checkpoint=ckpt)


def test_hyperband_pauses_and_promotes(ray_start_regular, tmp_path):
    from photon.tune.schedulers import HyperBandScheduler
    results = tune.Tuner(
        _ckpt_loss, param_space={"q": tune.grid_search(list(range(6)))},
        tune_config=tune.TuneConfig(metric="loss", mode="min", scheduler=HyperBandScheduler(
            max_t=9, reduction_factor=3)),
        run_config=tune.RunConfig(name="hb", storage_path=str(tmp_path), verbose=0)).fit()
    assert results.num_errors == 0
    iterations = {r.config["q"]: r.metrics["training_iteration"] for r in results}
    assert iterations[0] == 9
    assert min(iterations.values()) < 9
    # Promoted trials resumed from the checkpoint taken when they were paused.
    assert any(r.metrics["start"] > 0 for r in results)


def test_median_stopping_rule_and_uri_storage(ray_start_regular, tmp_path):
    from photon.tune.schedulers import MedianStoppingRule
    results = tune.Tuner(
        _slow_loss, param_space={"q": tune.grid_search([0, 1, 2, 3, 4])},
        tune_config=tune.TuneConfig(metric="loss", mode="min", scheduler=MedianStoppingRule(
            time_attr="training_iteration", grace_period=3, min_samples_required=2)),
        run_config=tune.RunConfig(name="median", storage_path=f"file://{tmp_path}", verbose=0)).fit()
    iterations = {r.config["q"]: r.metrics["training_iteration"] for r in results}
    assert iterations[0] == 20 and iterations[4] < 20
    assert os.path.isdir(tmp_path / "median")


def test_tune_run_and_callbacks(ray_start_regular, tmp_path):
    seen = []

    class Recorder(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            seen.append(("result", trial.trial_id, result["training_iteration"]))

        def on_trial_complete(self, iteration, trials, trial, **info):
            seen.append(("complete", trial.trial_id))

        def on_experiment_end(self, trials, **info):
            seen.append(("end", len(trials)))

    analysis = tune.run(_quadratic, config={"x": tune.grid_search([2, 3]), "y": 0},
                        metric="loss", mode="min", storage_path=str(tmp_path), name="run",
                        verbose=0, callbacks=[Recorder()])
    assert analysis.best_config == {"x": 3, "y": 0}
    assert analysis.best_result["loss"] == 0
    assert len(analysis.trials) == 2 and len(analysis.results_df) == 2
    assert sum(1 for s in seen if s[0] == "result") == 6
    assert sum(1 for s in seen if s[0] == "complete") == 2 and seen[-1] == ("end", 2)

    def fails(config):
        raise RuntimeError("nope")

    with pytest.raises(tune.TuneError, match="Trials did not complete"):
        tune.run(fails, storage_path=str(tmp_path), name="fails", verbose=0)


def test_older_air_session_and_train_report_in_a_trial(ray_start_regular, tmp_path):
    from photon.air import session

    def old_style(config):
        session.report({"id": session.get_trial_id(), "name": session.get_trial_name()})
        train.report({"second": True})

    results = tune.Tuner(old_style, run_config=tune.RunConfig(
        name="air", storage_path=str(tmp_path), verbose=0)).fit()
    r = results[0]
    assert r.metrics["second"] and r.metrics["training_iteration"] == 2
    assert r.metrics_dataframe["id"].iloc[0] == r.metrics["trial_id"]
    assert r.metrics_dataframe["name"].iloc[0] == f"old_style_{r.metrics['trial_id']}"
