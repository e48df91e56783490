"""Type stubs and contracts of photon._photon, the native core (nanobind).

Internal: the public API is in photon/__init__.py. Object and actor ids are
`bytes` (binary ids, 40 and 20 bytes). Every blocking function releases the
GIL while it waits. Errors from the core raise RuntimeError (bad state),
ValueError (bad argument) or TimeoutError (get/wait timeouts); the *values*
of failed objects are not raised here: `get` returns them as
(ERROR_METADATA, error_info_bytes) and photon/_private turns them into
exceptions.
"""
from typing import Callable, Optional, Sequence

ERROR_METADATA: bytes  # metadata of an error value: data is a serialized ErrorInfo

class Buffer:
    """Bytes of one object, possibly a read-only view of shared memory.
    Supports the buffer protocol (memoryview(buf) is zero-copy, read-only)."""
    def __len__(self) -> int: ...

def version() -> str: ...
def check_config_environment() -> dict: ...
def config_table() -> list: ...

# --- connection -----------------------------------------------------------
def connect(
    address: str,              # "" -> start a private local cluster
    num_cpus: float,           # < 0 -> all cores (local cluster only)
    num_gpus: float,
    resources: dict,           # custom resources (local cluster only)
    object_store_memory: int,  # 0 -> default
    namespace: str,            # "" -> random
    worker_command: list,      # argv that starts a Python worker of this job
    worker_env: dict,          # extra environment for workers
) -> dict:
    """Joins (or starts) a cluster as a driver. Returns
    {"job_id", "node_id", "worker_id" (bytes), "gcs_address", "session_dir",
    "namespace" (str), "raylet_address" (str)}. Raises RuntimeError naming
    the problem (unreachable address, daemons that did not start)."""

def disconnect() -> None:
    """Leaves the cluster; stops a local cluster connect() started."""

def is_connected() -> bool: ...

def run_worker(executor: Callable, interrupter: Callable[[bytes], None],
               before_exit: Optional[Callable[[], None]]) -> int:
    """In a process the raylet started: serves tasks until told to exit, then
    returns the exit code. For each task, calls (with the GIL held)
      executor(task: dict, args: list[tuple[bytes metadata, Buffer data]])
    where task = {"type": "normal"|"actor_creation"|"actor_task",
    "function": str, "name": str, "task_id": bytes, "actor_id": bytes,
    "num_returns": int, "attempt": int, "restarted": bool,
    "max_concurrency": int}. The executor returns
      ("ok", [(metadata bytes, data bytes-like), ...one per return...])
      ("error", error_info_bytes)   # a serialized ErrorInfo
    Several threads call it at once for a threaded actor (max_concurrency>1)."""

def exit_actor() -> None: ...
def actor_restarted() -> bool: ...

# --- identity ---------------------------------------------------------------
def job_id() -> bytes: ...
def node_id() -> bytes: ...
def worker_id() -> bytes: ...
def current_task_id() -> bytes: ...
def current_actor_id() -> bytes: ...   # nil (all 0xff) outside an actor
def namespace() -> str: ...

# --- objects ---------------------------------------------------------------
def put(metadata: bytes, data) -> bytes:
    """Stores a value (data: any bytes-like); returns its id, one local ref held."""

def get(ids: Sequence[bytes], timeout_ms: int) -> list:
    """[(metadata, Buffer)] in order; timeout_ms < 0 waits forever.
    Raises TimeoutError on timeout."""

def wait(ids: Sequence[bytes], num_returns: int, timeout_ms: int,
         fetch_local: bool = False) -> list:
    """One bool per id: ready. With fetch_local, an object in a store is ready once a copy is on this node."""

def add_local_ref(id: bytes) -> None: ...
def remove_local_ref(id: bytes) -> None: ...
def owner_address(id: bytes) -> bytes:
    """Serialized owner Address of an object this process knows (for pickling refs)."""
def register_borrowed_refs(refs: list) -> None:
    """[(id, owner_address)]: refs to objects other processes own, just
    deserialized here; new borrows are registered with their owners (blocks for
    one call per owner)."""
def exit_worker_after_task() -> None:
    """This worker exits once the running task has replied (max_calls)."""
def actor_pending_calls(actor_id: bytes) -> int:
    """Calls this process made to the actor that have not finished."""
def list_actors() -> list:
    """Every actor the GCS knows: dicts of actor_id, state, name, namespace."""
def cancel(id: bytes, force: bool = False, recursive: bool = True) -> None:
    """Cancels the task that makes id; ValueError for force on an actor call."""

# --- tasks and actors ---------------------------------------------------------
# An argument: (False, metadata, data) for a value, (True, object_id, b"") for a ref.
def submit_task(function: str, name: str, args: list, num_returns: int, resources: dict,
                max_retries: int, retry_exceptions: bool, streaming: bool = False,
                scheduling: tuple = (b"", False, False, b"", -1, False, [])) -> list:
    """Returns the return ids (one local ref each). A streaming task has one
    return, its completion; its items come through stream_next."""

