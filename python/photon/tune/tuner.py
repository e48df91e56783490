"""Tuner: runs an experiment of trials over a search space and returns a ResultGrid."""
import copy
import importlib

import cloudpickle
import pyarrow.fs

from photon.train._checkpoint import resolve_filesystem
from photon.train._internal.session import get_session
from photon.train._internal.utils import date_str
from photon.train.config import RunConfig
from photon.train.data_parallel_trainer import DataParallelTrainer
from photon.tune import registry
from photon.tune.execution.placement_groups import PlacementGroupFactory
from photon.tune.execution.trial_actor import is_class_trainable
from photon.tune.execution.tune_controller import EXPERIMENT_STATE_FILE, TuneController, load_state
from photon.tune.experiment.trial import Trial
from photon.tune.progress_reporter import CLIReporter
from photon.tune.registry import get_trainable
from photon.tune.result_grid import ResultGrid
from photon.tune.schedulers.trial_scheduler import FIFOScheduler
from photon.tune.search.basic_variant import BasicVariantGenerator
from photon.tune.search.search_algorithm import SearchAlgorithm
from photon.tune.search.search_generator import SearchGenerator
from photon.tune.search.searcher import Searcher
from photon.tune.search.variant_generator import parse_spec_vars
from photon.tune.stopper import create_stopper
from photon.tune.tune_config import TuneConfig
from photon.util.placement_group import get_current_placement_group

TUNER_FILE = "tuner.pkl"
_TRAINER_KEYS = ("train_loop_config", "scaling_config", "datasets", "torch_config")


def _trainer_trainable(trainer):
    """A function trainable running trainer in the trial's folder, each of its reports a
    trial result; param_space keys train_loop_config, scaling_config... override the trainer's."""

    def run(config):
        t = copy.copy(trainer)
        for key in _TRAINER_KEYS:
            if key in config:
                value = config[key]
                if key == "train_loop_config":
                    value = {**(trainer.train_loop_config or {}), **value}
                if key == "torch_config":
                    t.backend_config = value
                else:
                    setattr(t, key, value)
        session = get_session()
        fs, trial_dir = session.storage
        result = t._run(run_path=trial_dir, fs=fs, placement_group=get_current_placement_group(),
                        on_report=lambda metrics, ckpt: session.report(metrics, checkpoint=ckpt))
        if result.error is not None:
            raise result.error

    def resources(config):
        scaling = config.get("scaling_config", trainer.scaling_config)
        return PlacementGroupFactory([{}] + scaling.as_bundles(), strategy=scaling.placement_strategy)

    run.__name__ = type(trainer).__name__
    run._photon_resources = resources
    return run


# Names of RLlib's algorithms, registered when photon.rllib is imported.
_RLLIB_ALGORITHMS = ("PPO", "DQN")


def _resolve_trainable(trainable):
    if isinstance(trainable, str):
        if trainable in _RLLIB_ALGORITHMS:
            importlib.import_module("photon.rllib")  # registers them (loaded on use: torch)
        trainable = get_trainable(trainable)
    if isinstance(trainable, DataParallelTrainer):
        return _trainer_trainable(trainable)
    if is_class_trainable(trainable) or callable(trainable):
        return trainable
    raise TypeError(f"The trainable must be a function, a tune.Trainable subclass, a Trainer or "
                    f"a registered name; got {type(trainable).__name__}.")


def _trainable_name(trainable):
    return getattr(trainable, "__name__", type(trainable).__name__)


