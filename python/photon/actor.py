"""photon.actor (``ray.actor``): exit_actor() for use inside actors, and the
actor classes for type hints."""
from photon._private.actor import ActorClass, ActorHandle, ActorMethod  # noqa: F401
from photon._private.actor import method  # noqa: F401
from photon._private.actor_host import exit_actor  # noqa: F401

__all__ = ["ActorClass", "ActorHandle", "ActorMethod", "exit_actor", "method"]
