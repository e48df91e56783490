"""The session of one training worker or Tune trial: what report(), get_checkpoint(),
get_context() and get_dataset_shard() see inside the user's function.

The user's function runs in a thread of its actor. report() hands the result to
the actor (next_event) and waits until the actor has persisted the checkpoint
(persist) — so a run's reports are a barrier across its workers, as in Ray Train."""
import queue
import threading
import traceback

from photon.train._checkpoint import Checkpoint, copy_dir

_session = None


class _Ack:
    def __init__(self):
        self.event = threading.Event()
        self.checkpoint = None


class Session:
    """world_rank... describe the worker's place in its group; storage is the run's
    (filesystem, folder); checkpoint is the one to resume from."""

    def __init__(self, *, experiment_name, storage=None, checkpoint=None, world_rank=0,
                 world_size=1, local_rank=0, local_world_size=1, node_rank=0, dataset_shards=None,
                 trial_name=None, trial_id=None, trial_dir=None, trial_resources=None,
                 is_tune=False):
        self.experiment_name = experiment_name
        self.storage = storage
        self.checkpoint = checkpoint
        self.world_rank, self.world_size = world_rank, world_size
        self.local_rank, self.local_world_size = local_rank, local_world_size
        self.node_rank = node_rank
        self.dataset_shards = dataset_shards or {}
        self.trial_name, self.trial_id = trial_name, trial_id
        self.trial_dir, self.trial_resources = trial_dir, trial_resources
        self.is_tune = is_tune
        self._events = queue.Queue()
        self._pending = None
        self._thread = None
        self.stop_requested = threading.Event()

    # ---- the user's side ------------------------------------------------------

    def report(self, metrics, checkpoint=None, checkpoint_dir_name=None):
        if not isinstance(metrics, dict):
            raise TypeError(f"report() takes a dict of metrics, got {type(metrics).__name__}.")
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}.")
        ack = _Ack()
        self._events.put(("report", dict(metrics), checkpoint, checkpoint_dir_name, ack))
        ack.event.wait()
        if self.stop_requested.is_set():
            raise SystemExit(0)
        if ack.checkpoint is not None:
            self.checkpoint = ack.checkpoint

    # ---- the actor's side -----------------------------------------------------

    def start(self, fn, *args):
        """Runs fn(*args) in a thread; its end is the last event."""
        def run():
            global _session
            _session = self
            try:
                value = fn(*args)
                self._events.put(("done", value))
            except SystemExit:
                self._events.put(("done", None))
            except BaseException as e:  # noqa: BLE001 - every error goes back to the controller
                self._events.put(("error", e, traceback.format_exc()))

        global _session
        _session = self
        self._thread = threading.Thread(target=run, name="photon-train-fn", daemon=True)
        self._thread.start()

    def next_event(self, timeout=None):
        """The next ("report", metrics, has_checkpoint, dir_name), ("done", value) or
        ("error", exception, traceback text); None if nothing came within timeout."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if event[0] == "report":
            _, metrics, checkpoint, dir_name, ack = event
            self._pending = (checkpoint, ack)
            return ("report", metrics, checkpoint is not None, dir_name)
        return event

    def pending_checkpoint(self):
        """The checkpoint of the report next_event returned (or None)."""
        return self._pending[0] if self._pending else None

    def persist(self, fs=None, path=None):
        """Copies the pending report's checkpoint to path on fs (if it has one and a path
        is given), releases the user's function, and returns the persisted Checkpoint."""
        checkpoint, ack = self._pending
        self._pending = None
        persisted = None
        if checkpoint is not None and path is not None:
            persisted = persist_checkpoint(checkpoint, fs, path)
        ack.checkpoint = persisted
        ack.event.set()
        return persisted

    def request_stop(self):
        self.stop_requested.set()
        if self._pending is not None:
            self._pending[1].event.set()


def persist_checkpoint(checkpoint, fs, path):
    """The checkpoint copied to path on fs (not copied if it is already there)."""
    if checkpoint.path.rstrip("/") == path.rstrip("/") and checkpoint.filesystem.type_name == fs.type_name:
        return checkpoint
    copy_dir(checkpoint.filesystem, checkpoint.path, fs, path)
    return Checkpoint(path, fs)


def get_session():
    return _session


def set_session(session):
    global _session
    _session = session
