"""Task arguments between Python and the core: top-level ObjectRefs travel
as references (the core resolves them before the call); every other value is
serialized, with the ids of the references nested inside it (the pending
task holds those until it has finished). Keyword values follow the
positional ones; a last argument lists their names."""
import cloudpickle

from photon._private import serialization
from photon._private import values
from photon._private.object_ref import ObjectRef


def pack_args(args, kwargs):
    out = []
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, ObjectRef):
            out.append((True, value.binary(), b"", []))
        else:
            meta, data, refs = serialization.serialize_to_bytes(value)
            out.append((False, meta, data, refs))
    if kwargs:
        out.append((False, serialization.KWNAMES, cloudpickle.dumps(list(kwargs.keys())), []))
    return out


def unpack_args(raw):
    """(args, kwargs) from the core's resolved arguments."""
    names = []
    if raw and raw[-1][0] == serialization.KWNAMES:
        names = cloudpickle.loads(bytes(memoryview(raw[-1][1])))
        raw = raw[:-1]
    vals = [values.value_of(meta, buf) for meta, buf in raw]
    if names:
        return vals[:len(vals) - len(names)], dict(zip(names, vals[len(vals) - len(names):]))
    return vals, {}
