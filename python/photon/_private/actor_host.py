"""The side of an actor that runs it: the hosted instance, its method calls
(threads, event loop, concurrency groups) and exit_actor()."""
import asyncio
import atexit
import concurrent.futures
import inspect
import logging
import threading

from photon import _photon
from photon import exceptions
from photon._private import state
from photon._private.actor import DYNAMIC_MARK, GROUP_SEPARATOR, is_async_class

logger = logging.getLogger(__name__)

# How long a graceful exit waits for the actor's __ray_shutdown__ and the
# process's atexit handlers before the worker exits anyway.
SHUTDOWN_HOOKS_TIMEOUT_S = 30.0


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


class _Constructing:
    """The instance whose __init__ runs (so that exit_actor() there can still
    call its __ray_shutdown__, as Ray does)."""
    instance = None


def instantiate(cls, args, kwargs, groups=None, default_limit=1):
    """The hosted actor; None if its constructor called exit_actor() (the
    actor then exits once its creation is answered)."""
    loop = None
    if is_async_class(cls):
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True, name="photon-actor-loop").start()
    instance = cls.__new__(cls) if cls.__new__ is object.__new__ else \
        cls.__new__(cls, *args, **kwargs)  # what type.__call__ does
    _Constructing.instance = instance
    try:
        if isinstance(instance, cls):
            instance.__init__(*args, **kwargs)
    except ActorExit:
        _photon.exit_worker_after_task()
        return None
    finally:
        _Constructing.instance = None
    return _Hosted(instance, loop, groups, default_limit)


def run_shutdown_hooks(instance, loop=None):
    """A graceful exit, as Ray's: the actor's __ray_shutdown__, then the
    process's atexit handlers (each once), bounded by SHUTDOWN_HOOKS_TIMEOUT_S."""
    def hooks():
        hook = getattr(instance, "__ray_shutdown__", None) if instance is not None else None
        try:
            if hook is not None:
                result = hook()
                if inspect.iscoroutine(result):
                    on_loop = loop is not None and _running_loop() is loop
                    if loop is None:
                        asyncio.run(result)
                    elif on_loop:
                        loop.create_task(result)  # cannot wait on the loop we run on
                    else:
                        asyncio.run_coroutine_threadsafe(result, loop).result(
                            SHUTDOWN_HOOKS_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - the actor exits anyway
            logger.exception("__ray_shutdown__ raised")
        atexit._run_exitfuncs()

    if getattr(state.connection, "shutdown_hooks_ran", False):
        return
    state.connection.shutdown_hooks_ran = True
    t = threading.Thread(target=hooks, name="photon-actor-shutdown", daemon=True)
    t.start()
    t.join(SHUTDOWN_HOOKS_TIMEOUT_S)
    if t.is_alive():
        logger.warning("the actor's shutdown hooks did not finish within %s s; it exits anyway",
                       SHUTDOWN_HOOKS_TIMEOUT_S)


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def call_method(hosted, name, args, kwargs, task=None):
    if hosted is None:
        raise exceptions.RayActorError("this worker hosts no actor")
    if name == "__ray_terminate__":
        run_shutdown_hooks(hosted.instance, hosted.loop)
        _photon.exit_actor()
        return None
    if name == "__ray_ready__":
        return True
    name, _, group = name.partition(GROUP_SEPARATOR)
    name = name.removesuffix(DYNAMIC_MARK)
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
    if _Constructing.instance is not None:
        # In the constructor: the actor is not up yet; it exits once its
        # creation is answered (its calls then raise ActorDiedError).
        run_shutdown_hooks(_Constructing.instance)
        raise ActorExit("exit_actor() is called.")
    hosted = state.connection.actor
    if hosted is None:
        raise TypeError("exit_actor called on a non-actor worker.")
    run_shutdown_hooks(hosted.instance, hosted.loop)
    try:
        _photon.exit_actor()
    except RuntimeError as e:
        raise TypeError("exit_actor called on a non-actor worker.") from e
    in_loop = _running_loop() is not None
    if in_loop:
        raise exceptions.AsyncioActorExit("exit_actor() is called.")
    raise ActorExit("exit_actor() is called.")
