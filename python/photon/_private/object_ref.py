"""ObjectRef: a reference to an object in the cluster."""
import asyncio
import concurrent.futures
import threading

from photon import _photon
from photon._private import serialization


def _connected():
    try:
        from photon._private import worker
        return worker.is_connected()
    except Exception:  # interpreter shutdown
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
            except Exception:
                pass

    def binary(self):
        return self._id

    def hex(self):
        return self._id.hex()

    def task_id(self):
        from photon._private.ids import TaskID
        return TaskID(self._id[:36])

    def job_id(self):
        from photon._private.ids import JobID
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
        serialization.note_serialized_ref(self)
        owner = _photon.owner_address(self._id) if _connected() else b""
        return _rebuild_ref, (self._id, owner)

    def future(self):
        """A concurrent.futures.Future that resolves to the object's value."""
        from photon._private import worker
        fut = concurrent.futures.Future()

        def run():
            try:
                fut.set_result(worker.get(self))
            except BaseException as e:  # noqa: BLE001 - delivered to the future
                fut.set_exception(e)

        threading.Thread(target=run, daemon=True).start()
        return fut

    def __await__(self):
        return asyncio.wrap_future(self.future()).__await__()


def _rebuild_ref(binary, owner):
    if owner and _connected() and not serialization.note_deserialized_ref(binary, owner):
        _photon.register_borrowed_refs([(binary, owner)])
    return ObjectRef(binary)
