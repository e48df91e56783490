"""photon.tune.schedulers against a fake controller (no cluster). The expected
decision sequences were obtained by driving Ray Tune 2.60's schedulers with
the same results."""
import json
import random

import numpy as np
import pytest

from photon.tune.error import TuneError
from photon.tune.experiment.trial import Trial
from photon.tune.schedulers import (
    ASHAScheduler, AsyncHyperBandScheduler, FIFOScheduler, HyperBandScheduler,
    MedianStoppingRule, PopulationBasedTraining, TrialScheduler, create_scheduler)
from photon.tune.search.sample import choice, sample_from, uniform
from photon.tune.search.search_generator import SearchGenerator
from photon.tune.search.searcher import Searcher


class FakeController:
    """The controller side of the contract; stop_trial tells the scheduler as
    Ray's TuneController does."""

    def __init__(self, scheduler, trials, search_alg=None):
        self.scheduler = scheduler
        self.search_alg = search_alg
        self.trials = trials
        self.iterations = {t.trial_id: 0 for t in trials}
        self.stopped = []
        self.exploits = []

    def get_trials(self):
        return list(self.trials)

    def pause_trial(self, trial):
        trial.status = Trial.PAUSED

    def stop_trial(self, trial):
        self.stopped.append(trial.trial_id)
        if trial.status in (Trial.PENDING, Trial.PAUSED):
            self.scheduler.on_trial_remove(self, trial)
        elif trial.status == Trial.RUNNING:
            self.scheduler.on_trial_complete(self, trial, trial.last_result)
        trial.status = Trial.TERMINATED

    def exploit_trial(self, trial, new_config, checkpoint, new_experiment_tag):
        self.exploits.append((trial.trial_id, checkpoint, new_experiment_tag, new_config))
        trial.config = new_config
        trial.experiment_tag = new_experiment_tag
        trial.checkpoint = checkpoint
        self.iterations[trial.trial_id] = int(checkpoint.split("@")[1])
        trial.status = Trial.PAUSED


def make_trials(n, configs=None):
    return [Trial("f", dict(configs[i]) if configs else {}, trial_id=f"t{i}",
                  experiment_tag=str(i)) for i in range(n)]


def add_all(scheduler, n, configs=None):
    trials = make_trials(n, configs)
    controller = FakeController(scheduler, trials)
    for t in trials:
        scheduler.on_trial_add(controller, t)
    return controller, trials


def report(scheduler, controller, trial, iteration, **metrics):
    trial.status = Trial.RUNNING
    trial.checkpoint = f"{trial.trial_id}@{iteration}"
    result = dict(training_iteration=iteration, time_total_s=float(iteration), **metrics)
    decision = scheduler.on_trial_result(controller, trial, result)
    trial.last_result = result
    return decision


def simulate(scheduler, n, metric, max_iter, concurrency):
    """Runs n trials, `concurrency` at a time, one iteration each in turn,
    reporting metric(trial_index, iteration) as "m". Returns each trial's
    decisions (first letters) and the controller."""
    controller, trials = add_all(scheduler, n)
    decisions = {t.trial_id: "" for t in trials}
    running = []
    while True:
        running = [t for t in running if t.status == Trial.RUNNING]
        while len(running) < concurrency:
            trial = scheduler.choose_trial_to_run(controller)
            if trial is None:
                break
            trial.status = Trial.RUNNING
            running.append(trial)
        if not running:
            return decisions, controller
        trial = running.pop(0)
        running.append(trial)
        controller.iterations[trial.trial_id] += 1
        it = controller.iterations[trial.trial_id]
        decision = report(scheduler, controller, trial, it, m=metric(trials.index(trial), it))
        decisions[trial.trial_id] += decision[0]
        if decision == TrialScheduler.STOP or (
                it >= max_iter and decision != TrialScheduler.NOOP):
            scheduler.on_trial_complete(controller, trial, trial.last_result)
            trial.status = Trial.TERMINATED
        elif decision == TrialScheduler.PAUSE:
            trial.status = Trial.PAUSED


