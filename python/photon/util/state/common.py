"""The state objects the state API returns, with Ray's class and field names
(TaskState, ActorState, ...). Their columns come from the one schema the
native state API keeps (src/photon/state/state_api.cc), so the SDK, the CLI
and the dashboard agree on them."""
import dataclasses
from typing import Any, List, Optional, Set

from photon import _photon


class StateSchema:
    """Base of the state classes: fields by attribute or by key, as in Ray."""

    _resource = None

    @classmethod
    def list_columns(cls, detail: bool = True) -> List[str]:
        return [name for name, is_detail, _ in _photon.state_schema(cls._resource)
                if detail or not is_detail]

    @classmethod
    def columns(cls) -> Set[str]:
        return set(cls.list_columns(detail=True))

    @classmethod
    def filterable_columns(cls) -> Set[str]:
        return {name for name, _, filterable in _photon.state_schema(cls._resource)
                if filterable}

    @classmethod
    def base_columns(cls) -> Set[str]:
        return set(cls.list_columns(detail=False))

    @classmethod
    def detail_columns(cls) -> Set[str]:
        return cls.columns()

    def asdict(self):
        return dataclasses.asdict(self)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        setattr(self, key, value)

    def get(self, key, default=None):
        return getattr(self, key, default)


def _state_class(name, resource):
    fields = [(column, Optional[Any], dataclasses.field(default=None))
              for column, _, _ in _photon.state_schema(resource)]
    cls = dataclasses.make_dataclass(name, fields, bases=(StateSchema,))
    cls._resource = resource
    cls.__module__ = __name__
    cls.__doc__ = f"One of the cluster's {resource.replace('_', ' ')} (Ray's {name})."
    return cls


TaskState = _state_class("TaskState", "tasks")
ActorState = _state_class("ActorState", "actors")
NodeState = _state_class("NodeState", "nodes")
JobState = _state_class("JobState", "jobs")
WorkerState = _state_class("WorkerState", "workers")
PlacementGroupState = _state_class("PlacementGroupState", "placement_groups")
ObjectState = _state_class("ObjectState", "objects")

STATE_CLASSES = {
    "tasks": TaskState,
    "actors": ActorState,
    "nodes": NodeState,
    "jobs": JobState,
    "workers": WorkerState,
    "placement_groups": PlacementGroupState,
    "objects": ObjectState,
}


def dict_to_state(d, resource):
    """A row (dict) as its resource's state object."""
    cls = STATE_CLASSES[resource]
    return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
