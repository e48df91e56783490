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
// Lineage: the spec of a finished normal task that may run again
// (max_retries != 0) and left a return in a store is kept while one of its
// returns is referenced, within max_lineage_bytes (oldest dropped first), so
// that a return whose every copy was lost can be rebuilt by running the task
// again (Resubmit), up to max_retries times.
//
// Threading: thread-safe; nothing is called back under its lock.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/submit/task_spec_builder.h"
#include "photon/core_worker/task_event_buffer.h"
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

  // `events` (optional) records the owner's side of each task's states
  // (submitted, retried, failed) for the state API; the submitters record
  // theirs (waiting for a lease, pushed) through events().
  TaskManager(ReferenceCounter* refs, MemoryStore* store, rpc::Address self, FreeCopyFn free_copy,
              EndBorrowsFn end_borrows, int64_t max_lineage_bytes = 0,
              TaskEventBuffer* events = nullptr);

  TaskEventBuffer* events() const { return events_; }
  // A pending task's current attempt reached `status`: kept for the memory
  // view, and a task event (with events).
  void RecordStatus(const TaskID& id, int attempt, rpc::TaskStatus status);
  // The owner's view of a pending task: its status (PENDING_ARGS_AVAIL until
  // its arguments are ready, then PENDING_NODE_ASSIGNMENT, then
  // SUBMITTED_TO_WORKER) and attempt; nullopt once it ended.
  void NoteStatus(const TaskID& id, rpc::TaskStatus status);
  std::optional<std::pair<rpc::TaskStatus, int>> PendingStatus(const TaskID& id) const;
  // The attempt `new_attempt - 1` failed for `why` and the task runs again
  // as `new_attempt`: the old attempt shows FAILED.
  void RecordRetry(const TaskID& id, int new_attempt, const rpc::ErrorInfo& why);

  // Records a submitted task: its returns 1..num_returns become owned objects
  // with one local reference each (the caller's), and `args.held` count as
  // submitted references until the task ends (the creator's local references
  // to `args.put` pass to the task). Returns the return ids.
  std::vector<ObjectID> AddPendingTask(const rpc::TaskSpec& spec, const ArgumentRefs& args);
  // The task ran: stores its returns (those still referenced), releases its
  // arguments. `lineage` (a normal task that may run again, with a return in
  // a store; `retries_left` of its max_retries) is kept to rebuild them.
  void CompleteTask(const TaskID& id, const rpc::PushTaskReply& reply,
                    const rpc::TaskSpec* lineage = nullptr, int retries_left = 0);
  // The task failed for good: every return becomes `error`; releases its
  // arguments.
  void FailTask(const TaskID& id, const rpc::ErrorInfo& error);
  // Makes the task that returned `id` pending again to rebuild it: its
  // returns' values are dropped (getters wait for the new ones) and the spec
  // to submit again is returned, its max_retries lowered to what is left (a
  // rebuild counts as a retry, as in Ray). NotFound without lineage (a put
  // object, a task that may not run again, an actor call);
  // FailedPrecondition once the retries ran out; OutOfRange when the
  // lineage was dropped for the budget.
  absl::StatusOr<rpc::TaskSpec> Resubmit(const ObjectID& id);
  // An owned object was freed: the lineage of its task goes with the last of
  // its returns, unless the lineage of a task that took one of them as an
  // argument is still kept (it pins this one).
  void OnObjectFreed(const ObjectID& id);
  // `id` (a return of a task whose lineage is kept) was freed but must exist
  // again, as an argument of a task being rebuilt: it is tracked again,
  // held by the rebuild of `rebuilding` until that completes. False if there
  // is no lineage to rebuild it from (nothing changes then).
  bool Retrack(const ObjectID& id, const TaskID& rebuilding);
  // Whether lineage for the task that made `id` is kept.
  bool HasLineage(const ObjectID& id) const;
  size_t NumLineageEntries() const;

  bool IsPending(const TaskID& id) const;
  size_t NumPending() const;

  // Stores one returned object (a task return or a stream item): kept if
  // anything references `r.object_id()`, else freed (and its borrows ended).
  void StoreReturnObject(const rpc::ReturnObject& r);

 private:
  struct Pending {
    int num_returns = 0;
    std::vector<ObjectID> held;
    int attempt = 0;  // the current one, for the FAILED event of FailTask
    rpc::TaskStatus status = rpc::PENDING_ARGS_AVAIL;
  };
  struct Lineage {
    rpc::TaskSpec spec;
    int rebuilds_left = 0;
    int live_returns = 0;
    size_t bytes = 0;
    // Lineage entries of other tasks that take one of this task's returns as
    // an argument: while any is kept, so is this one (a rebuild of theirs may
    // need this task to run again too).
    int pins = 0;
    std::vector<TaskID> pinned;  // the entries of this task's arguments it pins
  };
  // Drops `id`'s entry and unpins its arguments' (dropping those that nothing
  // keeps any more).
  void EraseLineage(const TaskID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void KeepLineage(const TaskID& id, rpc::TaskSpec spec, int rebuilds_left)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes `id`'s record; its held references are released by the caller.
  bool Take(const TaskID& id, Pending* out);

  ReferenceCounter* const refs_;
  MemoryStore* const store_;
  const rpc::Address self_;
  const FreeCopyFn free_copy_;
  const EndBorrowsFn end_borrows_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TaskID, Pending> pending_ ABSL_GUARDED_BY(mu_);
  const int64_t max_lineage_bytes_;
  TaskEventBuffer* const events_;
  absl::flat_hash_map<TaskID, Lineage> lineage_ ABSL_GUARDED_BY(mu_);
  std::deque<TaskID> lineage_order_ ABSL_GUARDED_BY(mu_);  // oldest first
  int64_t lineage_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<TaskID> evicted_ ABSL_GUARDED_BY(mu_);  // dropped for the budget
  std::deque<TaskID> evicted_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
