"""``Repeater`` (``ray.tune.search.Repeater``): runs each suggestion of a
searcher several times and reports the mean of the metric back to it."""
import copy
import logging
import math

from photon.tune.search.searcher import Searcher, _Wrapper

logger = logging.getLogger(__name__)

TRIAL_INDEX = "__trial_index__"


def _warn_num_samples(searcher, num_samples):
    if isinstance(searcher, Repeater) and num_samples % searcher.repeat:
        logger.warning(
            "`num_samples` is now expected to be the total number of trials, "
            "including the repeat trials. For example, set num_samples=15 if you "
            "intend to obtain 3 search algorithm suggestions and repeat each "
            "suggestion 5 times. Any leftover trials (num_samples mod repeat) "
            "will be ignored.")


class _TrialGroup:
    """The trials running one suggestion; the first one is the one the
    searcher knows."""

    def __init__(self, primary_trial_id, config, max_trials):
        self.primary_trial_id = primary_trial_id
        self.config = config
        self.max_trials = max_trials
        self.scores = {primary_trial_id: None}

    def full(self):
        return len(self.scores) >= self.max_trials

    def finished_reporting(self):
        return self.full() and None not in self.scores.values()


class Repeater(_Wrapper):
    """Each suggestion of ``searcher`` becomes ``repeat`` trials (numbered 0..
    repeat-1 in ``config["__trial_index__"]`` when set_index); once all have
    finished, the searcher gets the mean of their metric (NaN ignored) for
    the first one. num_samples counts all the trials, repeats included."""

    def __init__(self, searcher, repeat=1, set_index=True):
        self.searcher = searcher
        self.repeat = repeat
        self._set_index = set_index
        self._trial_id_to_group = {}
        self._current_group = None

    def suggest(self, trial_id):
        group = self._current_group
        if group is None or group.full():
            config = self.searcher.suggest(trial_id)
            if config is None or config == Searcher.FINISHED:
                return config
            group = self._current_group = _TrialGroup(
                trial_id, copy.deepcopy(config), self.repeat)
        else:
            group.scores[trial_id] = None
        config = copy.deepcopy(group.config)
        if self._set_index:
            config[TRIAL_INDEX] = len(group.scores) - 1
        self._trial_id_to_group[trial_id] = group
        return config

    def on_trial_complete(self, trial_id, result=None, error=False):
        group = self._trial_id_to_group.get(trial_id)
        if group is None:
            logger.error(f"Trial {trial_id} not in group; cannot report score. "
                         f"Seen trials: {list(self._trial_id_to_group)}")
            return
        metric = self.searcher.metric
        group.scores[trial_id] = result[metric] if result and metric in result else math.nan
        if group.finished_reporting():
            scores = [s for s in group.scores.values() if not math.isnan(s)]
            mean = sum(scores) / len(scores) if scores else math.nan
            self.searcher.on_trial_complete(
                group.primary_trial_id, result={metric: mean}, error=error)
