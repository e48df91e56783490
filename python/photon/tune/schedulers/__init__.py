"""Trial schedulers (``ray.tune.schedulers``): they stop, pause and perturb
trials while an experiment runs."""
import inspect

from photon.tune.schedulers.async_hyperband import ASHAScheduler, AsyncHyperBandScheduler
from photon.tune.schedulers.hyperband import HyperBandScheduler
from photon.tune.schedulers.median_stopping_rule import MedianStoppingRule
from photon.tune.schedulers.pbt import PopulationBasedTraining
from photon.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

SCHEDULER_IMPORT = {
    "fifo": FIFOScheduler,
    "async_hyperband": AsyncHyperBandScheduler,
    "asynchyperband": AsyncHyperBandScheduler,
    "median_stopping_rule": MedianStoppingRule,
    "medianstopping": MedianStoppingRule,
    "hyperband": HyperBandScheduler,
    "pbt": PopulationBasedTraining,
}


def create_scheduler(scheduler, **kwargs):
    """The scheduler named `scheduler` (case-insensitive), built from the
    kwargs its constructor accepts (the others are ignored)."""
    name = scheduler.lower()
    if name not in SCHEDULER_IMPORT:
        raise ValueError(f"The `scheduler` argument must be one of {list(SCHEDULER_IMPORT)}. "
                         f"Got: {name}")
    cls = SCHEDULER_IMPORT[name]
    accepted = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in accepted})


__all__ = [
    "TrialScheduler",
    "HyperBandScheduler",
    "AsyncHyperBandScheduler",
    "ASHAScheduler",
    "MedianStoppingRule",
    "FIFOScheduler",
    "PopulationBasedTraining",
    "create_scheduler",
]
