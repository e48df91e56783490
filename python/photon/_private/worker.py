"""The process-wide state of Photon in Python and the core operations:
connecting, get/put/wait, exporting functions, running tasks in workers."""
import asyncio
import concurrent.futures
import hashlib
import inspect
import os
import struct
import sys
import threading
import time
import traceback

import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import serialization
from photon._private.object_ref import ObjectRef

FUNCTION_NS = "photon:functions"
# What the driver tells its job's workers, by job id: the job's namespace
# (see _apply_job_info).
JOB_INFO_NS = "photon:job_info"


class _State:
    def __init__(self):
        self.lock = threading.RLock()
        self.info = None            # dict from _photon.connect (drivers)
        self.mode = None            # "driver" or "worker"
        self.exported = set()       # function keys already in the GCS
        self.functions = {}         # key -> function or class (cache)
        self.actor = None           # the actor instance this worker hosts
        self.actor_loop = None      # event loop of an async actor
        self.namespace = None
        self.job_info_applied = False
        self.epoch = 0              # counts connections: exports are per cluster
        self.resources = {}         # the running task's (or the actor's) resources
        self.task_name = None       # the running task's name
        self.gpu_ids = None         # GPU instances of the running task or actor (workers)
        self.original_cuda = None   # the worker's own CUDA_VISIBLE_DEVICES
        self.running = {}           # task id -> thread ident, asyncio future or SYNC_ACTOR_CALL
        self.cancelled = set()      # running sync actor calls that were cancelled
        self.local = threading.local()  # .task_id: the task this thread runs
        self.actor_name = None      # the hosted actor's name ("" if anonymous)


state = _State()


def is_initialized():
    return state.mode is not None


def ensure_initialized():
    if state.mode is None:
        from photon import init
        init()


# --- connection ---------------------------------------------------------------

def _worker_pythonpath():
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    cwd = os.getcwd()
    if cwd not in paths:
        paths.insert(0, cwd)
    return os.pathsep.join(paths)


def connect(address, num_cpus, num_gpus, resources, object_store_memory, namespace, env_vars,
            config_overrides):
    worker_env = {"PYTHONPATH": _worker_pythonpath(), "PYTHONUNBUFFERED": "1"}
    worker_env.update(env_vars or {})
    command = [sys.executable, "-m", "photon._private.worker_main"]
    try:
        info = _photon.connect(address or "", -1 if num_cpus is None else float(num_cpus),
                               float(num_gpus or 0), {k: float(v) for k, v in (resources or {}).items()},
                               int(object_store_memory or 0), namespace or "", command, worker_env,
                               {k: str(v) for k, v in (config_overrides or {}).items()})
    except ValueError:
        raise
    except RuntimeError as e:
        raise ConnectionError(str(e)) from None
    state.info = info
    state.mode = "driver"
    state.epoch += 1
    state.namespace = info["namespace"]
    job_info = {"namespace": info["namespace"]}
    try:
        _photon.kv_put(JOB_INFO_NS, info["job_id"].hex().encode(), cloudpickle.dumps(job_info),
                       True)
    except Exception:  # noqa: BLE001 - only workers need it
        pass
    return info


def current_namespace():
    """The namespace of this process's job (drivers and workers)."""
    if state.mode == "worker" and not state.job_info_applied:
        _apply_job_info()
    return state.namespace or _photon.namespace()


def _apply_job_info():
    """Gives this worker its job's namespace: the core leaves a worker's
    namespace empty (_photon.namespace() is "" in workers), so named actors
    created or looked up in tasks would land in the wrong namespace."""
    with state.lock:
        if state.job_info_applied:
            return
        state.job_info_applied = True
        try:
            raw = _photon.kv_get(JOB_INFO_NS, _photon.job_id().hex().encode())
        except Exception:  # noqa: BLE001 - keep the core's answer
            return
        if raw is None:
            return
        state.namespace = cloudpickle.loads(raw).get("namespace") or None


def is_connected():
    """Whether this process is connected, from Python's own state: safe in
    __del__ on any thread. (_photon.is_connected takes the binding's mutex
    while holding the GIL; disconnect holds that mutex while it waits for the
    GIL, so calling it from a finalizer on another thread during
    photon.shutdown() deadlocks.)"""
    return state.mode is not None


