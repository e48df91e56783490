"""The interface between the Tune controller and a trial scheduler, and the
first-in-first-out scheduler that every other scheduler builds on."""
import cloudpickle

from photon.tune.experiment.trial import Trial

# The metric name used when a scheduler is given a mode but no metric (Ray's).
DEFAULT_METRIC = "_metric"


def _require(condition, message):
    # Ray validates arguments with `assert`; raise the same error, even under -O.
    if not condition:
        raise AssertionError(message)


class TrialScheduler:
    """Decides, on each result, whether a trial continues, pauses or stops, and
    which waiting trial the controller starts next."""

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"
    NOOP = "NOOP"  # the scheduler already acted on the trial through the controller

    _metric = None
    _mode = None
    # True: a missing metric becomes DEFAULT_METRIC only when a mode is given.
    _metric_needs_mode = False

    @property
    def metric(self):
        return self._metric

    @property
    def mode(self):
        return self._mode

    def set_search_properties(self, metric, mode, **spec):
        """Take the Tuner's metric and mode; False if this scheduler was already given
        its own (as Ray: even equal ones conflict)."""
        if (metric and self._metric is not None and self._metric != DEFAULT_METRIC) or \
                (mode and self._mode is not None):
            return False
        self._metric = self._metric or metric
        self._mode = self._mode or mode
        if self._metric is None and (self._mode or not self._metric_needs_mode):
            self._metric = DEFAULT_METRIC
        return True

    def _require_metric_and_mode(self):
        if not self._metric or not self._mode:
            raise ValueError(
                f"{type(self).__name__} has been instantiated without a valid "
                f"`metric` ({self._metric}) or `mode` ({self._mode}) parameter. "
                "Either pass these parameters when instantiating the scheduler, "
                "or pass them as parameters to `tune.TuneConfig()`")

    def _score(self, result):
        """The result's metric, signed so that higher is better."""
        value = result[self._metric]
        return value if self._mode == "max" else -value

    def on_trial_add(self, controller, trial):
        raise NotImplementedError

    def on_trial_result(self, controller, trial, result):
        """CONTINUE, PAUSE, STOP or NOOP for this trial."""
        raise NotImplementedError

    def on_trial_complete(self, controller, trial, result):
        raise NotImplementedError

    def on_trial_error(self, controller, trial):
        raise NotImplementedError

    def on_trial_remove(self, controller, trial):
        """A PENDING or PAUSED trial was stopped."""
        raise NotImplementedError

    def choose_trial_to_run(self, controller):
        """A PENDING or PAUSED trial of the controller to start next, or None."""
        raise NotImplementedError

    def debug_string(self):
        raise NotImplementedError

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            cloudpickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(cloudpickle.load(f))


class FIFOScheduler(TrialScheduler):
    """Runs every trial to completion, in the order they were added."""

    def on_trial_add(self, controller, trial):
        pass

    def on_trial_result(self, controller, trial, result):
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, controller, trial, result):
        pass

    def on_trial_error(self, controller, trial):
        pass

    def on_trial_remove(self, controller, trial):
        pass

    def choose_trial_to_run(self, controller):
        trials = controller.get_trials()
        for status in (Trial.PENDING, Trial.PAUSED):
            for trial in trials:
                if trial.status == status:
                    return trial
        return None

    def debug_string(self):
        return "Using FIFO scheduling algorithm."
