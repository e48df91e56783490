"""Result: what a training run or a Tune trial ended with."""
import dataclasses
import json
from typing import Any, Dict, List, Optional, Tuple

import pyarrow.fs

from photon.train._checkpoint import Checkpoint, resolve_filesystem
from photon.train._internal.checkpoint_manager import CheckpointManager
from photon.train._internal.utils import flatten_dict
from photon.train.config import CheckpointConfig


@dataclasses.dataclass
class Result:
    metrics: Optional[Dict[str, Any]]
    checkpoint: Optional[Checkpoint]
    error: Optional[BaseException]
    path: str
    metrics_dataframe: Any = None
    best_checkpoints: List[Tuple[Checkpoint, Dict[str, Any]]] = dataclasses.field(default_factory=list)
    _storage_filesystem: Any = None

    @property
    def filesystem(self):
        return self._storage_filesystem or pyarrow.fs.LocalFileSystem()

    @property
    def config(self):
        return (self.metrics or {}).get("config")

    def get_best_checkpoint(self, metric, mode):
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        scored = [(c, m[metric]) for c, m in self.best_checkpoints if metric in m]
        if not scored:
            if self.best_checkpoints:
                raise RuntimeError(f"No checkpoint has the metric {metric!r} among its metrics.")
            return None
        pick = max if mode == "max" else min
        return pick(scored, key=lambda cv: cv[1])[0]

    @classmethod
    def from_path(cls, path, storage_filesystem=None):
        """The Result of the run or trial whose folder is path (its result.json /
        checkpoint snapshot)."""
        fs, fs_path = resolve_filesystem(path, storage_filesystem)
        if fs.get_file_info(fs_path).type == pyarrow.fs.FileType.NotFound:
            raise RuntimeError(f"Trial folder {path} does not exist.")
        return _load_result(fs, fs_path)

    def __repr__(self):
        shown = {k: v for k, v in (self.metrics or {}).items() if k != "config"}
        parts = [f"metrics={shown}", f"path={self.path!r}", f"filesystem={self.filesystem.type_name!r}",
                 f"checkpoint={self.checkpoint}"]
        if self.error:
            parts.insert(0, f"error={self.error!r}")
        return "Result(\n  " + ",\n  ".join(parts) + "\n)"


def _load_result(fs, path):
    """Reads a trial folder (result.json lines, progress.csv) or a train run folder."""
    rows = []
    try:
        with fs.open_input_stream(f"{path}/result.json") as f:
            rows = [json.loads(line) for line in f.readall().decode().splitlines() if line.strip()]
    except FileNotFoundError:
        pass
    manager = CheckpointManager(CheckpointConfig(), fs, path)
    manager.load()
    checkpoint = manager.latest[0] if manager.latest else None
    metrics = rows[-1] if rows else (manager.latest[1] if manager.latest else None)
    return Result(metrics=metrics, checkpoint=checkpoint, error=None, path=path,
                  metrics_dataframe=_dataframe(rows),
                  best_checkpoints=manager.best_checkpoints(), _storage_filesystem=fs)


def _dataframe(rows):
    if not rows:
        return None
    import pandas as pd
    return pd.DataFrame([flatten_dict(r) for r in rows])
