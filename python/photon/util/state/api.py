"""The state API of Ray's `ray.util.state`: list, get and summarize the
cluster's tasks, actors, nodes, jobs, workers and placement groups.

Every function reads the cluster through the native state API (the one the
`photon list/get/summary` commands use). `address` is a GCS address; by
default, the cluster this process is connected to. `timeout` is accepted for
Ray's signatures; the calls are bounded by gcs_rpc_timeout_ms and
rpc_timeout_ms (each raylet asked for workers) instead.
"""
import dataclasses
import json
import logging
import warnings
from typing import List, Optional, Tuple, Union

from photon import _photon
from photon._private.runtime_env import setup as runtime_env_setup
from photon.dashboard.modules.job import common as job_common
from photon.util.state.common import dict_to_state
from photon.util.state.exception import RayStateApiException

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
DEFAULT_RPC_TIMEOUT = 30

_PREDICATES = ("=", "!=")


def _address(address):
    if address in (None, "", "auto"):
        return ""
    return address


def _call(fn, *args):
    try:
        return fn(*args)
    except (ValueError, RuntimeError, TimeoutError) as e:
        raise RayStateApiException(str(e)) from None


def _filters(filters):
    out = []
    for f in filters or []:
        if not isinstance(f, (tuple, list)) or len(f) != 3:
            raise RayStateApiException(
                f"a filter is a (key, predicate, value) tuple, got {f!r}")
        key, predicate, value = f
        if predicate not in _PREDICATES:
            raise RayStateApiException(
                f"unsupported predicate {predicate!r} in the filter on {key!r}: use '=' or '!='")
        out.append((str(key), predicate, str(value)))
    return out


def _list(resource, address, filters, limit, timeout, detail, raise_on_missing_output):
    if not isinstance(limit, int) or limit <= 0:
        raise RayStateApiException(f"limit must be a positive int, got {limit!r}")
    rows, total, notes, failures = _call(
        _photon.state_list, resource, _filters(filters), limit, bool(detail), _address(address))
    for note in notes:
        warnings.warn(note, RuntimeWarning, stacklevel=3)
    if failures:
        message = "; ".join(failures)
        if raise_on_missing_output:
            raise RayStateApiException(
                f"Failed to retrieve all {resource} from the cluster: {message}. "
                "(raise_on_missing_output=False lists what answered)")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return [dict_to_state(d, resource) for d in json.loads(rows)]


def _get(resource, id, address):
    if not isinstance(id, str):
        hex_of = getattr(id, "hex", None)
        if hex_of is None:
            raise RayStateApiException(f"an id is a hex string, got {id!r}")
        id = hex_of()
    got = _call(_photon.state_get, resource, id, _address(address))
    if got is None:
        return None
    return [dict_to_state(d, resource) for d in json.loads(got)]


def _one(rows):
    return None if not rows else rows[0]


# --- list ---------------------------------------------------------------------

def list_actors(address: Optional[str] = None,
                filters: Optional[List[Tuple[str, str, Union[str, bool, int, float]]]] = None,
                limit: int = DEFAULT_LIMIT, timeout: int = DEFAULT_RPC_TIMEOUT,
                detail: bool = False, raise_on_missing_output: bool = True,
                _explain: bool = False):
    """The actors of the cluster (ActorState each)."""
    return _list("actors", address, filters, limit, timeout, detail, raise_on_missing_output)


def list_tasks(address=None, filters=None, limit=DEFAULT_LIMIT, timeout=DEFAULT_RPC_TIMEOUT,
               detail=False, raise_on_missing_output=True, _explain=False):
    """Task attempts, newest first (TaskState each), from the task events the
    workers report every task_events_report_interval_ms."""
    return _list("tasks", address, filters, limit, timeout, detail, raise_on_missing_output)


def list_nodes(address=None, filters=None, limit=DEFAULT_LIMIT, timeout=DEFAULT_RPC_TIMEOUT,
               detail=False, raise_on_missing_output=True, _explain=False):
    return _list("nodes", address, filters, limit, timeout, detail, raise_on_missing_output)


def list_jobs(address=None, filters=None, limit=DEFAULT_LIMIT, timeout=DEFAULT_RPC_TIMEOUT,
              detail=False, raise_on_missing_output=True, _explain=False):
    return _list("jobs", address, filters, limit, timeout, detail, raise_on_missing_output)


def list_workers(address=None, filters=None, limit=DEFAULT_LIMIT, timeout=DEFAULT_RPC_TIMEOUT,
                 detail=False, raise_on_missing_output=True, _explain=False):
    """The live workers and drivers of every node (each raylet answers)."""
    return _list("workers", address, filters, limit, timeout, detail, raise_on_missing_output)


