"""Ray's drop-in for multiprocessing.Pool (ray.util.multiprocessing.Pool) on
Photon: a pool of actors, each running the initializer once and then batches
of calls, with the standard library's methods and results."""
import collections
import itertools
import threading
from multiprocessing import TimeoutError  # noqa: A004 - the standard library's, as in Ray

import photon
from photon import exceptions


@photon.remote(num_cpus=1)
class _PoolActor:
    def __init__(self, initializer=None, initargs=None):
        if initializer is not None:
            initializer(*(initargs or ()))

    def ping(self):
        return None

    def run_batch(self, func, batch):
        """Runs each (args, kwargs) of `batch`; an exception is returned in its
        place (so one bad item does not lose the others' results)."""
        out = []
        for args, kwargs in batch:
            try:
                out.append((True, func(*args, **kwargs)))
            except Exception as e:  # noqa: BLE001 - handed to the caller
                out.append((False, e))
        return out


def _unwrap(pairs):
    values = []
    for ok, value in pairs:
        if not ok:
            raise value
        values.append(value)
    return values


class AsyncResult:
    """multiprocessing's AsyncResult: get(timeout), wait(timeout), ready(),
    successful(). `single`: the result of one call, not a list."""

    def __init__(self, refs, single=False, callback=None, error_callback=None):
        self._refs = list(refs)
        self._single = single
        self._lock = threading.Lock()
        self._done = False
        self._value = None
        self._error = None
        self._callback = callback
        self._error_callback = error_callback
        if callback is not None or error_callback is not None:
            threading.Thread(target=self._complete, daemon=True).start()

    def _complete(self):
        with self._lock:
            if self._done:
                return
            try:
                batches = photon.get(self._refs)
                values = list(itertools.chain.from_iterable(_unwrap(b) for b in batches))
                self._value = values[0] if self._single else values
            except Exception as e:  # noqa: BLE001 - the call's own exception, or the pool's
                self._error = e
            self._done = True
        if self._error is None and self._callback is not None:
            self._callback(self._value)
        if self._error is not None and self._error_callback is not None:
            self._error_callback(self._error)

    def get(self, timeout=None):
        if not self._done and timeout is not None:
            ready, _ = photon.wait(self._refs, num_returns=len(self._refs), timeout=timeout)
            if len(ready) < len(self._refs):
                raise TimeoutError(f"the result is not ready after {timeout} s")
        self._complete()
        if self._error is not None:
            raise self._error
        return self._value

    def wait(self, timeout=None):
        photon.wait(self._refs, num_returns=len(self._refs), timeout=timeout)

    def ready(self):
        ready, _ = photon.wait(self._refs, num_returns=len(self._refs), timeout=0)
        return len(ready) == len(self._refs)

    def successful(self):
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        try:
            self.get()
        except Exception:  # noqa: BLE001 - any failure counts
            return False
        return True


class IMapIterator:
    """The iterator of imap (in order) and imap_unordered (as they finish)."""

    def __init__(self, refs, ordered):
        self._pending = list(refs)
        self._ordered = ordered
        self._ready = collections.deque()

    def __iter__(self):
        return self

    def next(self, timeout=None):
        return self.__next__(timeout)

    def __next__(self, timeout=None):
        while not self._ready:
            if not self._pending:
                raise StopIteration
            if self._ordered:
                ref = self._pending.pop(0)
            else:
                done, _ = photon.wait(self._pending, num_returns=1, timeout=timeout)
                if not done:
                    raise TimeoutError(f"no result after {timeout} s")
                ref = done[0]
                self._pending.remove(ref)
            try:
                batch = photon.get(ref, timeout=timeout)
            except exceptions.GetTimeoutError:
                raise TimeoutError(f"no result after {timeout} s") from None
            self._ready.extend(batch)
        ok, value = self._ready.popleft()
        if not ok:
            raise value
        return value


