// NodeAffinitySchedulingStrategy: the work runs on the named node, however
// busy it is (it waits there). If that node is dead or can never fit the
// work, a soft affinity defers to the default policy (nullopt) and a hard one
// makes the work unschedulable, with the reason.
#pragma once

#include <optional>

#include "photon/raylet/scheduling/policy/scheduling_policy.h"

namespace photon::raylet {

std::optional<SchedulingDecision> NodeAffinityPolicy(const ClusterView& view,
                                                     const SchedulingRequest& request);

}  // namespace photon::raylet
