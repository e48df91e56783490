"""Population Based Training (https://arxiv.org/abs/1711.09846)."""
import copy
import json
import logging
import math
import os
import random
import shutil

from photon.tune.error import TuneError
from photon.tune.experiment.trial import Trial
from photon.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler, _require
from photon.tune.search.sample import Domain, Function
from photon.tune.search.search_generator import SearchGenerator
from photon.tune.search.variant_generator import format_vars

logger = logging.getLogger(__name__)


class _PBTTrialState:
    def __init__(self, trial):
        self.orig_tag = trial.experiment_tag
        self.last_score = None
        self.last_checkpoint = None
        self.last_perturbation_time = 0
        self.last_train_time = 0


def _sample(space):
    return space.sample() if isinstance(space, Domain) else space()


def _fill_config(config, key, space):
    """Draw config[key] from its mutation space (for keys the config lacks)."""
    if isinstance(space, dict):
        config[key] = {}
        for k, v in space.items():
            _fill_config(config[key], k, v)
    elif isinstance(space, (list, tuple)):
        config[key] = random.choice(space)
    else:
        config[key] = _sample(space)


def _explore(config, mutations, resample_probability, perturbation_factors,
             custom_explore_fn=None):
    """(perturbed copy of config, {key: what was done to it})."""
    new_config = copy.deepcopy(config)
    operations = {}
    for key, space in mutations.items():
        if isinstance(space, dict):
            new_config[key], operations[key] = _explore(
                config[key], space, resample_probability, perturbation_factors)
        elif isinstance(space, (list, tuple)):
            if random.random() < resample_probability or config[key] not in space:
                new_config[key] = random.choice(space)
                operations[key] = "resample"
            else:
                shift = random.choice([-1, 1])
                old = space.index(config[key])
                new = min(max(old + shift, 0), len(space) - 1)
                new_config[key] = space[new]
                operations[key] = (f"shift {'left' if shift == -1 else 'right'}"
                                   f"{' (noop)' if new == old else ''}")
        else:
            if random.random() < resample_probability:
                new_config[key] = _sample(space)
                operations[key] = "resample"
            else:
                factor = random.choice(perturbation_factors)
                new_config[key] = config[key] * factor
                operations[key] = f"* {factor}"
            if isinstance(config[key], bool):
                new_config[key] = bool(new_config[key])
            elif isinstance(config[key], int):
                new_config[key] = int(round(new_config[key]))
    if custom_explore_fn:
        new_config = custom_explore_fn(new_config)
        _require(new_config is not None, "Custom explore fn failed to return new config")
    return new_config, operations


def _make_experiment_tag(orig_tag, config, mutations):
    values = {("config", k): config[k] for k in mutations}
    return f"{orig_tag}@perturbed[{format_vars(values)}]"


