#include "photon/raylet/scheduling/policy/node_label_policy.h"

#include <algorithm>

#include "photon/raylet/scheduling/policy/hybrid_policy.h"

namespace photon::raylet {

bool LabelsMatch(const std::map<std::string, std::string>& labels,
                 const google::protobuf::RepeatedPtrField<rpc::LabelExpression>& expressions) {
  for (const auto& e : expressions) {
    auto it = labels.find(e.key());
    const bool has = it != labels.end();
    const bool listed =
        has && std::find(e.values().begin(), e.values().end(), it->second) != e.values().end();
    switch (e.op()) {
      case rpc::LabelExpression::IN:
        if (!listed) return false;
        break;
      case rpc::LabelExpression::NOT_IN:
        if (listed) return false;
        break;
      case rpc::LabelExpression::EXISTS:
        if (!has) return false;
        break;
      case rpc::LabelExpression::DOES_NOT_EXIST:
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

SchedulingDecision NodeLabelPolicy(const ClusterView& view, const SchedulingRequest& request,
                                   const SchedulingOptions& options, SchedulingState* state) {
  const rpc::SchedulingStrategy& st = request.strategy;
  std::vector<const NodeView*> hard, both;
  for (const NodeView* n : view.Nodes()) {
    if (!n->alive || !LabelsMatch(n->labels, st.label_hard())) continue;
    hard.push_back(n);
    if (LabelsMatch(n->labels, st.label_soft())) both.push_back(n);
  }
  if (hard.empty()) {
    return SchedulingDecision{SchedulingDecision::Kind::kInfeasible, NodeID::Nil(),
                              "no live node has labels that match the task's hard label "
                              "constraints; it waits for one to join"};
  }
  const std::vector<const NodeView*>& chosen = both.empty() ? hard : both;
  bool local_allowed = false;
  ClusterView sub;
  for (const NodeView* n : chosen) {
    sub.Upsert(*n);
    local_allowed = local_allowed || n->id == view.local();
  }
  sub.set_local(local_allowed ? view.local() : chosen.front()->id);
  SchedulingRequest plain = request;
  plain.strategy = rpc::SchedulingStrategy();
  SchedulingDecision d = HybridPolicy(sub, plain, options, state);
  if (d.kind == SchedulingDecision::Kind::kLocal && !local_allowed) {
    return SchedulingDecision::Remote(sub.local());
  }
  return d;
}

}  // namespace photon::raylet
