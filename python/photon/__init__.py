"""Photon: a distributed computing framework with Ray's API on a C++ core.

A Ray program runs on Photon after ``import photon as ray``.
"""

# In a developer build the native extension lives in <build>/python/photon/;
# extend_path adds every ``photon`` folder on sys.path to this package.
from pkgutil import extend_path as _extend_path

__path__ = _extend_path(__path__, __name__)

import inspect as _inspect  # noqa: E402
import os as _os  # noqa: E402
import platform as _platform  # noqa: E402
import warnings as _warnings  # noqa: E402

from photon import _photon  # noqa: E402
from photon import actor  # noqa: E402,F401  (photon.actor.exit_actor, as ray.actor)
from photon import exceptions  # noqa: E402
from photon._private import options as _options  # noqa: E402
from photon._private import state as _state  # noqa: E402
from photon._private import worker as _worker  # noqa: E402
from photon._private.actor import ActorClass as _ActorClass  # noqa: E402
from photon._private.actor import ActorHandle  # noqa: E402
from photon._private.actor import class_of_actor as _actor_class_of  # noqa: E402
from photon._private.actor import method  # noqa: E402
from photon._private.object_ref import ObjectRef  # noqa: E402
from photon._private.generator import DynamicObjectRefGenerator  # noqa: E402
from photon._private.generator import ObjectRefGenerator  # noqa: E402
from photon._private.remote_function import RemoteFunction as _RemoteFunction  # noqa: E402
from photon.runtime_context import get_runtime_context  # noqa: E402
from photon._private.ids import ActorID, JobID, NodeID, TaskID, WorkerID  # noqa: E402

# Ray keeps ObjectID as another name of ObjectRef.
ObjectID = ObjectRef
from photon import runtime_env  # noqa: E402,F401
from photon._private import config as _config  # noqa: E402
from photon._private import system_config as _system_config_module  # noqa: E402
from photon._private.runtime_env import resolve as _runtime_env_resolve  # noqa: E402
from photon.dashboard import launcher as _dashboard_launcher  # noqa: E402

# The dashboard photon.init() started with its local cluster (stopped by shutdown).
_local_dashboard = None

__version__ = _photon.version()


class _InitContext(dict):
    """What init returns (Ray's RayContext): the address info as a dict (ids in
    hex, as in Ray), also under .address_info; usable as a context manager."""

    def __init__(self, info):
        info = dict(info)
        for key in ("node_id", "job_id", "worker_id"):
            if isinstance(info.get(key), bytes):
                info[key] = info[key].hex()
        gcs = info.get("gcs_address") or info.get("address") or ""
        info.setdefault("gcs_address", gcs)
        info.setdefault("address", gcs)
        info.setdefault("node_ip_address", gcs.rsplit(":", 1)[0] if gcs else "127.0.0.1")
        info.setdefault("raylet_ip_address", info["node_ip_address"])
        info.setdefault("redis_address", None)
        info.setdefault("webui_url", None)
        info.setdefault("dashboard_url", None)
        info.setdefault("metrics_export_port", None)
        super().__init__(info)

    @property
    def address_info(self):
        return self

    @property
    def dashboard_url(self):
        return self.get("dashboard_url")

    @property
    def python_version(self):
        return _platform.python_version()

    @property
    def ray_version(self):
        return __version__

    def disconnect(self):
        shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutdown()


def _cli_cluster_address():
    """address="auto": the cluster `photon start` started on this host, else
    the newest one (a cluster_utils.Cluster, another driver's local cluster)
    whose GCS answers, as Ray's "auto" finds the latest cluster of the host."""
    import glob
    import socket

    root = _os.environ.get("PHOTON_SESSION_DIR_ROOT", "/tmp/photon")
    try:
        with open(_os.path.join(root, "cluster_address")) as f:
            address = f.read().strip()
        if address:
            return address
    except OSError:
        pass
    recorded = glob.glob(_os.path.join(root, "session_*", "gcs_address"))
    for path in sorted(recorded, key=_os.path.getmtime, reverse=True):
        try:
            with open(path) as f:
                address = f.read().strip()
            host, _, port = address.rpartition(":")
            with socket.create_connection((host, int(port)), timeout=0.2):
                return address
        except (OSError, ValueError):
            continue
    return ""


