// The core worker's in-process object table: the values of the objects this
// process owns or has fetched (small ones inline, large ones as a marker that
// says which node's store holds them), and the waiting on them.
//
// Threading: one mutex; callbacks registered with OnReady run on the thread
// that makes the object ready (never under the lock).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/core_worker/object_value.h"

namespace photon::core {

class MemoryStore {
 public:
  using Callback = std::function<void(std::shared_ptr<ObjectValue>)>;

  // Stores the value of `id` (first value wins; later ones are ignored unless
  // `overwrite`), wakes waiters and runs OnReady callbacks.
  void Put(const ObjectID& id, std::shared_ptr<ObjectValue> value, bool overwrite = false);

  // The value if present, else nullptr.
  std::shared_ptr<ObjectValue> GetIfReady(const ObjectID& id) const;
  bool Contains(const ObjectID& id) const;

  // Runs `cb` once `id` has a value (at once, on this thread, if it has one).
  void OnReady(const ObjectID& id, Callback cb);

  // Blocks until `num_ready` of `ids` have values or `deadline` passes;
  // returns the values (nullptr for the ones not ready) in input order.
  std::vector<std::shared_ptr<ObjectValue>> Wait(const std::vector<ObjectID>& ids, size_t num_ready,
                                                 absl::Time deadline);

  // Drops the value (waiters keep waiting; OnReady callbacks stay registered).
  void Erase(const ObjectID& id);
  size_t Size() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ObjectID, std::shared_ptr<ObjectValue>> values_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, std::vector<Callback>> callbacks_ ABSL_GUARDED_BY(mu_);
  absl::CondVar changed_;
};

}  // namespace photon::core
