"""The experiment's event loop: creates trials from the search algorithm, starts each
as an actor in its own placement group, feeds their results to the stopper, the
scheduler and the searcher, and acts on their decisions (continue, pause, stop,
exploit); restarts failed trials from their checkpoints; keeps each trial's results
and the experiment's state in its folder so that an interrupted run resumes."""
import json
import logging
import math
import os
import pickle
import time

import cloudpickle

import photon
from photon.exceptions import RayActorError, RayError, RayTaskError
from photon.train._internal.checkpoint_manager import CheckpointManager
from photon.train._internal.utils import date_str, flatten_dict
from photon.tune.callback import CallbackList
from photon.tune.execution.trial_actor import TrialActor
from photon.tune.experiment.trial import Trial
from photon.tune.schedulers.trial_scheduler import TrialScheduler
from photon.tune.trainable.util import trial_resources
from photon.util.placement_group import placement_group, remove_placement_group
from photon.util.scheduling_strategies import PlacementGroupSchedulingStrategy

logger = logging.getLogger(__name__)

EXPERIMENT_STATE_FILE = "experiment_state.pkl"
_actor_cls = photon.remote(TrialActor)


class _Running:
    """What a live trial holds: its placement group, its actor and its pending train() call."""

    def __init__(self):
        self.pg = None
        self.pg_ready = None  # the ObjectRef that resolves once pg is placed
        self.actor = None
        self.future = None


def _json_default(value):
    return repr(value)


