// Streaming generators (num_returns="streaming").
//
// The caller's side: a streaming task has one return, its completion (the
// item count, or the error that ended it). Its items arrive one at a time by
// ReportGeneratorItem; item i is the task's return index i + 2, an owned
// object held by the stream until Next hands its reference to the caller.
// Items below the next index, or already there (from an earlier attempt of a
// retried task), are ignored; once the completion is ready and no further
// item is, the stream ends (after handing out the completion once if it is
// an error).
//
// The executing side: each yielded item is handed to the caller (large ones
// put into this node's store first) and the task produces the next one only
// once the caller has it.
//
// Threading: thread-safe. Next and Report block the calling thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/config.h"
#include "photon/core_worker/borrow_tracker.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/object_fetcher.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/submit/task_manager.h"
#include "photon/core_worker/worker_liveness.h"
#include "photon/rpc/core_worker_client.h"

namespace photon::core {

class StreamManager {
 public:
  struct Deps {
    const SystemConfig* config;
    MemoryStore* memory_store;
    ReferenceCounter* refs;
    TaskManager* tasks;
    ObjectFetcher* fetcher;
    BorrowTracker* borrows;
    rpc::CoreWorkerClientPool* workers;
    WorkerLiveness* liveness;
    NodeID node_id;
  };
  explicit StreamManager(Deps deps);

  // Item `index` of streaming task `task` (0-based).
  static ObjectID ItemId(const TaskID& task, int64_t index);

  // --- the caller's side ---
  // Registers the stream of a task being submitted.
  void Open(const TaskID& task);
  // The next item of `task`, waiting up to `timeout_ms` (< 0: forever): the
  // id of item `index` (the caller now holds its reference), or the task's
  // completion object if the generator failed before that item (its get
  // raises; given once), or nullopt at the end. DeadlineExceeded on timeout;
  // NotFound for a task that is not a stream of this process.
  absl::StatusOr<std::optional<ObjectID>> Next(const TaskID& task, int64_t index,
                                               int64_t timeout_ms);
  // The caller dropped its generator: items it has not taken are released,
  // and items reported later are freed on arrival.
  void Release(const TaskID& task);
  // The owner's handler of ReportGeneratorItem.
  void OnItem(const rpc::ReportGeneratorItemRequest& req);

  // --- the executing side ---
  void BeginExecuting(const TaskID& task, const rpc::Address& caller);
  void EndExecuting(const TaskID& task);
  // Hands item `index` to the task's caller and blocks until the caller has
  // it. `nested` are the references serialized in the item: the caller is
  // registered as their borrower first. Any thread of the task may call it.
  absl::Status Report(const TaskID& task, int64_t index, const std::string& metadata,
                      const std::vector<std::string_view>& parts,
                      const std::vector<OwnedRef>& nested);

 private:
  struct Stream {
    absl::flat_hash_set<int64_t> reported;  // items that arrived and are not yet taken
    int64_t next_index = 0;                 // items below were taken
    bool error_given = false;
  };

  Deps d_;
  absl::Mutex mu_;
  absl::flat_hash_map<TaskID, Stream> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TaskID, rpc::Address> executing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
