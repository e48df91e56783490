// The executing side of a worker: tasks pushed to it queue here and run one
// at a time on the thread that called Run (the worker's main thread).
//
// Threading: HandlePushTask is called on gRPC threads and only queues; Run
// executes; Exit may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "photon/core_worker/core_worker.h"

namespace photon::core {

class TaskReceiver {
 public:
  TaskReceiver(CoreWorker* worker, TaskExecutor executor);

  void HandlePushTask(grpc::ServerUnaryReactor* reactor, const rpc::PushTaskRequest* request,
                      rpc::PushTaskReply* reply);
  // Runs pushed tasks until Exit; returns the exit code.
  int Run();
  void Exit(int code);
  // Cancels `task`: if it waits here it is answered with TASK_CANCELLED and
  // never runs; if it runs, the front end is asked to interrupt it. True if
  // either was done.
  bool Cancel(const TaskID& task);
  // Inside an actor: exit once the current call has replied.
  void ExitAfterCurrentTask() { exit_after_task_ = true; }
  bool exit_requested() const { return exit_after_task_; }

 private:
  struct Item {
    grpc::ServerUnaryReactor* reactor;
    const rpc::PushTaskRequest* request;
    rpc::PushTaskReply* reply;
  };
  void Execute(const Item& item);
  // Takes the next runnable item; false when exiting.
  bool Next(Item* item);
  // Moves in-order actor calls of `caller` into the run queue.
  void ReleaseInOrder(const std::string& caller) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartPool(int threads);
  // Resolves the arguments' values; on failure returns the error to store.
  std::optional<rpc::ErrorInfo> ResolveArgs(const rpc::TaskSpec& spec,
                                            std::vector<std::shared_ptr<ObjectValue>>* holders,
                                            std::vector<const ObjectValue*>* args);
  void AddReturn(const ObjectID& id, const std::string& metadata, std::string value,
                 rpc::PushTaskReply* reply);

  CoreWorker* const worker_;
  TaskExecutor executor_;
  std::mutex marker_mu_;
  std::string last_task_name_;  // guarded by marker_mu_
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  struct CallerQueue {
    uint64_t next_seq = 0;
    std::map<uint64_t, Item> waiting;
    std::set<uint64_t> skipped;  // cancelled before their turn
  };
  std::map<std::string, CallerQueue> callers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<TaskID> running_ ABSL_GUARDED_BY(mu_);
  // Answers `item` with TASK_CANCELLED for every return, without running it.
  void FinishCancelled(const Item& item);
  std::vector<std::thread> pool_;
  std::atomic<bool> exit_after_task_{false};
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;
  int exit_code_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace photon::core
