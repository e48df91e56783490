// Calls to a raylet's NodeManagerService: the seam between the processes that
// use raylets (core workers, the GCS) and the raylets themselves. Unit tests
// replace the pool with a fake (tests/fakes/fake_raylet.h).
//
// Every method is asynchronous and thread-safe; callbacks run on gRPC or
// timer threads and must not block. Calls the raylet handles idempotently
// (everything but RequestWorkerLease's grant, which the raylet makes
// idempotent by lease id) are retried after transient failures within the
// control-call retry policy (rpc_retry_*); a failure that reaches the
// callback is final for that policy.
#pragma once

#include <memory>
#include <string>

#include "photon/common/config.h"
#include "photon/common/timer.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/rpc/client.h"

namespace photon::rpc {

class RayletClient {
 public:
  virtual ~RayletClient() = default;
  // "host:port" of the raylet.
  virtual const std::string& address() const = 0;

  // No deadline: the raylet answers once it grants, spills back or refuses.
  // A retry carries the same lease id, which the raylet answers with the
  // same grant.
  virtual void RequestWorkerLease(const RequestWorkerLeaseRequest& req,
                                  ReplyCallback<RequestWorkerLeaseReply> done) = 0;
  virtual void ReturnWorker(const ReturnWorkerRequest& req,
                            ReplyCallback<ReturnWorkerReply> done) = 0;
  virtual void CancelLease(const CancelLeaseRequest& req, ReplyCallback<CancelLeaseReply> done) = 0;
  virtual void NotifyBlocked(const NotifyBlockedRequest& req,
                             ReplyCallback<NotifyBlockedReply> done) = 0;
  virtual void FreeObjects(const FreeObjectsRequest& req, ReplyCallback<FreeObjectsReply> done) = 0;
  // Deadline object_pull_timeout_ms per attempt (a pull may wait for room).
  virtual void PullObject(const PullObjectRequest& req, ReplyCallback<PullObjectReply> done) = 0;
  // Whether a worker (or driver) of this node is alive: the evidence a
  // caller needs before it declares a peer dead. One attempt (a raylet that
  // does not answer may be dead; the caller asks the GCS about its node).
  virtual void GetWorkerState(const GetWorkerStateRequest& req,
                              ReplyCallback<GetWorkerStateReply> done) = 0;
  // Retried until worker_register_timeout_ms.
  virtual void RegisterWorker(const RegisterWorkerRequest& req,
                              ReplyCallback<RegisterWorkerReply> done) = 0;
  // One attempt with `timeout_ms`: a health check is itself the retry loop.
  virtual void HealthCheck(int64_t timeout_ms, ReplyCallback<HealthCheckReply> done) = 0;
  virtual void GetNodeStats(const GetNodeStatsRequest& req,
                            ReplyCallback<GetNodeStatsReply> done) = 0;
  // Placement-group bundles (each idempotent; retried on transient failures).
  virtual void PrepareBundleResources(const PrepareBundleResourcesRequest& req,
                                      ReplyCallback<PrepareBundleResourcesReply> done) = 0;
  virtual void CommitBundleResources(const CommitBundleResourcesRequest& req,
                                     ReplyCallback<CommitBundleResourcesReply> done) = 0;
  virtual void CancelResourceReserve(const CancelResourceReserveRequest& req,
                                     ReplyCallback<CancelResourceReserveReply> done) = 0;
};

// Clients by raylet address ("host:port"). Thread-safe.
class RayletClientPool {
 public:
  virtual ~RayletClientPool() = default;
  virtual std::shared_ptr<RayletClient> Get(const std::string& address) = 0;
};

// The gRPC pool. Retries are scheduled on `timer`.
std::unique_ptr<RayletClientPool> MakeRayletClientPool(const SystemConfig& config,
                                                       std::shared_ptr<Timer> timer);

// The retry policy of control calls (rpc_retry_*), and of calls to the GCS.
RetryPolicy ControlRetryPolicy(const SystemConfig& config);
RetryPolicy GcsRetryPolicy(const SystemConfig& config);

}  // namespace photon::rpc
