"""tune.run: the older one-call API, a Tuner underneath."""
from photon.train.config import CheckpointConfig, FailureConfig, RunConfig
from photon.tune.analysis.experiment_analysis import ExperimentAnalysis
from photon.tune.error import TuneError
from photon.tune.schedulers import create_scheduler
from photon.tune.search import create_searcher
from photon.tune.trainable.util import with_resources
from photon.tune.tune_config import TuneConfig
from photon.tune.tuner import Tuner


def run(run_or_experiment, *, name=None, metric=None, mode=None, stop=None, time_budget_s=None,
        config=None, resources_per_trial=None, num_samples=1, storage_path=None,
        storage_filesystem=None, search_alg=None, scheduler=None, checkpoint_config=None,
        verbose=None, progress_reporter=None, trial_name_creator=None, trial_dirname_creator=None,
        max_failures=0, fail_fast=False, resume=None, raise_on_failed_trial=True, callbacks=None,
        max_concurrent_trials=None, keep_checkpoints_num=None, checkpoint_score_attr=None,
        checkpoint_freq=0, checkpoint_at_end=False, local_dir=None, **_ignored):
    """Runs the experiment and returns an ExperimentAnalysis; raises TuneError if a trial
    failed (unless raise_on_failed_trial=False)."""
    trainable = run_or_experiment
    if resources_per_trial is not None:
        trainable = with_resources(trainable, resources_per_trial)
    if isinstance(search_alg, str):
        search_alg = create_searcher(search_alg)
    if isinstance(scheduler, str):
        scheduler = create_scheduler(scheduler)
    if checkpoint_config is None:
        order = "max"
        attr = checkpoint_score_attr
        if attr and attr.startswith("min-"):
            attr, order = attr[4:], "min"
        checkpoint_config = CheckpointConfig(
            num_to_keep=keep_checkpoints_num, checkpoint_score_attribute=attr,
            checkpoint_score_order=order, checkpoint_frequency=checkpoint_freq,
            checkpoint_at_end=checkpoint_at_end or None)
    run_config = RunConfig(
        name=name, storage_path=storage_path or local_dir, storage_filesystem=storage_filesystem,
        stop=stop, verbose=verbose, progress_reporter=progress_reporter, callbacks=callbacks,
        checkpoint_config=checkpoint_config,
        failure_config=FailureConfig(max_failures=max_failures, fail_fast=fail_fast))
    tune_config = TuneConfig(metric=metric, mode=mode, search_alg=search_alg, scheduler=scheduler,
                             num_samples=num_samples, max_concurrent_trials=max_concurrent_trials,
                             time_budget_s=time_budget_s, trial_name_creator=trial_name_creator,
                             trial_dirname_creator=trial_dirname_creator)
    path = None
    if resume and name:
        path = f"{run_config.resolved_storage_path()}/{name}"
    if path and Tuner.can_restore(path):
        tuner = Tuner.restore(path, trainable, resume_errored=resume in ("ERRORED_ONLY", "AUTO+ERRORED"))
    else:
        tuner = Tuner(trainable, param_space=config or {}, tune_config=tune_config,
                      run_config=run_config)
    grid = tuner.fit()
    trials = grid._trials
    failed = [t for t in trials if t.status == "ERROR"]
    if failed and raise_on_failed_trial:
        raise TuneError(f"Trials did not complete: {failed}")
    return ExperimentAnalysis(grid, trials, default_metric=metric, default_mode=mode)
