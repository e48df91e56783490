// Borrowing between processes (the protocol in reference_counter.h).
//
// Borrower side: a process that deserializes references to objects (or actor
// handles) other processes own registers with each owner before the value is
// handed out, one blocking call per owner; when its last reference to one
// goes, it tells the owner, in batches (borrow_flush_delay_ms gathers a burst
// of drops, such as a list of refs going away, into one call per owner).
// A worker returning a value (or streaming an item) that contains references
// registers its caller as their borrower first, on behalf of the returned
// object (RegisterOnBehalf), so the objects outlive the worker's own
// references.
//
// Owner side: applies the updates to the reference counter, and from its
// first borrower on follows the GCS's worker and node deaths, dropping the
// borrows of processes that died.
//
// Threading: thread-safe. RegisterBorrowedRefs and RegisterOnBehalf block the
// calling thread (never call them on an RPC thread); batched ends are sent
// from the timer.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/config.h"
#include "photon/common/timer.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/worker_liveness.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/rpc/core_worker_client.h"

namespace photon::core {

class BorrowTracker {
 public:
  struct Deps {
    const SystemConfig* config;
    ReferenceCounter* refs;
    rpc::CoreWorkerClientPool* workers;
    WorkerLiveness* liveness;
    GcsClient* gcs;
    Timer* timer;
    rpc::Address self;  // this process (worker_id and node_id set)
  };
  explicit BorrowTracker(Deps deps);

  // --- the borrower's side ---
  // References this process just deserialized: new borrows are registered
  // with their owners before this returns (an owner that is dead is skipped:
  // a get of its objects reports it).
  void RegisterBorrowedRefs(const std::vector<OwnedRef>& refs);
  // Registers `borrower` as holding `refs` on behalf of the object `tag` it
  // will own; refs `borrower` owns itself need nothing. Blocks until done.
  void RegisterOnBehalf(const rpc::Address& borrower, const ObjectID& tag,
                        const std::vector<OwnedRef>& refs);
  // A borrow this process holds ended; the owner is told with the next batch.
  void EndBorrow(const rpc::Address& owner, const ObjectID& id, uint64_t epoch,
                 const std::string& tag);
  // Sends what is batched now (waiting at most shutdown_rpc_timeout_ms);
  // later ends are dropped. For shutdown.
  void Stop();

  // --- the owner's side ---
  void HandleUpdate(const rpc::ObjectBorrowRequest& req);

 private:
  struct Batch {
    rpc::Address owner;
    std::vector<std::pair<ObjectID, uint64_t>> ids;
  };
  // One UpdateObjectBorrowers call, retried while the owner lives; blocks.
  absl::Status SendUpdate(const rpc::Address& owner, const std::string& borrower,
                          const std::string& borrower_node, const std::string& tag,
                          const std::vector<std::pair<ObjectID, uint64_t>>& ids, bool borrowing);
  void Flush();
  void WatchBorrowers();
  void Subscribe();

  Deps d_;
  std::atomic<uint64_t> next_epoch_{1};
  std::atomic<bool> watching_{false};
  absl::Mutex mu_;
  // (owner ip:port + worker id + '\0' + tag) -> borrows ended since the last flush.
  std::map<std::string, std::pair<std::string, Batch>> ends_ ABSL_GUARDED_BY(mu_);
  bool flush_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::core
