"""@serve.batch: calls to a method are grouped into one call on lists, up to
max_batch_size calls or batch_wait_timeout_s after the first, and each
caller gets its own element of the returned list."""
import asyncio
import functools
import inspect

from photon.serve.exceptions import RayServeException


def _check_size(max_batch_size):
    if isinstance(max_batch_size, float) and max_batch_size.is_integer():
        max_batch_size = int(max_batch_size)
    if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
        raise TypeError(f"max_batch_size must be integer >= 1, got {max_batch_size}")
    if max_batch_size < 1:
        raise ValueError(f"max_batch_size must be an integer >= 1, got {max_batch_size}")
    return max_batch_size


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"batch_wait_timeout_s must be a float >= 0, got {timeout}")
    if timeout < 0:
        raise ValueError(f"batch_wait_timeout_s must be a float >= 0, got {timeout}")


class _BatchQueue:
    """The pending calls of one batched function of one instance, on the
    event loop they were made on."""

    def __init__(self, func, owner, settings):
        self._func = func
        self._owner = owner
        self._settings = settings
        self._queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(settings["max_concurrent_batches"])
        self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, args, kwargs, fut):
        self._queue.put_nowait((args, kwargs, fut))

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self._settings["batch_wait_timeout_s"]
            while len(batch) < self._settings["max_batch_size"]:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    while not self._queue.empty() and \
                            len(batch) < self._settings["max_batch_size"]:
                        batch.append(self._queue.get_nowait())
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            await self._slots.acquire()
            loop.create_task(self._call(batch))

    async def _call(self, batch):
        try:
            live = [b for b in batch if not b[2].done()]  # a cancelled caller drops out
            if not live:
                return
            nargs = len(live[0][0])
            columns = [[b[0][i] for b in live] for i in range(nargs)]
            kw = {k: [b[1][k] for b in live] for k in live[0][1]}
            try:
                args = ([self._owner] if self._owner is not None else []) + columns
                result = self._func(*args, **kw)
                if inspect.isawaitable(result):
                    result = await result
                result = list(result)
                if len(result) != len(live):
                    raise RayServeException(
                        "Batched function doesn't preserve batch size. The input list has "
                        f"length {len(live)} but the returned list has length {len(result)}.")
            except BaseException as e:  # noqa: BLE001 - every caller of the batch sees it
                for b in live:
                    if not b[2].done():
                        b[2].set_exception(e)
                return
            for b, value in zip(live, result):
                if not b[2].done():
                    b[2].set_result(value)
        finally:
            self._slots.release()


def batch(_func=None, /, max_batch_size=10, batch_wait_timeout_s=0.01,
          max_concurrent_batches=1, batch_size_fn=None):
    """Decorates a sync or async function or method that takes lists (one
    per argument) and returns a list of the same length."""
    if _func is not None and not callable(_func):
        raise TypeError("@serve.batch can only be used to decorate functions or methods.")
    max_batch_size = _check_size(max_batch_size)
    _check_timeout(batch_wait_timeout_s)
    if isinstance(max_concurrent_batches, bool) or not isinstance(max_concurrent_batches, int) \
            or max_concurrent_batches < 1:
        raise TypeError(f"max_concurrent_batches must be integer >= 1, got "
                        f"{max_concurrent_batches}")
    if batch_size_fn is not None:
        raise ValueError("photon.serve's @serve.batch has no batch_size_fn: batches are "
                         "counted in calls")

    def decorate(func):
        if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
            raise TypeError("photon.serve's @serve.batch does not take generator functions")
        params = list(inspect.signature(func).parameters)
        is_method = bool(params) and params[0] == "self"
        settings = {"max_batch_size": max_batch_size,
                    "batch_wait_timeout_s": float(batch_wait_timeout_s),
                    "max_concurrent_batches": max_concurrent_batches}
        queues = {}  # (id(owner), loop) -> _BatchQueue

        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            owner = args[0] if is_method else None
            call_args = args[1:] if is_method else args
            loop = asyncio.get_running_loop()
            key = (id(owner), id(loop))
            q = queues.get(key)
            if q is None:
                q = queues[key] = _BatchQueue(func, owner, settings)
            fut = loop.create_future()
            q.put(call_args, kwargs, fut)
            return await fut

        def set_max_batch_size(n):
            settings["max_batch_size"] = _check_size(n)

        def set_batch_wait_timeout_s(t):
            _check_timeout(t)
            settings["batch_wait_timeout_s"] = float(t)

        wrapper.set_max_batch_size = set_max_batch_size
        wrapper.set_batch_wait_timeout_s = set_batch_wait_timeout_s
        wrapper._get_max_batch_size = lambda: settings["max_batch_size"]
        wrapper._get_batch_wait_timeout_s = lambda: settings["batch_wait_timeout_s"]
        return wrapper

    if _func is not None:
        return decorate(_func)
    return decorate