_rng = random.Random(7)
VALUES = [[round(_rng.uniform(0, 1) + 0.05 * k, 3) for k in range(12)] for _ in range(8)]


def table(i, it):
    return VALUES[i][it - 1]


# ---- FIFO and the base class

def test_fifo_runs_pending_trials_in_order_then_paused_ones():
    scheduler = FIFOScheduler()
    controller, trials = add_all(scheduler, 3)
    trials[0].status = Trial.PAUSED
    assert scheduler.choose_trial_to_run(controller) is trials[1]
    trials[1].status = trials[2].status = Trial.RUNNING
    assert scheduler.choose_trial_to_run(controller) is trials[0]
    trials[0].status = Trial.TERMINATED
    assert scheduler.choose_trial_to_run(controller) is None
    assert scheduler.on_trial_result(controller, trials[1], {}) == TrialScheduler.CONTINUE
    assert scheduler.set_search_properties(None, None) and scheduler.metric == "_metric"


def test_set_search_properties():
    scheduler = ASHAScheduler()
    assert scheduler.set_search_properties("acc", "max")
    assert (scheduler.metric, scheduler.mode) == ("acc", "max")
    assert not ASHAScheduler(metric="acc", mode="max").set_search_properties("loss", None)
    assert not ASHAScheduler(metric="acc", mode="max").set_search_properties(None, "min")
    # As Ray: a scheduler given its own metric and mode refuses the Tuner's, even equal ones.
    assert not ASHAScheduler(metric="acc", mode="max").set_search_properties("acc", "max")
    only_mode = HyperBandScheduler(mode="min")
    assert only_mode.set_search_properties(None, None) and only_mode.metric == "_metric"
    neither = PopulationBasedTraining(hyperparam_mutations={"lr": [1, 2]})
    assert neither.set_search_properties(None, None) and neither.metric is None


@pytest.mark.parametrize("scheduler", [
    AsyncHyperBandScheduler(), HyperBandScheduler(), MedianStoppingRule(),
    PopulationBasedTraining(hyperparam_mutations={"lr": [1, 2]})])
def test_a_metric_is_required(scheduler):
    scheduler.set_search_properties(None, None)
    name = type(scheduler).__name__
    with pytest.raises(ValueError, match=f"{name} has been instantiated without a valid "
                       r"`metric` \(None\) or `mode` \(None\) parameter"):
        add_all(scheduler, 1)


def test_median_stopping_rule_defaults_to_min_once_given_a_metric():
    scheduler = MedianStoppingRule(metric="loss")
    assert scheduler.set_search_properties(None, None) and scheduler.mode == "min"
    add_all(scheduler, 1)


# ---- ASHA

ASHA_EVENTS = [(0, 1, 1.0), (1, 1, 2.0), (2, 1, 0.5), (3, 1, 1.8), (0, 2, 3.0), (1, 2, 2.0),
               (3, 2, 2.5), (0, 3, 3.1), (3, 3, 0.1), (0, 4, 3.2), (3, 4, 2.9), (0, 8, 3.5),
               (0, 9, 3.6), (0, 10, 3.7)]


def drive(scheduler, n, events):
    controller, trials = add_all(scheduler, n)
    return "".join(report(scheduler, controller, trials[i], it, acc=v, loss=-v)[0]
                   for i, it, v in events)


def test_asha_stops_trials_below_the_rung_cutoff():
    # Rungs at 1, 2, 4, 8: e.g. t2 (0.5) is below the median of (1.0, 2.0) at rung 1.
    kwargs = dict(max_t=10, grace_period=1, reduction_factor=2)
    assert drive(ASHAScheduler(metric="acc", mode="max", **kwargs), 4, ASHA_EVENTS) == \
        "CCSCCSCCCCSCCS"
    assert drive(ASHAScheduler(metric="loss", mode="min", **kwargs), 4, ASHA_EVENTS) == \
        "CCSCCSCCCCSCCS"


