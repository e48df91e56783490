"""photon.get_runtime_context(): ids and resources of the running job, task and actor."""
from photon import _photon


class RuntimeContext:
    def get_job_id(self):
        return _photon.job_id().hex()

    def get_node_id(self):
        return _photon.node_id().hex()

    def get_worker_id(self):
        return _photon.worker_id().hex()

    def get_task_id(self):
        """The running task's id in hex; None in a driver (as in Ray)."""
        from photon._private import worker
        if worker.state.mode == "driver":
            return None
        tid = _photon.current_task_id()
        return None if tid == b"\xff" * len(tid) else tid.hex()

    def get_task_name(self):
        from photon._private import worker
        if worker.state.mode == "driver":
            return None
        return worker.state.task_name

    def get_task_function_name(self):
        return self.get_task_name()

    def get_actor_name(self):
        """The name of the running actor, if it has one ("" otherwise, None
        outside an actor)."""
        aid = _photon.current_actor_id()
        if aid == b"\xff" * len(aid):
            return None
        from photon._private import worker
        return worker.state.actor_name or ""

    def get_placement_group_id(self):
        return None  # placement groups are not implemented

    def get_accelerator_ids(self):
        import photon
        return {"GPU": [str(i) for i in photon.get_gpu_ids()]}

    def get_node_labels(self):
        return {}

    def get_runtime_env_string(self):
        import json
        return json.dumps(self.runtime_env)

    @property
    def runtime_env(self):
        import os
        from photon._private import worker
        env = getattr(worker.state, "runtime_env", None)
        return dict(env) if env else {}

    @property
    def gcs_address(self):
        from photon._private import worker
        return (worker.state.info or {}).get("gcs_address") or os_env_address()

    def is_canceled(self):
        """True in a running task or actor call that was cancelled: sync actor
        calls are not interrupted (as in Ray) and may check this to stop; a
        normal task also gets KeyboardInterrupt, and sees this if it catches it."""
        from photon._private import worker
        task_id = getattr(worker.state.local, "task_id", None)
        return task_id is not None and task_id in worker.state.cancelled

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
        from photon._private.ids import JobID
        return JobID(_photon.job_id())

    @property
    def node_id(self):
        from photon._private.ids import NodeID
        return NodeID(_photon.node_id())

    @property
    def task_id(self):
        from photon._private.ids import TaskID
        tid = self.get_task_id()
        return None if tid is None else TaskID.from_hex(tid)

    @property
    def actor_id(self):
        from photon._private.ids import ActorID
        aid = self.get_actor_id()
        return None if aid is None else ActorID.from_hex(aid)

    def get_actor_id(self):
        aid = _photon.current_actor_id()
        return None if aid == b"\xff" * len(aid) else aid.hex()

    @property
    def namespace(self):
        from photon._private import worker
        return worker.current_namespace()

    @property
    def was_current_actor_reconstructed(self):
        return _photon.actor_restarted()

    def get_assigned_resources(self):
        """The resources of the running task or actor ({} in a driver)."""
        from photon._private import worker
        if worker.state.mode != "worker":
            return {}
        return {k: v for k, v in worker.state.resources.items() if v > 0}

    @property
    def current_actor(self):
        from photon._private import worker
        from photon._private.actor import ActorHandle
        aid = _photon.current_actor_id()
        if aid == b"\xff" * len(aid):
            raise RuntimeError("This method is only available in an actor.")
        hosted = worker.state.actor
        return ActorHandle(aid, type(hosted.instance) if hosted is not None else None)


def os_env_address():
    import os
    return os.environ.get("PHOTON_ADDRESS") or os.environ.get("RAY_ADDRESS")


def get_runtime_context():
    from photon._private import worker
    worker.ensure_initialized()
    return RuntimeContext()
