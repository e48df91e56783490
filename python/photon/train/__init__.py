"""photon.train: distributed training with Ray Train's API (docs/train.md)."""
from photon.train._checkpoint import Checkpoint
from photon.train.backend import BackendConfig
from photon.train.config import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from photon.train.context import TrainContext
from photon.train.data_parallel_trainer import DataParallelTrainer
from photon.train.exceptions import (ControllerError, RayTrainError, TrainingFailedError,
                                     WorkerGroupError)
from photon.train.result import Result
from photon.train.train_fn_utils import get_checkpoint, get_context, get_dataset_shard, report

__all__ = ["BackendConfig", "Checkpoint", "CheckpointConfig", "ControllerError", "DataParallelTrainer",
           "FailureConfig", "RayTrainError", "Result", "RunConfig", "ScalingConfig", "TrainContext",
           "TrainingFailedError", "WorkerGroupError", "get_checkpoint", "get_context",
           "get_dataset_shard", "report"]
