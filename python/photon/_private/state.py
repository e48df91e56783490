"""Photon's state in a Python process: the connection (one per process) and
the task being run (one per thread or coroutine).

Per-task state lives in a context variable, so the concurrent calls of a
threaded actor (each on its own thread) and of an async actor (each in its
own asyncio task, which starts from a copy of the calling thread's context)
each see their own task id, name and resources.

This module imports nothing else of Photon's: every other module of
photon._private may import it.
"""
import contextvars
import json
import os
import threading


class Connection:
    """What this process knows of its cluster connection."""

    def __init__(self):
        self.lock = threading.RLock()
        self.info = None            # dict from _photon.connect (drivers)
        self.mode = None            # "driver" or "worker"
        self.namespace = None
        self.job_info_applied = False
        self.epoch = 0              # counts connections: exports are per cluster
        self.actor = None           # the actor this worker hosts (actor_host._Hosted)
        self.actor_name = None      # its name ("" if anonymous)
        self.actor_resources = {}   # the resources its creation holds
        self.actor_gpu_ids = []
        self.actor_placement_group_id = b""  # the group its creation runs in ...
        self.actor_capture_child_tasks = False  # ... and whether its calls' children join it
        self.original_cuda = None   # the worker's own CUDA_VISIBLE_DEVICES
        self.original_omp = None    # the worker's own OMP_NUM_THREADS
        self.runtime_env = None     # what get_runtime_context().runtime_env shows
        # The resolved runtime_env (beyond env_vars) the tasks this process
        # submits inherit: the driver's from init, a worker's from its
        # environment (PHOTON_RUNTIME_ENV, the runtime_env setting).
        self.job_runtime_env = None


connection = Connection()


def inherited_runtime_env():
    conn = connection
    if conn.job_runtime_env is None and conn.mode == "worker":
        raw = os.environ.get("PHOTON_RUNTIME_ENV", "")
        conn.job_runtime_env = json.loads(raw) if raw else {}
    return conn.job_runtime_env or {}


class TaskContext:
    """The task a thread (or an async actor's coroutine) runs."""

    __slots__ = ("task_id", "name", "resources", "gpu_ids", "placement_group_id",
                 "capture_child_tasks", "function_name")

    def __init__(self, task_id, name, resources, gpu_ids, placement_group_id=b"",
                 capture_child_tasks=False):
        self.task_id = task_id      # bytes
        self.name = name
        self.resources = resources  # dict
        self.gpu_ids = gpu_ids      # list of ints
        self.placement_group_id = placement_group_id    # bytes; b"" outside a group
        self.capture_child_tasks = capture_child_tasks  # its children default to the group
        self.function_name = None   # module.qualname of what runs (Ray's get_task_function_name)


_current_task = contextvars.ContextVar("photon_current_task", default=None)


def current_task():
    """The TaskContext of the running task, or None (a driver, or a thread
    the user started)."""
    return _current_task.get()


def enter_task(context):
    """Makes `context` the current task; returns a token for leave_task."""
    return _current_task.set(context)


def leave_task(token):
    _current_task.reset(token)


class RunningTasks:
    """The tasks running in this worker, for cancellation: task id -> how to
    interrupt it (a thread ident, an asyncio future, or SYNC_ACTOR_CALL), and
    the ids of those that were cancelled (is_canceled())."""

    SYNC_ACTOR_CALL = "sync actor call"

    def __init__(self):
        self.lock = threading.Lock()
        self.running = {}
        self.cancelled = set()


running = RunningTasks()


# photon.init, registered by the photon package: the first API call of a
# process that did not call init() connects it (as in Ray).
_auto_init = None


def set_auto_init(init):
    global _auto_init
    _auto_init = init


def is_connected():
    """Whether this process is connected, from Python's own state: safe in
    __del__ on any thread (no call into the core)."""
    return connection.mode is not None


def ensure_initialized():
    if connection.mode is None:
        if _auto_init is None:
            raise RuntimeError("Photon is not initialized: call photon.init() first")
        _auto_init()
