"""photon.tune: hyperparameter search with Ray Tune's API (docs/tune.md)."""
from photon.train._checkpoint import Checkpoint
from photon.train.config import CheckpointConfig, FailureConfig, RunConfig
from photon.train.result import Result
from photon.tune.analysis import ExperimentAnalysis
from photon.tune.callback import Callback
from photon.tune.context import TuneContext, get_context
from photon.tune.error import TuneError
from photon.tune.execution.placement_groups import PlacementGroupFactory
from photon.tune.progress_reporter import CLIReporter
from photon.tune.registry import register_env, register_trainable
from photon.tune.result_grid import ResultGrid
from photon.tune.schedulers import create_scheduler
from photon.tune.search import create_searcher, grid_search
from photon.tune.search.sample import (
    choice,
    lograndint,
    loguniform,
    qlograndint,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    sample_from,
    uniform,
)
from photon.tune.stopper import Stopper
from photon.tune.trainable import Trainable, with_parameters, with_resources
from photon.tune.trainable.trainable_fn_utils import get_checkpoint, report
from photon.tune.tune_config import TuneConfig
from photon.tune.tune import run
from photon.tune.tuner import Tuner

__all__ = [
    "CLIReporter", "Callback", "Checkpoint", "ExperimentAnalysis", "CheckpointConfig", "FailureConfig", "PlacementGroupFactory",
    "Result", "ResultGrid", "RunConfig", "Stopper", "Trainable", "TuneConfig", "TuneContext",
    "TuneError", "Tuner", "choice", "create_scheduler", "create_searcher", "get_checkpoint",
    "get_context", "grid_search", "lograndint", "loguniform", "qlograndint", "qloguniform",
    "qrandint", "qrandn", "quniform", "randint", "randn", "register_env", "register_trainable",
    "report", "run", "sample_from", "uniform", "with_parameters", "with_resources",
]
