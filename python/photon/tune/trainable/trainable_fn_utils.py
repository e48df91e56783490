"""tune.report / tune.get_checkpoint inside a function trainable."""
from photon.train._internal.session import get_session


def _session(name):
    s = get_session()
    if s is None:
        raise RuntimeError(f"`tune.{name}` can only be called inside a function trainable run "
                           "by `Tuner.fit()` (or a Photon Train training function).")
    return s


def report(metrics, *, checkpoint=None):
    """Reports metrics (and optionally a Checkpoint, copied into the trial's folder)."""
    _session("report").report(metrics, checkpoint=checkpoint)


def get_checkpoint():
    """The checkpoint this trial restarts from (after a failure, a pause, a PBT exploit,
    or a resumed experiment), or None."""
    return _session("get_checkpoint").checkpoint
