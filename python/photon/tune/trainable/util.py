"""with_parameters and with_resources: wrap a trainable with large constant arguments
(kept once in the object store) or with the resources each trial reserves."""
import functools
import inspect

import photon
from photon.tune.execution.placement_groups import PlacementGroupFactory, resource_dict_to_pg_factory
from photon.tune.trainable.trainable import Trainable


def with_parameters(trainable, **kwargs):
    """The trainable, called with kwargs as extra keyword arguments (functions) or passed
    to setup(config, **kwargs) (Trainable classes); each value goes once to the object store."""
    if not (callable(trainable) or (inspect.isclass(trainable) and issubclass(trainable, Trainable))):
        raise ValueError(f"`tune.with_parameters()` only works with function trainables or classes "
                         f"that inherit from `tune.Trainable()`. Got type: {type(trainable)}.")
    refs = {k: photon.put(v) for k, v in kwargs.items()}

    if inspect.isclass(trainable):
        class _WithParameters(trainable):
            def setup(self, config):
                values = {k: photon.get(r) for k, r in refs.items()}
                trainable.setup(self, config, **values)
        _WithParameters.__name__ = trainable.__name__
        _WithParameters.__qualname__ = trainable.__qualname__
        return _copy_resources(trainable, _WithParameters)

    @functools.wraps(trainable)
    def inner(config):
        return trainable(config, **{k: photon.get(r) for k, r in refs.items()})
    del inner.__wrapped__
    return _copy_resources(trainable, inner)


def _copy_resources(src, dst):
    if hasattr(src, "_photon_resources"):
        dst._photon_resources = src._photon_resources
    return dst


def with_resources(trainable, resources):
    """The trainable, each of whose trials reserves `resources`: a dict ({"cpu": 2, "gpu": 1}),
    a PlacementGroupFactory, or a function of the trial's config returning either."""
    if not callable(resources):
        resources = resource_dict_to_pg_factory(resources)
    if inspect.isclass(trainable):
        wrapped = type(trainable.__name__, (trainable,), {})
        wrapped.__qualname__ = trainable.__qualname__
    else:
        @functools.wraps(trainable)
        def wrapped(*args, **kwargs):
            return trainable(*args, **kwargs)
        del wrapped.__wrapped__
    wrapped._photon_resources = resources
    return wrapped


def trial_resources(trainable, config):
    """The PlacementGroupFactory a trial of trainable with config reserves."""
    spec = getattr(trainable, "_photon_resources", None)
    if spec is not None and callable(spec) and not isinstance(spec, PlacementGroupFactory):
        spec = spec(config)
    if spec is None and inspect.isclass(trainable) and issubclass(trainable, Trainable):
        spec = trainable.default_resource_request(config)
    return resource_dict_to_pg_factory(spec)
