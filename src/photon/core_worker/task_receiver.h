// The executing side of a worker: tasks pushed to it queue here and run one
// at a time on the thread that called Run (the worker's main thread).
//
// Threading: HandlePushTask is called on gRPC threads and only queues; Run
// executes; Exit may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
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

 private:
  struct Item {
    grpc::ServerUnaryReactor* reactor;
    const rpc::PushTaskRequest* request;
    rpc::PushTaskReply* reply;
  };
  void Execute(const Item& item);
  // Resolves the arguments' values; on failure returns the error to store.
  std::optional<rpc::ErrorInfo> ResolveArgs(const rpc::TaskSpec& spec,
                                            std::vector<std::shared_ptr<ObjectValue>>* holders,
                                            std::vector<const ObjectValue*>* args);
  void AddReturn(const ObjectID& id, const std::string& metadata, std::string value,
                 rpc::PushTaskReply* reply);

  CoreWorker* const worker_;
  TaskExecutor executor_;
  std::string last_task_name_;
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;
  int exit_code_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace photon::core
