"""ObjectRefGenerator: the caller's side of a streaming generator task
(num_returns="streaming", the default for generator functions and methods).

Iterating it yields one ObjectRef per item, as soon as the task has produced
it; the iteration ends when the task returns. If the task raises, the next
item's ref raises that error on get, and the iteration ends after it."""
import asyncio

from photon import _photon
from photon import exceptions
from photon._private.object_ref import ObjectRef, _connected


class ObjectRefGenerator:
    """Yields the ObjectRefs of a streaming task's items, in order (sync and
    async iteration)."""

    def __init__(self, completion_ref):
        self._completion = completion_ref  # keeps the task's return alive
        self._task_id = completion_ref.binary()[:36]
        self._next = 0
        self._finished = False
        self._peeked = None  # an item's ref taken by wait() before next() asked

    def __iter__(self):
        return self

    def __next__(self):
        ref = self._next_sync(None)
        if ref is None:
            raise StopIteration
        return ref

    def _next_sync(self, timeout_s=None):
        """The next item's ref; None at the end. Raises GetTimeoutError if no
        item comes within `timeout_s` seconds."""
        if self._peeked is not None:
            ref, self._peeked = self._peeked, None
            return ref
        if self._finished:
            return None
        timeout_ms = -1 if timeout_s is None else int(timeout_s * 1000)
        try:
            item = _photon.stream_next(self._task_id, self._next, timeout_ms)
        except TimeoutError as e:
            raise exceptions.GetTimeoutError(str(e)) from None
        if item is None:
            self._finished = True
            return None
        self._next += 1
        return ObjectRef(item, _adopt=True)

    def _ready(self):
        """For wait(): True if next() would not block (an item is there, or the
        end). Takes the item, if any, for the next call of next()."""
        if self._peeked is not None or self._finished:
            return True
        try:
            item = _photon.stream_next(self._task_id, self._next, 0)
        except TimeoutError:
            return False
        if item is None:
            self._finished = True
        else:
            self._next += 1
            self._peeked = ObjectRef(item, _adopt=True)
        return True

    def __aiter__(self):
        return self

    async def __anext__(self):
        ref = await asyncio.get_running_loop().run_in_executor(None, self._next_sync, None)
        if ref is None:
            raise StopAsyncIteration
        return ref

    def completed(self):
        """An ObjectRef that is ready when the task has finished (its value is
        the number of items; its get raises the task's error)."""
        return self._completion

    def is_finished(self):
        """True once the iteration has reached the end."""
        return self._finished

    def task_id(self):
        return self._task_id

    def __del__(self):
        if _connected():
            try:
                _photon.stream_release(self._task_id)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def __reduce__(self):
        raise TypeError("an ObjectRefGenerator cannot be passed to another task or actor; "
                        "pass the ObjectRefs it yields instead")

    def __repr__(self):
        return f"ObjectRefGenerator({self._task_id.hex()})"


class DynamicObjectRefGenerator:
    """The value of a num_returns="dynamic" task's ObjectRef (Ray's, deprecated
    there too): the refs of the values the task yielded, in order."""

    def __init__(self, refs):
        self._refs = list(refs)

    def __iter__(self):
        return iter(self._refs)

    def __len__(self):
        return len(self._refs)

    def __repr__(self):
        return f"DynamicObjectRefGenerator({len(self._refs)} refs)"