class Tuner:
    def __init__(self, trainable=None, *, param_space=None, tune_config=None, run_config=None,
                 _restore_state=None):
        if trainable is None:
            raise TypeError("Tuner needs a trainable (a function, a Trainable class or a Trainer).")
        if hasattr(param_space, "to_dict") and not isinstance(param_space, dict):
            param_space = param_space.to_dict()  # an RLlib AlgorithmConfig
        if param_space is not None and not isinstance(param_space, dict):
            raise TypeError(f"param_space must be a dict, got {type(param_space).__name__}.")
        tune_config = tune_config if tune_config is not None else TuneConfig()
        run_config = run_config if run_config is not None else RunConfig()
        if not isinstance(tune_config, TuneConfig):
            raise ValueError(f"tune_config must be a TuneConfig, got {type(tune_config).__name__}.")
        if not isinstance(run_config, RunConfig):
            raise ValueError(f"run_config must be a RunConfig, got {type(run_config).__name__}.")
        self._original_trainable = trainable
        self._trainable = _resolve_trainable(trainable)
        self._param_space = param_space or {}
        self._tune_config = tune_config
        self._run_config = run_config
        self._restore_state = _restore_state
        self._results = None
        self._experiment_name = run_config.name or (
            _restore_state["experiment_name"] if _restore_state else
            f"{_trainable_name(self._trainable)}_{date_str()}")
        self._fs, root = resolve_filesystem(run_config.resolved_storage_path(),
                                            run_config.storage_filesystem)
        self._experiment_path = f"{root}/{self._experiment_name}"

    # ---- running --------------------------------------------------------------

    def fit(self):
        registry.publish()  # environments registered before init, for the trials
        tc, rc = self._tune_config, self._run_config
        search_alg = tc.search_alg if tc.search_alg is not None else BasicVariantGenerator()
        if isinstance(search_alg, Searcher):
            search_alg = SearchGenerator(search_alg)
        if not isinstance(search_alg, SearchAlgorithm):
            raise ValueError(f"search_alg must be a Searcher or a SearchAlgorithm, got "
                             f"{type(search_alg).__name__}.")
        scheduler = tc.scheduler if tc.scheduler is not None else FIFOScheduler()
        if not search_alg.set_search_properties(tc.metric, tc.mode, self._param_space) and \
                parse_spec_vars(self._param_space)[1]:
            raise ValueError(
                "You passed a `param_space` parameter to `tune.Tuner()` with unresolved parameters, "
                f"but the search algorithm {type(search_alg).__name__} was already instantiated "
                "with a search space. Make sure that `param_space` has no search space definitions.")
        search_alg.add_configurations(self._param_space, tc.num_samples)
        if self._restore_state is None:
            if not scheduler.set_search_properties(tc.metric, tc.mode):
                raise ValueError(
                    "You passed a `metric` or `mode` argument to `Tuner(...)`, but the scheduler "
                    "you are using was already instantiated with their own `metric` and `mode` "
                    "parameters. Either remove the arguments from your scheduler or from "
                    "`Tuner(...)` args.")
            trials = []
        else:
            search_alg.set_state(self._restore_state["search_alg"])
            scheduler = self._restore_state["scheduler"]
            trials = self._restore_state["trials"]
        self._fs.create_dir(self._experiment_path, recursive=True)
        self._save_tuner()
        reporter = rc.progress_reporter or CLIReporter(
            verbose=1 if rc.verbose is None else rc.verbose, metric=tc.metric, mode=tc.mode)
        controller = TuneController(
            trainable=self._trainable, trainable_name=_trainable_name(self._trainable),
            experiment_name=self._experiment_name, fs=self._fs,
            experiment_path=self._experiment_path, search_alg=search_alg, scheduler=scheduler,
            stopper=create_stopper(rc.stop), run_config=rc, tune_config=tc, reporter=reporter,
            trials=trials)
        if self._restore_state is not None:
            controller.restore_prefix(self._restore_state["prefix"])
        controller.run()
        self._results = ResultGrid(controller.get_trials(), controller._managers,
                                   experiment_path=self._experiment_path, metric=tc.metric,
                                   mode=tc.mode, filesystem=self._fs)
        return self._results

    def get_results(self):
        if self._results is None:
            if self._restore_state is None:
                raise RuntimeError("`get_results()` needs a finished `fit()` or a restored Tuner.")
            return ResultGrid(self._restore_state["trials"], {}, experiment_path=self._experiment_path,
                              metric=self._tune_config.metric, mode=self._tune_config.mode,
                              filesystem=self._fs)
        return self._results

    def _save_tuner(self):
        state = {"param_space": self._param_space, "tune_config": self._tune_config,
                 "run_config": self._run_config, "trainable_name": _trainable_name(self._trainable)}
        with self._fs.open_output_stream(f"{self._experiment_path}/{TUNER_FILE}") as f:
            f.write(cloudpickle.dumps(state))

    # ---- resuming -------------------------------------------------------------

    @classmethod
    def can_restore(cls, path, storage_filesystem=None):
        fs, p = resolve_filesystem(path, storage_filesystem)
        return fs.get_file_info(f"{p}/{TUNER_FILE}").type == pyarrow.fs.FileType.File

    @classmethod
    def restore(cls, path, trainable, resume_unfinished=True, resume_errored=False,
                restart_errored=False, param_space=None, storage_filesystem=None, _resume_config=None):
        """The Tuner of the interrupted experiment in path: finished trials keep their
        results, unfinished ones resume from their latest checkpoint."""
        fs, p = resolve_filesystem(path, storage_filesystem)
        if not cls.can_restore(p, fs):
            raise FileNotFoundError(f"Could not find a Tuner state in {path}: no {TUNER_FILE} "
                                    "there. Pass the experiment folder (storage_path/name).")
        with fs.open_input_stream(f"{p}/{TUNER_FILE}") as f:
            saved = cloudpickle.loads(f.readall())
        try:
            state = load_state(fs, p)
        except FileNotFoundError:
            state = {"trials": [], "search_alg": None, "scheduler": FIFOScheduler(), "prefix": None,
                     "experiment_name": p.rstrip("/").rsplit("/", 1)[-1]}
        for trial in state["trials"]:
            if trial.status in (Trial.RUNNING, Trial.PENDING, Trial.PAUSED):
                trial.status = Trial.PENDING if resume_unfinished else Trial.TERMINATED
            elif trial.status == Trial.ERROR and (resume_errored or restart_errored):
                if restart_errored:
                    trial.checkpoint = None
                    trial.last_result, trial.metric_history = {}, []
                trial.status, trial.error, trial.num_failures = Trial.PENDING, None, 0
        run_config = copy.copy(saved["run_config"])
        root, name = p.rstrip("/").rsplit("/", 1)
        run_config.storage_path, run_config.name = root, name
        run_config.storage_filesystem = storage_filesystem
        return cls(trainable, param_space=param_space if param_space is not None else saved["param_space"],
                   tune_config=saved["tune_config"], run_config=run_config, _restore_state=state)
