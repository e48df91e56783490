"""The process-wide state of Photon in Python and the core operations:
connecting, get/put/wait, exporting functions, running tasks in workers."""
import hashlib
import os
import sys
import threading
import traceback

import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import serialization
from photon._private.object_ref import ObjectRef

FUNCTION_NS = "photon:functions"
# What the driver tells its job's workers, by job id: the environment it
# gives them and the job's namespace (see _apply_job_info).
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
    state.namespace = info["namespace"]
    job_info = {"env": worker_env, "namespace": info["namespace"]}
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
    """Gives this worker the job's namespace and environment (its PYTHONPATH
    and the runtime_env env_vars). The core does neither for workers: a
    worker's core has an empty namespace, and workers started for tasks that
    workers submit get the submitting worker's command line and no job
    environment."""
    with state.lock:
        if state.job_info_applied:
            return
        state.job_info_applied = True
        try:
            raw = _photon.kv_get(JOB_INFO_NS, _photon.job_id().hex().encode())
        except Exception:  # noqa: BLE001 - keep the environment we have
            return
        if raw is None:
            return
        job_info = cloudpickle.loads(raw)
        state.namespace = job_info.get("namespace") or None
        env = job_info.get("env") or {}
        for path in env.get("PYTHONPATH", "").split(os.pathsep):
            if path and path not in sys.path:
                sys.path.append(path)
        for key, value in env.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def disconnect():
    if state.mode == "driver":
        _photon.disconnect()
    state.mode = None
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


class RetryOnly:
    """A task function with retry_exceptions=[classes]: only exceptions of
    those classes are reported to the core as retryable failures."""

    def __init__(self, function, classes):
        self.function = function
        self.classes = tuple(classes)

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


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
    single = isinstance(refs, ObjectRef)
    if single:
        refs = [refs]
    elif not isinstance(refs, (list, tuple)):
        raise ValueError(f"photon.get takes an ObjectRef or a list of ObjectRefs, got {type(refs)}")
    for r in refs:
        if not isinstance(r, ObjectRef):
            raise ValueError(f"photon.get takes ObjectRefs, got an element of type {type(r)}")
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


def wait(refs, num_returns=1, timeout=None, fetch_local=True):
    ensure_initialized()
    if isinstance(refs, ObjectRef):
        raise TypeError("wait() expected a list of ObjectRefs, got a single ObjectRef")
    refs = list(refs)
    for r in refs:
        if not isinstance(r, ObjectRef):
            raise TypeError(f"wait() expected a list of ObjectRefs, got an element of type {type(r)}")
    if len(set(refs)) != len(refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(refs):
        raise ValueError("num_returns cannot be greater than the number of objects provided to "
                         f"wait: {num_returns} > {len(refs)}")
    ready = _photon.wait([r.binary() for r in refs], num_returns, _timeout_ms(timeout))
    ready_refs = [r for r, ok in zip(refs, ready) if ok][:num_returns]
    chosen = set(ready_refs)
    return ready_refs, [r for r in refs if r not in chosen]


# --- running tasks in a worker ---------------------------------------------------------

def _serialize_returns(value, num_returns):
    if num_returns == 1:
        values = [value]
    elif num_returns == 0:
        values = []
    else:
        values = list(value)
        if len(values) != num_returns:
            raise ValueError(f"Task returned {len(values)} objects, but num_returns={num_returns}.")
    out = []
    for v in values:
        meta, data, refs = serialization.serialize_to_bytes(v)
        out.append((meta, data))
    return out


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


def execute_task(task, raw_args):
    """Called by the core for every task this worker runs (see _photon.pyi)."""
    if not state.job_info_applied:
        _apply_job_info()
    try:
        args, kwargs = unpack_args(raw_args)
        kind = task["type"]
        if kind == "normal":
            fn = load(task["function"])
            if isinstance(fn, RetryOnly):
                try:
                    result = fn(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    if isinstance(exc, fn.classes):
                        raise
                    # Not retryable: the error is the task's result.
                    error = bytes(_error_bytes(task, exc))
                    return "ok", [(_photon.ERROR_METADATA, error)] * task["num_returns"]
            else:
                result = fn(*args, **kwargs)
            return "ok", _serialize_returns(result, task["num_returns"])
        if kind == "actor_creation":
            cls = load(task["function"])
            from photon._private import actor as actor_mod
            state.actor = actor_mod.instantiate(cls, args, kwargs)
            return "ok", [(serialization.PICKLE5, serialization.serialize_to_bytes(None)[1])]
        # An actor method.
        from photon._private import actor as actor_mod
        result = actor_mod.call_method(state.actor, task["function"], args, kwargs)
        return "ok", _serialize_returns(result, task["num_returns"])
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - reported to the caller
        return "error", _error_bytes(task, exc)
