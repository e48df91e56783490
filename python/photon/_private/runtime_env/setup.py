"""Worker side: before a worker's first task, set up the runtime_env its
driver resolved (the runtime_env config row, PHOTON_RUNTIME_ENV): unpack
py_modules and put them on sys.path, make the pip venv, unpack the
working_dir and make it the cwd and sys.path[0]. Done once per process; a
failure fails every task of the worker with RuntimeEnvSetupError."""
import json
import os
import sys
import threading

from photon._private.runtime_env import packaging, pip, resolve
from photon._private import config
from photon.exceptions import RuntimeEnvSetupError

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


def ensure():
    """Sets this worker up (once); raises RuntimeEnvSetupError if it failed."""
    global _done, _error
    if _done and _error is None:
        return
    with _lock:
        if not _done:
            env = current()
            try:
                if env:
                    _apply(env)
            except Exception as e:  # noqa: BLE001 - every task of this worker reports it
                _error = f"Failed to set up the runtime_env {json.dumps(env)}: {e}"
            _done = True
    if _error is not None:

        raise RuntimeEnvSetupError(_error)
