"""One trial of an experiment: its config, its state and its results, as the
controller, the schedulers and the search algorithms see it."""
import uuid


class Trial:
    """A single run of the trainable with one config.

    status moves PENDING -> RUNNING -> (PAUSED -> RUNNING)* -> TERMINATED | ERROR.
    Schedulers and searchers read trial_id, config, status, last_result,
    checkpoint (the latest persisted photon.train.Checkpoint, or None) and
    experiment_tag; only the controller changes them (PBT changes config and
    experiment_tag through the controller's exploit_trial)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"

    def __init__(self, trainable_name, config, trial_id=None, experiment_tag="",
                 evaluated_params=None, resources=None, stopping_criterion=None,
                 max_failures=0, path=None):
        self.trainable_name = trainable_name
        self.config = config
        self.trial_id = trial_id or uuid.uuid4().hex[:8]
        self.experiment_tag = experiment_tag
        self.evaluated_params = evaluated_params or {}
        self.resources = resources
        self.stopping_criterion = stopping_criterion or {}
        self.max_failures = max_failures
        self.path = path
        self.status = Trial.PENDING
        self.last_result = {}
        self.metric_history = []
        self.checkpoint = None
        self.num_failures = 0
        self.error = None
        self.error_file = None
        self.checkpoints_deleted = 0
        self.checkpoint_metrics = None  # the result reported with checkpoint
        self.kept_checkpoints = []  # (Checkpoint, metrics) that num_to_keep keeps
        self.csv_columns = None

    @property
    def local_path(self):
        return self.path

    def is_finished(self):
        return self.status in (Trial.TERMINATED, Trial.ERROR)

    def __repr__(self):
        return f"{self.trainable_name}_{self.trial_id}"

    def __str__(self):
        return repr(self)
