"""photon.get_runtime_context(): ids and resources of the running job, task and actor.

What a task sees is its own (per thread, per coroutine): the concurrent calls
of a threaded or async actor each see their own task id, name and resources."""
import json
import os

from photon import _photon
from photon._private import state
from photon._private import worker
from photon._private.actor import ActorHandle
from photon._private.ids import ActorID, JobID, NodeID, TaskID

_NIL_ACTOR = None


def _is_nil(binary):
    return binary == b"\xff" * len(binary)


class RuntimeContext:
    def get_job_id(self):
        return _photon.job_id().hex()

    def get_node_id(self):
        return _photon.node_id().hex()

    def get_worker_id(self):
        return _photon.worker_id().hex()

    def get_task_id(self):
        """The running task's id in hex; None in a driver (as in Ray)."""
        if state.connection.mode == "driver":
            return None
        task = state.current_task()
        if task is not None:
            return task.task_id.hex()
        tid = _photon.current_task_id()
        return None if _is_nil(tid) else tid.hex()

    def get_task_name(self):
        if state.connection.mode == "driver":
            return None
        task = state.current_task()
        return task.name if task is not None else None

    def get_task_function_name(self):
        """module.qualname of the running function or actor method (Ray's:
        a script's functions by the script's name), None in a driver."""
        if state.connection.mode == "driver":
            return None
        task = state.current_task()
        if task is None:
            return None
        return task.function_name or task.name

    def get_actor_name(self):
        """The name of the running actor, if it has one ("" otherwise, None
        outside an actor)."""
        if _is_nil(_photon.current_actor_id()):
            return None
        return state.connection.actor_name or ""

    def get_placement_group_id(self):
        """The hex id of the placement group the running task or actor is
        in, or None."""
        task = state.current_task()
        pg = task.placement_group_id if task is not None else b""
        if not pg and state.connection.mode == "worker":
            pg = state.connection.actor_placement_group_id
        return pg.hex() if pg else None

    def get_accelerator_ids(self):
        task = state.current_task()
        ids = task.gpu_ids if task is not None else []
        return {"GPU": [str(i) for i in ids]}

    def get_node_labels(self):
        return {}

    def get_runtime_env_string(self):
        return json.dumps(self.runtime_env)

    @property
    def runtime_env(self):
        env = state.connection.runtime_env
        return dict(env) if env else {}

    @property
    def gcs_address(self):
        return (state.connection.info or {}).get("gcs_address") or os_env_address()

    def is_canceled(self):
        """True in a running task or actor call that was cancelled: sync actor
        calls are not interrupted (as in Ray) and may check this to stop; a
        normal task also gets KeyboardInterrupt, and sees this if it catches it."""
        task = state.current_task()
        if task is None:
            return False
        with state.running.lock:
            return task.task_id in state.running.cancelled

    def get(self):
        """The context as a dict (Ray's RuntimeContext.get)."""
        out = {"job_id": self.get_job_id(), "node_id": self.get_node_id(),
               "namespace": self.namespace}
        if self.get_task_id() is not None:
            out["task_id"] = self.get_task_id()
        if self.get_actor_id() is not None:
            out["actor_id"] = self.get_actor_id()
        return out

    # Deprecated in Ray, still used by programs.
    @property
    def job_id(self):
        return JobID(_photon.job_id())

    @property
    def node_id(self):
        return NodeID(_photon.node_id())

    @property
    def task_id(self):
        tid = self.get_task_id()
        return None if tid is None else TaskID.from_hex(tid)

    @property
    def actor_id(self):
        aid = self.get_actor_id()
        return None if aid is None else ActorID.from_hex(aid)

    def get_actor_id(self):
        aid = _photon.current_actor_id()
        return None if _is_nil(aid) else aid.hex()

    @property
    def namespace(self):
        return worker.current_namespace()

    @property
    def was_current_actor_reconstructed(self):
        return _photon.actor_restarted()

    def get_assigned_resources(self):
        """The resources of the running task or actor ({} in a driver). In an actor,
        a thread of its own (not running a call) sees the actor's."""
        task = state.current_task()
        if state.connection.mode != "worker":
            return {}
        resources = task.resources if task is not None else state.connection.actor_resources
        return _original_resources(resources)

    @property
    def current_actor(self):
        """A handle to the running actor (a weak one: it does not keep the
        actor alive, so an actor that stores it is still collected)."""
        aid = _photon.current_actor_id()
        if _is_nil(aid):
            raise RuntimeError("This method is only available in an actor.")
        hosted = state.connection.actor
        return ActorHandle(aid, type(hosted.instance) if hosted is not None else None, _weak=True)


def _original_resources(resources):
    """resources with a placement group's names (CPU_group_<i>_<id>, CPU_group_<id>,
    bundle_group_...) mapped back to the names asked for (CPU), as Ray reports them."""
    indexed, wildcard, plain = {}, {}, {}
    for name, amount in resources.items():
        if amount <= 0 or name.startswith("bundle_group_"):
            continue
        base, sep, rest = name.partition("_group_")
        if not sep:
            plain[name] = amount
        elif rest.split("_", 1)[0].isdigit():
            indexed[base] = indexed.get(base, 0) + amount
        else:
            wildcard[base] = wildcard.get(base, 0) + amount
    return {**plain, **wildcard, **indexed}


def os_env_address():
    return os.environ.get("PHOTON_ADDRESS") or os.environ.get("RAY_ADDRESS")


def get_runtime_context():
    state.ensure_initialized()
    return RuntimeContext()
