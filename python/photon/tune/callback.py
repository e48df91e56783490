"""tune.Callback: hooks into the experiment's loop (RunConfig(callbacks=[...]))."""


class Callback:
    """Override any of these; each gets keyword arguments as Ray Tune passes them
    (iteration: the loop's step count, trials: every trial so far)."""

    def setup(self, stop=None, num_samples=None, total_num_samples=None, **info):
        pass

    def on_step_begin(self, iteration, trials, **info):
        pass

    def on_step_end(self, iteration, trials, **info):
        pass

    def on_trial_start(self, iteration, trials, trial, **info):
        pass

    def on_trial_restore(self, iteration, trials, trial, **info):
        pass

    def on_trial_save(self, iteration, trials, trial, **info):
        pass

    def on_trial_result(self, iteration, trials, trial, result, **info):
        pass

    def on_trial_complete(self, iteration, trials, trial, **info):
        pass

    def on_trial_recover(self, iteration, trials, trial, **info):
        pass

    def on_trial_error(self, iteration, trials, trial, **info):
        pass

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        pass

    def on_experiment_end(self, trials, **info):
        pass


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks):
        for cb in callbacks or []:
            if not isinstance(cb, Callback):
                raise TypeError(f"RunConfig(callbacks=...) takes tune.Callback instances, got "
                                f"{type(cb).__name__}.")
        self._callbacks = list(callbacks or [])

    def __getattr__(self, hook):
        if not hook.startswith(("on_", "setup")):
            raise AttributeError(hook)

        def call(**kwargs):
            for cb in self._callbacks:
                getattr(cb, hook)(**kwargs)
        return call
