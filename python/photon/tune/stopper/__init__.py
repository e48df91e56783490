"""Stoppers: when a trial (or the whole experiment) stops, from RunConfig(stop=...)."""
import logging
import math
import time

logger = logging.getLogger(__name__)


class Stopper:
    def __call__(self, trial_id, result):
        """True to stop the trial that reported result."""
        return False

    def stop_all(self):
        """True to stop the whole experiment."""
        return False


class NoopStopper(Stopper):
    pass


class FunctionStopper(Stopper):
    def __init__(self, function):
        self._fn = function

    def __call__(self, trial_id, result):
        return bool(self._fn(trial_id, result))

    @classmethod
    def is_valid_function(cls, fn):
        return callable(fn) and not isinstance(fn, Stopper)


class DictStopper(Stopper):
    """Stops a trial once result[key] >= value for any key (nested keys with '/'); a key
    the results lack is skipped, with one warning (as Ray)."""

    def __init__(self, criteria):
        for key in criteria:
            if isinstance(key, dict):
                raise ValueError("Stopping criteria is now flattened by default. Use forward "
                                 "slashes to nest values `key1/key2/key3`.")
        self._criteria = dict(criteria)
        self._warned = set()

    def __call__(self, trial_id, result):
        for key, limit in self._criteria.items():
            value = _lookup(result, key)
            if value is None:
                if key not in self._warned:
                    self._warned.add(key)
                    logger.warning("Stopping criterion %r not found in the trial's result "
                                   "(keys: %s); it is ignored.", key, sorted(result))
                continue
            if value >= limit:
                return True
        return False


def _lookup(result, key):
    if key in result:
        return result[key]
    node = result
    for part in key.split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class MaximumIterationStopper(Stopper):
    def __init__(self, max_iter):
        self._max_iter = max_iter

    def __call__(self, trial_id, result):
        return result.get("training_iteration", 0) >= self._max_iter


class TimeoutStopper(Stopper):
    """Stops the experiment timeout seconds (a number or a datetime.timedelta) after it began."""

    def __init__(self, timeout):
        seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
        if not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"`timeout` must be a positive number of seconds, got {timeout!r}.")
        self._deadline = time.monotonic() + seconds

    def stop_all(self):
        return time.monotonic() >= self._deadline


class TrialPlateauStopper(Stopper):
    """Stops a trial once the std of its last num_results values of metric is at most
    std (after grace_period results; and, if set, once metric passes metric_threshold
    in mode's direction)."""

    def __init__(self, metric, std=0.01, num_results=4, grace_period=4, metric_threshold=None,
                 mode=None):
        if metric_threshold is not None and mode not in ("min", "max"):
            raise ValueError("When specifying a `metric_threshold`, the `mode` argument has to "
                             "be one of [min, max]")
        self._metric, self._std = metric, std
        self._num_results, self._grace = num_results, grace_period
        self._threshold, self._mode = metric_threshold, mode
        self._values, self._counts = {}, {}

    def __call__(self, trial_id, result):
        value = result.get(self._metric)
        if value is None:
            return False
        self._counts[trial_id] = self._counts.get(trial_id, 0) + 1
        window = self._values.setdefault(trial_id, [])
        window.append(value)
        del window[:-self._num_results]
        if self._counts[trial_id] < self._grace or len(window) < self._num_results:
            return False
        if self._threshold is not None:
            if self._mode == "min" and value > self._threshold:
                return False
            if self._mode == "max" and value < self._threshold:
                return False
        mean = sum(window) / len(window)
        return math.sqrt(sum((v - mean) ** 2 for v in window) / len(window)) <= self._std


class ExperimentPlateauStopper(Stopper):
    """Stops the experiment once the std of the top_k best values of metric seen so far
    is at most std for patience results in a row."""

    def __init__(self, metric, std=0.001, top=10, mode="min", patience=0):
        if mode not in ("min", "max"):
            raise ValueError("The mode parameter can only be either min or max.")
        if not isinstance(top, int) or top <= 1:
            raise ValueError("Top results to consider must be a positive integer > 1.")
        if not isinstance(patience, int) or patience < 0:
            raise ValueError("Patience must be a strictly positive integer.")
        self._metric, self._std, self._top, self._mode = metric, std, top, mode
        self._patience = patience
        self._best = []
        self._iterations = 0
        self._stop = False

    def __call__(self, trial_id, result):
        value = result.get(self._metric)
        if value is None:
            return self._stop
        self._best.append(value)
        self._best.sort(reverse=self._mode == "max")
        del self._best[self._top:]
        if len(self._best) == self._top:
            mean = sum(self._best) / self._top
            std = math.sqrt(sum((v - mean) ** 2 for v in self._best) / self._top)
            self._iterations = self._iterations + 1 if std <= self._std else 0
            self._stop = self._iterations > self._patience
        return self._stop

    def stop_all(self):
        return self._stop


class CombinedStopper(Stopper):
    def __init__(self, *stoppers):
        self._stoppers = stoppers

    def __call__(self, trial_id, result):
        return any(s(trial_id, result) for s in self._stoppers)

    def stop_all(self):
        return any(s.stop_all() for s in self._stoppers)


def create_stopper(stop):
    if stop is None:
        return NoopStopper()
    if isinstance(stop, Stopper):
        return stop
    if isinstance(stop, dict):
        return DictStopper(stop)
    if callable(stop):
        return FunctionStopper(stop)
    raise ValueError(f"Invalid stop criteria: {stop!r}. Must be a dict, a callable "
                     "(trial_id, result) -> bool, or a tune.Stopper.")
