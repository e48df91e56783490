"""Synchronous HyperBand (https://arxiv.org/abs/1603.06560) as Ray Tune runs it."""
import collections

import numpy as np

from photon.tune.experiment.trial import Trial
from photon.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler, _require


class HyperBandScheduler(FIFOScheduler):
    """Groups trials into brackets of successive halving. A trial reaching its
    bracket's milestone pauses until every live trial of the bracket has
    reached it; then the best 1/reduction_factor continue to the next
    milestone and the others stop.

    Trials fill the brackets of a band in turn (s = 0, 1, ..., at most
    s_max + 1 = round(log(max_t) / log(reduction_factor)) + 1 brackets);
    bracket s holds ceil((s_max + 1) / (s + 1) * reduction_factor**s) trials,
    its first milestone is max_t / reduction_factor**s and it halves s times."""

    _metric_needs_mode = True

    def __init__(self, time_attr="training_iteration", metric=None, mode=None,
                 max_t=81, reduction_factor=3, stop_last_trials=True):
        _require(max_t > 0, "Max (time_attr) not valid!")
        if mode:
            _require(mode in ("min", "max"), "`mode` must be 'min' or 'max'!")
        self._time_attr = time_attr
        self._metric = metric
        self._mode = mode
        self._max_t = max_t
        self._eta = reduction_factor
        self._s_max_1 = int(np.round(np.log(max_t) / np.log(reduction_factor))) + 1
        self._stop_last_trials = stop_last_trials
        self._bands = [[]]
        self._trial_bracket = {}  # Trial -> _Bracket
        self._num_stopped = 0
        self._processing = False

    def on_trial_add(self, controller, trial):
        self._require_metric_and_mode()
        band = self._bands[-1]
        if not band or band[-1].filled():
            s = len(band)
            if s == self._s_max_1 or int(self._max_t * self._eta ** -s) == 0:
                band, s = [], 0
                self._bands.append(band)
            band.append(_Bracket(
                self._time_attr, int(np.ceil(self._s_max_1 / (s + 1) * self._eta ** s)),
                int(self._max_t * self._eta ** -s), self._max_t, self._eta, s,
                self._stop_last_trials))
        band[-1].add_trial(trial)
        self._trial_bracket[trial] = band[-1]

    def on_trial_result(self, controller, trial, result):
        if self._time_attr not in result or self._metric not in result:
            return TrialScheduler.CONTINUE
        bracket = self._trial_bracket[trial]
        bracket.update_trial_stats(trial, result)
        if bracket.continue_trial(trial):
            return TrialScheduler.CONTINUE
        return self._process_bracket(controller, bracket, trial)

    def _process_bracket(self, controller, bracket, current=None):
        """Once every live trial of the bracket reached its milestone: halve it,
        stop the losers and queue the paused winners to resume. Returns the
        decision for `current`, the trial whose result is being processed."""
        if not bracket.cur_iter_done():
            return TrialScheduler.PAUSE
        self._processing = True  # the controller's stop_trial calls on_trial_remove
        try:
            if bracket.finished():
                good, stop = [], bracket.current_trials()
            else:
                good, stop = bracket.successive_halving(self._score)
                self._num_stopped += len(stop)
            for t in stop:
                bracket.cleanup_trial(t)
            action = TrialScheduler.PAUSE
            for t in good:
                if bracket.continue_trial(t):
                    if t is current:
                        action = TrialScheduler.CONTINUE
                    else:
                        bracket.trials_to_unpause.add(t)
                elif bracket.finished():
                    bracket.cleanup_trial(t)
                    stop.append(t)
            for t in stop:
                if t is current:
                    action = TrialScheduler.STOP
                else:
                    controller.stop_trial(t)
            return action
        finally:
            self._processing = False

    def on_trial_remove(self, controller, trial):
        bracket = self._trial_bracket.get(trial)
        if bracket is None:
            return
        bracket.cleanup_trial(trial)
        if not self._processing and bracket.current_trials():
            self._process_bracket(controller, bracket)

    def on_trial_complete(self, controller, trial, result):
        self.on_trial_remove(controller, trial)

    def on_trial_error(self, controller, trial):
        self.on_trial_remove(controller, trial)

    def choose_trial_to_run(self, controller):
        for band in self._bands:
            for bracket in sorted(band, key=lambda b: b.completion_percentage()):
                for trial in bracket.current_trials():
                    if trial.status == Trial.PENDING or (
                            trial.status == Trial.PAUSED and trial in bracket.trials_to_unpause):
                        return trial
        return None

    def debug_string(self):
        # As Ray, a band counts as full (s_max + 1 brackets) once the next one started.
        total = self._s_max_1 * (len(self._bands) - 1) + len(self._bands[-1])
        lines = [f"Using HyperBand: num_stopped={self._num_stopped} total_brackets={total}"]
        for i, band in enumerate(self._bands):
            lines.append(f"Round #{i}:")
            lines.extend(f"  {bracket}" for bracket in band)
        return "\n".join(lines)