# Ray's private init arguments that programs and tests pass: accepted and ignored
# (Photon has no Redis or dashboard; _temp_dir: see PHOTON_SESSION_DIR_ROOT;
# _metrics_export_port is the local cluster's /metrics port).
_PRIVATE_INIT_ARGS = frozenset({
    "_temp_dir", "_node_ip_address", "_plasma_directory", "_memory", "_redis_password",
    "_enable_object_reconstruction", "_metrics_export_port", "_node_name",
    "_tracing_startup_hook", "_skip_env_hook", "_driver_object_store_memory",
    "_object_spilling_directory", "_disable_usage_stats",
})


def init(address=None, *, num_cpus=None, num_gpus=None, resources=None, labels=None,
         object_store_memory=None, local_mode=False, ignore_reinit_error=False,
         include_dashboard=None, dashboard_host=None, dashboard_port=None, job_config=None,
         configure_logging=True, logging_level="info", logging_format=None, log_to_driver=True,
         namespace=None, runtime_env=None, _system_config=None, **kwargs):
    """Connects this process to a Photon cluster, starting a local one if needed.

    address: None (PHOTON_ADDRESS, or RAY_ADDRESS, else a new local cluster),
    "auto" (the cluster `photon start` started), "local" (always a new one), or
    "host:port" of a GCS. num_cpus, num_gpus, resources and object_store_memory
    apply only to a new local cluster.
    """
    unknown = sorted(k for k in kwargs if k not in _PRIVATE_INIT_ARGS)
    if unknown:
        raise RuntimeError(f"Unknown keyword argument(s): {', '.join(unknown)}")
    if _worker.is_initialized():
        if ignore_reinit_error:
            return _InitContext(_state.connection.info or {})
        raise RuntimeError("Maybe you called photon.init twice by accident? This error can be "
                           "suppressed by passing in 'ignore_reinit_error=True'.")
    if local_mode:
        # Ray's local mode (deprecated there) runs tasks serially in the driver;
        # Photon runs them on a local cluster, which gives the same results.
        _warnings.warn("local_mode is deprecated and not supported by Photon: tasks and actors "
                      "run on a local cluster instead", DeprecationWarning, stacklevel=2)
    job_config = _submitted_job_config()
    if runtime_env is None and job_config.get("runtime_env"):
        runtime_env = job_config["runtime_env"]  # a submitted job's driver: the job's env
    if runtime_env is not None:
        _options.validate_runtime_env(runtime_env)
    if dashboard_port is not None and (isinstance(dashboard_port, bool) or
                                       not isinstance(dashboard_port, int) or
                                       not 0 <= dashboard_port <= 65535):
        raise ValueError(f"dashboard_port must be a port number, got {dashboard_port!r}")
    env_vars = _options.env_vars_of({"runtime_env": runtime_env})
    if address is None:
        address = _os.environ.get("PHOTON_ADDRESS") or _os.environ.get("RAY_ADDRESS") or ""
    if address == "auto":
        address = _cli_cluster_address()
        if not address:
            raise ConnectionError("Could not find any running Photon instance. Please specify "
                                  "the one to connect to by setting `address`.")
    if address == "local":
        address = ""
    if address.startswith("ray://") or address.startswith("photon://"):
        address = address.split("://", 1)[1]
    if address:
        given = {"num_cpus": num_cpus, "num_gpus": num_gpus, "resources": resources,
                 "object_store_memory": object_store_memory,
                 "_system_config": _system_config or None}
        bad = [k for k, v in given.items() if v is not None]
        if bad:
            raise ValueError(f"When connecting to an existing cluster, {', '.join(bad)} must not "
                             "be provided.")
    if num_cpus is not None and (not isinstance(num_cpus, (int, float)) or num_cpus < 0):
        raise ValueError(f"num_cpus must be a number >= 0, got {num_cpus!r}")
    overrides = _system_config_module.translate(_system_config)
    overrides["log_to_driver"] = "true" if log_to_driver else "false"
    if logging_level is not None:
        level = logging_level if isinstance(logging_level, str) else {
            10: "debug", 20: "info", 30: "warn", 40: "error", 50: "critical"}.get(logging_level,
                                                                                 "info")
        overrides["log_level"] = level.lower()
    metrics_port = kwargs.get("_metrics_export_port")
    if metrics_port is not None and (isinstance(metrics_port, bool) or
                                     not isinstance(metrics_port, int) or
                                     not 0 <= metrics_port <= 65535):
        raise ValueError(f"_metrics_export_port must be a port number, got {metrics_port!r}")
    # A new local cluster's daemons take the system config from their environment.
    daemon_env = _system_config_module.environment(
        _system_config_module.translate(_system_config)) if not address else {}
    saved_env = {k: _os.environ.get(k) for k in daemon_env}
    _os.environ.update(daemon_env)
    try:
        info = _worker.connect(address, num_cpus, num_gpus, resources, object_store_memory,
                               namespace, env_vars, overrides, metrics_port or 0)
    finally:
        for k, v in saved_env.items():
            if v is None:
                _os.environ.pop(k, None)
            else:
                _os.environ[k] = v
    info = dict(info)
    try:
        _after_connect(info, not address, runtime_env, job_config, include_dashboard,
                       dashboard_host, dashboard_port)
    except BaseException:
        shutdown()
        raise
    try:
        node_id = info.get("node_id")
        node_hex = node_id.hex() if isinstance(node_id, bytes) else node_id
        for n in nodes():
            if n["NodeID"] == node_hex:
                info["metrics_export_port"] = n["MetricsExportPort"] or None
    except Exception:  # noqa: BLE001 - the context still returns without it
        pass
    return _InitContext(info)


