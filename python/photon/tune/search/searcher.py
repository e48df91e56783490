"""The base class of suggestion algorithms (``ray.tune.search.Searcher``).

A Searcher suggests one config at a time (``suggest``) and learns from the
results; ``SearchGenerator`` adapts it to the controller's SearchAlgorithm
interface, and ``ConcurrencyLimiter`` and ``Repeater`` wrap one.
"""
import copy
import glob
import os
import pickle

import cloudpickle

UNRESOLVED_SEARCH_SPACE = (
    "You passed a `{par}` parameter to {cls} that contained unresolved search "
    "space definitions. {cls} should however be instantiated with fully "
    "configured search spaces only. To use Ray Tune's automatic search space "
    "conversion, pass the space definition as part of the `param_space` argument "
    "to `tune.Tuner()` instead.")
UNDEFINED_SEARCH_SPACE = (
    "Trying to sample a configuration from {cls}, but no search space has been "
    "defined. Either pass the `{space}` argument when instantiating the search "
    "algorithm, or pass a `param_space` to `tune.Tuner()`.")
UNDEFINED_METRIC_MODE = (
    "Trying to sample a configuration from {cls}, but the `metric` ({metric}) or "
    "`mode` ({mode}) parameters have not been set. Either pass these arguments "
    "when instantiating the search algorithm, or pass them to `tune.TuneConfig()`.")


def _check_metric_mode(metric, mode):
    if isinstance(mode, str):
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` must be 'min' or 'max', got {mode!r}.")
    elif isinstance(mode, list):
        if not isinstance(metric, list) or len(metric) != len(mode):
            raise ValueError("`metric` and `mode` must be lists of the same length.")
        if any(m not in ("min", "max", "obs") for m in mode):
            raise ValueError(f"Each `mode` must be 'min', 'max' or 'obs', got {mode}.")
    else:
        raise ValueError(f"`mode` must be a str or a list, got {mode!r}.")


class Searcher:
    """Suggests configs (``suggest``) and learns from the trials' results.

    Subclasses implement ``suggest(trial_id)``, returning a config dict, None
    (nothing to suggest now) or ``Searcher.FINISHED``, and
    ``on_trial_complete``; ``set_search_properties`` receives the Tuner's
    metric, mode and param_space.
    """

    FINISHED = "FINISHED"
    CKPT_FILE_TMPL = "searcher-state-{}.pkl"

    def __init__(self, metric=None, mode=None):
        if metric and mode:
            _check_metric_mode(metric, mode)
        self._metric = metric
        self._mode = mode

    @property
    def metric(self):
        return self._metric

    @property
    def mode(self):
        return self._mode

    def set_search_properties(self, metric, mode, config, **spec):
        """Takes the Tuner's metric, mode and param_space; returns False if the
        searcher cannot (e.g. it already has a search space)."""
        return False

    def suggest(self, trial_id):
        raise NotImplementedError

    def on_trial_result(self, trial_id, result):
        """An intermediate result (it may lack the metric)."""

    def on_trial_complete(self, trial_id, result=None, error=False):
        raise NotImplementedError

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        """Tells the searcher the result of a config evaluated elsewhere."""
        raise NotImplementedError

    def set_max_concurrency(self, max_concurrent):
        """True if the searcher limits its concurrency itself (then
        ConcurrencyLimiter leaves it to it)."""
        return False

    def get_state(self):
        return copy.deepcopy(self.__dict__)

    def set_state(self, state):
        self.__dict__.update(copy.deepcopy(state))

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            cloudpickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

    def save_to_dir(self, checkpoint_dir, session_str="default"):
        path = os.path.join(checkpoint_dir, self.CKPT_FILE_TMPL.format(session_str))
        self.save(path + ".tmp")
        os.replace(path + ".tmp", path)

    def restore_from_dir(self, checkpoint_dir):
        paths = glob.glob(os.path.join(checkpoint_dir, self.CKPT_FILE_TMPL.format("*")))
        if not paths:
            raise RuntimeError(f"Searcher unable to find checkpoint in {checkpoint_dir}")
        self.restore(max(paths))


class _Wrapper(Searcher):
    """A Searcher around another one (``self.searcher``), whose metric, mode,
    search properties and saved file it shares."""

    @property
    def metric(self):
        return self.searcher.metric

    @property
    def mode(self):
        return self.searcher.mode

    def set_search_properties(self, metric, mode, config, **spec):
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        return self.searcher.add_evaluated_point(parameters, value, error, pruned,
                                                 intermediate_values)

    def get_state(self):
        """The wrapper's own state, without the wrapped searcher's."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "searcher"})

    def save(self, checkpoint_path):
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path):
        self.searcher.restore(checkpoint_path)
