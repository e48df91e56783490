"""The actor that runs one trial: a Trainable subclass driven step by step, or a
function trainable running in a thread whose reports come back one per train() call."""
import inspect
import os
import tempfile
import time

from photon.train._internal.session import Session, persist_checkpoint
from photon.tune.trainable.trainable import Trainable, auto_fill


def is_class_trainable(trainable):
    return inspect.isclass(trainable) and issubclass(trainable, Trainable)


class TrialActor:
    """info: trial_id, trial_name, trial_dir, experiment_name, resources, fs (the trial
    folder's filesystem), checkpoint_index (the next checkpoint's number), and
    iteration / time_total: the counters at the checkpoint restored from."""

    def __init__(self, trainable, config, info, checkpoint):
        self._info = info
        self._fs, self._dir = info["fs"], info["trial_dir"]
        self._index = info.get("checkpoint_index", 0)
        self._config = config
        self._iteration = info.get("iteration", 0)
        self._time_total = info.get("time_total", 0.0)
        self._since_restore = 0
        self._start = self._last = time.time()
        if is_class_trainable(trainable):
            self._obj = trainable(config, _trial_info=info)
            if checkpoint is not None:
                self._obj.restore(checkpoint)
                self._obj._iteration, self._obj._time_total = self._iteration, self._time_total
            self._session = None
        else:
            self._obj = None
            self._session = Session(
                experiment_name=info["experiment_name"], storage=(self._fs, self._dir),
                checkpoint=checkpoint, trial_name=info["trial_name"], trial_id=info["trial_id"],
                trial_dir=self._dir, trial_resources=info.get("resources"), is_tune=True)
            takes_config = _takes_argument(trainable)
            self._session.start(trainable, *((config,) if takes_config else ()))

    def _next_checkpoint_path(self):
        path = f"{self._dir}/checkpoint_{self._index:06d}"
        self._index += 1
        return path

    def train(self):
        """(result, persisted Checkpoint or None), or (None, None) when the function returned."""
        if self._obj is not None:
            return self._obj.train(), None
        event = self._session.next_event()
        if event[0] == "done":
            return None, None
        if event[0] == "error":
            raise event[1]
        _, metrics, has_checkpoint, _ = event
        persisted = None
        if has_checkpoint:
            pending = self._session.pending_checkpoint()
            inside = pending.path.startswith(self._dir.rstrip("/") + "/")
            path = pending.path if inside else self._next_checkpoint_path()
            persisted = self._session.persist(self._fs, path)
        else:
            self._session.persist()
        now = time.time()
        self._iteration += 1
        self._since_restore += 1
        took, self._last = now - self._last, now
        self._time_total += took
        result = auto_fill(metrics, trial_id=self._info["trial_id"], iteration=self._iteration,
                           iterations_since_restore=self._since_restore, time_this_iter=took,
                           time_total=self._time_total, time_since_restore=now - self._start,
                           config=self._config)
        if persisted is not None:
            result["checkpoint_dir_name"] = os.path.basename(persisted.path)
            result["should_checkpoint"] = True
        return result, persisted

    def save(self):
        """A new checkpoint of a class trainable (None for a function trainable)."""
        if self._obj is None:
            return None
        path = self._next_checkpoint_path()
        if self._fs.type_name == "local":
            return _checkpoint_of(self._obj.save(path))
        with tempfile.TemporaryDirectory() as local:
            return persist_checkpoint(_checkpoint_of(self._obj.save(local)), self._fs, path)

    def stop(self):
        if self._obj is not None:
            self._obj.stop()
        else:
            self._session.request_stop()


def _takes_argument(fn):
    try:
        return len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        return True


def _checkpoint_of(saved):
    """The Checkpoint a trainable's save() made (an RLlib Algorithm returns a
    TrainingResult holding it)."""
    return getattr(saved, "checkpoint", saved)
