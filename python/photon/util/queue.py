"""photon.util.queue: a first-in first-out queue shared by tasks and actors,
held by an actor (``ray.util.queue``)."""
import asyncio
import queue
from collections.abc import Iterable

import photon

__all__ = ["Empty", "Full", "Queue"]


class Empty(queue.Empty):
    """Raised by get(block=False) / get_nowait* on an empty queue, and by a
    blocking get that timed out."""


class Full(queue.Full):
    """Raised by put(block=False) / put_nowait* on a full queue, and by a
    blocking put that timed out."""


def _check_timeout(timeout):
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


class Queue:
    """A queue.Queue-like queue that any task or actor holding it can use.

    Args:
        maxsize: the most items the queue holds; 0 or less means unbounded.
        actor_options: options of the actor that holds the items (for
            example ``{"num_cpus": 0, "name": "q"}``).

    Example::

        q = Queue(maxsize=100)

        @photon.remote
        def consumer(q):
            return q.get(timeout=10)

        ref = consumer.remote(q)
        q.put("hello")
        assert photon.get(ref) == "hello"
    """

    def __init__(self, maxsize=0, actor_options=None):
        actor_options = actor_options or {}
        self.maxsize = maxsize
        self.actor = photon.remote(_QueueActor).options(**actor_options).remote(self.maxsize)

    def __len__(self):
        return self.size()

    def size(self):
        """The number of items in the queue."""
        return self.qsize()

    def qsize(self):
        """The number of items in the queue."""
        return photon.get(self.actor.qsize.remote())

    def empty(self):
        """Whether the queue is empty."""
        return photon.get(self.actor.empty.remote())

    def full(self):
        """Whether the queue holds maxsize items."""
        return photon.get(self.actor.full.remote())

    def put(self, item, block=True, timeout=None):
        """Adds an item.

        With block=False, raises Full at once if the queue is full. With
        block=True, waits for a free slot, up to `timeout` seconds if given
        (then raises Full)."""
        if not block:
            try:
                photon.get(self.actor.put_nowait.remote(item))
            except asyncio.QueueFull:
                raise Full from None
        else:
            _check_timeout(timeout)
            photon.get(self.actor.put.remote(item, timeout))

    async def put_async(self, item, block=True, timeout=None):
        """put for asyncio code."""
        if not block:
            try:
                await self.actor.put_nowait.remote(item)
            except asyncio.QueueFull:
                raise Full from None
        else:
            _check_timeout(timeout)
            await self.actor.put.remote(item, timeout)

    def get(self, block=True, timeout=None):
        """Removes and returns the first item.

        With block=False, raises Empty at once if the queue is empty. With
        block=True, waits for an item, up to `timeout` seconds if given (then
        raises Empty)."""
        if not block:
            try:
                return photon.get(self.actor.get_nowait.remote())
            except asyncio.QueueEmpty:
                raise Empty from None
        _check_timeout(timeout)
        return photon.get(self.actor.get.remote(timeout))

    async def get_async(self, block=True, timeout=None):
        """get for asyncio code."""
        if not block:
            try:
                return await self.actor.get_nowait.remote()
            except asyncio.QueueEmpty:
                raise Empty from None
        _check_timeout(timeout)
        return await self.actor.get.remote(timeout)

    def put_nowait(self, item):
        """put(item, block=False)."""
        return self.put(item, block=False)

    def put_nowait_batch(self, items):
        """Adds every item at once, or none (raises Full if they do not all fit)."""
        if not isinstance(items, Iterable):
            raise TypeError("Argument 'items' must be an Iterable")
        photon.get(self.actor.put_nowait_batch.remote(list(items)))

    def get_nowait(self):
        """get(block=False)."""
        return self.get(block=False)

    def get_nowait_batch(self, num_items):
        """Removes and returns num_items items at once, or none (raises Empty
        if the queue holds fewer)."""
        if not isinstance(num_items, int):
            raise TypeError("Argument 'num_items' must be an int")
        if num_items < 0:
            raise ValueError("'num_items' must be nonnegative")
        return photon.get(self.actor.get_nowait_batch.remote(num_items))

    def shutdown(self, force=False, grace_period_s=5):
        """Stops the actor holding the queue; the queue is unusable after.

        force=False lets the actor finish its pending calls (for up to
        grace_period_s seconds, then it is killed)."""
        if self.actor:
            if force:
                photon.kill(self.actor, no_restart=True)
            else:
                done_ref = self.actor.__ray_terminate__.remote()
                _, not_done = photon.wait([done_ref], timeout=grace_period_s)
                if not_done:
                    photon.kill(self.actor, no_restart=True)
        self.actor = None


class _QueueActor:
    def __init__(self, maxsize):
        self.maxsize = maxsize
        self.queue = asyncio.Queue(self.maxsize)

    def qsize(self):
        return self.queue.qsize()

    def empty(self):
        return self.queue.empty()

    def full(self):
        return self.queue.full()

    async def put(self, item, timeout=None):
        try:
            await asyncio.wait_for(self.queue.put(item), timeout)
        except asyncio.TimeoutError:
            raise Full from None

    async def get(self, timeout=None):
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            raise Empty from None

    def put_nowait(self, item):
        self.queue.put_nowait(item)

    def put_nowait_batch(self, items):
        # Ray checks the size first so that a batch is added whole or not at all.
        if self.maxsize > 0 and len(items) + self.qsize() > self.maxsize:
            raise Full(f"Cannot add {len(items)} items to queue of size {self.qsize()} and "
                       f"maxsize {self.maxsize}.")
        for item in items:
            self.queue.put_nowait(item)

    def get_nowait(self):
        return self.queue.get_nowait()

    def get_nowait_batch(self, num_items):
        if num_items > self.qsize():
            raise Empty(f"Cannot get {num_items} items from queue of size {self.qsize()}.")
        return [self.queue.get_nowait() for _ in range(num_items)]
