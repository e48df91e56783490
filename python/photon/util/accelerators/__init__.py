"""photon.util.accelerators: Ray's accelerator type constants."""
from photon.util.accelerators.accelerators import *  # noqa: F401,F403
