"""The interface between the Tuner's controller and a search algorithm
(``ray.tune.search.SearchAlgorithm``).

The controller calls, in order::

    search_alg.set_search_properties(metric, mode, param_space)   # may return False
    search_alg.add_configurations(param_space, num_samples)       # once
    while not search_alg.is_finished():
        suggestion = search_alg.next_trial(trial_id)   # None: ask again later
        ...  # then on_trial_result / on_trial_complete for the trials it made

``next_trial`` returns ``(config, experiment_tag, evaluated_params)``; the
controller prefixes the tag with the trial's index (``f"{index}_{tag}"``).
"""
import copy


class SearchAlgorithm:
    """Suggests the configs of new trials and hears of their results."""

    _finished = False
    _metric = None

    @property
    def metric(self):
        return self._metric

    def set_search_properties(self, metric, mode, config, **spec):
        """Passes the Tuner's metric, mode and param_space; False if the
        algorithm already has them (e.g. its own search space)."""
        if self._metric and metric:
            return False
        if metric:
            self._metric = metric
        return True

    @property
    def total_samples(self):
        """How many trials will be suggested (0 if not known)."""
        return 0

    def add_configurations(self, param_space, num_samples):
        """Registers the search space; called once before the run."""
        raise NotImplementedError

    def next_trial(self, trial_id):
        """``(config, experiment_tag_without_index, evaluated_params)`` for a new
        trial named ``trial_id``, or None if nothing can be suggested now."""
        raise NotImplementedError

    def on_trial_result(self, trial_id, result):
        """An intermediate result of a running trial."""

    def on_trial_complete(self, trial_id, result=None, error=False):
        """A trial ended: its last result (None if there is none), and whether
        it failed."""

    def is_finished(self):
        """True once no more trials will be suggested."""
        return self._finished

    def set_finished(self):
        self._finished = True

    def get_state(self):
        """A picklable dict from which set_state resumes the search."""
        return copy.deepcopy(self.__dict__)

    def set_state(self, state):
        self.__dict__.update(copy.deepcopy(state))