def _submitted_job_config():
    """What a job's supervisor gave its entrypoint (job_config_json): the
    submission id, runtime_env and metadata; {} for any other driver."""
    raw = _os.environ.get("PHOTON_JOB_CONFIG_JSON", "")
    if not raw:
        return {}
    import json

    try:
        return json.loads(raw)
    except ValueError:
        raise ValueError("PHOTON_JOB_CONFIG_JSON (job_config_json) is not JSON") from None


def _after_connect(info, local, runtime_env, job_config, include_dashboard, dashboard_host,
                   dashboard_port):
    global _local_dashboard
    conn = _state.connection
    beyond_env_vars = {k: v for k, v in (runtime_env or {}).items() if k != "env_vars"}
    # Local folders are packed and uploaded once, here (their URIs go with every task).
    conn.job_runtime_env = (_runtime_env_resolve.resolve(beyond_env_vars, conn.epoch)
                            if beyond_env_vars else {})
    # As Ray shows it: packages by their URIs.
    shown = dict(conn.job_runtime_env)
    if (runtime_env or {}).get("env_vars"):
        shown["env_vars"] = dict(runtime_env["env_vars"])
    conn.runtime_env = shown or None
    if job_config.get("submission_id"):
        _photon.kv_put("job", f"driver:{job_config['submission_id']}".encode(),
                       info["job_id"].hex().encode(), True)
    if local:
        wanted = include_dashboard
        if wanted is None:
            wanted = _config.setting("include_dashboard") and _dashboard_launcher.available()
        if wanted and not _dashboard_launcher.available():
            raise RuntimeError("include_dashboard=True needs the dashboard's packages: "
                               "pip install starlette uvicorn websockets")
        if wanted:
            _local_dashboard = _dashboard_launcher.start(
                info["gcs_address"], info["session_dir"], dashboard_host, dashboard_port)
            info["dashboard_url"] = _local_dashboard.url
    else:
        info["dashboard_url"] = _dashboard_launcher.recorded_url(info["gcs_address"])
    info["webui_url"] = info.get("dashboard_url")


def shutdown(_exiting_interpreter=False):
    """Disconnects; stops the local cluster (and its dashboard) init started.
    Safe to call twice."""
    global _local_dashboard
    dash, _local_dashboard = _local_dashboard, None
    if dash is not None:
        dash.stop()
    _worker.disconnect()


def is_initialized():
    return _worker.is_initialized()


def remote(*args, **kwargs):
    """@photon.remote / @photon.remote(**options) on a function or a class."""
    def make(obj, options):
        if _inspect.isclass(obj):
            return _ActorClass(obj, options)
        if callable(obj):
            return _RemoteFunction(obj, options)
        raise TypeError("The @photon.remote decorator must be applied to either a function or "
                        "a class.")

    if len(args) == 1 and not kwargs and callable(args[0]):
        return make(args[0], {})
    if args:
        raise TypeError("The @photon.remote decorator takes keyword arguments only, e.g. "
                        "@photon.remote(num_cpus=2).")
    return lambda obj: make(obj, kwargs)


