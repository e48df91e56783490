"""photon.util.state: Ray's state API (`ray.util.state`) on Photon."""
from photon.util.state.api import (  # noqa: F401
    get_actor,
    get_job,
    get_log,
    get_node,
    get_objects,
    get_placement_group,
    get_task,
    get_worker,
    list_actors,
    list_jobs,
    list_logs,
    list_nodes,
    list_objects,
    list_placement_groups,
    list_runtime_envs,
    RuntimeEnvState,
    list_tasks,
    list_workers,
    summarize_actors,
    summarize_objects,
    summarize_tasks,
)
from photon.util.state.common import (  # noqa: F401
    ActorState,
    JobState,
    NodeState,
    ObjectState,
    PlacementGroupState,
    TaskState,
    WorkerState,
)
from photon.util.state.exception import RayStateApiException  # noqa: F401
