"""ResultGrid: the Result of every trial of an experiment."""
import math

from photon.train._internal.utils import flatten_dict
from photon.train.result import Result

_SCOPES = ("all", "last", "avg", "last-5-avg", "last-10-avg")


def trial_result(trial, manager):
    history = [flatten_dict(r) for r in trial.metric_history]
    return Result(metrics=dict(trial.last_result) if trial.last_result else {},
                  checkpoint=trial.checkpoint, error=trial.error, path=trial.path,
                  metrics_dataframe=_pandas().DataFrame(history) if history else None,
                  best_checkpoints=manager.best_checkpoints() if manager else [])


class ResultGrid:
    def __init__(self, trials, managers, *, experiment_path, metric=None, mode=None, filesystem=None):
        self._trials = list(trials)
        self._managers = managers
        self._experiment_path = experiment_path
        self._metric, self._mode = metric, mode
        self._fs = filesystem
        self._results = [trial_result(t, managers.get(t.trial_id)) for t in self._trials]

    @property
    def experiment_path(self):
        return self._experiment_path

    @property
    def filesystem(self):
        return self._fs

    def __len__(self):
        return len(self._results)

    def __getitem__(self, i):
        return self._results[i]

    def __iter__(self):
        return iter(self._results)

    @property
    def errors(self):
        return [r.error for r in self._results if r.error is not None]

    @property
    def num_errors(self):
        return len(self.errors)

    @property
    def num_terminated(self):
        return sum(1 for t in self._trials if t.status == "TERMINATED")

    def get_best_result(self, metric=None, mode=None, scope="last", filter_nan_and_inf=True):
        if len(self._trials) == 1:
            return self._results[0]
        metric = metric or self._metric
        mode = mode or self._mode
        if not metric:
            raise ValueError("No metric is provided. Either pass in a `metric` arg to "
                             "`get_best_result` or specify a metric in the `TuneConfig` of your `Tuner`.")
        if not mode:
            raise ValueError("No mode is provided. Either pass in a `mode` arg to "
                             "`get_best_result` or specify a mode in the `TuneConfig` of your `Tuner`.")
        if mode not in ("min", "max"):
            raise ValueError(f"`mode` has to be one of [min, max], got {mode!r}.")
        if scope not in _SCOPES:
            raise ValueError(f"ExperimentAnalysis: attempting to get best trial for metric {metric} "
                             f"for scope {scope} not in {list(_SCOPES)}. If you didn't pass a "
                             f"`metric` parameter to `tune.run()`, you have to pass one when "
                             f"fetching the best trial.")
        best, best_score = None, None
        for trial, result in zip(self._trials, self._results):
            values = [flatten_dict(r).get(metric) for r in trial.metric_history]
            values = [v for v in values if isinstance(v, (int, float))]
            if filter_nan_and_inf:
                values = [v for v in values if math.isfinite(v)]
            if not values:
                continue
            score = _score(values, scope, mode)
            if best is None or (score > best_score if mode == "max" else score < best_score):
                best, best_score = result, score
        if best is None:
            msg = (f"No best trial found for the given metric: {metric}. This means that no trial "
                   "has reported this metric")
            msg += (", or all values reported for this metric are NaN. To not ignore NaN values, "
                    "you can set the `filter_nan_and_inf` arg to False." if filter_nan_and_inf else ".")
            raise RuntimeError(msg)
        return best

    def get_dataframe(self, filter_metric=None, filter_mode=None):
        if filter_mode and filter_mode not in ("min", "max"):
            raise ValueError("If set, `mode` has to be one of [min, max]")
        if filter_mode and not filter_metric:
            raise ValueError("If a `mode` is passed to `ExperimentAnalysis.dataframe(), you'll "
                             "also have to pass a `metric`!")
        rows = []
        for trial in self._trials:
            history = trial.metric_history
            if not history:
                continue
            row = history[-1]
            if filter_metric:
                scored = [r for r in history if flatten_dict(r).get(filter_metric) is not None]
                if scored:
                    pick = max if filter_mode == "max" else min
                    row = pick(scored, key=lambda r: flatten_dict(r)[filter_metric]) \
                        if filter_mode else scored[-1]
            flat = flatten_dict({k: v for k, v in row.items() if k != "config"})
            flat.update({f"config/{k}": v for k, v in flatten_dict(trial.config).items()})
            flat["logdir"] = trial.path
            rows.append(flat)
        return _pandas().DataFrame(rows)

    def __repr__(self):
        return "ResultGrid<[\n" + ",\n".join("  " + repr(r).replace("\n", "\n  ")
                                              for r in self._results) + "\n]>"


def _score(values, scope, mode):
    if scope == "last":
        return values[-1]
    if scope == "all":
        return max(values) if mode == "max" else min(values)
    if scope == "avg":
        return sum(values) / len(values)
    n = 5 if scope == "last-5-avg" else 10
    tail = values[-n:]
    return sum(tail) / len(tail)


def _pandas():
    import pandas  # only when a dataframe is asked for: trial processes never need it
    return pandas