class TuneController:
    def __init__(self, *, trainable, trainable_name, experiment_name, fs, experiment_path,
                 search_alg, scheduler, stopper, run_config, tune_config, reporter,
                 trials=None):
        self.trainable = trainable
        self.trainable_name = trainable_name
        self.experiment_name = experiment_name
        self.fs, self.experiment_path = fs, experiment_path
        self.search_alg, self.scheduler, self.stopper = search_alg, scheduler, stopper
        self.run_config, self.tune_config = run_config, tune_config
        self.reporter = reporter
        self._trials = list(trials or [])
        self._live = {}
        self._managers = {}
        self._prefix = os.urandom(3).hex()[:5]
        self._start_time = time.monotonic()
        self._last_save = 0.0
        self._stop_all = False
        self._fail_fast_error = None
        self._iteration = 0
        self._state_dirty = False
        self.callbacks = CallbackList(run_config.callbacks)
        for trial in self._trials:
            self._manager(trial)

    # ---- what schedulers may call ---------------------------------------------

    def get_trials(self):
        return list(self._trials)

    def get_live_trials(self):
        return [t for t in self._trials if t.status in (Trial.RUNNING, Trial.PAUSED, Trial.PENDING)]

    def pause_trial(self, trial, should_checkpoint=True):
        if trial.status != Trial.RUNNING:
            return
        if should_checkpoint:
            self._save(trial)
        self._release(trial)
        trial.status = Trial.PAUSED

    def stop_trial(self, trial):
        if trial.is_finished():
            return
        self._finish(trial, Trial.TERMINATED)

    def exploit_trial(self, trial, new_config, checkpoint, new_experiment_tag):
        """Restarts trial with new_config from checkpoint (PBT); a paused trial resumes
        from it when it is next chosen to run."""
        trial.config = new_config
        trial.experiment_tag = new_experiment_tag
        trial.checkpoint_metrics = self._metrics_at(checkpoint)
        trial.checkpoint = checkpoint
        self._write_params(trial)
        if trial.status == Trial.RUNNING and trial.trial_id in self._live:
            self._release(trial, keep_pg=True)
            self._start_actor(trial, checkpoint)

    # ---- the loop -------------------------------------------------------------

    def run(self):
        self.reporter.start(self)
        self.callbacks.setup(stop=self.run_config.stop, num_samples=self.tune_config.num_samples,
                             total_num_samples=getattr(self.search_alg, "total_samples", None))
        try:
            while not self._is_done():
                self.callbacks.on_step_begin(iteration=self._iteration, trials=self._trials)
                self._start_trials()
                self._process_events(timeout=0.2)
                self._check_time_budget()
                self.reporter.maybe_report(self)
                self._save_state()
                self.callbacks.on_step_end(iteration=self._iteration, trials=self._trials)
                self._iteration += 1
        except BaseException:
            for trial in list(self._live):
                self._release(self._find(trial))
            raise
        finally:
            self._save_state(force=True)
        self.reporter.finish(self)
        self.callbacks.on_experiment_end(trials=self._trials)
        if self._fail_fast_error is not None:
            raise self._fail_fast_error
        return self._trials

    def _find(self, trial_id):
        return next(t for t in self._trials if t.trial_id == trial_id)

    def _is_done(self):
        if self._stop_all:
            for t in self._trials:
                if not t.is_finished():
                    self._finish(t, Trial.TERMINATED)
            return True
        if self._live:
            return False
        if any(t.status in (Trial.PENDING, Trial.PAUSED) for t in self._trials):
            return False
        return self.search_alg.is_finished()

    def _check_time_budget(self):
        budget = self.tune_config.time_budget_s
        if budget is not None and time.monotonic() - self._start_time >= budget:
            logger.info("Reached the time budget of %s s; stopping the experiment.", budget)
            self._stop_all = True
        if self.stopper.stop_all():
            self._stop_all = True

    # ---- starting -------------------------------------------------------------

    def _capacity(self):
        limit = self.tune_config.max_concurrent_trials
        return limit is None or len(self._live) < limit

    def _waiting_for_resources(self):
        return any(r.actor is None for r in self._live.values())

    def _start_trials(self):
        while self._capacity() and not self._waiting_for_resources():
            trial = self.scheduler.choose_trial_to_run(self)
            if trial is None:
                trial = self._new_trial()
                if trial is None:
                    return
                continue
            self._reserve(trial)
        self._start_ready()

    def _new_trial(self):
        if self.search_alg.is_finished():
            return None
        trial_id = f"{self._prefix}_{len(self._trials):05d}"
        suggestion = self.search_alg.next_trial(trial_id)
        if suggestion is None:
            return None
        config, tag, evaluated = suggestion
        index = len(self._trials)
        trial = Trial(self.trainable_name, config, trial_id=trial_id,
                      experiment_tag=f"{index}_{tag}" if tag else str(index),
                      evaluated_params=evaluated, resources=trial_resources(self.trainable, config),
                      max_failures=self.run_config.failure_config.max_failures)
        trial.path = f"{self.experiment_path}/{self._dirname(trial)}"
        self.fs.create_dir(trial.path, recursive=True)
        self._trials.append(trial)
        self._manager(trial)
        self.scheduler.on_trial_add(self, trial)
        self._write_params(trial)
        return trial

    def _dirname(self, trial):
        creator = self.tune_config.trial_dirname_creator
        if creator is not None:
            name = creator(trial)
            if "/" in name:
                raise ValueError(f"Trial dirname must not contain '/'. Got {name}")
            return name
        name = f"{trial}_{trial.experiment_tag}"[:130] + f"_{date_str()}"
        for ch in '/()<>:"\\|?*':
            name = name.replace(ch, "_")
        return name

    def _reserve(self, trial):
        """A placement group of the trial's bundles (without an empty head bundle: the
        trial's actor then takes no resources of its own)."""
        running = _Running()
        bundles = [b for b in trial.resources.bundles if b]
        if bundles:
            running.pg = placement_group(bundles, strategy=trial.resources.strategy)
            running.pg_ready = running.pg.ready()
        self._live[trial.trial_id] = running

    def _start_ready(self):
        for trial_id, running in list(self._live.items()):
            if running.actor is not None:
                continue
            if running.pg_ready is not None:
                ready, _ = photon.wait([running.pg_ready], timeout=0)
                if not ready:
                    continue
                running.pg_ready = None
            trial = self._find(trial_id)
            self._start_actor(trial, trial.checkpoint)

    def _start_actor(self, trial, checkpoint):
        running = self._live[trial.trial_id]
        bundle = trial.resources.bundles[0]
        custom = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}
        options = dict(num_cpus=bundle.get("CPU", 0), num_gpus=bundle.get("GPU", 0),
                       resources=custom or None, max_restarts=0)
        if running.pg is not None:
            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                running.pg, placement_group_bundle_index=-1 if not bundle else 0,
                placement_group_capture_child_tasks=True)
        manager = self._managers[trial.trial_id]
        at = self._metrics_at(checkpoint) if checkpoint is not None else {}
        info = dict(trial_id=trial.trial_id, trial_name=str(trial), trial_dir=trial.path,
                    experiment_name=self.experiment_name, resources=trial.resources, fs=self.fs,
                    checkpoint_index=len(manager.checkpoints) + trial.checkpoints_deleted,
                    iteration=at.get("training_iteration", 0), time_total=at.get("time_total_s", 0.0))
        running.actor = _actor_cls.options(**options).remote(self.trainable, trial.config, info, checkpoint)
        running.future = running.actor.train.remote()
        trial.status = Trial.RUNNING
        hook = self.callbacks.on_trial_restore if checkpoint is not None else self.callbacks.on_trial_start
        hook(iteration=self._iteration, trials=self._trials, trial=trial)

    # ---- events ---------------------------------------------------------------

    def _process_events(self, timeout):
        """Handles the train() results that are ready, waiting up to timeout for the first
        one (or for a placement group to be placed)."""
        futures = {r.future: tid for tid, r in self._live.items() if r.future is not None}
        placing = [r.pg_ready for r in self._live.values() if r.pg_ready is not None]
        if not futures and not placing:
            return
        photon.wait(list(futures) + placing, num_returns=1, timeout=timeout)
        if not futures:
            return
        ready, _ = photon.wait(list(futures), num_returns=len(futures), timeout=0)
        for ref in ready:
            trial = self._find(futures[ref])
            running = self._live.get(trial.trial_id)
            if running is None or running.future is not ref:
                continue
            running.future = None
            try:
                result, checkpoint = photon.get(ref)
            except (RayTaskError, RayActorError, RayError) as e:
                self._on_error(trial, e)
                continue
            if result is None:
                self._on_complete(trial)
            else:
                self._on_result(trial, result, checkpoint)

    def _on_result(self, trial, result, checkpoint):
        if checkpoint is not None:
            self._register_checkpoint(trial, checkpoint, result)
        trial.metric_history.append(result)
        self._write_result(trial, result)
        result = {**result, "experiment_tag": trial.experiment_tag}  # as Ray: in metrics only
        trial.last_result = result
        self.callbacks.on_trial_result(iteration=self._iteration, trials=self._trials, trial=trial,
                                       result=result)
        self.search_alg.on_trial_result(trial.trial_id, result)
        if result.get("done") or self.stopper(trial.trial_id, result):
            result["done"] = True
            self._finish(trial, Trial.TERMINATED)
            return
        decision = self.scheduler.on_trial_result(self, trial, result)
        if decision == TrialScheduler.STOP:
            result["done"] = True
            self._finish(trial, Trial.TERMINATED)
        elif decision == TrialScheduler.PAUSE:
            self.pause_trial(trial)
        elif decision == TrialScheduler.CONTINUE:
            self._continue(trial)
        # NOOP: the scheduler acted on the trial itself (e.g. PBT restarted it).

    def _continue(self, trial):
        running = self._live.get(trial.trial_id)
        if running is None or running.actor is None:
            return
        checkpoint_config = self.run_config.checkpoint_config
        freq = checkpoint_config.checkpoint_frequency
        if freq and trial.last_result.get("training_iteration", 0) % freq == 0:
            self._save(trial)
        running.future = running.actor.train.remote()

    def _on_complete(self, trial):
        if trial.last_result:
            trial.last_result["done"] = True
        self._finish(trial, Trial.TERMINATED)

    def _on_error(self, trial, error):
        trial.num_failures += 1
        limit = trial.max_failures
        self._write_error(trial, error)
        if limit == -1 or trial.num_failures <= limit:
            logger.warning("Trial %s failed (failure %d of at most %s); restarting it from %s.",
                           trial, trial.num_failures, "unlimited" if limit == -1 else limit,
                           trial.checkpoint.path if trial.checkpoint else "the start")
            self._release(trial, keep_pg=True)
            self.callbacks.on_trial_recover(iteration=self._iteration, trials=self._trials, trial=trial)
            self._start_actor(trial, trial.checkpoint)
            return
        trial.error = error
        self._finish(trial, Trial.ERROR)
        fail_fast = self.run_config.failure_config.fail_fast
        if fail_fast:
            self._stop_all = True
            if fail_fast == "raise":
                self._fail_fast_error = error

    def _finish(self, trial, status):
        running = self._live.get(trial.trial_id)
        checkpoint_at_end = self.run_config.checkpoint_config.checkpoint_at_end
        if running is not None and running.actor is not None and status == Trial.TERMINATED \
                and checkpoint_at_end:
            self._save(trial)
        self._release(trial)
        was = trial.status
        trial.status = status
        hook = self.callbacks.on_trial_error if status == Trial.ERROR else self.callbacks.on_trial_complete
        hook(iteration=self._iteration, trials=self._trials, trial=trial)
        if status == Trial.ERROR:
            self.scheduler.on_trial_error(self, trial)
            self.search_alg.on_trial_complete(trial.trial_id, None, error=True)
        elif was in (Trial.PENDING, Trial.PAUSED):
            self.scheduler.on_trial_remove(self, trial)
            self.search_alg.on_trial_complete(trial.trial_id, None)
        else:
            self.scheduler.on_trial_complete(self, trial, trial.last_result)
            self.search_alg.on_trial_complete(trial.trial_id, trial.last_result)

    def _release(self, trial, keep_pg=False):
        running = self._live.get(trial.trial_id)
        if running is None:
            return
        if running.actor is not None:
            try:
                photon.get(running.actor.stop.remote(), timeout=5)
            except Exception:  # noqa: BLE001 - a dead or hung actor is killed below
                pass
            try:
                photon.kill(running.actor)
            except Exception:  # noqa: BLE001 - already dead
                pass
        running.actor = running.future = None
        if keep_pg:
            return
        del self._live[trial.trial_id]
        if running.pg is not None:
            try:
                remove_placement_group(running.pg)
            except Exception:  # noqa: BLE001 - already removed
                pass

    # ---- checkpoints ----------------------------------------------------------

    def _manager(self, trial):
        if trial.trial_id not in self._managers:
            manager = CheckpointManager(self.run_config.checkpoint_config, self.fs, trial.path,
                                        snapshot=False)
            manager.checkpoints = list(trial.kept_checkpoints)
            if trial.checkpoint is not None:
                manager.latest = (trial.checkpoint, trial.checkpoint_metrics or {})
            self._managers[trial.trial_id] = manager
        return self._managers[trial.trial_id]

    def _register_checkpoint(self, trial, checkpoint, result):
        manager = self._manager(trial)
        before = len(manager.checkpoints)
        manager.register(checkpoint, _scored(result))
        trial.checkpoints_deleted += before + 1 - len(manager.checkpoints)
        trial.checkpoint = checkpoint
        trial.checkpoint_metrics = _scored(result)
        trial.kept_checkpoints = list(manager.checkpoints)
        self._state_dirty = True  # a new checkpoint is saved in the state at once
        self.callbacks.on_checkpoint(iteration=self._iteration, trials=self._trials, trial=trial,
                                     checkpoint=checkpoint)

    def _save(self, trial):
        running = self._live.get(trial.trial_id)
        if running is None or running.actor is None:
            return
        if running.future is not None:
            return
        try:
            checkpoint = photon.get(running.actor.save.remote())
        except RayError as e:
            logger.warning("Could not checkpoint trial %s: %s", trial, e)
            return
        if checkpoint is not None:
            self._register_checkpoint(trial, checkpoint, trial.last_result)

    def _metrics_at(self, checkpoint):
        """The result a checkpoint was reported with (in any trial: PBT restores one
        trial from another's), so counters continue from there."""
        for trial in self._trials:
            if trial.checkpoint is not None and trial.checkpoint.path == checkpoint.path:
                return trial.checkpoint_metrics or {}
            found = self._managers[trial.trial_id].metrics_of(checkpoint) \
                if trial.trial_id in self._managers else None
            if found is not None:
                return found
        return {}

    # ---- files ----------------------------------------------------------------

    def _write_params(self, trial):
        with self.fs.open_output_stream(f"{trial.path}/params.json") as f:
            f.write(json.dumps(trial.config, indent=2, sort_keys=True, default=_json_default).encode())
        with self.fs.open_output_stream(f"{trial.path}/params.pkl") as f:
            f.write(cloudpickle.dumps(trial.config))

    def _write_result(self, trial, result):
        line = json.dumps(result, default=_json_default) + "\n"
        _append(self.fs, f"{trial.path}/result.json", line)
        flat = {k: v for k, v in flatten_dict(result).items() if not k.startswith("config/")}
        if trial.csv_columns is None:
            trial.csv_columns = list(flat)
            _append(self.fs, f"{trial.path}/progress.csv", ",".join(trial.csv_columns) + "\n")
        row = ",".join(_csv_cell(flat.get(c)) for c in trial.csv_columns)
        _append(self.fs, f"{trial.path}/progress.csv", row + "\n")

    def _write_error(self, trial, error):
        text = f"Failure # {trial.num_failures} (occurred at {date_str()})\n{error}\n"
        _append(self.fs, f"{trial.path}/error.txt", text)
        try:
            with self.fs.open_output_stream(f"{trial.path}/error.pkl") as f:
                f.write(cloudpickle.dumps(error))
        except Exception:  # noqa: BLE001 - an unpicklable error is kept as text only
            pass
        trial.error_file = f"{trial.path}/error.txt"

    def _save_state(self, force=False):
        """The experiment's state, at least every second and after every new checkpoint
        (so a driver killed at any point resumes each trial from its latest one)."""
        now = time.monotonic()
        if not force and not self._state_dirty and now - self._last_save < 1.0:
            return
        self._last_save, self._state_dirty = now, False
        state = {"trials": self._trials, "search_alg": self.search_alg.get_state(),
                 "scheduler": self.scheduler, "prefix": self._prefix,
                 "experiment_name": self.experiment_name}
        data = cloudpickle.dumps(state)
        tmp = f"{self.experiment_path}/{EXPERIMENT_STATE_FILE}.tmp"
        with self.fs.open_output_stream(tmp) as f:
            f.write(data)
        self.fs.move(tmp, f"{self.experiment_path}/{EXPERIMENT_STATE_FILE}")

    def restore_prefix(self, prefix):
        self._prefix = prefix


def _scored(result):
    return {k: v for k, v in result.items() if k != "config"}


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    text = str(value)
    if any(c in text for c in ",\"\n"):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _append(fs, path, text):
    try:
        with fs.open_append_stream(path) as f:
            f.write(text.encode())
    except (NotImplementedError, OSError):
        try:
            with fs.open_input_stream(path) as f:
                old = f.readall()
        except FileNotFoundError:
            old = b""
        with fs.open_output_stream(path) as f:
            f.write(old + text.encode())


def load_state(fs, experiment_path):
    with fs.open_input_stream(f"{experiment_path}/{EXPERIMENT_STATE_FILE}") as f:
        return pickle.loads(f.readall())

