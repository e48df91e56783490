"""Placement groups (Ray's ray.util.placement_group): bundles of resources
reserved together across the cluster's nodes, for tasks and actors to run
in. See photon._private.placement_group."""
from photon._private.placement_group import (  # noqa: F401
    VALID_PLACEMENT_GROUP_STRATEGIES,
    PlacementGroup,
    get_current_placement_group,
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)
