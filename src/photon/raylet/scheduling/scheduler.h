// Where a piece of work (a lease for a task, or an actor) runs: the
// strategy's policy first (node affinity, SPREAD), then the default (hybrid)
// policy. The raylet decides with it for each lease request, the GCS for each
// actor it places; both pass their own ClusterView and SchedulingState.
#pragma once

#include "photon/raylet/scheduling/policy/hybrid_policy.h"
#include "photon/raylet/scheduling/policy/node_affinity_policy.h"
#include "photon/raylet/scheduling/policy/node_label_policy.h"
#include "photon/raylet/scheduling/policy/scheduling_policy.h"
#include "photon/raylet/scheduling/policy/spread_policy.h"

namespace photon::raylet {

SchedulingDecision Schedule(const ClusterView& view, const SchedulingRequest& request,
                            const SchedulingOptions& options, SchedulingState* state);

}  // namespace photon::raylet
