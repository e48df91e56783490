// Calls to a core worker's CoreWorkerService (a driver or worker): the seam
// between a core worker and its peers (the workers it pushes tasks to, the
// owners of the objects it borrows) and the GCS's actor scheduler. Unit tests
// replace the pool with a fake (tests/fakes/fake_core_worker.h).
//
// Every method is asynchronous and thread-safe; callbacks run on gRPC
// threads and must not block. Each call is one attempt: whether a failure
// means the peer is dead is for the caller to find out, on evidence
// (core_worker/worker_liveness.h retries a call while the peer lives). The
// receiver handles every call but PushTask idempotently, and PushTask of a
// task it already has (a resend) by answering with that task's reply.
#pragma once

#include <memory>
#include <string>

#include "photon/common/config.h"
#include "photon/common/timer.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/rpc/client.h"

namespace photon::rpc {

class CoreWorkerClient {
 public:
  virtual ~CoreWorkerClient() = default;
  virtual const Address& address() const = 0;

  virtual void PushTask(PushTaskRequest req, ReplyCallback<PushTaskReply> done) = 0;
  virtual void GetObjectStatus(const GetObjectStatusRequest& req,
                               ReplyCallback<GetObjectStatusReply> done) = 0;
  virtual void CancelTask(const CancelTaskRequest& req, ReplyCallback<CancelTaskReply> done) = 0;
  virtual void UpdateObjectBorrowers(const ObjectBorrowRequest& req,
                                     ReplyCallback<ObjectBorrowReply> done) = 0;
  virtual void ReportGeneratorItem(const ReportGeneratorItemRequest& req,
                                   ReplyCallback<ReportGeneratorItemReply> done) = 0;
  // Asks the worker to end gracefully (an actor: its shutdown hooks run, then
  // it tells the GCS it is gone, not to be restarted).
  virtual void Exit(const ExitRequest& req, ReplyCallback<ExitReply> done) = 0;
};

// Clients by worker (its address and WorkerID). Thread-safe.
class CoreWorkerClientPool {
 public:
  virtual ~CoreWorkerClientPool() = default;
  virtual std::shared_ptr<CoreWorkerClient> Get(const Address& worker) = 0;
};

// The gRPC pool. Control calls have a deadline of rpc_timeout_ms.
std::unique_ptr<CoreWorkerClientPool> MakeCoreWorkerClientPool(const SystemConfig& config);

}  // namespace photon::rpc
