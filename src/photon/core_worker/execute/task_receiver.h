// The executing side of a worker: tasks pushed to it queue here and run on
// the thread that called Run (the worker's main thread), or, in a threaded
// actor, on max_concurrency threads.
//
// Actor calls from one caller run in their submission order (by sequence
// number; `skip_before` lets a restarted actor skip numbers that will never
// come). A push is answered at most once per execution: a resend of a task or
// call this worker already has (same task and attempt, or same caller and
// sequence number) waits for it and gets its reply, and a resend of one that
// finished gets the reply again, so a lost reply never runs anything twice.
//
// Threading: HandlePushTask is called on gRPC threads and only queues; Run and
// the pool threads execute; Exit and Cancel may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/config.h"
#include "photon/core_worker/borrow_tracker.h"
#include "photon/core_worker/object_fetcher.h"
#include "photon/core_worker/object_value.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/stream_manager.h"
#include "photon/core_worker/task_context.h"
#include "photon/core_worker/task_event_buffer.h"
#include "photon/protocol/core_worker.pb.h"

namespace photon::core {

// One return value of a task, as the front end gives it.
struct ReturnValue {
  std::string metadata;
  std::string data;
  // References serialized inside `data`: the caller is registered as their
  // borrower before the reply goes, so they outlive this worker's handles.
  // The executor holds one local reference to each (taken while its value
  // still held them); the receiver drops it once the reply is sent.
  std::vector<OwnedRef> nested_refs;
};

// What the front end's executor returns for one task.
struct TaskResult {
  enum class Kind { kOk, kApplicationError, kFunctionNotFound };
  Kind kind = Kind::kOk;
  // kOk: the values of returns 1..n in order (missing ones are empty values).
  std::vector<ReturnValue> returns;
  std::string error_type;
  std::string error_message;
  // kApplicationError: a complete serialized ErrorInfo from the front end
  // (e.g. with the pickled Python exception); overrides type and message.
  std::string serialized_error;
};

// Runs one task: the spec and its arguments' values (metadata, data), in order.
using TaskExecutor = std::function<TaskResult(const rpc::TaskSpec& spec,
                                              const std::vector<const ObjectValue*>& args)>;

class TaskReceiver {
 public:
  struct Deps {
    const SystemConfig* config;
    TaskExecutor executor;
    // Optional: asks the front end to stop the running task (cancel).
    std::function<void(const TaskID& task)> interrupt;
    ObjectFetcher* fetcher;
    ReferenceCounter* refs;
    BorrowTracker* borrows;
    StreamManager* streams;
    TaskContexts* contexts;
    NodeID node_id;
    // The creation task of the actor this worker hosts ran (successfully or not).
    std::function<void(const ActorID& actor, bool restarted)> on_actor_created;
    // Cancels the tasks this process submitted from within `parent`.
    std::function<void(const TaskID& parent)> cancel_children;
    // Optional: records RUNNING and how each task ended (task events).
    TaskEventBuffer* events = nullptr;
  };
  explicit TaskReceiver(Deps deps);
  ~TaskReceiver();

  void HandlePushTask(grpc::ServerUnaryReactor* reactor, const rpc::PushTaskRequest* request,
                      rpc::PushTaskReply* reply);
  // Runs pushed tasks until Exit; returns the exit code.
  int Run();
  void Exit(int code);
  // Cancels `task`: if it waits here it is answered with TASK_CANCELLED and
  // never runs; if it runs, the front end is asked to interrupt it. True if
  // either was done. With `recursive`, the tasks it submitted are cancelled.
  bool Cancel(const TaskID& task, bool recursive);
  // Exit once the current task has replied (an actor's ExitActor, or
  // max_calls of a task).
  // From then on no new work starts (new pushes are answered "exiting");
  // the worker exits once the running task finishes, at once if none runs.
  void ExitAfterCurrentTask();
  bool exit_requested() const { return exit_after_task_; }

 private:
  // A push being answered: the first request, and resends that wait for it.
  struct Item {
    grpc::ServerUnaryReactor* reactor;
    const rpc::PushTaskRequest* request;
    rpc::PushTaskReply* reply;
    std::string key;  // dedup key
  };
  struct Waiter {
    grpc::ServerUnaryReactor* reactor;
    rpc::PushTaskReply* reply;
  };
  struct CallerQueue {
    uint64_t next_seq = 0;
    std::map<uint64_t, Item> waiting;
    std::set<uint64_t> skipped;  // cancelled before their turn
    // Replies of finished calls, until the caller says (skip_before) it has
    // them.
    std::map<uint64_t, rpc::PushTaskReply> replies;
  };

  static std::string KeyOf(const rpc::PushTaskRequest& req);
  void Execute(const Item& item);
  // Takes the next runnable item; false when exiting.
  bool Next(Item* item);
  // Moves in-order actor calls of `caller` into the run queue.
  void ReleaseInOrder(const std::string& caller) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartPool(int threads);
  // Resolves the arguments' values; on failure returns the error to store
  // (and adds to `lost` an argument whose every copy was lost).
  std::optional<rpc::ErrorInfo> ResolveArgs(const rpc::TaskSpec& spec,
                                            std::vector<std::shared_ptr<ObjectValue>>* holders,
                                            std::vector<const ObjectValue*>* args,
                                            std::vector<ObjectID>* lost);
  void AddReturn(const rpc::TaskSpec& spec, const ObjectID& id, ReturnValue value,
                 rpc::PushTaskReply* reply);
  // Answers `item` (and every resend waiting for it) with its reply, and
  // keeps the reply for later resends.
  void Finish(const Item& item);
  // Answers `item` with TASK_CANCELLED for every return, without running it.
  void FinishCancelled(const Item& item);
  void MarkTaskName(const std::string& name);

  Deps d_;
  absl::Mutex marker_mu_;
  std::string last_task_name_ ABSL_GUARDED_BY(marker_mu_);
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, CallerQueue> callers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<TaskID> running_ ABSL_GUARDED_BY(mu_);
  // Pushes being handled (queued, waiting their turn or running) by key, with
  // the resends that wait for them.
  absl::flat_hash_map<std::string, std::vector<Waiter>> inflight_ ABSL_GUARDED_BY(mu_);
  // Replies of finished normal and creation tasks by key, oldest first, for
  // resends.
  absl::flat_hash_map<std::string, rpc::PushTaskReply> done_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> done_order_ ABSL_GUARDED_BY(mu_);
  size_t done_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of the replies in done_
  // Answers a push the worker will not run (it exits), and its resends.
  void FinishExiting(const Item& item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<std::thread> pool_;
  std::atomic<bool> exit_after_task_{false};
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;
  int exit_code_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace photon::core
