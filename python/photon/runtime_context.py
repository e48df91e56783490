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
        tid = _photon.current_task_id()
        return None if tid == b"\xff" * len(tid) else tid.hex()

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
        return {}

    @property
    def current_actor(self):
        from photon._private import worker
        from photon._private.actor import ActorHandle
        aid = _photon.current_actor_id()
        if aid == b"\xff" * len(aid):
            raise RuntimeError("This method is only available in an actor.")
        hosted = worker.state.actor
        return ActorHandle(aid, type(hosted.instance) if hosted is not None else None)


def get_runtime_context():
    from photon._private import worker
    worker.ensure_initialized()
    return RuntimeContext()
