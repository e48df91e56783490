#include "photon/core_worker/node_directory.h"

#include "fmt/format.h"

namespace photon::core {

void NodeDirectory::Update(const rpc::NodeInfo& n) {
  auto id = NodeID::FromBinary(n.node_id());
  if (!id.ok()) return;
  rpc::Address a;
  a.set_ip(n.ip());
  a.set_port(n.raylet_port());
  a.set_node_id(n.node_id());
  absl::MutexLock lock(&mu_);
  addresses_[*id] = a;
  dead_[*id] = n.state() == rpc::NodeInfo::DEAD;
}

std::optional<rpc::Address> NodeDirectory::Find(const NodeID& node) const {
  absl::MutexLock lock(&mu_);
  auto it = addresses_.find(node);
  if (it == addresses_.end()) return std::nullopt;
  return it->second;
}

bool NodeDirectory::IsDead(const NodeID& node) const {
  absl::MutexLock lock(&mu_);
  auto it = dead_.find(node);
  return it != dead_.end() && it->second;
}

absl::StatusOr<rpc::Address> NodeDirectory::Lookup(const NodeID& node) {
  if (auto a = Find(node)) return *a;
  auto nodes = gcs_->GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  for (const auto& n : *nodes) Update(n);
  if (auto a = Find(node)) return *a;
  return absl::NotFoundError(fmt::format("node {} is not in the cluster", node.Hex()));
}

void NodeDirectory::LookupAsync(const NodeID& node,
                                std::function<void(absl::StatusOr<rpc::Address>)> done) {
  if (auto a = Find(node)) return done(*a);
  gcs_->GetAllNodesAsync([this, node, done = std::move(done),
                          g = guard_](absl::StatusOr<std::vector<rpc::NodeInfo>> nodes) {
    auto token = g->Enter();
    if (!token) return done(absl::CancelledError("this process stops"));
    if (!nodes.ok()) return done(nodes.status());
    for (const auto& n : *nodes) Update(n);
    if (auto a = Find(node)) return done(*a);
    done(absl::NotFoundError(fmt::format("node {} is not in the cluster", node.Hex())));
  });
}

}  // namespace photon::core
