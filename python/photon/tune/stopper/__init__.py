"""Stoppers: when a trial (or the whole experiment) stops, from RunConfig(stop=...)."""
import time


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
    """Stops a trial once result[key] >= value for any key (nested keys with '/')."""

    def __init__(self, criteria):
        self._criteria = dict(criteria)

    def __call__(self, trial_id, result):
        for key, limit in self._criteria.items():
            value = _lookup(result, key)
            if value is None:
                raise KeyError(f"Stopping criterion {key!r} is not in the trial's result; it has "
                               f"{sorted(result)}. Check RunConfig(stop=...).")
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
