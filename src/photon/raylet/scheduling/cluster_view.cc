#include "photon/raylet/scheduling/cluster_view.h"

namespace photon::raylet {

void ClusterView::Upsert(NodeView node) {
  NodeID id = node.id;
  nodes_[id] = std::move(node);
}

NodeView* ClusterView::Find(const NodeID& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const NodeView* ClusterView::Find(const NodeID& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<const NodeView*> ClusterView::Nodes() const {
  std::vector<const NodeView*> out;
  out.reserve(nodes_.size());
  for (const auto& [id, n] : nodes_) out.push_back(&n);
  return out;
}

}  // namespace photon::raylet
