"""The functions a training function calls: report, get_checkpoint, get_context, get_dataset_shard."""
from photon.train._internal import session as S
from photon.train.context import TrainContext


def _session(fn_name):
    s = S.get_session()
    if s is None:
        raise RuntimeError(
            f"`{fn_name}` cannot be used outside of a Photon Train training function or Tune "
            "trainable. You are calling it from the driver or another process that is not "
            "running one; it works inside the function launched by `trainer.fit()` or `tuner.fit()`.")
    return s


def report(metrics, checkpoint=None, checkpoint_dir_name=None, **_ignored):
    """Reports metrics (and optionally a checkpoint, copied into the run's storage).

    In a group of training workers every worker must call it the same number of
    times: it is a barrier; rank 0's metrics are kept, and the checkpoints of all
    ranks are merged into one directory."""
    _session("report").report(metrics, checkpoint=checkpoint, checkpoint_dir_name=checkpoint_dir_name)


def get_checkpoint():
    """The latest checkpoint of this run (reported, or restored after a failure or on
    resume), or None."""
    return _session("get_checkpoint").checkpoint


def get_context():
    return TrainContext(_session("get_context"))


def get_dataset_shard(dataset_name=None):
    """This worker's DataIterator of the dataset passed to the trainer as `datasets[name]`."""
    shards = _session("get_dataset_shard").dataset_shards
    if dataset_name is None:
        if len(shards) != 1:
            raise ValueError(f"get_dataset_shard() needs a dataset name when the trainer has "
                             f"{len(shards)} datasets ({sorted(shards)}).")
        return next(iter(shards.values()))
    if dataset_name not in shards:
        raise KeyError(f"Dataset {dataset_name!r} was not passed to the trainer; its datasets "
                       f"are {sorted(shards)}.")
    return shards[dataset_name]