def disconnect():
    was_driver = state.mode == "driver"
    # Finalizers of refs and handles stop calling into the core first.
    state.mode = None
    if was_driver:
        _photon.disconnect()
    state.info = None
    state.namespace = None
    state.exported.clear()
    state.functions.clear()


# --- functions and classes -------------------------------------------------------

def export(obj):
    """Ships a function or class to the cluster once; returns its key."""
    pickled = cloudpickle.dumps(obj)
    key = hashlib.sha1(pickled).hexdigest()
    with state.lock:
        if key in state.exported:
            return key
    _photon.kv_put(FUNCTION_NS, key.encode(), pickled, False)
    with state.lock:
        state.exported.add(key)
        state.functions[key] = obj
    return key


def export_cached(cache, cache_key, make):
    """export(make()) once per connection; `cache` maps cache_key to
    (epoch, key) so a function is exported again to a new cluster."""
    hit = cache.get(cache_key)
    if hit is not None and hit[0] == state.epoch:
        return hit[1]
    key = export(make())
    cache[cache_key] = (state.epoch, key)
    return key


def load(key):
    with state.lock:
        obj = state.functions.get(key)
    if obj is not None:
        return obj
    pickled = _photon.kv_get(FUNCTION_NS, key.encode())
    if pickled is None:
        raise exceptions.RaySystemError(f"function {key} is not in the cluster's function table")
    obj = cloudpickle.loads(pickled)
    with state.lock:
        state.functions[key] = obj
    return obj


class TaskFunction:
    """A task function with options the core does not carry, applied in the
    worker: retry_exceptions=[classes] (only exceptions of those classes are
    reported to the core as retryable failures), runtime_env env_vars (set for
    the duration of the call) and max_calls (the worker exits after that many
    calls of the function, as in Ray)."""

    def __init__(self, function, retry_classes=None, env_vars=None, max_calls=0):
        self.function = function
        self.retry_classes = None if retry_classes is None else tuple(retry_classes)
        self.env_vars = dict(env_vars or {})
        self.max_calls = max_calls or 0  # Ray's max_calls: the worker exits after that many
        self.calls = 0


class ActorClassWithEnv:
    """An actor class with what its worker applies: runtime_env env_vars (set
    before __init__) and concurrency groups (name -> limit; `default_limit`
    for methods outside every group)."""

    def __init__(self, cls, env_vars, concurrency_groups=None, default_limit=1):
        self.cls = cls
        self.env_vars = dict(env_vars)
        self.concurrency_groups = dict(concurrency_groups or {})
        self.default_limit = default_limit


class _EnvVars:
    """Sets environment variables, restoring the old values on exit."""

    def __init__(self, env_vars):
        self.env_vars = env_vars
        self.saved = {}

    def __enter__(self):
        for k, v in self.env_vars.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc):
        for k, old in self.saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


# --- arguments and values ----------------------------------------------------------

def pack_args(args, kwargs):
    """Task arguments for the core: top-level ObjectRefs travel as references
    (resolved before the call); everything else is serialized. Keyword values
    follow the positional ones; a last argument lists their names."""
    out = []
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, ObjectRef):
            out.append((True, value.binary(), b""))
        else:
            meta, data, refs = serialization.serialize_to_bytes(value)
            out.append((False, meta, data))
    if kwargs:
        out.append((False, serialization.KWNAMES, cloudpickle.dumps(list(kwargs.keys()))))
    return out


def unpack_args(raw):
    """(args, kwargs) from the core's resolved arguments."""
    names = []
    if raw and raw[-1][0] == serialization.KWNAMES:
        names = cloudpickle.loads(bytes(memoryview(raw[-1][1])))
        raw = raw[:-1]
    values = [value_of(meta, buf) for meta, buf in raw]
    if names:
        return values[:len(values) - len(names)], dict(zip(names, values[len(values) - len(names):]))
    return values, {}


