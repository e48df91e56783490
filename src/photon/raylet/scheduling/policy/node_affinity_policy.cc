#include "photon/raylet/scheduling/policy/node_affinity_policy.h"

#include "fmt/format.h"

namespace photon::raylet {

std::optional<SchedulingDecision> NodeAffinityPolicy(const ClusterView& view,
                                                     const SchedulingRequest& req) {
  const rpc::SchedulingStrategy& st = req.strategy;
  auto target = NodeID::FromBinary(st.node_id());
  const NodeView* n = target.ok() ? view.Find(*target) : nullptr;
  if (n != nullptr && n->alive && n->total.Contains(req.resources)) {
    if (n->id == view.local()) return SchedulingDecision::Local();
    if (!req.spilled) return SchedulingDecision::Remote(n->id);
  }
  if (st.soft()) return std::nullopt;
  std::string why;
  if (n == nullptr || !n->alive) {
    why = "is not a live node of the cluster";
  } else if (!n->total.Contains(req.resources)) {
    why = fmt::format("can never fit '{}': it needs {}, the node has {}", req.name,
                      req.resources.ToString(), n->total.ToString());
  } else {
    why = "cannot take work sent on from another node";
  }
  return SchedulingDecision{
      SchedulingDecision::Kind::kUnschedulable, NodeID::Nil(),
      fmt::format("node {} (NodeAffinitySchedulingStrategy, soft=False) {}",
                  target.ok() ? target->Hex() : std::string("<bad id>"), why)};
}

}  // namespace photon::raylet