def test_asha_without_stop_last_trials_runs_past_max_t():
    scheduler = ASHAScheduler(metric="acc", mode="max", max_t=10, grace_period=1,
                              reduction_factor=2, stop_last_trials=False)
    assert drive(scheduler, 4, ASHA_EVENTS + [(0, 12, 0.0)]) == "CCSCCSCCCCSCCCC"


@pytest.mark.parametrize("mode,expected", [
    ("max", {"t0": "CCCCCCCCS", "t1": "CCS", "t2": "S", "t3": "CCS",
             "t4": "CCCCCCCCS", "t5": "CCCCCCCCS", "t6": "S", "t7": "S"}),
    ("min", {"t0": "CCCCCCCCS", "t1": "S", "t2": "CCCCCCCCS", "t3": "S",
             "t4": "S", "t5": "S", "t6": "S", "t7": "CCCCCCCCS"}),
])
def test_asha_run_matches_ray(mode, expected):
    scheduler = ASHAScheduler(metric="m", mode=mode, max_t=9, grace_period=1, reduction_factor=3)
    decisions, _ = simulate(scheduler, 8, table, 12, concurrency=4)
    assert decisions == expected
    assert scheduler.debug_string().startswith(
        "Using AsyncHyperBand: num_stopped=8\nBracket: Iter 9.000")


def test_asha_rungs_per_bracket():
    scheduler = ASHAScheduler(metric="m", mode="max", max_t=100, grace_period=1,
                              reduction_factor=3, brackets=3)
    assert scheduler.debug_string().splitlines()[1:] == [
        "Bracket: Iter 81.000: None | Iter 27.000: None | Iter 9.000: None | Iter 3.000: None"
        " | Iter 1.000: None",
        "Bracket: Iter 81.000: None | Iter 27.000: None | Iter 9.000: None | Iter 3.000: None",
        "Bracket: Iter 81.000: None | Iter 27.000: None | Iter 9.000: None"]


def test_asha_skips_results_without_its_attributes():
    scheduler = ASHAScheduler(metric="acc", mode="max", max_t=1)
    controller, trials = add_all(scheduler, 1)
    assert scheduler.on_trial_result(controller, trials[0], {"training_iteration": 5}) == \
        TrialScheduler.CONTINUE


@pytest.mark.parametrize("kwargs,message", [
    (dict(max_t=0), "Max \\(time_attr\\) not valid!"),
    (dict(max_t=5, grace_period=10), "grace_period must be <= max_t!"),
    (dict(grace_period=0), "grace_period must be positive!"),
    (dict(reduction_factor=1), "Reduction Factor not valid!"),
    (dict(brackets=0), "brackets must be positive!"),
    (dict(mode="maximize"), "`mode` must be 'min' or 'max'!"),
])
def test_asha_validation(kwargs, message):
    with pytest.raises(AssertionError, match=message):
        AsyncHyperBandScheduler(**kwargs)


# ---- HyperBand

@pytest.mark.parametrize("mode,expected,stopped", [
    ("max", {"t0": "CCCCCCCCP", "t1": "CCCCCCCCP", "t2": "CCCCCCCCS", "t3": "CCP",
             "t4": "CCPCCCCCP", "t5": "CCP", "t6": "CCPCCCCCS", "t7": "CCS"},
     ["t3", "t5", "t0", "t1", "t4"]),
    ("min", {"t0": "CCCCCCCCP", "t1": "CCCCCCCCP", "t2": "CCCCCCCCS", "t3": "CCPCCCCCS",
             "t4": "CCP", "t5": "CCP", "t6": "CCP", "t7": "CCCCCCCCP"},
     ["t4", "t6", "t5", "t0", "t1", "t7"]),
])
@pytest.mark.parametrize("concurrency", [8, 2])
def test_hyperband_run_matches_ray(mode, expected, stopped, concurrency):
    # max_t=9, eta=3: bracket 0 holds t0-t2 (milestone 9, no halving), bracket 1
    # t3-t7 (milestone 3, then the best 2 go on to 9).
    scheduler = HyperBandScheduler(metric="m", mode=mode, max_t=9, reduction_factor=3)
    decisions, controller = simulate(scheduler, 8, table, 12, concurrency)
    assert decisions == expected
    assert controller.stopped == stopped
    assert scheduler.debug_string() == (
        "Using HyperBand: num_stopped=3 total_brackets=2\nRound #0:\n"
        "  Bracket(Max Size (n)=3, Milestone (r)=9, completed=100.0%): {TERMINATED: 3} \n"
        "  Bracket(Max Size (n)=2, Milestone (r)=9, completed=100.0%): {TERMINATED: 5} ")