def error_from(info_bytes):
    """The exception a failed object stands for."""
    e = _photon.parse_error(bytes(info_bytes))
    kind, msg = e["type"], e["message"]
    if kind == "TASK_EXECUTION_EXCEPTION":
        if e["serialized_exception"]:
            try:
                err = cloudpickle.loads(e["serialized_exception"])
                if isinstance(err, exceptions.RayTaskError):
                    return err.as_instanceof_cause()
                return err
            except Exception:  # noqa: BLE001 - fall back to the text
                pass
        return exceptions.RayTaskError(e["where"], msg, None)
    if kind in ("ACTOR_DIED",):
        return exceptions.ActorDiedError(msg)
    if kind == "WORKER_DIED":
        return exceptions.WorkerCrashedError(msg)
    if kind == "TASK_CANCELLED":
        return exceptions.TaskCancelledError(message=msg)
    if kind == "OWNER_DIED":
        return exceptions.OwnerDiedError(message=msg)
    if kind == "OBJECT_LOST":
        return exceptions.ObjectLostError(message=msg)
    if kind == "OBJECT_STORE_FULL":
        return exceptions.ObjectStoreFullError(msg)
    if kind == "TASK_UNSCHEDULABLE":
        return exceptions.TaskUnschedulableError(msg)
    if kind == "FUNCTION_NOT_FOUND":
        return exceptions.RaySystemError(msg)
    return exceptions.RayError(msg)


def value_of(meta, buf):
    if meta == _photon.ERROR_METADATA:
        raise error_from(memoryview(buf))
    return serialization.deserialize(meta, buf)


# --- get / put / wait -----------------------------------------------------------------

def _timeout_ms(timeout):
    if timeout is None:
        return -1
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be None or a number >= 0, got {timeout!r}")
    return int(timeout * 1000)


def get(refs, timeout=None):
    ensure_initialized()
    from photon._private.generator import ObjectRefGenerator
    if isinstance(refs, ObjectRefGenerator):
        return refs  # as in Ray
    single = isinstance(refs, ObjectRef)
    if single:
        refs = [refs]
    elif not isinstance(refs, (list, tuple)):  # (Ray takes lists only; a tuple does no harm)
        raise ValueError("'object_refs' must either be an ObjectRef or a list of ObjectRefs, "
                         f"got {type(refs)}.")
    for r in refs:
        if not isinstance(r, ObjectRef):
            raise TypeError(f"Attempting to call `get` on the value {r!r}, which is not an "
                            "ObjectRef.")
    try:
        raw = _photon.get([r.binary() for r in refs], _timeout_ms(timeout))
    except TimeoutError as e:
        raise exceptions.GetTimeoutError(str(e)) from None
    values = [value_of(meta, buf) for meta, buf in raw]
    return values[0] if single else values


def put(value):
    ensure_initialized()
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ObjectRef is not allowed. If you really want to do "
                        "this, you can wrap the ObjectRef in a list and call 'put' on it.")
    meta, parts, refs = serialization.serialize(value)
    oid = _photon.put_parts(meta, parts)
    if refs:
        _photon.add_contained_refs(oid, [r.binary() for r in refs])
    return ObjectRef(oid, _adopt=True)