def list_placement_groups(address=None, filters=None, limit=DEFAULT_LIMIT,
                          timeout=DEFAULT_RPC_TIMEOUT, detail=False,
                          raise_on_missing_output=True, _explain=False):
    return _list("placement_groups", address, filters, limit, timeout, detail,
                 raise_on_missing_output)


@dataclasses.dataclass
class RuntimeEnvState:
    """A runtime env set up on a node (Ray's RuntimeEnvState): its resolved
    form (packages by URI), whether setting it up worked, the error if not,
    when, and where. ref_cnt is not tracked (None)."""
    runtime_env: dict
    success: bool
    creation_time_ms: Optional[int] = None
    node_id: Optional[str] = None
    error: Optional[str] = None
    ref_cnt: Optional[int] = None

    def asdict(self):
        return dataclasses.asdict(self)

    def __getitem__(self, key):
        return getattr(self, key)


_RUNTIME_ENV_FILTERABLE = ("node_id", "success", "error")


def list_runtime_envs(address=None, filters=None, limit=DEFAULT_LIMIT,
                      timeout=DEFAULT_RPC_TIMEOUT, detail=False, raise_on_missing_output=True,
                      _explain=False):
    """The runtime envs the cluster's nodes set up (one per env and node)."""
    if not isinstance(limit, int) or limit <= 0:
        raise RayStateApiException(f"limit must be a positive int, got {limit!r}")
    checked = _filters(filters)
    for key, _, _ in checked:
        if key not in _RUNTIME_ENV_FILTERABLE:
            raise RayStateApiException(
                f"cannot filter runtime envs on {key!r}: filter on one of "
                f"{', '.join(_RUNTIME_ENV_FILTERABLE)}")
    keys = _call(_photon.state_kv_keys, runtime_env_setup.KV_NAMESPACE, b"", _address(address))
    rows = []
    for key in sorted(keys):
        raw = _call(_photon.state_kv_get, runtime_env_setup.KV_NAMESPACE, key, _address(address))
        if raw is None:
            continue
        row = json.loads(raw)

        def matches(k, op, v):
            got = row.get(k)
            text = str(got).lower() if isinstance(got, bool) else str(got)
            return (text == v.lower() if isinstance(got, bool) else text == v) == (op == "=")

        if all(matches(k, op, v) for k, op, v in checked):
            rows.append(RuntimeEnvState(**{k: row.get(k) for k in (
                "runtime_env", "success", "creation_time_ms", "node_id", "error")}))
    rows.sort(key=lambda r: r.creation_time_ms or 0)
    return rows[:limit]


# --- get ----------------------------------------------------------------------

def list_objects(address=None, filters=None, limit=DEFAULT_LIMIT, timeout=DEFAULT_RPC_TIMEOUT,
                 detail=False, raise_on_missing_output=True, _explain=False):
    """Every object reference held by the cluster's workers and drivers: one row
    per (object, process), with its size, reference type, the status of the task
    that makes it, the holder's type, pid and ip, and its call site."""
    return _list("objects", address, filters, limit, timeout, detail, raise_on_missing_output)


