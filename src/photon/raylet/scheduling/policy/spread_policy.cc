#include "photon/raylet/scheduling/policy/spread_policy.h"

#include <vector>

namespace photon::raylet {

std::optional<SchedulingDecision> SpreadPolicy(const ClusterView& view,
                                               const SchedulingRequest& req,
                                               SchedulingState* state) {
  if (req.spilled) return std::nullopt;
  // Round robin over every node that could ever run it, taking the next
  // one with room: a node that is briefly full (or whose report lags) keeps
  // its place in the rotation instead of shifting everyone's turn.
  std::vector<const NodeView*> feasible;
  for (const NodeView* n : view.Nodes()) {
    if (n->alive && n->total.Contains(req.resources)) feasible.push_back(n);
  }
  for (size_t i = 0; i < feasible.size(); ++i) {
    const NodeView* n = feasible[(state->spread_next + i) % feasible.size()];
    if (!n->available.Contains(req.resources)) continue;
    state->spread_next += i + 1;
    if (n->id == view.local()) return SchedulingDecision::Local();
    return SchedulingDecision::Remote(n->id);
  }
  return std::nullopt;
}

}  // namespace photon::raylet
