from photon.tune.experiment.trial import Trial

__all__ = ["Trial"]
