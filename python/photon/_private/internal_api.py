"""Ray's `ray._private.internal_api`: memory_summary, the text of
`photon memory` (Ray's `ray memory`)."""
from photon import _photon
from photon.util.state.exception import RayStateApiException


def memory_summary(address=None, group_by="NODE_ADDRESS", sort_by="OBJECT_SIZE", units="B",
                   line_wrap=True, stats_only=False, num_entries=None):
    """Every object reference of the cluster's workers and drivers (size, owner
    process, reference type, task status, call site) grouped by node or call
    site, and the object stores' usage. Sorting by object size puts the largest
    first. `address`: a GCS address (default: this process's cluster)."""
    if num_entries is not None and (not isinstance(num_entries, int) or num_entries < 0):
        raise ValueError(f"num_entries must be a non-negative int or None, got {num_entries!r}")
    try:
        return _photon.state_memory_summary(
            str(group_by), str(sort_by), str(units), bool(stats_only),
            -1 if num_entries is None else num_entries, bool(line_wrap),
            "" if address in (None, "auto") else address)
    except (ValueError, RuntimeError, TimeoutError) as e:
        raise RayStateApiException(str(e)) from None