def wait(refs, *, num_returns=1, timeout=None, fetch_local=True):
    """Ray's wait: (ready, not_ready) once `num_returns` of `refs` are ready or
    `timeout` seconds passed. An ObjectRefGenerator is ready when its next item
    (or its end) is."""
    from photon._private.generator import ObjectRefGenerator
    ensure_initialized()
    if isinstance(refs, (ObjectRef, ObjectRefGenerator)):
        raise TypeError("wait() expected a list of ObjectRef, got a single ObjectRef")
    if not isinstance(refs, list):
        raise TypeError(f"wait() expected a list of ObjectRef, got {type(refs)}")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    for r in refs:
        if not isinstance(r, (ObjectRef, ObjectRefGenerator)):
            raise TypeError("wait() expected a list of ObjectRef or ObjectRefGenerator, got list "
                            f"containing {type(r)}")
    if len(refs) == 0:
        return [], []
    if len(set(refs)) != len(refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(refs):
        raise ValueError("num_returns cannot be greater than the number of objects provided to "
                         f"wait: {num_returns} > {len(refs)}")
    if any(isinstance(r, ObjectRefGenerator) for r in refs):
        ready = _wait_with_generators(refs, num_returns, timeout, fetch_local)
    else:
        ready = _photon.wait([r.binary() for r in refs], num_returns, _timeout_ms(timeout),
                             bool(fetch_local))
    ready_refs = [r for r, ok in zip(refs, ready) if ok][:num_returns]
    chosen = set(ready_refs)
    return ready_refs, [r for r in refs if r not in chosen]


def _wait_with_generators(refs, num_returns, timeout, fetch_local):
    """wait() over refs and generators: looks every few milliseconds (a
    generator is ready when its next item, or its end, has arrived). Objects
    count as ready where they are (fetch_local is not applied here)."""
    from photon._private.generator import ObjectRefGenerator
    deadline = None if timeout is None else time.monotonic() + timeout
    plain = [r.binary() for r in refs if not isinstance(r, ObjectRefGenerator)]
    while True:
        flags = iter(_photon.wait(plain, 0, 0, False) if plain else [])
        ready = [r._ready() if isinstance(r, ObjectRefGenerator) else next(flags) for r in refs]
        if sum(ready) >= num_returns or (deadline is not None and time.monotonic() >= deadline):
            return ready
        time.sleep(0.005)


# --- running tasks in a worker ---------------------------------------------------------

def _serialize_returns(value, num_returns, task_id=None):
    if num_returns == 1:
        values = [value]
    elif num_returns == 0:
        values = []
    else:
        values = list(value)
        if len(values) != num_returns:
            raise ValueError(f"Task returned {len(values)} objects, but num_returns={num_returns}.")
    out = []
    for i, v in enumerate(values, start=1):
        meta, data, refs = serialization.serialize_to_bytes(v)
        if refs and task_id is not None:
            # Refs inside a return value keep their objects alive here (this
            # worker may own them) for as long as this worker lives.
            return_id = bytes(task_id) + struct.pack("<I", i)
            _photon.add_contained_refs(return_id, [r.binary() for r in refs])
        out.append((meta, data))
    return out


def _stream_items(task, result, loop=None):
    """Runs a streaming task's generator, handing each item to the caller as it
    is produced; the task's one return is the number of items."""
    if inspect.isasyncgen(result):
        if loop is None:
            raise TypeError("an async generator can only stream from an async actor")
        def items():  # each step runs on the actor's event loop
            while True:
                try:
                    yield asyncio.run_coroutine_threadsafe(result.__anext__(), loop).result()
                except StopAsyncIteration:
                    return
        iterator = items()
    elif inspect.isgenerator(result) or hasattr(result, "__iter__"):
        iterator = iter(result)
    else:
        raise TypeError(f"'{task['name']}' has num_returns='streaming' but returned "
                        f"{type(result).__name__}, not a generator")
    count = 0
    for item in iterator:
        meta, parts, refs = serialization.serialize(item)
        item_id = bytes(task["task_id"]) + struct.pack("<I", count + 2)
        _photon.report_stream_item(task["task_id"], count, meta, parts)
        if refs:
            # As for return values: refs inside an item stay alive here.
            _photon.add_contained_refs(item_id, [r.binary() for r in refs])
        count += 1
    return "ok", [serialization.serialize_to_bytes(count)[:2]]


def _returns_of(task, result, loop=None):
    if task.get("streaming"):
        return _stream_items(task, result, loop)
    return "ok", _serialize_returns(result, task["num_returns"], task["task_id"])


def _error_bytes(task, exc):
    tb = traceback.format_exc()
    # As in Ray: an error that came from a task this one waited on is not
    # nested; the new error keeps the original cause (so it stays an instance
    # of the user's exception class), and the traceback shows both tasks.
    cause = exc.cause if isinstance(exc, exceptions.RayTaskError) else exc
    err = exceptions.RayTaskError(task["name"], tb, cause, pid=os.getpid(), ip="127.0.0.1")
    try:
        serialized = cloudpickle.dumps(err)
    except Exception:  # noqa: BLE001 - unpicklable exception: keep the text
        serialized = b""
    return _photon.make_error("TASK_EXECUTION_EXCEPTION", tb, type(cause).__name__, serialized)


def _run_task_function(task, fn, args, kwargs):
    if fn.max_calls:
        fn.calls += 1
        if fn.calls >= fn.max_calls:
            _photon.exit_worker_after_task()
    with _EnvVars(fn.env_vars):
        try:
            result = fn.function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            if fn.retry_classes is None or isinstance(exc, fn.retry_classes):
                raise
            # Not retryable: the error is the task's result.
            error = bytes(_error_bytes(task, exc))
            return "ok", [(_photon.ERROR_METADATA, error)] * task["num_returns"]
        return _returns_of(task, result)


_NO_ENV = object()


def _set_gpu_ids(ids):
    """As Ray does: a task or actor holding GPUs sees them (and only them) in
    CUDA_VISIBLE_DEVICES; a task without GPUs sees the worker's own value."""
    if state.original_cuda is None:
        state.original_cuda = os.environ.get("CUDA_VISIBLE_DEVICES", _NO_ENV)
    state.gpu_ids = list(ids)
    if ids:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in ids)
    elif state.original_cuda is _NO_ENV:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = state.original_cuda


