"""The errors a training run ends with, with Ray Train's names."""


class RayTrainError(Exception):
    """The base of photon.train's errors (Ray's name)."""


class TrainingFailedError(RayTrainError):
    """The run failed (after its FailureConfig's retries)."""


class WorkerGroupError(TrainingFailedError):
    """Training workers failed: worker_failures maps each failed rank to its error."""

    def __init__(self, error_message, worker_failures):
        super().__init__("Training failed due to worker errors:\n" + error_message)
        self._error_message = error_message
        self.worker_failures = worker_failures

    def __reduce__(self):
        return (self.__class__, (self._error_message, self.worker_failures))


class ControllerError(TrainingFailedError):
    """The run's controller failed (e.g. its placement group could not be created)."""

    def __init__(self, controller_failure):
        super().__init__(f"Training failed due to controller error:\n{controller_failure}")
        self.controller_failure = controller_failure

    def __reduce__(self):
        return (self.__class__, (self.controller_failure,))
