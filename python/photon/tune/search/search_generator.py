"""``SearchGenerator`` (``ray.tune.search.SearchGenerator``): the controller's
SearchAlgorithm interface on top of a Searcher."""
import copy

from photon.tune.search.repeater import _warn_num_samples
from photon.tune.search.search_algorithm import SearchAlgorithm
from photon.tune.search.searcher import Searcher
from photon.tune.search.variant_generator import (
    _flatten_resolved_vars, _resolve_nested_dict, format_vars)


def _merge_dicts(base, updates):
    """A deep copy of ``base`` with ``updates`` merged in, nested dicts key by key."""
    merged = copy.deepcopy(base)
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_dicts(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _searcher_chain(searcher):
    """The searcher and the ones it wraps, outermost first."""
    chain = [searcher]
    while hasattr(chain[-1], "searcher"):
        chain.append(chain[-1].searcher)
    return chain


class SearchGenerator(SearchAlgorithm):
    """Asks ``searcher`` for the config of each new trial, up to num_samples
    trials (or until it returns ``Searcher.FINISHED``), and passes it the
    trials' results. A trial's config is the param_space with the suggestion
    merged in; its tag lists all the config's values."""

    def __init__(self, searcher):
        if not isinstance(searcher, Searcher):
            raise TypeError(f"SearchGenerator needs a Searcher, got {type(searcher)}.")
        self.searcher = searcher
        self._space = {}
        self._counter = 0
        self._total_samples = 0
        self._finished = False

    @property
    def metric(self):
        return self.searcher.metric

    def set_search_properties(self, metric, mode, config, **spec):
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    @property
    def total_samples(self):
        return self._total_samples

    def add_configurations(self, param_space, num_samples=1):
        self._space = copy.deepcopy(param_space or {})
        self._total_samples = num_samples
        _warn_num_samples(self.searcher, num_samples)

    def next_trial(self, trial_id):
        if self.is_finished():
            return None
        suggestion = self.searcher.suggest(trial_id)
        if suggestion is None:
            return None
        if suggestion == Searcher.FINISHED:
            self._finished = True
            return None
        config = _merge_dicts(self._space, suggestion)
        self._counter += 1
        return (config, format_vars(_resolve_nested_dict(config)),
                _flatten_resolved_vars(_resolve_nested_dict(suggestion)))

    def on_trial_result(self, trial_id, result):
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    def is_finished(self):
        return self._finished or self._counter >= self._total_samples

    def get_state(self):
        """Its own state and, outermost first, that of each wrapped searcher."""
        return {"counter": self._counter, "total_samples": self._total_samples,
                "finished": self._finished, "space": copy.deepcopy(self._space),
                "searchers": [s.get_state() for s in _searcher_chain(self.searcher)]}

    def set_state(self, state):
        self._counter = state["counter"]
        self._total_samples = state["total_samples"]
        self._finished = state["finished"]
        self._space = copy.deepcopy(state["space"])
        for searcher, searcher_state in zip(_searcher_chain(self.searcher), state["searchers"]):
            searcher.set_state(searcher_state)
