"""The connection of this process to a cluster, and the object API on it:
connect/disconnect, get, put, wait."""
import itertools
import os
import sys
import time

import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import call_site
from photon._private import function_manager
from photon._private import serialization
from photon._private import state
from photon._private import values
from photon._private.generator import ObjectRefGenerator
from photon._private.object_ref import ObjectRef

# What the driver tells its job's workers, by job id: the job's namespace
# (see _apply_job_info).
JOB_INFO_NS = "photon:job_info"

conn = state.connection


def is_initialized():
    return conn.mode is not None


ensure_initialized = state.ensure_initialized
is_connected = state.is_connected


# --- connection ---------------------------------------------------------------

def _worker_pythonpath():
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    cwd = os.getcwd()
    if cwd not in paths:
        paths.insert(0, cwd)
    return os.pathsep.join(paths)


def connect(address, num_cpus, num_gpus, resources, object_store_memory, namespace, env_vars,
            config_overrides, metrics_export_port=0):
    worker_env = {"PYTHONPATH": _worker_pythonpath(), "PYTHONUNBUFFERED": "1"}
    worker_env.update(env_vars or {})
    command = [sys.executable, "-m", "photon._private.worker_main"]
    try:
        info = _photon.connect(address or "", -1 if num_cpus is None else float(num_cpus),
                               float(num_gpus or 0),
                               {k: float(v) for k, v in (resources or {}).items()},
                               int(object_store_memory or 0), namespace or "", command, worker_env,
                               {k: str(v) for k, v in (config_overrides or {}).items()},
                               int(metrics_export_port or 0))
    except ValueError:
        raise
    except RuntimeError as e:
        raise ConnectionError(str(e)) from None
    conn.info = info
    conn.mode = "driver"
    conn.epoch += 1
    conn.namespace = info["namespace"]
    job_info = {"namespace": info["namespace"]}
    try:
        _photon.kv_put(JOB_INFO_NS, info["job_id"].hex().encode(), cloudpickle.dumps(job_info),
                       True)
    except Exception:  # noqa: BLE001 - only workers need it; they fall back to the core's
        pass
    return info


def current_namespace():
    """The namespace of this process's job (drivers and workers)."""
    if conn.mode == "worker" and not conn.job_info_applied:
        _apply_job_info()
    return conn.namespace or _photon.namespace()


def _apply_job_info():
    """Gives this worker its job's namespace: the core leaves a worker's
    namespace empty (_photon.namespace() is "" in workers), so named actors
    created or looked up in tasks would land in the wrong namespace."""
    with conn.lock:
        if conn.job_info_applied:
            return
        conn.job_info_applied = True
        try:
            raw = _photon.kv_get(JOB_INFO_NS, _photon.job_id().hex().encode())
        except Exception:  # noqa: BLE001 - keep the core's answer
            return
        if raw is None:
            return
        conn.namespace = cloudpickle.loads(raw).get("namespace") or None


def disconnect():
    was_driver = conn.mode == "driver"
    # Finalizers of refs and handles stop calling into the core first.
    conn.mode = None
    if was_driver:
        _photon.disconnect()
    conn.info = None
    conn.namespace = None
    conn.job_runtime_env = None
    conn.runtime_env = None
    function_manager.forget()


# --- get / put / wait -----------------------------------------------------------------

def _timeout_ms(timeout):
    if timeout is None:
        return -1
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be None or a number >= 0, got {timeout!r}")
    return int(timeout * 1000)


def get(refs, timeout=None):
    ensure_initialized()
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
    result = [values.value_of(meta, buf) for meta, buf in raw]
    return result[0] if single else result


def put(value):
    ensure_initialized()
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ObjectRef is not allowed. If you really want to do "
                        "this, you can wrap the ObjectRef in a list and call 'put' on it.")
    meta, parts, refs = serialization.serialize(value)
    oid = _photon.put_parts(meta, parts)
    if refs:
        _photon.add_contained_refs(oid, refs)
    call_site.record((oid,), "put object")
    return ObjectRef(oid, _adopt=True)


def wait(refs, *, num_returns=1, timeout=None, fetch_local=True):
    """Ray's wait: (ready, not_ready) once `num_returns` of `refs` are ready or
    `timeout` seconds passed. An ObjectRefGenerator is ready when its next item
    (or its end) is."""
    ensure_initialized()
    if isinstance(refs, (ObjectRef, ObjectRefGenerator)):
        raise TypeError("wait() expected a list of ObjectRef, got a single ObjectRef")
    if not isinstance(refs, list):
        raise TypeError(f"wait() expected a list of ObjectRef, got {type(refs)}")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    ids = []
    has_generators = False
    for r in refs:
        if isinstance(r, ObjectRef):
            ids.append(r._id)
        elif isinstance(r, ObjectRefGenerator):
            has_generators = True
        else:
            raise TypeError("wait() expected a list of ObjectRef or ObjectRefGenerator, got list "
                            f"containing {type(r)}")
    if len(refs) == 0:
        return [], []
    if len(set(refs) if has_generators else set(ids)) != len(refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(refs):
        raise ValueError("num_returns cannot be greater than the number of objects provided to "
                         f"wait: {num_returns} > {len(refs)}")
    if has_generators:
        flags = _wait_with_generators(refs, num_returns, timeout)
    else:
        flags = _photon.wait(ids, num_returns, _timeout_ms(timeout), bool(fetch_local))
    # The first `num_returns` ready ones, in the caller's order; the rest, in
    # order, are not ready. Slicing keeps a wait loop over many refs cheap.
    chosen = list(itertools.islice(itertools.compress(range(len(refs)), flags), num_returns))
    not_ready = []
    start = 0
    for i in chosen:
        not_ready.extend(refs[start:i])
        start = i + 1
    not_ready.extend(refs[start:])
    return [refs[i] for i in chosen], not_ready


# How often wait() over generators looks again (a generator has no handle the
# core can wait on).
_GENERATOR_WAIT_POLL_S = 0.005


def _wait_with_generators(refs, num_returns, timeout):
    """wait() over refs and generators: a generator is ready when its next
    item, or its end, has arrived. Objects count as ready where they are."""
    deadline = None if timeout is None else time.monotonic() + timeout
    plain = [r.binary() for r in refs if not isinstance(r, ObjectRefGenerator)]
    while True:
        flags = iter(_photon.wait(plain, 0, 0, False) if plain else [])
        ready = [r._ready() if isinstance(r, ObjectRefGenerator) else next(flags) for r in refs]
        if sum(ready) >= num_returns or (deadline is not None and time.monotonic() >= deadline):
            return ready
        time.sleep(_GENERATOR_WAIT_POLL_S)
