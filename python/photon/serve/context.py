"""The replica and request context user code reads: serve.get_replica_context()
and serve.get_multiplexed_model_id()."""
import contextvars
import dataclasses
from typing import Any, Optional

from photon.serve._private import constants
from photon.serve.exceptions import RayServeException


@dataclasses.dataclass(frozen=True)
class DeploymentID:
    name: str
    app_name: str = "default"

    def __str__(self):
        return f"Deployment(name='{self.name}', app='{self.app_name}')"


@dataclasses.dataclass(frozen=True)
class ReplicaID:
    unique_id: str
    deployment_id: DeploymentID

    def to_full_id_str(self):
        return (f"{constants.REPLICA_NAME_PREFIX}::{self.deployment_id.app_name}#"
                f"{self.deployment_id.name}#{self.unique_id}")

    def __str__(self):
        return f"Replica(id='{self.unique_id}', deployment='{self.deployment_id.name}', " \
               f"app='{self.deployment_id.app_name}')"


@dataclasses.dataclass(frozen=True)
class ReplicaRank:
    """A replica's rank among its deployment's replicas (0 .. world_size-1),
    on its node (local_rank) and its node's among the deployment's nodes."""
    rank: int
    node_rank: int = 0
    local_rank: int = 0


@dataclasses.dataclass
class ReplicaContext:
    """What a replica knows about itself."""
    replica_id: ReplicaID
    servable_object: Any
    rank: ReplicaRank = dataclasses.field(default_factory=lambda: ReplicaRank(0))
    world_size: int = 1

    @property
    def app_name(self):
        return self.replica_id.deployment_id.app_name

    @property
    def deployment(self):
        return self.replica_id.deployment_id.name

    @property
    def replica_tag(self):
        return self.replica_id.unique_id


@dataclasses.dataclass
class RequestContext:
    route: str = ""
    request_id: str = ""
    app_name: str = ""
    multiplexed_model_id: str = ""


_replica_context: Optional[ReplicaContext] = None
_request_context = contextvars.ContextVar("serve_request_context", default=RequestContext())


def _set_replica_context(ctx):
    global _replica_context
    _replica_context = ctx


def get_internal_replica_context():
    return _replica_context


def get_replica_context():
    """This replica's ReplicaContext; RayServeException outside a replica."""
    if _replica_context is None:
        raise RayServeException("`serve.get_replica_context()` may only be called from within "
                                "a Ray Serve deployment.")
    return _replica_context


def _get_serve_request_context():
    return _request_context.get()


def _set_request_context(ctx):
    return _request_context.set(ctx)
