// SPREAD: round-robin over the live nodes that have room for the work now
// (the local one included), so that a burst of work lands on as many nodes
// as possible. With no node that has room it defers to the default policy
// (nullopt); work that another node sent here stays here.
#pragma once

#include <optional>

#include "photon/raylet/scheduling/policy/scheduling_policy.h"

namespace photon::raylet {

std::optional<SchedulingDecision> SpreadPolicy(const ClusterView& view,
                                               const SchedulingRequest& request,
                                               SchedulingState* state);

}  // namespace photon::raylet
