"""photon.types (Ray's ray.types): the ObjectRef type, for annotations."""
from photon._private.object_ref import ObjectRef

__all__ = ["ObjectRef"]
