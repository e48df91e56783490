"""ExperimentAnalysis: what tune.run returns — the trials of an experiment and the best of them."""
from photon.train._internal.utils import flatten_dict


class ExperimentAnalysis:
    def __init__(self, result_grid, trials, default_metric=None, default_mode=None):
        self._grid = result_grid
        self.trials = list(trials)
        self.default_metric, self.default_mode = default_metric, default_mode

    @property
    def experiment_path(self):
        return self._grid.experiment_path

    def _metric_mode(self, metric, mode):
        metric, mode = metric or self.default_metric, mode or self.default_mode
        if not metric or not mode:
            raise ValueError("To fetch the best trial, pass a `metric` and `mode` parameter to "
                             "`tune.run()` (or to this method).")
        return metric, mode

    def _result_of(self, trial):
        return self._grid[self.trials.index(trial)]

    def get_best_trial(self, metric=None, mode=None, scope="last", filter_nan_and_inf=True):
        metric, mode = self._metric_mode(metric, mode)
        try:
            best = self._grid.get_best_result(metric, mode, scope, filter_nan_and_inf)
        except RuntimeError:
            return None
        return next(t for t, r in zip(self.trials, self._grid) if r is best)

    def get_best_config(self, metric=None, mode=None, scope="last"):
        trial = self.get_best_trial(metric, mode, scope)
        return trial.config if trial else None

    def get_best_checkpoint(self, trial, metric=None, mode=None):
        metric, mode = self._metric_mode(metric, mode)
        return self._result_of(trial).get_best_checkpoint(metric, mode)

    @property
    def best_trial(self):
        return self.get_best_trial()

    @property
    def best_config(self):
        return self.get_best_config()

    @property
    def best_result(self):
        return self.best_trial.last_result

    @property
    def best_checkpoint(self):
        return self.get_best_checkpoint(self.best_trial)

    @property
    def best_logdir(self):
        return self.best_trial.path

    @property
    def best_result_df(self):
        return _pandas().DataFrame([flatten_dict(self.best_result)])

    @property
    def results(self):
        return {t.trial_id: t.last_result for t in self.trials}

    @property
    def results_df(self):
        return _pandas().DataFrame([flatten_dict(t.last_result) for t in self.trials if t.last_result],
                            index=[t.trial_id for t in self.trials if t.last_result])

    def dataframe(self, metric=None, mode=None):
        return self._grid.get_dataframe(metric, mode)

    @property
    def trial_dataframes(self):
        return {t.path: r.metrics_dataframe for t, r in zip(self.trials, self._grid)}

    def get_all_configs(self, prefix=False):
        return {t.path: ({f"config/{k}": v for k, v in flatten_dict(t.config).items()} if prefix
                         else t.config) for t in self.trials}


def _pandas():
    import pandas  # only when a dataframe is asked for: trial processes never need it
    return pandas
