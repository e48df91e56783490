"""``OptunaSearch`` (``ray.tune.search.optuna.OptunaSearch``): suggestions from
an Optuna sampler (TPE by default) through Optuna's ask/tell interface.

The search space is the Tuner's param_space (its domains converted to Optuna
distributions) or a dict of Optuna distributions; nested keys become Optuna
parameter names joined by ``/``.
"""
import logging
import math

from photon.tune.search.sample import (
    Categorical, Float, Integer, LogUniform, Quantized, Uniform, _grid_index)
from photon.tune.search.searcher import (
    UNDEFINED_METRIC_MODE, UNDEFINED_SEARCH_SPACE, UNRESOLVED_SEARCH_SPACE, Searcher)
from photon.tune.search.variant_generator import (
    _flatten_resolved_vars, _path_str, _resolve_nested_dict, parse_spec_vars)

logger = logging.getLogger(__name__)

DEFAULT_METRIC = "_metric"
TRAINING_ITERATION = "training_iteration"


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError(
            "OptunaSearch needs Optuna, which is not installed: run "
            "`pip install optuna`.") from exc
    return optuna


def _flatten(config):
    return _flatten_resolved_vars(_resolve_nested_dict(config))


def _unflatten(flat):
    nested = {}
    for name, value in flat.items():
        *parents, last = name.split("/")
        node = nested
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return nested


def _distribution(ot, domain):
    sampler = domain.get_sampler()
    q = None
    if isinstance(sampler, Quantized):
        q, sampler = sampler.q, sampler.sampler
    if q is not None and isinstance(sampler, LogUniform):
        logger.warning("Optuna does not support both quantization and sampling from "
                       "LogUniform. Dropped quantization.")
        q = None
    if isinstance(domain, Float) and isinstance(sampler, LogUniform):
        return ot.distributions.FloatDistribution(domain.lower, domain.upper, log=True)
    if isinstance(domain, Float) and isinstance(sampler, Uniform):
        return ot.distributions.FloatDistribution(domain.lower, domain.upper, step=q)
    if isinstance(domain, Integer) and isinstance(sampler, LogUniform):
        return ot.distributions.IntDistribution(domain.lower, domain.upper - 1, log=True)
    if isinstance(domain, Integer) and isinstance(sampler, Uniform):
        # The values photon.tune samples: multiples of q, upper exclusive for q=1.
        q = q or 1
        low = _grid_index(domain.lower, q, math.ceil) * q
        high = _grid_index(domain.upper, q, math.floor) * q - (1 if q == 1 else 0)
        return ot.distributions.IntDistribution(low, high, step=q)
    if isinstance(domain, Categorical) and isinstance(sampler, Uniform):
        return ot.distributions.CategoricalDistribution(domain.categories)
    raise ValueError(f"Optuna search does not support parameters of type "
                     f"`{type(domain).__name__}` with samplers of type "
                     f"`{type(sampler).__name__}`")