class Pool:
    """Ray's multiprocessing.Pool: `processes` actors (default: the cluster's
    CPUs), each running `initializer(*initargs)` first. `maxtasksperchild`:
    an actor is replaced after running that many calls. `ray_address`: the
    cluster to join if this process is not connected yet; `ray_remote_args`:
    options of the pool's actors (num_cpus, resources, ...)."""

    def __init__(self, processes=None, initializer=None, initargs=None, maxtasksperchild=None,
                 context=None, ray_address=None, ray_remote_args=None):
        if processes is not None and (not isinstance(processes, int) or processes < 1):
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (
                not isinstance(maxtasksperchild, int) or maxtasksperchild < 1):
            raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if not photon.is_initialized():
            photon.init(address=ray_address)
        if processes is None:
            processes = max(1, int(photon.cluster_resources().get("CPU", 1)))
        self._processes = processes
        self._initializer = initializer
        self._initargs = initargs
        self._maxtasksperchild = maxtasksperchild or -1
        self._remote_args = dict(ray_remote_args or {})
        self._actors = [self._new_actor() for _ in range(processes)]
        self._calls = [0] * processes
        self._next = 0
        self._running = True
        self._closed = False
        self._outstanding = []
        # Every actor is up (its initializer ran) before work goes to it.
        photon.get([a.ping.remote() for a in self._actors])

    def _new_actor(self):
        cls = _PoolActor.options(**self._remote_args) if self._remote_args else _PoolActor
        return cls.remote(self._initializer, self._initargs)

    def _check_running(self):
        if not self._running or self._closed:
            raise ValueError("Pool not running")

    def _submit(self, func, batch):
        i = self._next
        self._next = (self._next + 1) % self._processes
        if 0 < self._maxtasksperchild <= self._calls[i]:
            photon.kill(self._actors[i])
            self._actors[i] = self._new_actor()
            self._calls[i] = 0
        self._calls[i] += len(batch)
        ref = self._actors[i].run_batch.remote(func, batch)
        self._outstanding.append(ref)
        if len(self._outstanding) > 10000:
            self._outstanding = [r for r in self._outstanding if not _is_ready(r)]
        return ref

    def _chunks(self, func, items, chunksize, star):
        if chunksize is None:
            chunksize, extra = divmod(len(items), self._processes * 4)
            chunksize += bool(extra)
        chunksize = max(1, int(chunksize))
        refs = []
        for start in range(0, len(items), chunksize):
            batch = [((tuple(x) if star else (x,)), {}) for x in items[start:start + chunksize]]
            refs.append(self._submit(func, batch))
        return refs

    # --- the standard library's methods -------------------------------------

    def apply(self, func, args=(), kwds=None):
        return self.apply_async(func, args, kwds).get()

    def apply_async(self, func, args=(), kwds=None, callback=None, error_callback=None):
        self._check_running()
        ref = self._submit(func, [(tuple(args), dict(kwds or {}))])
        return AsyncResult([ref], single=True, callback=callback, error_callback=error_callback)

    def map(self, func, iterable, chunksize=None):
        return self.map_async(func, iterable, chunksize).get()

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        self._check_running()
        refs = self._chunks(func, list(iterable), chunksize, star=False)
        return AsyncResult(refs, callback=callback, error_callback=error_callback)

    def starmap(self, func, iterable, chunksize=None):
        return self.starmap_async(func, iterable, chunksize).get()

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        self._check_running()
        refs = self._chunks(func, list(iterable), chunksize, star=True)
        return AsyncResult(refs, callback=callback, error_callback=error_callback)

    def imap(self, func, iterable, chunksize=1):
        self._check_running()
        return IMapIterator(self._chunks(func, list(iterable), chunksize, star=False), True)

    def imap_unordered(self, func, iterable, chunksize=1):
        self._check_running()
        return IMapIterator(self._chunks(func, list(iterable), chunksize, star=False), False)

    def close(self):
        """No more work is accepted; what was submitted finishes."""
        self._closed = True

    def terminate(self):
        """Stops the pool's actors now; outstanding work is lost."""
        self._closed = True
        if self._running:
            self._running = False
            for a in self._actors:
                photon.kill(a)

    def join(self):
        """Waits for the submitted work of a closed pool, then stops its actors."""
        if not self._closed:
            raise ValueError("Pool is still running")
        if self._outstanding:
            photon.wait(self._outstanding, num_returns=len(self._outstanding))
            self._outstanding = []
        self.terminate()

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, *exc):
        self.terminate()

    def __del__(self):
        try:
            if getattr(self, "_running", False) and photon.is_initialized():
                self.terminate()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    def __reduce__(self):
        raise TypeError("Pool objects cannot be passed between processes or pickled")


def _is_ready(ref):
    ready, _ = photon.wait([ref], timeout=0)
    return bool(ready)