class _Bracket:
    """One bracket: its live trials with their last result, the number of
    trials to keep (n) and the current milestone (r)."""

    def __init__(self, time_attr, max_trials, init_t, max_t, eta, s, stop_last_trials):
        self._time_attr = time_attr
        self._live_trials = {}
        self._all_trials = []
        self._n = max_trials
        self._r = init_t
        self._max_t = max_t
        self._eta = eta
        self._halves = s
        self._stop_last_trials = stop_last_trials
        self._total_work = self._calculate_total_work(max_trials, init_t, s)
        self._completed_progress = 0
        self.trials_to_unpause = set()

    def add_trial(self, trial):
        self._live_trials[trial] = None
        self._all_trials.append(trial)

    def current_trials(self):
        return list(self._live_trials)

    def filled(self):
        return len(self._live_trials) == self._n

    def _time(self, result):
        return 0 if result is None else result[self._time_attr]

    def cur_iter_done(self):
        return all(self._time(r) >= self._r for r in self._live_trials.values())

    def finished(self):
        return self._stop_last_trials and self._halves == 0 and self.cur_iter_done()

    def continue_trial(self, trial):
        if not self._stop_last_trials and self._halves == 0:
            return True
        return self._time(self._live_trials[trial]) < self._r

    def successive_halving(self, score):
        """(trials to keep, trials to stop); moves to the next milestone."""
        if self._halves == 0:  # only without stop_last_trials: nobody stops
            return self.current_trials(), []
        self._halves -= 1
        self._n = int(np.ceil(self._n / self._eta))
        self._r = int(min(self._r * self._eta, self._max_t))
        ranked = sorted(self._live_trials, key=lambda t: score(self._live_trials[t]))
        return ranked[-self._n:], ranked[:-self._n]

    def update_trial_stats(self, trial, result):
        self._completed_progress += self._time(result) - self._time(self._live_trials[trial])
        self._live_trials[trial] = result
        self.trials_to_unpause.discard(trial)

    def cleanup_trial(self, trial):
        self._live_trials.pop(trial, None)
        self.trials_to_unpause.discard(trial)

    def completion_percentage(self):
        if self.finished():
            return 1.0
        return min(self._completed_progress / self._total_work, 1.0)

    def _calculate_total_work(self, n, r, s):
        work, first_r = 0, r
        for _ in range(s + 1):
            work += int(n) * int(r)
            n = int(np.ceil(n / self._eta))
            r = int(min(r * self._eta, self._max_t - first_r))
        return work

    def __repr__(self):
        counts = collections.Counter(t.status for t in self._all_trials)
        statuses = ", ".join(sorted(f"{k}: {v}" for k, v in counts.items()))
        return (f"Bracket(Max Size (n)={self._n}, Milestone (r)={self._r}, "
                f"completed={self.completion_percentage():.1%}): {{{statuses}}} ")
