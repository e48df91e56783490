// The CoreWorkerService a driver or worker serves: tasks pushed to it, the
// status of objects it owns, borrow updates, stream items, cancellations and
// its stats (the memory view's reference table).
// Each call goes to the component that handles it; the service only checks
// requests and translates.
//
// The server starts before the process has registered with its raylet (its
// address is part of the registration), so the handlers are attached once the
// components exist (Attach). Until then, pushed tasks wait in the service
// and every other call is refused with UNAVAILABLE (callers try again).
//
// Threading: handlers run on gRPC callback threads.
#pragma once

#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/core_worker/borrow_tracker.h"
#include "photon/core_worker/execute/task_receiver.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/stream_manager.h"
#include "photon/protocol/core_worker.grpc.pb.h"

namespace photon::core {

class CoreWorkerServiceImpl : public rpc::CoreWorkerService::CallbackService {
 public:
  struct Handlers {
    std::string worker_id;   // this process's WorkerID (binary), checked against pushes
    TaskReceiver* receiver;  // null in a driver
    MemoryStore* memory_store;
    ReferenceCounter* refs;
    StreamManager* streams;
    BorrowTracker* borrows;
    // Rebuilds an owned object from lineage (CoreWorker::Reconstruct): false
    // with `error` set when it cannot be.
    std::function<bool(const ObjectID&, rpc::ErrorInfo* error)> reconstruct;
    // Fills this process's stats and reference table (CoreWorker::Stats).
    std::function<void(const rpc::GetCoreWorkerStatsRequest&, rpc::GetCoreWorkerStatsReply*)> stats;
  };

  // Hands the waiting pushes to the receiver; later calls go straight to the
  // handlers. Once only.
  void Attach(Handlers handlers);
  // Refuses every later call (shutdown).
  void Detach();

  grpc::ServerUnaryReactor* PushTask(grpc::CallbackServerContext* ctx,
                                     const rpc::PushTaskRequest* req,
                                     rpc::PushTaskReply* reply) override;
  grpc::ServerUnaryReactor* GetObjectStatus(grpc::CallbackServerContext* ctx,
                                            const rpc::GetObjectStatusRequest* req,
                                            rpc::GetObjectStatusReply* reply) override;
  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* ctx,
                                       const rpc::CancelTaskRequest* req,
                                       rpc::CancelTaskReply* reply) override;
  grpc::ServerUnaryReactor* Exit(grpc::CallbackServerContext* ctx, const rpc::ExitRequest* req,
                                 rpc::ExitReply* reply) override;
  grpc::ServerUnaryReactor* ReportGeneratorItem(grpc::CallbackServerContext* ctx,
                                                const rpc::ReportGeneratorItemRequest* req,
                                                rpc::ReportGeneratorItemReply* reply) override;
  grpc::ServerUnaryReactor* UpdateObjectBorrowers(grpc::CallbackServerContext* ctx,
                                                  const rpc::ObjectBorrowRequest* req,
                                                  rpc::ObjectBorrowReply* reply) override;
  grpc::ServerUnaryReactor* GetCoreWorkerStats(grpc::CallbackServerContext* ctx,
                                               const rpc::GetCoreWorkerStatsRequest* req,
                                               rpc::GetCoreWorkerStatsReply* reply) override;

 private:
  struct EarlyPush {
    grpc::ServerUnaryReactor* reactor;
    const rpc::PushTaskRequest* request;
    rpc::PushTaskReply* reply;
  };
  // The handlers, or nullopt (and a reason) while there are none.
  bool Ready(Handlers* out);

  // The push is for this worker (InvalidArgument-free check of intended_worker_id).
  static grpc::Status CheckIntended(const rpc::PushTaskRequest& req, const std::string& worker_id);
  absl::Mutex mu_;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  bool detached_ ABSL_GUARDED_BY(mu_) = false;
  Handlers handlers_ ABSL_GUARDED_BY(mu_){};
  std::deque<EarlyPush> early_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
