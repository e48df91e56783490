// The default policy (Ray's hybrid policy): keep work on the local node while
// its utilization of what the work needs is under spread_threshold; past
// that, pick at random among the least-loaded top fraction (top_k_*) of the
// nodes that have room now, counting every node under the threshold as idle;
// if no node has room, wait on the local node when it could ever fit the
// work, else on the least-loaded node that could; if none could, the work is
// infeasible. Work that needs no GPU avoids nodes that have GPUs while other
// nodes fit it.
#pragma once

#include <optional>

#include "photon/raylet/scheduling/policy/scheduling_policy.h"

namespace photon::raylet {

SchedulingDecision HybridPolicy(const ClusterView& view, const SchedulingRequest& request,
                                const SchedulingOptions& options, SchedulingState* state);

// The least-loaded live node with room for `request` now, other than the
// local one (for moving work that waits locally). nullopt if none.
std::optional<NodeID> LeastLoadedRemoteWithRoom(const ClusterView& view,
                                                const ResourceSet& request);

}  // namespace photon::raylet