def test_hyperband_pauses_until_the_bracket_reaches_its_milestone_then_promotes():
    scheduler = HyperBandScheduler(metric="m", mode="max", max_t=9, reduction_factor=3)
    controller, trials = add_all(scheduler, 8)
    bracket = trials[3:]  # milestone 3
    for t in bracket:
        for it in (1, 2):
            assert report(scheduler, controller, t, it, m=0) == TrialScheduler.CONTINUE
    for t, m in zip(bracket[:-1], [5, 1, 4, 2]):
        assert report(scheduler, controller, t, 3, m=m) == TrialScheduler.PAUSE
        t.status = Trial.PAUSED
    assert scheduler.choose_trial_to_run(controller) is trials[0]  # still pending
    assert report(scheduler, controller, bracket[-1], 3, m=3) == TrialScheduler.STOP
    assert sorted(controller.stopped) == ["t4", "t6"]
    for t in trials[:3]:
        t.status = Trial.RUNNING
    assert scheduler.choose_trial_to_run(controller) is trials[3]
    trials[3].status = Trial.RUNNING
    assert scheduler.choose_trial_to_run(controller) is trials[5]


def test_hyperband_finishes_a_bracket_whose_last_running_trial_errors():
    scheduler = HyperBandScheduler(metric="m", mode="max", max_t=9, reduction_factor=3)
    controller, trials = add_all(scheduler, 3)
    for t in trials[:2]:
        assert report(scheduler, controller, t, 9, m=1) == TrialScheduler.PAUSE
        t.status = Trial.PAUSED
    report(scheduler, controller, trials[2], 4, m=1)
    trials[2].status = Trial.ERROR
    scheduler.on_trial_error(controller, trials[2])
    assert controller.stopped == ["t0", "t1"]
    assert scheduler.choose_trial_to_run(controller) is None


def test_hyperband_validation():
    with pytest.raises(AssertionError, match="Max \\(time_attr\\) not valid!"):
        HyperBandScheduler(max_t=0)
    with pytest.raises(AssertionError, match="`mode` must be 'min' or 'max'!"):
        HyperBandScheduler(mode="up")


# ---- MedianStoppingRule

@pytest.mark.parametrize("kwargs,expected", [
    (dict(mode="max", grace_period=2, min_samples_required=2),
     {"t0": "CPCPPP", "t1": "CPCCPP", "t2": "CS", "t3": "CCPCCC", "t4": "CCPCCC",
      "t5": "CCCPCC"}),
    (dict(mode="min", grace_period=1, min_samples_required=2, hard_stop=False),
     {"t0": "PPPPPP", "t1": "PPCCCC", "t2": "CPCCCC", "t3": "PCCCCC", "t4": "PCCCCC",
      "t5": "PCCCCC"}),
])
def test_median_stopping_rule_run_matches_ray(kwargs, expected):
    scheduler = MedianStoppingRule(time_attr="training_iteration", metric="m", **kwargs)
    decisions, _ = simulate(scheduler, 6, table, 6, concurrency=2)
    assert decisions == expected