def create_actor(class_key: str, args: list, name: str, namespace: str, resources: dict,
                 max_restarts: int, max_task_retries: int, max_concurrency: int,
                 detached: bool, scheduling: tuple = ..., class_name: str = "") -> bytes:
    """Returns the actor id (one handle ref held). ValueError for bad options,
    RuntimeError('... already exists ...') for a taken name."""

def submit_actor_task(actor_id: bytes, method: str, args: list, num_returns: int,
                      name: str, streaming: bool) -> list: ...

# --- streaming generators --------------------------------------------------------
def stream_next(task_id: bytes, index: int, timeout_ms: int) -> Optional[bytes]:
    """The id of item `index` (its reference passes to the caller), the
    completion id once if the task failed, or None at the end. TimeoutError on
    timeout; Ctrl-C interrupts it."""
def stream_release(task_id: bytes) -> None: ...
def report_stream_item(task_id: bytes, index: int, metadata: bytes, parts: list) -> None:
    """In a worker running a streaming task: hands item `index` to the caller
    (blocks until the caller has it)."""
def kill_actor(actor_id: bytes, no_restart: bool) -> None: ...
def get_named_actor(name: str, namespace: str) -> Optional[bytes]: ...
def actor_info(actor_id: bytes) -> dict: ...
def add_actor_handle(actor_id: bytes) -> None: ...
def remove_actor_handle(actor_id: bytes) -> None: ...

# --- cluster --------------------------------------------------------------
def kv_put(ns: str, key: bytes, value: bytes, overwrite: bool) -> bool: ...
def kv_get(ns: str, key: bytes) -> Optional[bytes]: ...
def nodes() -> list:
    """[{"NodeID": hex, "Alive": bool, "NodeManagerAddress": str,
    "NodeManagerPort": int, "Resources": dict, "AvailableResources": dict}]"""

# --- placement groups (entries in Ray's placement_group_table shape) --------------
def pg_create(bundles: list, strategy: str, name: str, namespace: str, detached: bool) -> bytes:
    """Stores a group and schedules it in the background; returns its id."""
def pg_remove(id: bytes) -> None: ...
def pg_get(id: bytes) -> Optional[dict]: ...
def pg_get_named(name: str, namespace: str) -> Optional[dict]: ...
def pg_all() -> list: ...
def pg_wait(id: bytes, timeout_ms: int) -> bool:
    """True once placed, False after timeout_ms (< 0: none); ValueError if removed."""

# --- the state API (src/photon/state/state_api.h) ---------------------------------
# `address` "" reads the connected cluster. Bad input raises ValueError naming it.
def state_schema(resource: str) -> list:
    """[(column, is_detail, is_filterable)] in Ray's order."""
def state_list(resource: str, filters: list, limit: int, detail: bool, address: str) -> tuple:
    """(rows as JSON text, rows matched before the limit, warnings, partial failures)."""
def state_get(resource: str, id: str, address: str) -> str | None:
    """Every row with that id as JSON text (every attempt of a task); None if none."""
def state_summarize(resource: str, address: str) -> str: ...
def state_timeline(address: str) -> str:
    """The Chrome trace of the task table as JSON text (StateApi::Timeline)."""

# --- more objects -----------------------------------------------------------------
def put_parts(metadata: bytes, parts: list) -> bytes:
    """As put, with the value given as bytes-like parts written one after another."""
def add_contained_refs(outer: bytes, inner: Sequence[bytes]) -> None:
    """Keeps `inner` objects alive (one local ref each) until `outer` is freed here."""
def num_tracked_objects() -> int: ...
def local_store_stats() -> dict:
    """This node's object store counters (capacity, bytes_used, num_objects,
    spilled_bytes_total, restored_bytes_total, evicted_objects_total, ...)."""
def local_object_info(id: bytes) -> dict:
    """One object in this node's store: found, pins, offset, primary, spilled,
    in_memory, data_size, metadata_size."""
def is_driver() -> bool: ...
def parse_error(error_info: bytes) -> dict:
    """{"type", "message", "exception_type", "where", "serialized_exception"}."""
def make_error(type: str, message: str, exception_type: str, serialized: bytes) -> bytes: ...

# --- local clusters (photon.cluster_utils) ------------------------------------------
class NodeProcess:
    pid: int
    port: int
    node_id: str
    address: str

class LocalCluster:
    @staticmethod
    def start(session_root: str = "") -> "LocalCluster":
        """Starts a GCS (no raylet) in a new session folder."""
    def add_node(self, num_cpus: float = -1, num_gpus: float = 0, resources: dict = {},
                 object_store_memory: int = 0) -> NodeProcess: ...
    def remove_node(self, node: NodeProcess, kill: bool = False) -> None: ...
    def shutdown(self) -> None: ...
    gcs_address: str
    session_dir: str
    nodes: list
