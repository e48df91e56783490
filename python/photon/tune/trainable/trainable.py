"""The class trainable API: setup / step / save_checkpoint / load_checkpoint."""
import copy
import os
import pickle
import platform
import socket
import time
from datetime import datetime

from photon.train._checkpoint import Checkpoint

_DICT_FILE = "_dict_checkpoint.pkl"


def auto_fill(result, *, trial_id, iteration, iterations_since_restore, time_this_iter,
              time_total, time_since_restore, config):
    """result with the fields Tune adds to every result."""
    now = time.time()
    result = dict(result)
    result.setdefault("done", False)
    result.setdefault("checkpoint_dir_name", None)
    result.update(training_iteration=iteration, trial_id=trial_id,
                  date=datetime.today().strftime("%Y-%m-%d_%H-%M-%S"), timestamp=int(now),
                  time_this_iter_s=time_this_iter, time_total_s=time_total, pid=os.getpid(),
                  hostname=platform.node(), node_ip=_node_ip(), config=config,
                  time_since_restore=time_since_restore,
                  iterations_since_restore=iterations_since_restore)
    return result


def _node_ip():
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


class Trainable:
    """Subclass with setup(config), step() -> dict of metrics, and (to be checkpointed,
    paused or exploited) save_checkpoint(dir) / load_checkpoint(dict or dir)."""

    def __init__(self, config=None, logger_creator=None, storage=None, *, _trial_info=None):
        self.config = config or {}
        info = _trial_info or {}
        self._trial_id = info.get("trial_id", "default")
        self._trial_name = info.get("trial_name", "default")
        self._trial_dir = info.get("trial_dir")
        self._trial_resources = info.get("resources")
        self._iteration = 0
        self._time_total = 0.0
        self._iterations_since_restore = 0
        self._time_since_restore = 0.0
        self.setup(copy.deepcopy(self.config))

    # ---- for subclasses --------------------------------------------------------

    def setup(self, config):
        pass

    def step(self):
        raise NotImplementedError("A Trainable subclass must implement step().")

    def save_checkpoint(self, checkpoint_dir):
        return None

    def load_checkpoint(self, checkpoint):
        pass

    def cleanup(self):
        pass

    def reset_config(self, new_config):
        return False

    @classmethod
    def default_resource_request(cls, config):
        return None

    # ---- properties ------------------------------------------------------------

    @property
    def iteration(self):
        return self._iteration

    @property
    def training_iteration(self):
        return self._iteration

    @property
    def trial_id(self):
        return self._trial_id

    @property
    def trial_name(self):
        return self._trial_name

    @property
    def logdir(self):
        return self._trial_dir

    @property
    def trial_resources(self):
        return self._trial_resources

    # ---- driven by the trial's actor ------------------------------------------

    def train(self):
        start = time.time()
        result = self.step()
        if not isinstance(result, dict):
            raise ValueError(f"step() needs to return a dict of metrics, got {type(result).__name__}.")
        took = time.time() - start
        self._iteration += 1
        self._iterations_since_restore += 1
        self._time_total += took
        self._time_since_restore += took
        return auto_fill(result, trial_id=self._trial_id, iteration=self._iteration,
                         iterations_since_restore=self._iterations_since_restore,
                         time_this_iter=took, time_total=self._time_total,
                         time_since_restore=self._time_since_restore, config=self.config)

    def save(self, checkpoint_dir):
        """Saves into checkpoint_dir; returns the Checkpoint."""
        os.makedirs(checkpoint_dir, exist_ok=True)
        state = self.save_checkpoint(checkpoint_dir)
        if isinstance(state, dict):
            with open(os.path.join(checkpoint_dir, _DICT_FILE), "wb") as f:
                pickle.dump(state, f)
        elif state is not None and os.path.abspath(str(state)) != os.path.abspath(checkpoint_dir):
            raise ValueError("save_checkpoint() must return None, a dict, or the checkpoint "
                             f"directory it was given; got {state!r}.")
        return Checkpoint.from_directory(checkpoint_dir)

    def restore(self, checkpoint):
        if not isinstance(checkpoint, Checkpoint):
            checkpoint = Checkpoint.from_directory(checkpoint)
        with checkpoint.as_directory() as d:
            dict_file = os.path.join(d, _DICT_FILE)
            if os.path.exists(dict_file):
                with open(dict_file, "rb") as f:
                    self.load_checkpoint(pickle.load(f))
            else:
                self.load_checkpoint(d)
        self._iterations_since_restore = 0
        self._time_since_restore = 0.0

    def stop(self):
        self.cleanup()