def test_median_stopping_rule_stops_a_trial_worse_than_the_median():
    scheduler = MedianStoppingRule(time_attr="training_iteration", metric="acc", mode="max",
                                   grace_period=2, min_samples_required=2)
    controller, trials = add_all(scheduler, 4)
    for t, acc in zip(trials[:2], (1.0, 3.0)):
        for it in range(1, 5):
            report(scheduler, controller, t, it, acc=acc)
    # Running means of t0 and t1 over [2, 3] are 1 and 3: median 2.
    assert report(scheduler, controller, trials[2], 1, acc=0.0) == TrialScheduler.CONTINUE
    assert report(scheduler, controller, trials[2], 3, acc=2.5) == TrialScheduler.CONTINUE
    assert report(scheduler, controller, trials[3], 3, acc=1.5) == TrialScheduler.STOP
    assert scheduler.debug_string() == "Using MedianStoppingRule: num_stopped=1."


def test_median_stopping_rule_yields_without_enough_samples():
    scheduler = MedianStoppingRule(time_attr="training_iteration", metric="acc", mode="max",
                                   grace_period=1, min_samples_required=3, min_time_slice=2)
    controller, trials = add_all(scheduler, 2)
    assert report(scheduler, controller, trials[0], 1, acc=1.0) == TrialScheduler.PAUSE
    assert report(scheduler, controller, trials[0], 2, acc=1.0) == TrialScheduler.CONTINUE
    assert report(scheduler, controller, trials[0], 4, acc=1.0) == TrialScheduler.PAUSE
    trials[1].status = Trial.TERMINATED
    assert report(scheduler, controller, trials[0], 7, acc=1.0) == TrialScheduler.CONTINUE


# ---- PopulationBasedTraining

def pbt(**kwargs):
    kwargs = dict(dict(time_attr="training_iteration", metric="m", mode="max",
                       perturbation_interval=2, log_config=False), **kwargs)
    return PopulationBasedTraining(**kwargs)


def population(scheduler, n, configs=None):
    controller, trials = add_all(scheduler, n, configs)
    for t in trials:
        t.status = Trial.RUNNING
    return controller, trials


def test_pbt_exploits_the_top_trial_and_perturbs_its_config():
    scheduler = pbt(hyperparam_mutations={"lr": uniform(0.001, 0.1), "bs": [16, 32, 64]},
                    resample_probability=0.0)
    configs = [{"lr": 0.01 * (i + 1), "bs": 32} for i in range(4)]
    controller, trials = population(scheduler, 4, configs)
    for i, t in enumerate(trials):
        assert report(scheduler, controller, t, 2, m=i) == TrialScheduler.CONTINUE
    assert controller.exploits == []
    assert report(scheduler, controller, trials[0], 4, m=0) == TrialScheduler.NOOP
    [(trial_id, checkpoint, tag, config)] = controller.exploits
    assert (trial_id, checkpoint) == ("t0", "t3@2")
    assert config["lr"] in (pytest.approx(0.04 * 1.2), pytest.approx(0.04 * 0.8))
    assert config["bs"] in (16, 64)
    assert tag == f"0@perturbed[bs={config['bs']},lr={config['lr']:.4f}]"
    assert trials[0].config == config
    assert scheduler.debug_string() == "PopulationBasedTraining: 3 checkpoints, 1 perturbs"


def test_pbt_resamples_within_the_search_space():
    scheduler = pbt(hyperparam_mutations={"lr": uniform(0.5, 0.6), "bs": [16, 32, 64],
                                          "opt": {"momentum": lambda: 0.99}},
                    resample_probability=1.0)
    configs = [{"lr": 0.01, "bs": 32, "opt": {"momentum": 0.9}} for _ in range(2)]
    controller, trials = population(scheduler, 2, configs)
    report(scheduler, controller, trials[1], 2, m=1)
    report(scheduler, controller, trials[0], 2, m=0)
    report(scheduler, controller, trials[1], 4, m=1)
    assert report(scheduler, controller, trials[0], 4, m=0) == TrialScheduler.NOOP
    config = controller.exploits[0][3]
    assert 0.5 <= config["lr"] <= 0.6 and config["bs"] in (16, 32, 64)
    assert config["opt"] == {"momentum": 0.99}


