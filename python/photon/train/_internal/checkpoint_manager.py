"""The checkpoints a run has reported: which to keep (CheckpointConfig), the latest
one, and a snapshot in the run's folder so a run of the same name resumes."""
import json

from photon.train._checkpoint import Checkpoint
from photon.train._internal.utils import flatten_dict

SNAPSHOT_FILE = "checkpoint_manager_snapshot.json"


class CheckpointManager:
    def __init__(self, checkpoint_config, fs, run_path, snapshot=True):
        """snapshot: keep checkpoint_manager_snapshot.json in run_path (Train runs; a
        Tune experiment keeps its trials' checkpoints in its own state instead)."""
        self.config = checkpoint_config
        self.fs, self.run_path = fs, run_path
        self.snapshot = snapshot
        self.checkpoints = []  # (Checkpoint, metrics), in report order
        self.latest = None

    def _score(self, metrics):
        attr = self.config.checkpoint_score_attribute
        value = flatten_dict(metrics).get(attr)
        if value is None:
            raise ValueError(f"The checkpoint_score_attribute {attr!r} is not among the "
                             f"reported metrics {sorted(flatten_dict(metrics))}.")
        return value if self.config.checkpoint_score_order == "max" else -value

    def register(self, checkpoint, metrics):
        self.checkpoints.append((checkpoint, metrics))
        self.latest = (checkpoint, metrics)
        keep = self.config.num_to_keep
        if keep is not None and len(self.checkpoints) > keep:
            for ckpt, _ in self._worst(len(self.checkpoints) - keep):
                self.checkpoints = [(c, m) for c, m in self.checkpoints if c is not ckpt]
                if ckpt is not self.latest[0]:
                    self._delete(ckpt)
        self.save()

    def _worst(self, n):
        candidates = [(c, m) for c, m in self.checkpoints if c is not self.latest[0]]
        if self.config.checkpoint_score_attribute is None:
            return candidates[:n]
        return sorted(candidates, key=lambda cm: self._score(cm[1]))[:n]

    def _delete(self, checkpoint):
        try:
            checkpoint.filesystem.delete_dir(checkpoint.path)
        except (FileNotFoundError, OSError):
            pass

    def metrics_of(self, checkpoint):
        """The metrics reported with checkpoint (matched by path), or None."""
        for c, m in self.checkpoints:
            if c.path == checkpoint.path:
                return m
        if self.latest and self.latest[0].path == checkpoint.path:
            return self.latest[1]
        return None

    def best_checkpoints(self):
        return list(self.checkpoints)

    def save(self):
        if not self.snapshot:
            return
        state = {"checkpoints": [{"path": c.path, "metrics": m} for c, m in self.checkpoints],
                 "latest": None if self.latest is None else
                 {"path": self.latest[0].path, "metrics": self.latest[1]}}
        with self.fs.open_output_stream(f"{self.run_path}/{SNAPSHOT_FILE}") as f:
            f.write(json.dumps(state, default=repr).encode())

    def load(self):
        """Restores the snapshot of an earlier run in the same folder; False if there is none."""
        if not self.snapshot:
            return False
        try:
            with self.fs.open_input_stream(f"{self.run_path}/{SNAPSHOT_FILE}") as f:
                state = json.loads(f.readall().decode())
        except FileNotFoundError:
            return False
        self.checkpoints = [(Checkpoint(c["path"], self.fs), c["metrics"]) for c in state["checkpoints"]]
        if state["latest"]:
            self.latest = (Checkpoint(state["latest"]["path"], self.fs), state["latest"]["metrics"])
        return True
