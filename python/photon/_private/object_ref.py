"""ObjectRef: a reference to an object in the cluster."""
import asyncio
import concurrent.futures
import os
import threading

from photon import _photon
from photon._private import serialization
from photon._private import state
from photon._private import values
from photon._private.ids import JobID, ObjectID, TaskID


def _connected():
    try:
        return state.is_connected()
    except Exception:  # noqa: BLE001 - interpreter shutdown
        return False


class ObjectRef:
    """A reference to a (possibly not yet computed) object. Holding it keeps
    the object alive; pass it to tasks or resolve it with photon.get."""

    __slots__ = ("_id", "__weakref__")

    def __init__(self, binary, _adopt=False):
        self._id = bytes(binary)
        if not _adopt and _connected():
            _photon.add_local_ref(self._id)

    def __del__(self):
        if _connected():
            try:
                _photon.remove_local_ref(self._id)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    @classmethod
    def nil(cls):
        """The nil reference (Ray's ObjectRef.nil()): refers to nothing."""
        return _UntrackedRef(b"\xff" * ObjectID.SIZE, _adopt=True)

    @classmethod
    def from_random(cls):
        """A reference with a random id that no object has (Ray's)."""
        return _UntrackedRef(os.urandom(ObjectID.SIZE), _adopt=True)

    @classmethod
    def from_binary(cls, binary):
        return cls(binary)

    @classmethod
    def size(cls):
        return ObjectID.SIZE

    def binary(self):
        return self._id

    def hex(self):
        return self._id.hex()

    def task_id(self):
        return TaskID(self._id[:36])

    def job_id(self):
        return JobID(self._id[16:24])

    def as_future(self):
        """A concurrent.futures.Future (as in Ray, where future() is the same)."""
        return self.future()

    def is_nil(self):
        return self._id == b"\xff" * len(self._id)

    def __eq__(self, other):
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self):
        return hash(self._id)

    def __repr__(self):
        return f"ObjectRef({self.hex()})"

    def __reduce__(self):
        serialization.note_serialized_ref(self._id)
        owner = _photon.owner_address(self._id) if _connected() else b""
        return _rebuild_ref, (self._id, owner)

    def future(self):
        """A concurrent.futures.Future that resolves to the object's value."""
        fut = concurrent.futures.Future()
        ref = self

        def run():
            try:
                state.ensure_initialized()
                (meta, buf), = _photon.get([ref.binary()], -1)
                fut.set_result(values.value_of(meta, buf))
            except BaseException as e:  # noqa: BLE001 - delivered to the future
                fut.set_exception(e)

        threading.Thread(target=run, daemon=True).start()
        return fut

    def __await__(self):
        return asyncio.wrap_future(self.future()).__await__()


def _rebuild_ref(binary, owner):
    ref = ObjectRef(binary)  # held before the borrow is registered
    if owner and _connected() and not serialization.note_deserialized_ref(binary, owner):
        _photon.register_borrowed_refs([(binary, owner)])
    return ref


class _UntrackedRef(ObjectRef):
    """A reference the core does not count (nil, random): made and dropped
    without telling it."""

    __slots__ = ()

    def __del__(self):
        pass
