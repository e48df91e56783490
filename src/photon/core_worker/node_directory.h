// The raylet address of each node this process needs to reach, from the
// GCS's node table (cached; looked up again when a node is not known yet).
//
// Threading: thread-safe. Lookup may block on a GCS call; never call it on
// an RPC thread that must not block (use the cached Find there).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/callback_guard.h"
#include "photon/common/id.h"
#include "photon/gcs_client/gcs_client.h"

namespace photon::core {

class NodeDirectory {
 public:
  // Answers that come after `guard` is closed touch nothing of this object.
  NodeDirectory(GcsClient* gcs, std::shared_ptr<CallbackGuard> guard)
      : gcs_(gcs), guard_(std::move(guard)) {}

  // The raylet of `node` ("host:port" in ip and port), asking the GCS if it is
  // not cached. NotFound if the cluster has no such node.
  absl::StatusOr<rpc::Address> Lookup(const NodeID& node);
  // Lookup without blocking: `done` runs with the address (at once if it is
  // cached, else on an RPC thread once the GCS answered).
  void LookupAsync(const NodeID& node, std::function<void(absl::StatusOr<rpc::Address>)> done);
  // The cached address only.
  std::optional<rpc::Address> Find(const NodeID& node) const;
  // Whether the GCS reported `node` dead (cached knowledge only).
  bool IsDead(const NodeID& node) const;
  // Takes in a node table (from the GCS or a NODE_CHANNEL message).
  void Update(const rpc::NodeInfo& node);

 private:
  GcsClient* const gcs_;
  const std::shared_ptr<CallbackGuard> guard_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<NodeID, rpc::Address> addresses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<NodeID, bool> dead_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
