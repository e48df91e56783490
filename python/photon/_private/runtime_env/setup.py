"""Worker side: before a worker's first task, set up the runtime_env its
driver resolved (the runtime_env config row, PHOTON_RUNTIME_ENV): unpack
py_modules and put them on sys.path, make the pip venv, unpack the
working_dir and make it the cwd and sys.path[0]. Done once per process; a
failure fails every task of the worker with RuntimeEnvSetupError."""
import hashlib
import json
import os
import sys
import threading
import time

from photon import _photon
from photon._private.runtime_env import packaging, pip, resolve
from photon._private import config
from photon.exceptions import RuntimeEnvSetupError

# Where each node records the runtime envs its workers set up (list_runtime_envs).
KV_NAMESPACE = "runtime_envs"

_lock = threading.Lock()
_done = False
_error = None


def _resources_root():

    return os.path.join(config.setting("session_dir_root"), "runtime_resources")


def current():
    """This process's runtime_env (resolved form; {} if none)."""

    raw = os.environ.get(config.env_var("runtime_env"), "")
    return json.loads(raw) if raw else {}


def _apply(env):
    root = _resources_root()
    for uri in env.get("py_modules") or []:
        folder = packaging.unpack(uri, os.path.join(root, "py_modules_files"))
        if folder not in sys.path:
            sys.path.insert(0, folder)
    if env.get("pip"):
        timeout = (env.get("config") or {}).get("setup_timeout_seconds",
                                                  resolve.DEFAULT_SETUP_TIMEOUT_S)
        venv = pip.ensure(env["pip"], os.path.join(root, "pip"),
                          None if timeout == -1 else timeout)
        pip.activate(venv)
    if env.get("working_dir"):
        folder = packaging.unpack(env["working_dir"], os.path.join(root, "working_dir_files"))
        os.chdir(folder)
        sys.path.insert(0, folder)


def _record(env, started):
    """One record per runtime env and node (the first worker's), for
    photon.util.state.list_runtime_envs (Ray's RuntimeEnvState)."""
    try:
        node = _photon.node_id().hex()
        spec = json.dumps(env, sort_keys=True)
        key = f"{node}:{hashlib.sha1(spec.encode()).hexdigest()[:16]}".encode()
        record = {"runtime_env": env, "success": _error is None, "error": _error,
                  "creation_time_ms": int(started * 1000), "node_id": node}
        _photon.kv_put(KV_NAMESPACE, key, json.dumps(record).encode(), False)
    except Exception:  # noqa: BLE001 - the listing lacks it; the worker runs on
        pass


def ensure():
    """Sets this worker up (once); raises RuntimeEnvSetupError if it failed."""
    global _done, _error
    if _done and _error is None:
        return
    with _lock:
        if not _done:
            env = current()
            started = time.time()
            try:
                if env:
                    _apply(env)
            except Exception as e:  # noqa: BLE001 - every task of this worker reports it
                _error = f"Failed to set up the runtime_env {json.dumps(env)}: {e}"
            _done = True
            if env:
                _record(env, started)
    if _error is not None:

        raise RuntimeEnvSetupError(_error)
