"""Run, scaling, checkpoint and failure configuration shared by photon.train and photon.tune."""
import dataclasses
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

DEFAULT_STORAGE_PATH = "~/photon_results"


@dataclasses.dataclass
class ScalingConfig:
    """How many training workers to run and what each reserves."""
    num_workers: int = 1
    use_gpu: bool = False
    resources_per_worker: Optional[Dict[str, float]] = None
    placement_strategy: str = "PACK"
    trainer_resources: Optional[Dict[str, float]] = None
    accelerator_type: Optional[str] = None

    def __post_init__(self):
        if not isinstance(self.num_workers, int) or isinstance(self.num_workers, bool) or self.num_workers < 1:
            raise ValueError(f"`num_workers` must be a positive integer, got {self.num_workers!r}.")
        if self.placement_strategy not in ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"):
            raise ValueError(f"Invalid placement_strategy {self.placement_strategy!r}: expected "
                             "one of PACK, SPREAD, STRICT_PACK, STRICT_SPREAD.")
        resources = self.resources_per_worker or {}
        if any(not isinstance(v, (int, float)) or v < 0 for v in resources.values()):
            raise ValueError(f"`resources_per_worker` must map resource names to non-negative "
                             f"numbers, got {resources!r}.")
        if self.use_gpu and resources.get("GPU", 1) == 0:
            raise ValueError("`use_gpu` is True but `resources_per_worker` sets GPU to 0.")

    @property
    def num_cpus_per_worker(self):
        return self._resources_per_worker.get("CPU", 0)

    @property
    def num_gpus_per_worker(self):
        return self._resources_per_worker.get("GPU", 0)

    @property
    def _resources_per_worker(self):
        resources = dict(self.resources_per_worker or {})
        if self.resources_per_worker is None or "CPU" not in resources:
            resources.setdefault("CPU", 1)
        if self.use_gpu:
            resources.setdefault("GPU", 1)
        return {k: v for k, v in resources.items() if v}

    def as_bundles(self):
        return [dict(self._resources_per_worker) for _ in range(self.num_workers)]


@dataclasses.dataclass
class CheckpointConfig:
    """Which reported checkpoints are kept: the best num_to_keep by checkpoint_score_attribute
    (or the latest ones when it is None)."""
    num_to_keep: Optional[int] = None
    checkpoint_score_attribute: Optional[str] = None
    checkpoint_score_order: str = "max"
    checkpoint_frequency: int = 0
    checkpoint_at_end: Optional[bool] = None

    def __post_init__(self):
        if self.num_to_keep is not None and (not isinstance(self.num_to_keep, int) or self.num_to_keep < 1):
            raise ValueError(f"Received invalid num_to_keep: {self.num_to_keep}. "
                             "Must be None or an integer >= 1.")
        if self.checkpoint_score_order not in ("max", "min"):
            raise ValueError(f"checkpoint_score_order must be either 'max' or 'min', "
                             f"got {self.checkpoint_score_order!r}.")
        if not isinstance(self.checkpoint_frequency, int) or self.checkpoint_frequency < 0:
            raise ValueError(f"checkpoint_frequency must be an integer >= 0, got "
                             f"{self.checkpoint_frequency!r}.")


@dataclasses.dataclass
class FailureConfig:
    """max_failures: how many times a failed trial or training run is retried from its
    latest checkpoint (-1: without limit). fail_fast: stop the whole experiment on the
    first trial error."""
    max_failures: int = 0
    fail_fast: Union[bool, str] = False

    def __post_init__(self):
        if not isinstance(self.max_failures, int) or self.max_failures < -1:
            raise ValueError(f"max_failures must be an integer >= -1, got {self.max_failures!r}.")
        if self.fail_fast not in (True, False, "raise"):
            raise ValueError(f"fail_fast must be one of {{bool, 'raise'}}, got {self.fail_fast!r}.")


@dataclasses.dataclass
class RunConfig:
    """Where a run keeps its results and checkpoints, and how it stops and recovers."""
    name: Optional[str] = None
    storage_path: Optional[str] = None
    storage_filesystem: Any = None
    failure_config: Optional[FailureConfig] = None
    checkpoint_config: Optional[CheckpointConfig] = None
    stop: Optional[Union[Mapping, Callable, Any]] = None
    callbacks: Optional[List[Any]] = None
    verbose: Optional[int] = None
    progress_reporter: Any = None
    log_to_file: Union[bool, str] = False
    sync_config: Any = None
    worker_runtime_env: Optional[dict] = None

    def __post_init__(self):
        if self.failure_config is None:
            self.failure_config = FailureConfig()
        if self.checkpoint_config is None:
            self.checkpoint_config = CheckpointConfig()
        if not isinstance(self.failure_config, FailureConfig):
            raise ValueError(f"Invalid `FailureConfig` type: {type(self.failure_config)}.")
        if not isinstance(self.checkpoint_config, CheckpointConfig):
            raise ValueError(f"Invalid `CheckpointConfig` type: {type(self.checkpoint_config)}.")
        if self.storage_path is not None:
            self.storage_path = os.fspath(self.storage_path)

    def resolved_storage_path(self):
        return self.storage_path or DEFAULT_STORAGE_PATH
