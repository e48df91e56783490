"""tune.get_context(): the running trial's name, id, folder and resources."""
from photon.train.context import TrainContext
from photon.tune.trainable.trainable_fn_utils import _session


class TuneContext(TrainContext):
    pass


def get_context():
    return TuneContext(_session("get_context"))
