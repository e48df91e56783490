#include "photon/raylet/scheduling/policy/spread_policy.h"

#include <vector>

namespace photon::raylet {

std::optional<SchedulingDecision> SpreadPolicy(const ClusterView& view,
                                               const SchedulingRequest& req,
                                               SchedulingState* state) {
  if (req.spilled) return std::nullopt;
  std::vector<const NodeView*> room;
  for (const NodeView* n : view.Nodes()) {
    if (n->alive && n->total.Contains(req.resources) && n->available.Contains(req.resources)) {
      room.push_back(n);
    }
  }
  if (room.empty()) return std::nullopt;
  const NodeView* pick = room[state->spread_next++ % room.size()];
  if (pick->id == view.local()) return SchedulingDecision::Local();
  return SchedulingDecision::Remote(pick->id);
}

}  // namespace photon::raylet
