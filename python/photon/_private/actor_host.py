"""The side of an actor that runs it: the hosted instance, its method calls
(threads, event loop, concurrency groups) and exit_actor()."""
import asyncio
import concurrent.futures
import inspect
import threading

from photon import _photon
from photon import exceptions
from photon._private import state
from photon._private.actor import GROUP_SEPARATOR, is_async_class


class _Hosted:
    def __init__(self, instance, loop, groups=None, default_limit=1):
        self.instance = instance
        self.loop = loop
        # Concurrency groups (Ray's): a semaphore per group, and one for the
        # methods in no group (its limit is max_concurrency). None: no groups.
        self.limits = None
        if groups:
            make = asyncio.Semaphore if loop is not None else threading.Semaphore
            self.limits = {name: make(n) for name, n in groups.items()}
            self.limits[None] = make(default_limit)

    def limit_of(self, fn, group):
        """The semaphore a call of `fn` (in `group`, if given at the call) takes."""
        if self.limits is None:
            return None
        if group is None:
            group = getattr(fn, "__photon_method_options__", {}).get("concurrency_group")
        if group is not None and group not in self.limits:
            raise ValueError(f"concurrency group '{group}' is not defined for this actor "
                             f"(defined: {sorted(g for g in self.limits if g)})")
        return self.limits[group]


def instantiate(cls, args, kwargs, groups=None, default_limit=1):
    loop = None
    if is_async_class(cls):
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True, name="photon-actor-loop").start()
    return _Hosted(cls(*args, **kwargs), loop, groups, default_limit)


def call_method(hosted, name, args, kwargs, task=None):
    if hosted is None:
        raise exceptions.RayActorError("this worker hosts no actor")
    if name == "__ray_terminate__":
        _photon.exit_actor()
        return None
    if name == "__ray_ready__":
        return True
    name, _, group = name.partition(GROUP_SEPARATOR)
    fn = getattr(hosted.instance, name)
    limit = hosted.limit_of(fn, group or None)
    if hosted.loop is None:
        if limit is None:
            return fn(*args, **kwargs)
        with limit:
            return fn(*args, **kwargs)
    if inspect.iscoroutinefunction(fn):
        coroutine = fn(*args, **kwargs)
        if limit is not None:
            coroutine = _limited(limit, coroutine)
        # The coroutine's asyncio task starts from a copy of this thread's
        # context, so it sees this call's task (state.current_task()).
        future = asyncio.run_coroutine_threadsafe(coroutine, hosted.loop)
        if task is None:
            return future.result()
        with state.running.lock:  # ray.cancel cancels the coroutine
            state.running.running[bytes(task["task_id"])] = future
        try:
            return future.result()
        finally:
            with state.running.lock:
                state.running.running.pop(bytes(task["task_id"]), None)
    # In an async actor every method runs on the actor's event loop (as in
    # Ray), so sync methods may use the loop's objects (asyncio.Queue, ...).
    return _run_on_loop(hosted.loop, fn, args, kwargs)


async def _limited(semaphore, coroutine):
    async with semaphore:
        return await coroutine


def _run_on_loop(loop, fn, args, kwargs):
    done = concurrent.futures.Future()

    def run():
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - delivered to the caller
            done.set_exception(e)

    loop.call_soon_threadsafe(run)
    return done.result()


class ActorExit(SystemExit):
    """Raised by exit_actor() in a sync actor: ends the current call (as in
    Ray, where exit_actor raises SystemExit); the call's result is
    ActorDiedError and the actor exits once the call is answered."""


def exit_actor():
    """Called inside an actor: ends the current call and then the actor (as in
    Ray: the call raises ActorDiedError, later calls too). In an async actor
    it raises AsyncioActorExit, else SystemExit."""
    try:
        _photon.exit_actor()
    except RuntimeError as e:
        raise TypeError("exit_actor called on a non-actor worker.") from e
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if in_loop:
        raise exceptions.AsyncioActorExit("exit_actor() is called.")
    raise ActorExit("exit_actor() is called.")