class PopulationBasedTraining(FIFOScheduler):
    """Every perturbation_interval (of time_attr, after burn_in_period) a trial
    in the bottom quantile_fraction of the population clones the checkpoint
    and config of a random trial of the top quantile_fraction and explores
    that config: each key of hyperparam_mutations is resampled with
    resample_probability, else multiplied by one of perturbation_factors
    (functions and search-space domains) or moved to a neighbouring value
    (lists); custom_explore_fn(config) is applied last. With synch=True all
    trials wait at each perturbation time and are perturbed together."""

    _metric_needs_mode = True

    def __init__(self, time_attr="time_total_s", metric=None, mode=None,
                 perturbation_interval=60.0, burn_in_period=0.0, hyperparam_mutations=None,
                 quantile_fraction=0.25, resample_probability=0.25,
                 perturbation_factors=(1.2, 0.8), custom_explore_fn=None, log_config=True,
                 require_attrs=True, synch=False):
        hyperparam_mutations = hyperparam_mutations or {}
        for value in hyperparam_mutations.values():
            if not (isinstance(value, (dict, list, tuple, Domain)) or callable(value)):
                raise TypeError("`hyperparam_mutation` values must be either a List, Tuple, "
                                "Dict, a tune search space object, or a callable.")
            if isinstance(value, Function):
                raise ValueError("arbitrary tune.sample_from objects are not supported for "
                                 "`hyperparam_mutation` values. You must use other built in "
                                 "primitives like tune.uniform, tune.loguniform, etc.")
        if not hyperparam_mutations and not custom_explore_fn:
            raise TuneError("You must specify at least one of `hyperparam_mutations` or "
                            "`custom_explore_fn` to use PBT.")
        if not 0 <= quantile_fraction <= 0.5:
            raise ValueError("You must set `quantile_fraction` to a value between 0 and "
                             f"0.5. Current value: '{quantile_fraction}'")
        if perturbation_interval <= 0:
            raise ValueError("perturbation_interval must be a positive number greater than "
                             f"0. Current value: '{perturbation_interval}'")
        if mode:
            _require(mode in ("min", "max"), "`mode` must be 'min' or 'max'.")
        self._time_attr = time_attr
        self._metric = metric
        self._mode = mode
        self._perturbation_interval = perturbation_interval
        self._burn_in_period = burn_in_period
        self._hyperparam_mutations = hyperparam_mutations
        self._quantile_fraction = quantile_fraction
        self._resample_probability = resample_probability
        self._perturbation_factors = perturbation_factors
        self._custom_explore_fn = custom_explore_fn
        self._log_config = log_config
        self._require_attrs = require_attrs
        self._synch = synch
        self._next_perturbation_sync = max(perturbation_interval, burn_in_period)
        self._trial_state = {}  # Trial -> _PBTTrialState
        self._warned_missing = set()
        self._num_checkpoints = 0
        self._num_perturbations = 0

    def on_trial_add(self, controller, trial):
        if isinstance(controller.search_alg, SearchGenerator):
            raise ValueError(f"Search algorithms cannot be used with {type(self).__name__} "
                             f"schedulers. Please remove {controller.search_alg}.")
        self._require_metric_and_mode()
        self._trial_state[trial] = _PBTTrialState(trial)
        for key, space in self._hyperparam_mutations.items():
            if key not in trial.config:
                _fill_config(trial.config, key, space)
                trial.evaluated_params[key] = trial.config[key]

    def on_trial_result(self, controller, trial, result):
        for kind, key in (("time_attr", self._time_attr), ("metric", self._metric)):
            if key in result:
                continue
            message = (f"Cannot find {kind} {key} in trial result {result}. Make sure that "
                       "this attribute is returned in the results of your Trainable.")
            if self._require_attrs:
                raise RuntimeError(message + " If this error is expected, you can change "
                                   "this to a warning message by setting "
                                   "PBT(require_attrs=False)")
            if kind not in self._warned_missing:
                self._warned_missing.add(kind)
                logger.warning(message)
            return TrialScheduler.CONTINUE

        time = result[self._time_attr]
        state = self._trial_state[trial]
        if time < self._burn_in_period or \
                time - state.last_perturbation_time < self._perturbation_interval:
            return TrialScheduler.CONTINUE
        state.last_score = self._score(result)
        state.last_train_time = time

        if not self._synch:
            state.last_perturbation_time = time
            lower, upper = self._quantiles()
            waiting = any(t.status in (Trial.PENDING, Trial.PAUSED)
                          for t in controller.get_trials())
            if self._checkpoint_or_exploit(controller, trial, upper, lower):
                return TrialScheduler.NOOP
            return TrialScheduler.PAUSE if waiting else TrialScheduler.CONTINUE

        # Synchronous: wait (PAUSE) until every live trial reached the
        # perturbation time, then perturb them all, the top ones first.
        exploited = False
        if all(self._trial_state[t].last_train_time >= self._next_perturbation_sync
               for t in controller.get_trials() if t is not trial and not t.is_finished()):
            lower, upper = self._quantiles()
            middle = [t for t in self._trial_state if t not in lower and t not in upper]
            for t in upper + middle + lower:
                self._trial_state[t].last_perturbation_time = time
                if self._checkpoint_or_exploit(controller, t, upper, lower) and t is trial:
                    exploited = True
            self._next_perturbation_sync = max(
                self._next_perturbation_sync + self._perturbation_interval,
                max(s.last_train_time for s in self._trial_state.values()))
        return TrialScheduler.NOOP if exploited else TrialScheduler.PAUSE

    def _quantiles(self):
        """(bottom, top) quantile_fraction of the live trials with a score."""
        trials = sorted((t for t, s in self._trial_state.items()
                         if s.last_score is not None and not math.isnan(s.last_score)
                         and not t.is_finished()),
                        key=lambda t: self._trial_state[t].last_score)
        if len(trials) <= 1:
            return [], []
        size = min(int(math.ceil(len(trials) * self._quantile_fraction)), len(trials) // 2)
        return trials[:size], trials[len(trials) - size:]

    def _checkpoint_or_exploit(self, controller, trial, upper, lower):
        """Keep the checkpoint of a top trial; make a bottom trial exploit a top
        one. True if `trial` was exploited."""
        state = self._trial_state[trial]
        if trial in upper:
            state.last_checkpoint = trial.checkpoint
            self._num_checkpoints += 1
        else:
            state.last_checkpoint = None
        if trial not in lower:
            return False
        trial_to_clone = random.choice(upper)
        if not self._trial_state[trial_to_clone].last_checkpoint:
            logger.info("[pbt]: no checkpoint for trial %s. Skip exploit for Trial %s",
                        trial_to_clone, trial)
            return False
        self._exploit(controller, trial, trial_to_clone)
        return True

    def _exploit(self, controller, trial, trial_to_clone):
        state, clone_state = self._trial_state[trial], self._trial_state[trial_to_clone]
        new_config, operations = _explore(
            trial_to_clone.config, self._hyperparam_mutations, self._resample_probability,
            self._perturbation_factors, self._custom_explore_fn)
        logger.info("[%s] [Exploit] Cloning trial %s (score = %.4f) into trial %s "
                    "(score = %.4f); explored: %s", type(self).__name__, trial_to_clone.trial_id,
                    clone_state.last_score, trial.trial_id, state.last_score, operations)
        if self._log_config:
            self._log_config_on_step(state, clone_state, trial, trial_to_clone, new_config)
        new_tag = _make_experiment_tag(state.orig_tag, new_config, self._hyperparam_mutations)
        controller.exploit_trial(trial, new_config, clone_state.last_checkpoint, new_tag)
        self._num_perturbations += 1
        state.last_perturbation_time = clone_state.last_perturbation_time
        state.last_train_time = clone_state.last_train_time

    def _log_config_on_step(self, state, clone_state, trial, trial_to_clone, new_config):
        """Appends [trial tag, cloned trial tag, their iterations, cloned config,
        new config] to pbt_global.txt and to the trial's pbt_policy_<id>.txt
        (which first takes the cloned trial's history) in the experiment folder."""
        folder = os.path.dirname(trial.path) if trial.path else None
        if not folder or not os.path.isdir(folder):
            return
        policy = json.dumps([
            state.orig_tag, clone_state.orig_tag,
            trial.last_result.get("training_iteration", 0),
            trial_to_clone.last_result.get("training_iteration", 0),
            trial_to_clone.config, new_config], default=str)
        with open(os.path.join(folder, "pbt_global.txt"), "a") as f:
            f.write(policy + "\n")
        trial_file = os.path.join(folder, f"pbt_policy_{trial.trial_id}.txt")
        clone_file = os.path.join(folder, f"pbt_policy_{trial_to_clone.trial_id}.txt")
        if os.path.exists(clone_file):
            shutil.copyfile(clone_file, trial_file)
        with open(trial_file, "a") as f:
            f.write(policy + "\n")

    def choose_trial_to_run(self, controller):
        """The waiting trial that trained least, so the population advances evenly."""
        candidates = [t for t in controller.get_trials()
                      if t.status in (Trial.PENDING, Trial.PAUSED) and (
                          not self._synch or self._trial_state[t].last_train_time
                          < self._next_perturbation_sync)]
        return min(candidates, key=lambda t: self._trial_state[t].last_train_time, default=None)

    def debug_string(self):
        return (f"PopulationBasedTraining: {self._num_checkpoints} checkpoints, "
                f"{self._num_perturbations} perturbs")