get = _worker.get
put = _worker.put
wait = _worker.wait


def cancel(ref, *, force=False, recursive=True):
    """Cancels the task that makes `ref` (or an ObjectRefGenerator's task), as
    Ray does: get then raises TaskCancelledError. A queued task never runs; a
    running one gets KeyboardInterrupt (force=True: its worker is killed);
    recursive=True also cancels the tasks it submitted. An actor call is
    dropped if it has not started (a running async one is cancelled);
    force=True is refused for actor calls."""
    if isinstance(ref, ObjectRefGenerator):
        ref = ref.completed()
    if not isinstance(ref, ObjectRef):
        raise TypeError("ray.cancel() only supported for object refs. For actors, try "
                        f"ray.kill(). Got: {type(ref)}.")
    _worker.ensure_initialized()
    _photon.cancel(ref.binary(), bool(force), bool(recursive))


def kill(actor, *, no_restart=True):
    """Kills an actor at once; pending and later calls raise ActorDiedError."""
    if not isinstance(actor, ActorHandle):
        raise ValueError(f"photon.kill() only supported for actors. Got: {type(actor)}.")
    _photon.kill_actor(actor._actor_id, no_restart)


def get_actor(name, namespace=None):
    """The handle of the live actor named `name` in `namespace` (default: this job's)."""
    if not name:
        raise ValueError("Please supply a non-empty value to get_actor")
    _worker.ensure_initialized()
    aid = _photon.get_named_actor(name, namespace or _worker.current_namespace())
    if aid is None:
        raise ValueError(f"Failed to look up actor with name '{name}'. This could because 1. "
                         "You are trying to look up a named actor you didn't create. 2. The "
                         "named actor died. 3. You did not use a namespace matching the "
                         "namespace of the actor.")
    return ActorHandle(aid, _actor_class_of(aid))


def nodes():
    _worker.ensure_initialized()
    return _photon.nodes()


def timeline(filename=None):
    """Ray's timeline: a Chrome trace (chrome://tracing, Perfetto) of the
    cluster's task executions from the task events, one process per node and
    one thread per worker. Written to `filename` as JSON (returns None), or
    returned as a list of trace events."""
    import json as _json
    _worker.ensure_initialized()
    events = _json.loads(_photon.state_timeline(""))
    if filename is None:
        return events
    with open(filename, "w") as f:
        _json.dump(events, f)
    return None


def cluster_resources():
    total = {}
    for n in nodes():
        if n["Alive"]:
            for k, v in n["Resources"].items():
                total[k] = total.get(k, 0) + v
    return total


def available_resources():
    total = {}
    for n in nodes():
        if n["Alive"]:
            for k, v in n["AvailableResources"].items():
                if v > 0:
                    total[k] = total.get(k, 0) + v
    return total


def get_gpu_ids():
    """The GPU ids assigned to the running task or actor (in a driver: those in
    CUDA_VISIBLE_DEVICES), as Ray returns them."""
    task = _state.current_task()
    if _state.connection.mode == "worker" and task is not None:
        return list(task.gpu_ids)
    ids = _os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return [int(i) if i.strip().isdigit() else i.strip() for i in ids.split(",") if i.strip()]


# The first API call of a process that did not call init() connects it.
_state.set_auto_init(init)

# photon.util (ActorPool, queue, as_completed) as ray.util; imported last
# because it uses the API above.
from photon import util  # noqa: E402

__all__ = [
    "__version__", "init", "shutdown", "is_initialized", "remote", "method", "get", "put",
    "wait", "cancel", "kill", "get_actor", "get_runtime_context", "nodes",
    "cluster_resources", "available_resources", "timeline", "get_gpu_ids", "ObjectRef", "ObjectRefGenerator", "ActorHandle",
    "DynamicObjectRefGenerator", "exceptions", "util", "ActorID", "JobID", "NodeID", "ObjectID", "TaskID", "WorkerID",
]


# Ray's libraries are imported on first use (``ray.data`` works after only
# ``import ray``), so that ``import photon`` stays light.
_LAZY_SUBMODULES = ("air", "data", "rllib", "serve", "train", "tune")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"photon.{name}")
    raise AttributeError(f"module 'photon' has no attribute {name!r}")
