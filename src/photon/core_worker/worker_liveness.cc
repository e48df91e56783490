#include "photon/core_worker/worker_liveness.h"

#include "fmt/format.h"

namespace photon::core {

void WorkerLiveness::Check(const rpc::Address& worker, Done done) {
  auto node = NodeID::FromBinary(worker.node_id());
  if (!node.ok()) return done(State::kDead, "its address names no node");
  // The GCS first: a node that failed its health checks is dead, and so is
  // every process on it. Otherwise the worker's raylet knows whether its
  // process lives.
  gcs_->GetAllNodesAsync([this, worker, node = *node, done,
                          g = guard_](absl::StatusOr<std::vector<rpc::NodeInfo>> all) {
    auto token = g->Enter();
    if (!token) return done(State::kUnknown, "");
    if (all.ok()) {
      for (const auto& n : *all) nodes_->Update(n);
    }
    if (nodes_->IsDead(node)) {
      return done(State::kDead, fmt::format("its node {} died", node.Hex()));
    }
    auto raylet = nodes_->Find(node);
    if (!raylet) {
      return done(all.ok() ? State::kDead : State::kUnknown, "its node is not in the cluster");
    }
    rpc::GetWorkerStateRequest req;
    req.set_worker_id(worker.worker_id());
    raylets_->Get(rpc::HostPort(*raylet))
        ->GetWorkerState(req, [done, g](const absl::Status& s, rpc::GetWorkerStateReply&& reply) {
          auto token = g->Enter();
          if (!token || !s.ok()) return done(State::kUnknown, "");  // asked again later
          switch (reply.state()) {
            case rpc::GetWorkerStateReply::ALIVE:
              return done(State::kAlive, "");
            case rpc::GetWorkerStateReply::DEAD:
              return done(State::kDead, reply.reason());
            default:
              return done(State::kDead, "its raylet does not know it (it ended long ago)");
          }
        });
  });
}

bool WorkerLiveness::NodeDied(const rpc::Address& peer) const {
  auto node = NodeID::FromBinary(peer.node_id());
  return node.ok() && nodes_->IsDead(*node);
}

}  // namespace photon::core