def test_pbt_needs_a_checkpoint_and_respects_the_interval():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32, 64]})
    controller, trials = population(scheduler, 2, [{"bs": 32}] * 2)
    assert report(scheduler, controller, trials[1], 1, m=1) == TrialScheduler.CONTINUE
    report(scheduler, controller, trials[1], 2, m=1)  # alone: not top yet, no checkpoint kept
    report(scheduler, controller, trials[0], 2, m=0)
    assert controller.exploits == []
    report(scheduler, controller, trials[1], 4, m=1)  # top now: keeps t1@4
    assert report(scheduler, controller, trials[0], 3, m=0) == TrialScheduler.CONTINUE
    assert report(scheduler, controller, trials[0], 4, m=0) == TrialScheduler.NOOP
    assert controller.exploits[0][:2] == ("t0", "t1@4")


def test_pbt_burn_in_period():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32, 64]}, burn_in_period=5)
    controller, trials = population(scheduler, 2, [{"bs": 32}] * 2)
    for it in (2, 4, 5):  # at 5 t1 is alone with a score: no checkpoint kept
        report(scheduler, controller, trials[1], it, m=1)
        report(scheduler, controller, trials[0], it, m=0)
    assert controller.exploits == []
    report(scheduler, controller, trials[1], 7, m=1)
    assert report(scheduler, controller, trials[0], 7, m=0) == TrialScheduler.NOOP


def test_pbt_pauses_for_waiting_trials_and_runs_the_least_trained_first():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32]})
    controller, trials = population(scheduler, 3, [{"bs": 16}] * 3)
    trials[2].status = Trial.PENDING
    assert report(scheduler, controller, trials[0], 2, m=0) == TrialScheduler.PAUSE
    trials[0].status = Trial.PAUSED
    assert report(scheduler, controller, trials[1], 1, m=0) == TrialScheduler.CONTINUE
    assert scheduler.choose_trial_to_run(controller) is trials[2]


def test_pbt_synch_waits_for_the_whole_population():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32, 64, 128]}, synch=True,
                    resample_probability=0.0)
    controller, trials = population(scheduler, 3, [{"bs": 16}, {"bs": 32}, {"bs": 64}])
    for t, m in zip(trials[:2], (0, 1)):
        assert report(scheduler, controller, t, 2, m=m) == TrialScheduler.PAUSE
        t.status = Trial.PAUSED
    trials[2].status = Trial.PENDING
    assert scheduler.choose_trial_to_run(controller) is trials[2]
    assert report(scheduler, controller, trials[2], 2, m=2) == TrialScheduler.PAUSE
    [(trial_id, checkpoint, tag, config)] = controller.exploits
    assert (trial_id, checkpoint) == ("t0", "t2@2") and config["bs"] in (32, 128)
    assert tag == f"0@perturbed[bs={config['bs']}]"
    trials[2].status = Trial.PAUSED
    assert scheduler.choose_trial_to_run(controller) is trials[0]


def test_pbt_fills_missing_config_and_applies_custom_explore_last():
    def explore(config):
        config["bs"] = 128
        return config

    scheduler = pbt(hyperparam_mutations={"bs": [16, 32], "lr": choice([0.1, 0.2])},
                    custom_explore_fn=explore)
    controller, trials = population(scheduler, 2)
    assert trials[0].config["bs"] in (16, 32) and trials[0].config["lr"] in (0.1, 0.2)
    assert trials[0].evaluated_params == trials[0].config
    for it in (2, 4):
        report(scheduler, controller, trials[1], it, m=1)
        report(scheduler, controller, trials[0], it, m=0)
    assert controller.exploits[0][3]["bs"] == 128


