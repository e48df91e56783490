"""Running tasks in a worker: the executor the core calls for every task it
is pushed (see _photon.run_worker), cancellation of running tasks, and the
task's results back to the core (return values with the references nested
in them; streamed items)."""
import asyncio
import concurrent.futures
import ctypes
import inspect
import logging
import os
import threading
import traceback

import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import actor_host
from photon._private import function_manager
from photon._private import serialization
from photon._private import state
from photon._private import task_args
from photon._private.generator import DynamicObjectRefGenerator
from photon._private.object_ref import ObjectRef
from photon._private.runtime_env import setup as runtime_env_setup

logger = logging.getLogger(__name__)

conn = state.connection
running = state.running


# --- results ------------------------------------------------------------------------

def _serialize_returns(value, num_returns, task=None):
    """(metadata, data, nested_ref_ids) per return. The core holds the nested
    refs for the caller (it becomes their borrower before the reply goes)."""
    if inspect.isgenerator(value) and task is not None:
        return _static_generator_returns(task, value, num_returns)
    if num_returns == 1:
        vals = [value]
    elif num_returns == 0:
        vals = []
    else:
        vals = list(value)
        if len(vals) != num_returns:
            raise ValueError(f"Task returned {len(vals)} objects, but num_returns={num_returns}.")
    return [serialization.serialize_to_bytes(v) for v in vals]


def _static_generator_returns(task, gen, num_returns):
    """A generator task with num_returns=N, as Ray: the N refs get the first N
    values yielded; if it yields fewer, the refs left over raise Ray's error
    ("Task returned k objects, but num_returns=N."); if it raises, the refs
    not yet filled raise its error; values beyond N are dropped (logged)."""
    out = []
    try:
        for value in gen:
            if len(out) == num_returns:
                logger.error("Task %s returned more than num_returns=%d objects; the rest are "
                             "dropped", task["name"], num_returns)
                gen.close()
                break
            out.append(serialization.serialize_to_bytes(value))
    except Exception as exc:  # noqa: BLE001 - the refs not yet filled hold it
        error = bytes(_error_bytes(task, exc))
        return out + [(_photon.ERROR_METADATA, error, [])] * (num_returns - len(out))
    if len(out) < num_returns:
        try:
            raise ValueError(f"Task returned {len(out)} objects, but num_returns={num_returns}.")
        except ValueError as exc:
            error = bytes(_error_bytes(task, exc))
        out += [(_photon.ERROR_METADATA, error, [])] * (num_returns - len(out))
    return out


def _dynamic_returns(task, gen):
    """num_returns="dynamic": each value yielded is put here (this worker owns
    it; the caller borrows it), and the task's one return is the
    DynamicObjectRefGenerator of their refs. If the generator raises, one more
    ref holds the error (as in Ray)."""
    refs = []
    try:
        for value in gen:
            meta, parts, nested = serialization.serialize(value)
            oid = _photon.put_parts(meta, parts)
            if nested:
                _photon.add_contained_refs(oid, nested)
            refs.append(ObjectRef(oid, _adopt=True))
    except Exception as exc:  # noqa: BLE001 - the last ref holds it
        oid = _photon.put(_photon.ERROR_METADATA, bytes(_error_bytes(task, exc)))
        refs.append(ObjectRef(oid, _adopt=True))
    result = DynamicObjectRefGenerator(refs)
    return "ok", [serialization.serialize_to_bytes(result)], result


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
        # The item (and its refs) are alive here until the caller has it.
        _photon.report_stream_item(task["task_id"], count, meta, parts, refs)
        count += 1
    return "ok", [serialization.serialize_to_bytes(count)]


def _returns_of(task, result, loop=None):
    if task.get("streaming"):
        return _stream_items(task, result, loop)
    # The value itself goes back too: its refs must stay alive until the core
    # has taken its own hold on them.
    return "ok", _serialize_returns(result, task["num_returns"], task), result


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


def _cancelled_error(task):
    return _photon.make_error("TASK_CANCELLED", f"task '{task['name']}' was cancelled",
                              "TaskCancelledError", b"")


# --- GPUs --------------------------------------------------------------------------------

_NO_ENV = object()


def _name_running(obj, method=None):
    task = state.current_task()
    if task is not None:
        name = function_manager.qualified_name(obj)
        task.function_name = f"{name}.{method}" if method else name


def _set_omp_threads(resources):
    """As Ray does: OMP_NUM_THREADS is the task's (or actor's) CPU count (1 for
    less than one CPU), unless the worker's environment set it already."""
    if conn.original_omp is None:
        conn.original_omp = os.environ.get("OMP_NUM_THREADS", _NO_ENV)
    if conn.original_omp is _NO_ENV:
        os.environ["OMP_NUM_THREADS"] = str(max(1, int(resources.get("CPU", 0))))


def _set_gpu_ids(ids):
    """As Ray does: a task or actor holding GPUs sees them (and only them) in
    CUDA_VISIBLE_DEVICES; a task without GPUs sees the worker's own value."""
    if conn.original_cuda is None:
        conn.original_cuda = os.environ.get("CUDA_VISIBLE_DEVICES", _NO_ENV)
    if ids:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in ids)
    elif conn.original_cuda is _NO_ENV:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = conn.original_cuda


# --- cancellation --------------------------------------------------------------------------

