"""Scheduling strategies, with Ray's names (ray.util.scheduling_strategies).

Pass one as ``scheduling_strategy=`` in ``@photon.remote`` or ``.options()``;
the strings "DEFAULT" and "SPREAD" are accepted too."""
from photon._private.scheduling_strategies import (  # noqa: F401
    DoesNotExist,
    Exists,
    In,
    NodeAffinitySchedulingStrategy,
    NodeLabelSchedulingStrategy,
    NotIn,
    PlacementGroupSchedulingStrategy,
)
