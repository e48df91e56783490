"""photon.util.ActorPool: spread work over a fixed set of actors
(``ray.util.ActorPool``)."""
import photon


def _key(future):
    return tuple(future) if isinstance(future, list) else future


def _refs(future):
    return list(future) if isinstance(future, (list, tuple)) else [future]


class ActorPool:
    """Runs ``fn(actor, value) -> ObjectRef`` on whichever actor is idle.

    Example::

        @photon.remote
        class Doubler:
            def double(self, v):
                return 2 * v

        pool = ActorPool([Doubler.remote(), Doubler.remote()])
        print(list(pool.map(lambda a, v: a.double.remote(v), [1, 2, 3, 4])))
        # [2, 4, 6, 8]
    """

    def __init__(self, actors):
        self._idle_actors = list(actors)
        self._future_to_actor = {}    # future key -> (index, actor)
        self._index_to_future = {}    # index -> future
        self._next_task_index = 0
        self._next_return_index = 0
        self._pending_submits = []    # (fn, value) waiting for an idle actor

    def map(self, fn, values):
        """Applies fn to each value; yields the results in the order of
        `values`. Results of earlier submissions not yet retrieved are
        discarded."""
        self._discard_pending_results(ordered=True)
        for v in values:
            self.submit(fn, v)

        def results():
            while self.has_next():
                yield self.get_next()

        return results()

    def map_unordered(self, fn, values):
        """Like map, but yields each result as soon as it is ready."""
        self._discard_pending_results(ordered=False)
        for v in values:
            self.submit(fn, v)

        def results():
            while self.has_next():
                yield self.get_next_unordered()

        return results()

    def _discard_pending_results(self, ordered):
        while self.has_next():
            try:
                if ordered:
                    self.get_next(timeout=0, ignore_if_timedout=True)
                else:
                    self.get_next_unordered(timeout=0, ignore_if_timedout=True)
            except TimeoutError:
                pass

    def submit(self, fn, value):
        """Schedules fn(actor, value) on an idle actor, or queues it until
        one is free. Retrieve the result with get_next / get_next_unordered."""
        if self._idle_actors:
            actor = self._idle_actors.pop()
            future = fn(actor, value)
            self._future_to_actor[_key(future)] = (self._next_task_index, actor)
            self._index_to_future[self._next_task_index] = future
            self._next_task_index += 1
        else:
            self._pending_submits.append((fn, value))

    def has_next(self):
        """Whether any submitted work has a result not yet retrieved."""
        return bool(self._future_to_actor)

    def get_next(self, timeout=None, ignore_if_timedout=False):
        """The next result in submission order.

        Raises StopIteration when nothing is pending and TimeoutError when
        the result is not ready within `timeout` seconds (with
        ignore_if_timedout the timed-out task is dropped from the pool)."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        if self._next_return_index >= self._next_task_index:
            raise ValueError("It is not allowed to call get_next() after "
                             "get_next_unordered().")
        future = self._index_to_future[self._next_return_index]
        timed_out = False
        if timeout is not None:
            refs = _refs(future)
            ready, _ = photon.wait(refs, num_returns=len(refs), timeout=timeout)
            if len(ready) < len(refs):
                if not ignore_if_timedout:
                    raise TimeoutError("Timed out waiting for result")
                timed_out = True
        del self._index_to_future[self._next_return_index]
        self._next_return_index += 1
        _, actor = self._future_to_actor.pop(_key(future))
        self._return_actor(actor)
        if timed_out:
            raise TimeoutError(f"Timed out waiting for result. The task {future} has been "
                               "ignored.")
        return photon.get(future)

    def get_next_unordered(self, timeout=None, ignore_if_timedout=False):
        """Any next result, whichever is ready first.

        Raises StopIteration when nothing is pending and TimeoutError when no
        result is ready within `timeout` seconds."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        by_ref = {}
        for key in self._future_to_actor:
            for r in _refs(key):
                by_ref[r] = key
        ready, _ = photon.wait(list(by_ref), num_returns=1, timeout=timeout)
        if not ready:
            if ignore_if_timedout:
                # Drop the oldest outstanding task.
                key = min(self._future_to_actor, key=lambda k: self._future_to_actor[k][0])
                index, actor = self._future_to_actor.pop(key)
                future = self._index_to_future.pop(index)
                self._next_return_index = max(self._next_return_index, index + 1)
                self._return_actor(actor)
                raise TimeoutError(f"Timed out waiting for result. The task {future} has been "
                                   "ignored.")
            raise TimeoutError("Timed out waiting for result")
        key = by_ref[ready[0]]
        if isinstance(key, tuple):
            # A multi-return task is ready once all of its refs are.
            photon.wait(list(key), num_returns=len(key), timeout=timeout)
        index, actor = self._future_to_actor.pop(key)
        future = self._index_to_future.pop(index)
        self._next_return_index = max(self._next_return_index, index + 1)
        self._return_actor(actor)
        return photon.get(future)

    def _return_actor(self, actor):
        self._idle_actors.append(actor)
        if self._pending_submits:
            self.submit(*self._pending_submits.pop(0))

    def has_free(self):
        """Whether an actor is idle and no submission is waiting for one."""
        return bool(self._idle_actors) and not self._pending_submits

    def pop_idle(self):
        """Removes an idle actor from the pool and returns it (None if none)."""
        if self.has_free():
            return self._idle_actors.pop()
        return None

    def push(self, actor):
        """Adds an actor to the pool (ValueError if it is already in it)."""
        busy = [a for _, a in self._future_to_actor.values()]
        if actor in self._idle_actors or actor in busy:
            raise ValueError("Actor already belongs to current ActorPool")
        self._return_actor(actor)