def _cancelled_error(task):
    return _photon.make_error("TASK_CANCELLED", f"task '{task['name']}' was cancelled",
                              "TaskCancelledError", b"")


SYNC_ACTOR_CALL = "sync actor call"


def interrupt_task(task_id):
    """Called by the core when a running task is cancelled: a normal task gets
    KeyboardInterrupt in its thread (as in Ray; a blocking C call sees it when
    it returns), an async actor call has its coroutine cancelled. A sync actor
    call is not interrupted (as in Ray): it is marked, so that
    get_runtime_context().is_canceled() turns True in it and its result is
    TaskCancelledError."""
    import ctypes
    with state.lock:
        target = state.running.get(bytes(task_id))
        if target is None:
            return
        state.cancelled.add(bytes(task_id))  # is_canceled() in the task turns True
        if isinstance(target, int):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                       ctypes.py_object(KeyboardInterrupt))
        elif target is not SYNC_ACTOR_CALL:
            target.cancel()  # an async actor call's future


def _track(task, target):
    with state.lock:
        state.running[bytes(task["task_id"])] = target


def _untrack(task, ident=None):
    import ctypes
    with state.lock:
        state.running.pop(bytes(task["task_id"]), None)
        if ident is not None:  # a KeyboardInterrupt sent too late must not hit the next task
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)


def _actor_exit_class():
    from photon._private.actor import ActorExit
    return ActorExit


def execute_task(task, raw_args):
    """Called by the core for every task this worker runs (see _photon.pyi)."""
    normal = task["type"] == "normal"
    actor_call = task["type"] == "actor_task"
    ident = threading.get_ident() if normal else None
    task_id = bytes(task["task_id"])
    state.local.task_id = task_id
    try:
        if normal:
            _track(task, ident)
        elif actor_call:
            _track(task, SYNC_ACTOR_CALL)  # an async call replaces it with its future
        try:
            outcome = _execute_task(task, raw_args)
        finally:
            if normal:
                _untrack(task, ident)
            elif actor_call:
                _untrack(task)
        if actor_call and task_id in state.cancelled:
            return "error", _cancelled_error(task)
        return outcome
    except KeyboardInterrupt:  # ray.cancel of this running task
        return "error", _cancelled_error(task)
    finally:
        state.local.task_id = None
        with state.lock:
            state.cancelled.discard(task_id)


def _execute_task(task, raw_args):
    try:
        if "resources" in task:
            state.resources = task["resources"]
            _set_gpu_ids(task["gpu_ids"])
        if "actor_name" in task:
            state.actor_name = task["actor_name"]
        state.task_name = task["name"]
        args, kwargs = unpack_args(raw_args)
        kind = task["type"]
        if kind == "normal":
            fn = load(task["function"])
            if isinstance(fn, TaskFunction):
                return _run_task_function(task, fn, args, kwargs)
            result = fn(*args, **kwargs)
            return _returns_of(task, result)
        if kind == "actor_creation":
            cls = load(task["function"])
            groups, default_limit = {}, 1
            if isinstance(cls, ActorClassWithEnv):
                os.environ.update(cls.env_vars)  # the worker is the actor's alone
                groups, default_limit = cls.concurrency_groups, cls.default_limit
                cls = cls.cls
            from photon._private import actor as actor_mod
            state.actor = actor_mod.instantiate(cls, args, kwargs, groups, default_limit)
            return "ok", [(serialization.PICKLE5, serialization.serialize_to_bytes(None)[1])]
        # An actor method.
        from photon._private import actor as actor_mod
        result = actor_mod.call_method(state.actor, task["function"], args, kwargs, task)
        return _returns_of(task, result, state.actor.loop if state.actor else None)
    except (exceptions.AsyncioActorExit, _actor_exit_class()):
        # exit_actor(): the call fails as the actor's later calls will.
        return "error", _photon.make_error(
            "ACTOR_DIED", f"The actor exited: exit_actor() was called in '{task['name']}'.",
            "ActorDiedError", b"")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except (asyncio.CancelledError, concurrent.futures.CancelledError):
        return "error", _cancelled_error(task)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller
        return "error", _error_bytes(task, exc)
