"""DataParallelTrainer: runs a training function on a group of workers, collects their
reports, persists their checkpoints, and restarts the group after a failure."""
import logging
import os
import traceback

import photon
from photon.exceptions import RayError
from photon.train._checkpoint import Checkpoint, resolve_filesystem
from photon.train._internal.checkpoint_manager import CheckpointManager
from photon.train._internal.session import get_session
from photon.train._internal.utils import date_str
from photon.train._internal.worker_group import WorkerGroup
from photon.train.backend import BackendConfig
from photon.train.config import RunConfig, ScalingConfig
from photon.train.exceptions import WorkerGroupError
from photon.train.result import Result, _dataframe

logger = logging.getLogger(__name__)


class _GroupFailed(Exception):
    def __init__(self, failures):
        super().__init__(failures)
        self.failures = failures  # rank -> (exception, traceback text)


class DataParallelTrainer:
    """Runs train_loop_per_worker(train_loop_config) on scaling_config.num_workers actors.

    fit() returns the Result (rank 0's last metrics, the latest checkpoint, the run's
    folder under run_config.storage_path/name) or raises TrainingFailedError once
    run_config.failure_config.max_failures retries are used up. A run whose folder
    already holds checkpoints resumes from the latest."""

    _default_backend_config = BackendConfig

    def __init__(self, train_loop_per_worker, *, train_loop_config=None, backend_config=None,
                 scaling_config=None, run_config=None, datasets=None, dataset_config=None,
                 resume_from_checkpoint=None, metadata=None):
        if not callable(train_loop_per_worker):
            raise TypeError(f"train_loop_per_worker must be a function, got "
                            f"{type(train_loop_per_worker).__name__}.")
        if train_loop_config is not None and not isinstance(train_loop_config, dict):
            raise TypeError(f"train_loop_config must be a dict, got {type(train_loop_config).__name__}.")
        scaling_config = scaling_config if scaling_config is not None else ScalingConfig()
        run_config = run_config if run_config is not None else RunConfig()
        if not isinstance(scaling_config, ScalingConfig):
            raise ValueError(f"Invalid `ScalingConfig` type: {type(scaling_config)}.")
        if not isinstance(run_config, RunConfig):
            raise ValueError(f"Invalid `RunConfig` type: {type(run_config)}.")
        if datasets is not None and not isinstance(datasets, dict):
            raise TypeError(f"datasets must be a dict of name -> Dataset, got {type(datasets).__name__}.")
        if resume_from_checkpoint is not None and not isinstance(resume_from_checkpoint, Checkpoint):
            raise TypeError("resume_from_checkpoint must be a Checkpoint.")
        self.train_loop_per_worker = train_loop_per_worker
        self.train_loop_config = train_loop_config
        self.backend_config = backend_config or self._default_backend_config()
        self.scaling_config = scaling_config
        self.run_config = run_config
        self.datasets = datasets or {}
        self.dataset_config = dataset_config
        self.resume_from_checkpoint = resume_from_checkpoint
        self.metadata = metadata or {}

    # ---- running ---------------------------------------------------------------

    def fit(self):
        result = self._run()
        if result.error is not None:
            raise result.error
        return result

    def _run(self, run_path=None, fs=None, on_report=None, placement_group=None):
        """Runs to the end; on_report(metrics, checkpoint) is called for each report and
        placement_group holds the workers' bundles (a Tune trial passes both)."""
        if run_path is None:
            name = self.run_config.name or f"photon_train_run-{date_str()}"
            fs, root = resolve_filesystem(self.run_config.resolved_storage_path(),
                                          self.run_config.storage_filesystem)
            run_path = f"{root}/{name}"
        fs.create_dir(run_path, recursive=True)
        manager = CheckpointManager(self.run_config.checkpoint_config, fs, run_path)
        if manager.load() and manager.latest:
            logger.info("Resuming the run in %s from %s.", run_path, manager.latest[0].path)
        history = []
        max_failures = self.run_config.failure_config.max_failures
        failures = 0
        error = None
        while True:
            checkpoint = manager.latest[0] if manager.latest else self.resume_from_checkpoint
            try:
                self._attempt(fs, run_path, checkpoint, manager, history, on_report, placement_group)
                break
            except _GroupFailed as failed:
                failures += 1
                text = "\n".join(f"[Rank {r}]\n{tb}" for r, (_, tb) in sorted(failed.failures.items()))
                if max_failures != -1 and failures > max_failures:
                    error = WorkerGroupError(text, {r: e for r, (e, _) in failed.failures.items()})
                    break
                logger.warning("Training workers failed (failure %d of at most %s); restarting "
                               "the group from %s:\n%s", failures,
                               "unlimited" if max_failures == -1 else max_failures,
                               manager.latest[0].path if manager.latest else "the start", text)
        latest = manager.latest
        return Result(metrics=history[-1] if history else (latest[1] if latest else None),
                      checkpoint=latest[0] if latest else None, error=error, path=run_path,
                      metrics_dataframe=_dataframe(history), best_checkpoints=manager.best_checkpoints(),
                      _storage_filesystem=fs)

    def _attempt(self, fs, run_path, checkpoint, manager, history, on_report, placement_group):
        group = WorkerGroup(self.scaling_config, self.run_config.worker_runtime_env,
                            placement_group=placement_group)
        backend = self.backend_config.backend_cls()
        try:
            backend.on_start(group, self.backend_config)
            shards = {name: ds.streaming_split(len(group), equal=True)
                      for name, ds in self.datasets.items()}
            tune = get_session()
            name = os.path.basename(run_path)
            photon.get([w.start.remote(self.train_loop_per_worker, self.train_loop_config or {}, dict(
                experiment_name=name, storage=(fs, run_path), checkpoint=checkpoint,
                world_rank=r, world_size=len(group), local_rank=group.local_ranks[r],
                local_world_size=group.local_world_sizes[r], node_rank=group.node_ranks[r],
                dataset_shards={k: v[r] for k, v in shards.items()},
                trial_name=tune.trial_name if tune else None, trial_id=tune.trial_id if tune else None,
                trial_dir=tune.trial_dir if tune else None))
                for r, w in enumerate(group.workers)])
            while self._round(group, fs, run_path, manager, history, on_report):
                pass
            backend.on_shutdown(group, self.backend_config)
        finally:
            group.shutdown()

    def _round(self, group, fs, run_path, manager, history, on_report):
        """One report from every worker (True), or the end of the function on all (False)."""
        events = _gather([w.next_event.remote() for w in group.workers])
        kinds = {e[0] for e in events}
        if kinds == {"done"}:
            return False
        if kinds != {"report"}:
            done = [r for r, e in enumerate(events) if e[0] == "done"]
            raise _GroupFailed({r: (RuntimeError(
                "This worker's training function returned while other workers were still "
                "reporting: every worker must call report() the same number of times."),
                "report() count mismatch") for r in done})
        metrics = events[0][1]
        path = None
        if any(e[2] for e in events):
            path = f"{run_path}/{events[0][3] or 'checkpoint_' + date_str(include_ms=True)}"
        persisted = _gather([w.persist.remote(fs, path if e[2] else None)
                             for w, e in zip(group.workers, events)], events=False)
        checkpoint = next((c for c in persisted if c is not None), None)
        if checkpoint is not None:
            checkpoint = Checkpoint(path, fs)
            manager.register(checkpoint, metrics)
        history.append(metrics)
        if on_report is not None:
            on_report(metrics, checkpoint)
        return True


def _gather(refs, events=True):
    """The values of refs (one per rank; worker events if events); raises _GroupFailed
    with the first failed rank."""
    index = {ref: r for r, ref in enumerate(refs)}
    values = [None] * len(refs)
    pending = list(refs)
    while pending:
        ready, pending = photon.wait(pending, num_returns=1)
        for ref in ready:
            rank = index[ref]
            try:
                value = photon.get(ref)
            except RayError as e:
                raise _GroupFailed({rank: (e, f"{type(e).__name__}: {e}")})
            if events and value[0] == "error":
                raise _GroupFailed({rank: (value[1], value[2])})
            values[rank] = value
    return values
