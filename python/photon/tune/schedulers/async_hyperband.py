"""Asynchronous successive halving (ASHA, https://arxiv.org/abs/1810.05934)."""
import numpy as np

from photon.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler, _require


class AsyncHyperBandScheduler(FIFOScheduler):
    """Stops a trial reaching a rung (grace_period * reduction_factor**k units of
    time_attr) when its metric is below the (1 - 1/reduction_factor) quantile of
    the values recorded at that rung; trials are spread over `brackets`, the
    bracket with most rungs being the most likely."""

    _metric_needs_mode = True

    def __init__(self, time_attr="training_iteration", metric=None, mode=None,
                 max_t=100, grace_period=1, reduction_factor=4, brackets=1,
                 stop_last_trials=True):
        _require(max_t > 0, "Max (time_attr) not valid!")
        _require(max_t >= grace_period, "grace_period must be <= max_t!")
        _require(grace_period > 0, "grace_period must be positive!")
        _require(reduction_factor > 1, "Reduction Factor not valid!")
        _require(brackets > 0, "brackets must be positive!")
        if mode:
            _require(mode in ("min", "max"), "`mode` must be 'min' or 'max'!")
        self._time_attr = time_attr
        self._metric = metric
        self._mode = mode
        self._max_t = max_t
        self._stop_last_trials = stop_last_trials
        self._brackets = [_Bracket(grace_period, max_t, reduction_factor, s, stop_last_trials)
                          for s in range(brackets)]
        self._trial_bracket = {}  # trial_id -> _Bracket
        self._num_stopped = 0

    def on_trial_add(self, controller, trial):
        self._require_metric_and_mode()
        sizes = np.array([len(b.rungs) for b in self._brackets])
        weights = np.exp(sizes - sizes.max())
        index = np.random.choice(len(self._brackets), p=weights / weights.sum())
        self._trial_bracket[trial.trial_id] = self._brackets[index]

    def on_trial_result(self, controller, trial, result):
        if self._time_attr not in result or self._metric not in result:
            return TrialScheduler.CONTINUE
        if self._stop_last_trials and result[self._time_attr] >= self._max_t:
            action = TrialScheduler.STOP
        else:
            action = self._trial_bracket[trial.trial_id].on_result(
                trial.trial_id, result[self._time_attr], self._score(result))
        if action == TrialScheduler.STOP:
            self._num_stopped += 1
        return action

    def on_trial_complete(self, controller, trial, result):
        bracket = self._trial_bracket.pop(trial.trial_id, None)
        if bracket and self._time_attr in result and self._metric in result:
            bracket.on_result(trial.trial_id, result[self._time_attr], self._score(result))

    def on_trial_remove(self, controller, trial):
        self._trial_bracket.pop(trial.trial_id, None)

    def debug_string(self):
        return "\n".join([f"Using AsyncHyperBand: num_stopped={self._num_stopped}"] +
                         [b.debug_str() for b in self._brackets])


class _Bracket:
    """The rungs of one bracket, highest first, each with the (signed) metric
    recorded there per trial."""

    def __init__(self, min_t, max_t, reduction_factor, s, stop_last_trials):
        self.rf = reduction_factor
        num_rungs = int(np.log(max_t / min_t) / np.log(reduction_factor) - s + 1)
        self.rungs = [(min_t * reduction_factor ** (k + s), {})
                      for k in reversed(range(num_rungs))]
        self._stop_last_trials = stop_last_trials

    def cutoff(self, recorded):
        if not recorded:
            return None
        return np.nanpercentile(list(recorded.values()), (1 - 1 / self.rf) * 100)

    def on_result(self, trial_id, t, score):
        for milestone, recorded in self.rungs:
            if t < milestone:
                continue
            if trial_id in recorded:
                if self._stop_last_trials:
                    continue
                break
            cutoff = self.cutoff(recorded)
            recorded[trial_id] = score
            if cutoff is not None and score < cutoff:
                return TrialScheduler.STOP
            break
        return TrialScheduler.CONTINUE

    def debug_str(self):
        return "Bracket: " + " | ".join(
            f"Iter {milestone:.3f}: {self.cutoff(recorded)}" for milestone, recorded in self.rungs)


ASHAScheduler = AsyncHyperBandScheduler
