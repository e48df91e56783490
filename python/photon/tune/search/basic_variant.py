"""The default search algorithm (``ray.tune.search.BasicVariantGenerator``):
random and grid search over the Tuner's param_space."""
import copy

from photon.tune.search.sample import _rng
from photon.tune.search.search_algorithm import SearchAlgorithm
from photon.tune.search.variant_generator import (
    _apply_preset, _count_grid_variants, _flatten_resolved_vars, format_vars,
    generate_variants)


class BasicVariantGenerator(SearchAlgorithm):
    """Makes ``num_samples`` samples of the search space; each sample is one
    trial per combination of the grid_search values, its random values drawn
    anew (or, with constant_grid_search, drawn once for all combinations).

    points_to_evaluate: (partial) configs run first, each taking the place of
        one sample; the keys they leave out are filled from the search space.
    max_concurrent: at most this many of its trials unfinished at a time
        (0: no limit).
    random_state: an int seed or a numpy Generator/RandomState, for
        repeatable configs (None: the global ``np.random``).
    """

    def __init__(self, points_to_evaluate=None, max_concurrent=0,
                 constant_grid_search=False, random_state=None):
        self._points_to_evaluate = list(points_to_evaluate or [])
        self.max_concurrent = max_concurrent
        self._constant_grid_search = constant_grid_search
        self._random_state = None if random_state is None else _rng(random_state)
        self._space = {}
        self._presets = []          # the spaces of the points not started yet
        self._samples_left = 0
        self._variants = []         # (resolved_vars, config) of the current sample
        self._live_trials = set()
        self._total_samples = 0

    @property
    def total_samples(self):
        return self._total_samples

    def add_configurations(self, param_space, num_samples=1):
        self._space = copy.deepcopy(param_space or {})
        self._presets = [_apply_preset(self._space, point)
                         for point in self._points_to_evaluate]
        self._samples_left = max(num_samples - len(self._presets), 0)
        self._total_samples = (
            sum(_count_grid_variants(spec) for spec in self._presets)
            + self._samples_left * _count_grid_variants(self._space))

    def next_trial(self, trial_id):
        if 0 < self.max_concurrent <= len(self._live_trials):
            return None
        while not self._variants:
            if self._presets:
                spec = self._presets.pop(0)
            elif self._samples_left > 0:
                spec = self._space
                self._samples_left -= 1
            else:
                return None
            self._variants = list(generate_variants(
                spec, self._constant_grid_search, self._random_state))
        resolved_vars, config = self._variants.pop(0)
        self._live_trials.add(trial_id)
        return config, format_vars(resolved_vars), _flatten_resolved_vars(resolved_vars)

    def is_finished(self):
        return not (self._variants or self._presets or self._samples_left)

    def on_trial_complete(self, trial_id, result=None, error=False):
        self._live_trials.discard(trial_id)
