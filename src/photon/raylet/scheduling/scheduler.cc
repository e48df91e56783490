#include "photon/raylet/scheduling/scheduler.h"

namespace photon::raylet {

SchedulingOptions SchedulingOptions::FromConfig(const SystemConfig& c) {
  SchedulingOptions o;
  o.spread_threshold = c.scheduler_spread_threshold();
  o.top_k_fraction = c.scheduler_top_k_fraction();
  o.top_k_absolute = c.scheduler_top_k_absolute();
  return o;
}

SchedulingDecision Schedule(const ClusterView& view, const SchedulingRequest& request,
                            const SchedulingOptions& options, SchedulingState* state) {
  const rpc::SchedulingStrategy& st = request.strategy;
  if (!st.node_id().empty()) {
    if (auto d = NodeAffinityPolicy(view, request)) return *d;
  } else if (st.spread()) {
    if (auto d = SpreadPolicy(view, request, state)) return *d;
  } else if (st.by_labels()) {
    return NodeLabelPolicy(view, request, options, state);
  }
  return HybridPolicy(view, request, options, state);
}

}  // namespace photon::raylet
