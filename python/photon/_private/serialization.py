"""Values to bytes and back: pickle protocol 5 with out-of-band buffers
(cloudpickle for functions and classes), so numpy arrays travel without a
copy and come back as read-only views of shared memory.

Layout of a serialized value (metadata b"pickle5"):
    u64 number of buffers N | u64 pickle length | N x u64 buffer lengths |
    pickle bytes | each buffer, starting on a 64-byte boundary

References inside a value (ObjectRefs, and actor handles as their handle
objects) are collected while it is pickled (their binary ids, for the core
to hold while the value needs them) and registered with their owners when
it is unpickled, before the value is handed out.
"""
import pickle
import struct
import threading
import types

import cloudpickle

from photon import _photon

PICKLE5 = b"pickle5"
KWNAMES = b"photon:kwnames"
_ALIGN = 64

_local = threading.local()


def _code_reduce_with_filename(code, _reduce=cloudpickle.cloudpickle._code_reduce):
    """cloudpickle (3.x) renames every shipped function's file "<dynamic-code>", so a
    task's traceback would not say where its code is; keep the real file name, as Ray's
    vendored cloudpickle does."""
    rebuild, args = _reduce(code)
    return rebuild, tuple(code.co_filename if a == "<dynamic-code>" else a for a in args)


cloudpickle.Pickler._dispatch_table[types.CodeType] = _code_reduce_with_filename


def _collect():
    return getattr(_local, "refs", None)


class _RefCollector:
    """Collects the ids of the references pickled inside one value."""

    def __enter__(self):
        self.prev = _collect()
        _local.refs = []
        return _local.refs

    def __exit__(self, *exc):
        _local.refs = self.prev


def note_serialized_ref(binary):
    """Called for each reference (its binary object id) pickled inside a value."""
    refs = _collect()
    if refs is not None:
        refs.append(binary)


def serialize(value):
    """Returns (metadata, parts, nested_ref_ids): the bytes of `value` as a
    list of bytes-like parts to be written one after another, and the ids of
    the references inside it."""
    buffers = []
    with _RefCollector() as refs:
        data = cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    header = struct.pack(f"<QQ{len(raws)}Q", len(raws), len(data), *[r.nbytes for r in raws])
    parts = [header, data]
    offset = len(header) + len(data)
    for raw in raws:
        pad = (-offset) % _ALIGN
        if pad:
            parts.append(b"\0" * pad)
            offset += pad
        parts.append(raw)
        offset += raw.nbytes
    return PICKLE5, parts, list(refs)


def serialize_to_bytes(value):
    meta, parts, refs = serialize(value)
    return meta, b"".join(bytes(p) if not isinstance(p, bytes) else p for p in parts), refs


def deserialize(metadata, buffer):
    """Rebuilds a value from its metadata and bytes (a Buffer or bytes)."""
    if metadata != PICKLE5:
        raise ValueError(f"cannot deserialize a value with metadata {metadata!r}")
    view = memoryview(buffer)
    n, plen = struct.unpack_from("<QQ", view, 0)
    sizes = struct.unpack_from(f"<{n}Q", view, 16)
    offset = 16 + 8 * n
    pkl = view[offset:offset + plen]
    offset += plen
    bufs = []
    for size in sizes:
        offset += (-offset) % _ALIGN
        bufs.append(view[offset:offset + size])
        offset += size
    prev = getattr(_local, "borrowed", None)
    _local.borrowed = borrowed = []
    try:
        value = pickle.loads(pkl, buffers=bufs)
    finally:
        _local.borrowed = prev
    if borrowed:
        # References to objects other processes own: registered with their
        # owners (one call per owner) before the value is handed out; the
        # references themselves were made while unpickling, so nothing is
        # freed in between.
        _photon.register_borrowed_refs(borrowed)
    return value


def note_deserialized_ref(binary, owner):
    """Called for each reference rebuilt from a pickle (after it was made);
    False if no deserialize() is collecting (the caller registers it alone)."""
    borrowed = getattr(_local, "borrowed", None)
    if borrowed is None:
        return False
    borrowed.append((binary, owner))
    return True
