"""The median stopping rule of Google Vizier (https://research.google.com/pubs/pub46180.html)."""
import numpy as np

from photon.tune.experiment.trial import Trial
from photon.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler, _require


class MedianStoppingRule(FIFOScheduler):
    """Stops a trial at time t (past grace_period) when its best metric so far
    is worse than the median, over the other trials that reached t, of their
    mean metric between grace_period and t. With fewer than
    min_samples_required such trials it yields (PAUSE) to waiting trials, at
    most once every min_time_slice; with hard_stop=False it pauses instead of
    stopping."""

    _metric_needs_mode = True

    def __init__(self, time_attr="time_total_s", metric=None, mode=None, grace_period=60.0,
                 min_samples_required=3, min_time_slice=0, hard_stop=True):
        if mode:
            _require(mode in ("min", "max"), "`mode` must be 'min' or 'max'.")
        self._time_attr = time_attr
        self._metric = metric
        self._mode = mode
        self._grace_period = grace_period
        self._min_samples_required = min_samples_required
        self._min_time_slice = min_time_slice
        self._hard_stop = hard_stop
        self._results = {}  # trial_id -> its results, in order
        self._stopped_trials = set()
        self._last_pause = {}  # trial_id -> time of its last yield

    def set_search_properties(self, metric, mode, **spec):
        # As Ray: once the Tuner has been asked, a metric without a mode is minimized.
        if not super().set_search_properties(metric, mode, **spec):
            return False
        if self._metric:
            self._mode = self._mode or "min"
        return True

    def on_trial_add(self, controller, trial):
        self._require_metric_and_mode()

    def on_trial_result(self, controller, trial, result):
        if self._time_attr not in result or self._metric not in result:
            return TrialScheduler.CONTINUE
        if trial.trial_id in self._stopped_trials:
            return TrialScheduler.CONTINUE
        time = result[self._time_attr]
        self._results.setdefault(trial.trial_id, []).append(result)
        if time < self._grace_period:
            return TrialScheduler.CONTINUE
        means = [self._running_mean(other, time) for other, results in self._results.items()
                 if other != trial.trial_id and results[-1][self._time_attr] >= time]
        means = [m for m in means if np.isfinite(m)]
        if len(means) < self._min_samples_required:
            since_pause = time - self._last_pause.get(trial.trial_id, -np.inf)
            if since_pause > self._min_time_slice and any(
                    t.status in (Trial.PENDING, Trial.PAUSED) for t in controller.get_trials()):
                self._last_pause[trial.trial_id] = time
                return TrialScheduler.PAUSE
            return TrialScheduler.CONTINUE
        best = self._compare_op([r[self._metric] for r in self._results[trial.trial_id]])
        if self._compare_op(np.median(means), best) != best:
            self._stopped_trials.add(trial.trial_id)
            return TrialScheduler.STOP if self._hard_stop else TrialScheduler.PAUSE
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, controller, trial, result):
        if self._time_attr in result and self._metric in result:
            self._results.setdefault(trial.trial_id, []).append(result)

    @property
    def _compare_op(self):
        return max if self._mode == "max" else min

    def _running_mean(self, trial_id, time):
        scoped = [r[self._metric] for r in self._results[trial_id]
                  if self._grace_period <= r[self._time_attr] <= time]
        return np.mean(scoped) if scoped else np.nan

    def debug_string(self):
        return f"Using MedianStoppingRule: num_stopped={len(self._stopped_trials)}."
