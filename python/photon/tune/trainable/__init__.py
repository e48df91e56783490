from photon.tune.trainable.trainable import Trainable
from photon.tune.trainable.util import with_parameters, with_resources

__all__ = ["Trainable", "with_parameters", "with_resources"]
