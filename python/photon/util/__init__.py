"""photon.util: helpers on top of tasks and actors (``ray.util``).

ActorPool, as_completed, map_unordered and placement groups are here; the actor-backed queue is
photon.util.queue.Queue, as in Ray.
"""
from photon.util import queue  # noqa: F401
from photon.util import scheduling_strategies  # noqa: F401
from photon.util.actor_pool import ActorPool
from photon.util.actors import get_node_ip_address, list_named_actors
from photon.util.helpers import as_completed, map_unordered
from photon.util.placement_group import (PlacementGroup, get_current_placement_group,
                                         get_placement_group, placement_group,
                                         placement_group_table, remove_placement_group)

__all__ = ["ActorPool", "as_completed", "map_unordered", "queue", "scheduling_strategies",
           "list_named_actors", "get_node_ip_address", "PlacementGroup", "placement_group",
           "placement_group_table", "remove_placement_group", "get_placement_group",
           "get_current_placement_group"]
