// The core worker's in-process object table: the values of the objects this
// process owns or has fetched (small ones inline, large ones as a marker that
// says which node's store holds them), and the waiting on them.
//
// Threading: one mutex; callbacks registered with OnReady run on the thread
// that makes the object ready (never under the lock). A blocked Wait leaves
// nothing behind when it returns, however often it is called with a short
// deadline.
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
  // Returns a token for CancelOnReady (0 if `cb` already ran).
  uint64_t OnReady(const ObjectID& id, Callback cb);
  // Unregisters a callback that has not run yet (no-op otherwise).
  void CancelOnReady(const ObjectID& id, uint64_t token);

  // Blocks until `num_ready` of `ids` have values or `deadline` passes;
  // returns the values (nullptr for the ones not ready) in input order.
  // `stop` (optional) is asked every kStopPollInterval, without the lock,
  // whether to give up early (e.g. Ctrl-C): then *stopped is set. Polling it
  // keeps the wait's registrations, so a long wait for many ids costs
  // nothing per poll (waiting in short slices re-registered every id each
  // time: quadratic for a get of 100k refs).
  static constexpr absl::Duration kStopPollInterval = absl::Milliseconds(100);
  std::vector<std::shared_ptr<ObjectValue>> Wait(const std::vector<ObjectID>& ids, size_t num_ready,
                                                 absl::Time deadline,
                                                 const std::function<bool()>* stop = nullptr,
                                                 bool* stopped = nullptr);

  // Drops the value (waiters keep waiting; OnReady callbacks stay registered).
  void Erase(const ObjectID& id);
  size_t Size() const;
  // OnReady callbacks and blocked waits registered for objects without a
  // value (for tests: a timed-out Wait must leave none).
  size_t NumPendingWaits() const;

 private:
  struct Waiter {
    size_t ready = 0;  // arrivals among the ids it waits for
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ObjectID, std::shared_ptr<ObjectValue>> values_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, std::vector<std::pair<uint64_t, Callback>>> callbacks_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<ObjectID, std::vector<Waiter*>> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
