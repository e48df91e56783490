// What a scheduler knows of the cluster when it decides where work runs: each
// node's total and available resources, whether it is alive, and its labels.
// The raylet keeps one (refreshed from the GCS, its own node exact); the GCS
// builds one from its node table to place actors. Plain data, not
// thread-safe: the owner guards it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"
#include "photon/raylet/scheduling/resource_set.h"

namespace photon::raylet {

struct NodeView {
  NodeID id;
  rpc::Address address;  // the node's raylet
  ResourceSet total;
  ResourceSet available;
  bool alive = true;
  std::map<std::string, std::string> labels;
};

class ClusterView {
 public:
  // `local`: the node the decision is made for (the raylet's own, or, in
  // the GCS, the node preferred by the work's owner). May be absent.
  explicit ClusterView(NodeID local = NodeID::Nil()) : local_(std::move(local)) {}

  const NodeID& local() const { return local_; }
  void set_local(const NodeID& id) { local_ = id; }
  // Adds or replaces a node.
  void Upsert(NodeView node);
  NodeView* Find(const NodeID& id);
  const NodeView* Find(const NodeID& id) const;
  const NodeView* Local() const { return Find(local_); }
  // Every node, in a stable order (by id).
  std::vector<const NodeView*> Nodes() const;
  size_t size() const { return nodes_.size(); }

 private:
  NodeID local_;
  std::map<NodeID, NodeView> nodes_;
};

}  // namespace photon::raylet
