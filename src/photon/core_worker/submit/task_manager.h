// The owner's record of the tasks it submitted (normal tasks and actor
// calls) until they end: the references their pending arguments hold, and
// where their results go. Both submitters report here; what differs between
// them (leases, ordering, retries) stays with them.
//
// A returned value that contains references (nested_refs in its ReturnObject)
// comes with borrows the executing worker registered for this process with
// their owners (tag: the returned object's id); they are kept while the
// returned object is, and ended when it is freed.
//
// Threading: thread-safe; nothing is called back under its lock.
#pragma once

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/submit/task_spec_builder.h"
#include "photon/protocol/core_worker.pb.h"

namespace photon::core {

class TaskManager {
 public:
  // Frees the store copy of an object nobody references any more.
  using FreeCopyFn = std::function<void(const ObjectID& id, const NodeID& node)>;
  // Ends borrows registered for this process on behalf of `outer` at once
  // (the returned object was not referenced when it arrived).
  using EndBorrowsFn =
      std::function<void(const ObjectID& outer, const std::vector<OwnedRef>& borrows)>;

  TaskManager(ReferenceCounter* refs, MemoryStore* store, rpc::Address self, FreeCopyFn free_copy,
              EndBorrowsFn end_borrows);

  // Records a submitted task: its returns 1..num_returns become owned objects
  // with one local reference each (the caller's), and `args.held` count as
  // submitted references until the task ends (the creator's local references
  // to `args.put` pass to the task). Returns the return ids.
  std::vector<ObjectID> AddPendingTask(const rpc::TaskSpec& spec, const ArgumentRefs& args);
  // The task ran: stores its returns (those still referenced), releases its
  // arguments.
  void CompleteTask(const TaskID& id, const rpc::PushTaskReply& reply);
  // The task failed for good: every return becomes `error`; releases its
  // arguments.
  void FailTask(const TaskID& id, const rpc::ErrorInfo& error);
  bool IsPending(const TaskID& id) const;
  size_t NumPending() const;

  // Stores one returned object (a task return or a stream item): kept if
  // anything references `r.object_id()`, else freed (and its borrows ended).
  void StoreReturnObject(const rpc::ReturnObject& r);

 private:
  struct Pending {
    int num_returns = 0;
    std::vector<ObjectID> held;
  };
  // Removes `id`'s record; its held references are released by the caller.
  bool Take(const TaskID& id, Pending* out);

  ReferenceCounter* const refs_;
  MemoryStore* const store_;
  const rpc::Address self_;
  const FreeCopyFn free_copy_;
  const EndBorrowsFn end_borrows_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TaskID, Pending> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