def test_pbt_logs_the_config_schedule(tmp_path):
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32, 64]}, log_config=True)
    controller, trials = population(scheduler, 2, [{"bs": 32}] * 2)
    for t in trials:
        t.path = str(tmp_path / t.trial_id)
    for it in (2, 4):
        report(scheduler, controller, trials[1], it, m=1)
        report(scheduler, controller, trials[0], it, m=0)
    policy = json.loads((tmp_path / "pbt_policy_t0.txt").read_text())
    assert policy == ["0", "1", 2, 4, {"bs": 32}, trials[0].config]
    assert (tmp_path / "pbt_global.txt").read_text() == json.dumps(policy) + "\n"


def test_pbt_refuses_a_searcher():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32]})
    controller = FakeController(scheduler, [], search_alg=SearchGenerator(Searcher()))
    with pytest.raises(ValueError, match="Search algorithms cannot be used with "
                       "PopulationBasedTraining schedulers"):
        scheduler.on_trial_add(controller, make_trials(1)[0])


def test_pbt_requires_its_attributes():
    scheduler = pbt(hyperparam_mutations={"bs": [16, 32]})
    controller, trials = population(scheduler, 1, [{"bs": 16}])
    with pytest.raises(RuntimeError, match="Cannot find metric m in trial result"):
        scheduler.on_trial_result(controller, trials[0], {"training_iteration": 1})
    lenient = pbt(hyperparam_mutations={"bs": [16, 32]}, require_attrs=False)
    controller, trials = population(lenient, 1, [{"bs": 16}])
    assert lenient.on_trial_result(controller, trials[0], {"m": 1}) == TrialScheduler.CONTINUE


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(), TuneError, "You must specify at least one of `hyperparam_mutations` or "
     "`custom_explore_fn` to use PBT."),
    (dict(hyperparam_mutations={"lr": 0.1}), TypeError, "`hyperparam_mutation` values must be"),
    (dict(hyperparam_mutations={"lr": sample_from(lambda spec: 1)}), ValueError,
     "arbitrary tune.sample_from objects are not supported"),
    (dict(custom_explore_fn=lambda c: c, quantile_fraction=0.6), ValueError,
     "You must set `quantile_fraction` to a value between 0 and"),
    (dict(custom_explore_fn=lambda c: c, perturbation_interval=0), ValueError,
     "perturbation_interval must be a positive number greater than 0"),
    (dict(custom_explore_fn=lambda c: c, mode="mean"), AssertionError,
     "`mode` must be 'min' or 'max'."),
])
def test_pbt_validation(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", "\\(").replace(")", "\\)")):
        PopulationBasedTraining(**kwargs)


# ---- saving, creating

def test_save_and_restore(tmp_path):
    kwargs = dict(metric="acc", mode="max", max_t=10, grace_period=1, reduction_factor=2)
    scheduler = ASHAScheduler(**kwargs)
    controller, trials = add_all(scheduler, 4)
    first = "".join(report(scheduler, controller, trials[i], it, acc=v)[0]
                    for i, it, v in ASHA_EVENTS[:7])
    scheduler.save(str(tmp_path / "asha.pkl"))
    restored = ASHAScheduler()
    restored.restore(str(tmp_path / "asha.pkl"))
    rest = "".join(report(restored, controller, trials[i], it, acc=v)[0]
                   for i, it, v in ASHA_EVENTS[7:])
    assert first + rest == "CCSCCSCCCCSCCS"
    population = pbt(hyperparam_mutations={"lr": lambda: np.random.uniform()})
    population.save(str(tmp_path / "pbt.pkl"))
    population.restore(str(tmp_path / "pbt.pkl"))


def test_create_scheduler():
    scheduler = create_scheduler("Async_HyperBand", metric="m", mode="min", max_t=5, unknown=1)
    assert isinstance(scheduler, AsyncHyperBandScheduler) and scheduler._max_t == 5
    assert isinstance(create_scheduler("medianstopping"), MedianStoppingRule)
    assert isinstance(create_scheduler("pbt", custom_explore_fn=lambda c: c),
                      PopulationBasedTraining)
    with pytest.raises(ValueError, match="The `scheduler` argument must be one of"):
        create_scheduler("bohb")