def get_actor(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    return _one(_get("actors", id, address))


def get_task(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    """The task's attempt (a TaskState), or the list of its attempts if it
    ran more than once (Ray's shape); None if it is unknown. `id` may be an
    ObjectRef the task returned."""
    if not isinstance(id, str) and hasattr(id, "task_id"):
        id = id.task_id().hex()
    rows = _get("tasks", id, address)
    if not rows:
        return None
    return rows[0] if len(rows) == 1 else rows


def get_node(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    return _one(_get("nodes", id, address))


def get_worker(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    return _one(_get("workers", id, address))


def get_job(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    return _one(_get("jobs", id, address))


def get_objects(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    """Every process's row for object `id` (a list, empty if no process holds it)."""
    return _get("objects", id, address) or []


def get_placement_group(id: str, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    return _one(_get("placement_groups", id, address))


# --- summaries ----------------------------------------------------------------

def _summarize(resource, address):
    got = json.loads(_call(_photon.state_summarize, resource, _address(address)))
    for note in got.pop("warnings", []):
        warnings.warn(note, RuntimeWarning, stacklevel=3)
    got["summary_by"] = {"tasks": "func_name", "actors": "class"}.get(resource, "callsite")
    return {"cluster": got}


def summarize_tasks(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                    _explain=False):
    """Task attempts by function name and state: {"cluster": {"summary": {name:
    {"func_or_class_name", "type", "state_counts"}}, "total_tasks": N}}."""
    return _summarize("tasks", address)


def summarize_actors(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                     _explain=False):
    return _summarize("actors", address)


def summarize_objects(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                      _explain=False):
    """Objects by call site: {"cluster": {"summary": {call_site: {"total_objects",
    "total_size_mb", "total_num_workers", "total_num_nodes", "task_state_counts",
    "ref_type_counts"}}, "total_objects", "total_size_mb", "callsite_enabled",
    "summary_by": "callsite"}}."""
    return _summarize("objects", address)


# --- logs ---------------------------------------------------------------------

def _hex(value, what):
    if value is None:
        return ""
    if not isinstance(value, str):
        hex_of = getattr(value, "hex", None)
        if hex_of is None:
            raise RayStateApiException(f"{what} is a hex string, got {value!r}")
        return hex_of()
    return value


def list_logs(address: Optional[str] = None, node_id: Optional[str] = None,
              node_ip: Optional[str] = None, glob_filter: Optional[str] = None,
              timeout: int = DEFAULT_RPC_TIMEOUT):
    """The log files of a node (node_id or node_ip; default: the head node) by kind:
    {"gcs_server": [...], "raylet": [...], "worker_out": [...], "worker_err": [...],
    "core_worker": [...], "driver": [...], "misc": [...]} (kinds with no file left out)."""
    got = _call(_photon.state_list_logs, _hex(node_id, "node_id"), node_ip or "",
                glob_filter or "", _address(address))
    return json.loads(got)


def get_log(address: Optional[str] = None, node_id: Optional[str] = None,
            node_ip: Optional[str] = None, filename: Optional[str] = None,
            actor_id: Optional[str] = None, task_id: Optional[str] = None,
            pid: Optional[int] = None, follow: bool = False, tail: int = -1,
            timeout: int = DEFAULT_RPC_TIMEOUT, suffix: str = "out",
            encoding: Optional[str] = "utf-8", errors: Optional[str] = "strict",
            submission_id: Optional[str] = None, attempt_number: int = 0,
            _interval: Optional[float] = None, filter_ansi_code: bool = False):
    """Yields the content of a log in chunks (str, or bytes with encoding=None): a file of a
    node's log folder (filename, on node_id/node_ip or the head node), a task's output (task_id,
    attempt_number: the bytes it printed, from its worker's file), an actor's (actor_id: its
    worker's file) or a worker's by pid. suffix "out" or "err"; tail: the last lines only;
    follow: keep yielding what is written until the caller stops."""
    if submission_id is not None:
        # A submitted job's entrypoint output, on the node its supervisor ran it.
        raw = _call(_photon.state_kv_get, job_common.KV_NAMESPACE,
                    job_common.info_key(submission_id), _address(address))
        record = job_common.loads(raw)
        if record is None:
            raise RayStateApiException(f"Job {submission_id} does not exist")
        if not record.get("driver_node_id"):
            raise RayStateApiException(f"Job {submission_id} has not started (it is "
                                       f"{record.get('status')}): it has no logs yet")
        node_id, filename = record["driver_node_id"], job_common.log_file_name(submission_id)
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
        raise RayStateApiException(f"pid must be a positive int, got {pid!r}")
    if not isinstance(tail, int) or isinstance(tail, bool):
        raise RayStateApiException(f"tail must be an int, got {tail!r}")
    raylet, request, empty, _node = _call(
        _photon.state_resolve_log, _hex(node_id, "node_id"), node_ip or "", filename or "",
        _hex(actor_id, "actor_id"), _hex(task_id, "task_id"), int(pid or 0),
        int(attempt_number), suffix, int(tail), _address(address))
    return _read_log(raylet, request, empty, follow, tail, encoding, errors,
                     0.5 if _interval is None else float(_interval), filter_ansi_code)


def _read_log(raylet, request, empty, follow, tail, encoding, errors, interval, filter_ansi):
    import re
    import time
    ansi = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
    # The first read honours tail; later ones go on from where it stopped.
    start, first = None, True
    while True:
        data, next_offset, _size = _call(
            _photon.state_read_log, raylet, request, empty,
            -1 if start is None else start, -1,
            int(tail) if first and tail > 0 else 0)
        first = False
        if start is None:
            start = 0
        moved = next_offset != start or data
        start = next_offset
        if data:
            if filter_ansi:
                data = ansi.sub(b"", data)
            yield data if encoding is None else data.decode(encoding, errors or "strict")
            continue  # more may be there already
        if not follow or empty:
            return
        if not moved:
            time.sleep(interval)
