"""ray.air.session's functions (the older spelling of train.report / train.get_context())."""
from photon.train.train_fn_utils import get_checkpoint, get_context, get_dataset_shard, report

__all__ = ["get_checkpoint", "get_dataset_shard", "get_local_rank", "get_local_world_size",
           "get_node_rank", "get_trial_dir", "get_trial_id", "get_trial_name", "get_trial_resources",
           "get_world_rank", "get_world_size", "report", "get_experiment_name"]


def get_world_rank():
    return get_context().get_world_rank()


def get_world_size():
    return get_context().get_world_size()


def get_local_rank():
    return get_context().get_local_rank()


def get_local_world_size():
    return get_context().get_local_world_size()


def get_node_rank():
    return get_context().get_node_rank()


def get_trial_name():
    return get_context().get_trial_name()


def get_trial_id():
    return get_context().get_trial_id()


def get_trial_dir():
    return get_context().get_trial_dir()


def get_trial_resources():
    return get_context().get_trial_resources()


def get_experiment_name():
    return get_context().get_experiment_name()