def interrupt_task(task_id):
    """Called by the core when a running task is cancelled: a normal task gets
    KeyboardInterrupt in its thread (as in Ray; a blocking C call sees it when
    it returns), an async actor call has its coroutine cancelled. A sync actor
    call is not interrupted (as in Ray): it is marked, so that
    get_runtime_context().is_canceled() turns True in it and its result is
    TaskCancelledError."""
    with running.lock:
        target = running.running.get(bytes(task_id))
        if target is None:
            return
        running.cancelled.add(bytes(task_id))  # is_canceled() in the task turns True
        if isinstance(target, int):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                       ctypes.py_object(KeyboardInterrupt))
        elif target is not state.RunningTasks.SYNC_ACTOR_CALL:
            target.cancel()  # an async actor call's future


def _track(task_id, target):
    with running.lock:
        running.running[task_id] = target


def _untrack(task_id, ident=None):
    with running.lock:
        running.running.pop(task_id, None)
        if ident is not None:  # a KeyboardInterrupt sent too late must not hit the next task
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)


# --- the executor ------------------------------------------------------------------------

def execute_task(task, raw_args):
    """Called by the core for every task this worker runs (see _photon.pyi),
    on the thread that runs it."""
    normal = task["type"] == "normal"
    actor_call = task["type"] == "actor_task"
    ident = threading.get_ident() if normal else None
    task_id = bytes(task["task_id"])
    if "resources" in task:  # a normal task or an actor's creation: its own resources
        resources, gpu_ids = dict(task["resources"]), list(task["gpu_ids"])
        pg, capture = bytes(task["placement_group_id"]), bool(task["capture_child_tasks"])
        if task["type"] == "actor_creation":
            conn.actor_resources, conn.actor_gpu_ids = resources, gpu_ids
            conn.actor_placement_group_id, conn.actor_capture_child_tasks = pg, capture
        _set_gpu_ids(gpu_ids)
        _set_omp_threads(resources)
    else:  # an actor call runs with its actor's
        resources, gpu_ids = conn.actor_resources, conn.actor_gpu_ids
        pg, capture = conn.actor_placement_group_id, conn.actor_capture_child_tasks
    token = state.enter_task(state.TaskContext(task_id, task["name"], resources, gpu_ids, pg,
                                               capture))
    try:
        if normal:
            _track(task_id, ident)
        elif actor_call:
            _track(task_id, state.RunningTasks.SYNC_ACTOR_CALL)  # an async call replaces it
        try:
            outcome = _execute_task(task, raw_args)
        finally:
            _untrack(task_id, ident if normal else None)
        if actor_call and task_id in running.cancelled:
            return "error", _cancelled_error(task)
        return outcome
    except KeyboardInterrupt:  # ray.cancel of this running task
        return "error", _cancelled_error(task)
    finally:
        state.leave_task(token)
        with running.lock:
            running.cancelled.discard(task_id)


def _run_task_function(task, fn, args, kwargs):
    if fn.max_calls:
        fn.calls += 1
        if fn.calls >= fn.max_calls:
            _photon.exit_worker_after_task()
    with function_manager.EnvVars(fn.env_vars):
        try:
            result = fn.function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            if fn.retry_classes is None or isinstance(exc, fn.retry_classes):
                raise
            # Not retryable: the error is the task's result.
            error = bytes(_error_bytes(task, exc))
            return "ok", [(_photon.ERROR_METADATA, error, [])] * task["num_returns"]
        if fn.dynamic:
            return _dynamic_returns(task, result)
        return _returns_of(task, result)


def _execute_task(task, raw_args):
    try:
        runtime_env_setup.ensure()
        if "actor_name" in task:
            conn.actor_name = task["actor_name"]
        args, kwargs = task_args.unpack_args(raw_args)
        kind = task["type"]
        if kind == "normal":
            fn = function_manager.load(task["function"])
            _name_running(fn.function if isinstance(fn, function_manager.TaskFunction) else fn)
            if isinstance(fn, function_manager.TaskFunction):
                return _run_task_function(task, fn, args, kwargs)
            result = fn(*args, **kwargs)
            return _returns_of(task, result)
        if kind == "actor_creation":
            cls = function_manager.load(task["function"])
            groups, default_limit = {}, 1
            if isinstance(cls, function_manager.ActorClassWithEnv):
                os.environ.update(cls.env_vars)  # the worker is the actor's alone
                groups, default_limit = cls.concurrency_groups, cls.default_limit
                cls = cls.cls
            _name_running(cls, "__init__")
            conn.actor = actor_host.instantiate(cls, args, kwargs, groups, default_limit)
            return "ok", [serialization.serialize_to_bytes(None)]
        # An actor method.
        if conn.actor is not None:
            _name_running(type(conn.actor.instance),
                          task["function"].partition(actor_host.GROUP_SEPARATOR)[0]
                          .removesuffix(actor_host.DYNAMIC_MARK))
        result = actor_host.call_method(conn.actor, task["function"], args, kwargs, task)
        if task["function"].partition(actor_host.GROUP_SEPARATOR)[0].endswith(
                actor_host.DYNAMIC_MARK):
            return _dynamic_returns(task, result)
        return _returns_of(task, result, conn.actor.loop if conn.actor else None)
    except (exceptions.AsyncioActorExit, actor_host.ActorExit):
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
