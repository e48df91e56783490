"""``ConcurrencyLimiter`` (``ray.tune.search.ConcurrencyLimiter``): caps how
many of a searcher's suggestions are running at once."""
from photon.tune.search.searcher import Searcher, _Wrapper


class ConcurrencyLimiter(_Wrapper):
    """Suggests nothing while ``max_concurrent`` of the searcher's trials are
    unfinished. With batch, the searcher hears of the results only once all
    trials of a batch of max_concurrent are finished (and the next batch
    starts then). A searcher that limits its concurrency itself
    (``set_max_concurrency`` returns True) is left to do so."""

    def __init__(self, searcher, max_concurrent, batch=False):
        if not isinstance(searcher, Searcher):
            raise RuntimeError(
                f"The `ConcurrencyLimiter` only works with `Searcher` objects (got "
                f"{type(searcher)}). Please try to pass `max_concurrent` to the "
                f"search generator directly.")
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) \
                or max_concurrent < 1:
            raise ValueError(
                f"`max_concurrent` must be a positive integer, got {max_concurrent!r}.")
        self.searcher = searcher
        self.max_concurrent = max_concurrent
        self.batch = batch
        self.live_trials = set()
        self.num_unfinished_live_trials = 0
        self.cached_results = {}
        self._limit_concurrency = not searcher.set_max_concurrency(max_concurrent)

    def set_max_concurrency(self, max_concurrent):
        self.max_concurrent = max_concurrent
        return True

    def set_search_properties(self, metric, mode, config, **spec):
        self._limit_concurrency = not self.searcher.set_max_concurrency(self.max_concurrent)
        return super().set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id):
        if not self._limit_concurrency:
            return self.searcher.suggest(trial_id)
        if len(self.live_trials) >= self.max_concurrent:
            return None
        suggestion = self.searcher.suggest(trial_id)
        if suggestion is not None and suggestion != Searcher.FINISHED:
            self.live_trials.add(trial_id)
            self.num_unfinished_live_trials += 1
        return suggestion

    def on_trial_result(self, trial_id, result):
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id, result=None, error=False):
        if not self._limit_concurrency:
            self.searcher.on_trial_complete(trial_id, result=result, error=error)
            return
        if trial_id not in self.live_trials:
            return
        self.num_unfinished_live_trials -= 1
        if not self.batch:
            self.searcher.on_trial_complete(trial_id, result=result, error=error)
            self.live_trials.remove(trial_id)
            return
        self.cached_results[trial_id] = (result, error)
        if self.num_unfinished_live_trials <= 0:
            for cached_id, (cached_result, cached_error) in self.cached_results.items():
                self.searcher.on_trial_complete(
                    cached_id, result=cached_result, error=cached_error)
                self.live_trials.remove(cached_id)
            self.cached_results = {}
            self.num_unfinished_live_trials = 0