class OptunaSearch(Searcher):
    """Suggests configs with Optuna (``pip install optuna``).

    space: a dict of ``optuna.distributions`` (possibly nested), or None to
        take the Tuner's param_space (through set_search_properties).
    points_to_evaluate: configs to try first; with evaluated_rewards (their
        metric values, in order) they are told to Optuna without running.
    sampler: an ``optuna.samplers.BaseSampler`` (default: TPESampler(seed)).
    study_name, storage: of the Optuna study (default: in memory).
    """

    def __init__(self, space=None, metric=None, mode=None, points_to_evaluate=None,
                 sampler=None, study_name=None, storage=None, seed=None,
                 evaluated_rewards=None):
        ot = _import_optuna()
        super().__init__(metric=metric, mode=mode)
        if space is not None and not isinstance(space, dict):
            raise TypeError(f"OptunaSearch takes `space` as a dict of Optuna "
                            f"distributions, got {type(space)}.")
        if space:
            if any(parse_spec_vars(space)[1:]):
                logger.warning(UNRESOLVED_SEARCH_SPACE.format(
                    par="space", cls=type(self).__name__))
                space = self.convert_search_space(space)
            else:
                space = _flatten(space)
        if sampler is not None and not isinstance(sampler, ot.samplers.BaseSampler):
            raise TypeError("You can only pass an instance of "
                            "`optuna.samplers.BaseSampler` as a sampler to `OptunaSearch`.")
        if sampler is not None and seed is not None:
            logger.warning("You passed an initialized sampler to `OptunaSearch`. The "
                           "`seed` parameter has to be passed to the sampler directly "
                           "and will be ignored.")
        points = list(points_to_evaluate or [])
        if any(not isinstance(point, dict) for point in points):
            raise TypeError(f"points_to_evaluate expected to be a list of dicts, got {points}.")
        if evaluated_rewards is not None and len(evaluated_rewards) != len(points):
            raise ValueError(f"Dim of evaluated_rewards {evaluated_rewards} and "
                             f"points_to_evaluate {points} do not match.")
        self._space = space
        self._points_to_evaluate = points
        self._evaluated_rewards = evaluated_rewards
        self._sampler = sampler
        self._study_name = study_name or "optuna"
        self._storage = storage
        self._seed = seed
        self._ot_trials = {}
        self._completed_trials = set()
        self._ot_study = None
        if self._space:
            self._setup_study(mode)

    def _setup_study(self, mode):
        if self._metric is None and self._mode:
            if isinstance(self._mode, list):
                raise ValueError("If ``mode`` is a list (multi-objective optimization "
                                 "case), ``metric`` must be defined.")
            self._metric = DEFAULT_METRIC
        ot = _import_optuna()
        if isinstance(mode, list):
            directions = {"directions": ["minimize" if m == "min" else "maximize"
                                         for m in mode]}
        else:
            directions = {"direction": "minimize" if mode == "min" else "maximize"}
        self._ot_study = ot.create_study(
            storage=self._storage,
            sampler=self._sampler or ot.samplers.TPESampler(seed=self._seed),
            pruner=ot.pruners.NopPruner(), study_name=self._study_name,
            load_if_exists=True, **directions)
        if self._evaluated_rewards is not None:
            for point, reward in zip(self._points_to_evaluate, self._evaluated_rewards):
                self.add_evaluated_point(point, reward)
        else:
            for point in self._points_to_evaluate:
                self._ot_study.enqueue_trial(_flatten(point))

    def set_search_properties(self, metric, mode, config, **spec):
        if self._space:
            return False
        self._space = self.convert_search_space(config)
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        self._setup_study(self._mode)
        return True

    def _check_ready(self):
        if not self._space:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(
                cls=type(self).__name__, space="space"))
        if not self._metric or not self._mode:
            raise RuntimeError(UNDEFINED_METRIC_MODE.format(
                cls=type(self).__name__, metric=self._metric, mode=self._mode))

    def suggest(self, trial_id):
        self._check_ready()
        if trial_id not in self._ot_trials:
            self._ot_trials[trial_id] = self._ot_study.ask(fixed_distributions=self._space)
        return _unflatten(self._ot_trials[trial_id].params)

    def on_trial_result(self, trial_id, result):
        if isinstance(self._metric, list) or trial_id not in self._ot_trials:
            return  # Optuna takes no intermediate values for several objectives.
        if trial_id in self._completed_trials:
            logger.warning(f"Received additional result for trial {trial_id}, but it "
                           f"already finished. Result: {result}")
            return
        if self._metric in result and TRAINING_ITERATION in result:
            self._ot_trials[trial_id].report(result[self._metric], result[TRAINING_ITERATION])

    def on_trial_complete(self, trial_id, result=None, error=False):
        if trial_id not in self._ot_trials:
            return
        if trial_id in self._completed_trials:
            logger.warning(f"Received additional completion for trial {trial_id}, but "
                           f"it already finished. Result: {result}")
            return
        ot = _import_optuna()
        if not result:
            value = None
        elif isinstance(self._metric, list):
            value = [result.get(m) for m in self._metric]
        else:
            value = result.get(self._metric)
        state = ot.trial.TrialState.COMPLETE
        if value is None:
            state = ot.trial.TrialState.FAIL if error else ot.trial.TrialState.PRUNED
        try:
            self._ot_study.tell(self._ot_trials[trial_id], value, state=state)
        except Exception as exc:  # e.g. a NaN value
            logger.warning(exc)
        self._completed_trials.add(trial_id)

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        self._check_ready()
        ot = _import_optuna()
        state = ot.trial.TrialState.COMPLETE
        if error:
            state, value = ot.trial.TrialState.FAIL, None
        elif pruned:
            state = ot.trial.TrialState.PRUNED
        self._ot_study.add_trial(ot.trial.create_trial(
            state=state, value=value, params=_flatten(parameters),
            distributions=self._space,
            intermediate_values=dict(enumerate(intermediate_values or [])) or None))

    @staticmethod
    def convert_search_space(spec):
        """``{"a/b": optuna distribution}`` for the domains of a param_space."""
        _, domain_vars, grid_vars = parse_spec_vars(spec)
        if grid_vars:
            raise ValueError("Grid search parameters cannot be automatically converted "
                             "to an Optuna search space.")
        ot = _import_optuna()
        for path, _ in domain_vars:
            if any("/" in str(key) for key in path):
                raise ValueError(f"Found delimiter `/` in key of `{path}`: OptunaSearch "
                                 f"joins nested keys with `/`.")
        return {_path_str(path): _distribution(ot, domain) for path, domain in domain_vars}
