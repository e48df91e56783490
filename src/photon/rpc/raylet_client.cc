#include "photon/rpc/raylet_client.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace photon::rpc {

RetryPolicy ControlRetryPolicy(const SystemConfig& c) {
  return RetryPolicy{absl::Milliseconds(c.rpc_retry_deadline_ms()),
                     absl::Milliseconds(c.rpc_retry_initial_backoff_ms()),
                     absl::Milliseconds(c.rpc_retry_max_backoff_ms())};
}

RetryPolicy GcsRetryPolicy(const SystemConfig& c) {
  return RetryPolicy{absl::Milliseconds(c.gcs_rpc_retry_deadline_ms()),
                     absl::Milliseconds(c.rpc_retry_initial_backoff_ms()),
                     absl::Milliseconds(c.rpc_retry_max_backoff_ms())};
}

namespace {

using Stub = NodeManagerService::Stub;

class GrpcRayletClient : public RayletClient,
                         public std::enable_shared_from_this<GrpcRayletClient> {
 public:
  GrpcRayletClient(std::string address, const SystemConfig& config, std::shared_ptr<Timer> timer)
      : address_(std::move(address)),
        stub_(NodeManagerService::NewStub(GetChannel(address_))),
        timer_(std::move(timer)),
        retry_(ControlRetryPolicy(config)),
        timeout_ms_(config.rpc_timeout_ms()),
        pull_timeout_ms_(config.object_pull_timeout_ms()),
        register_timeout_ms_(config.worker_register_timeout_ms()) {}

  const std::string& address() const override { return address_; }

  void RequestWorkerLease(const RequestWorkerLeaseRequest& req,
                          ReplyCallback<RequestWorkerLeaseReply> done) override {
    Retried(&Stub::async::RequestWorkerLease, "RequestWorkerLease", req, -1, retry_,
            std::move(done));
  }
  void ReturnWorker(const ReturnWorkerRequest& req,
                    ReplyCallback<ReturnWorkerReply> done) override {
    Retried(&Stub::async::ReturnWorker, "ReturnWorker", req, timeout_ms_, retry_, std::move(done));
  }
  void CancelLease(const CancelLeaseRequest& req, ReplyCallback<CancelLeaseReply> done) override {
    Retried(&Stub::async::CancelLease, "CancelLease", req, timeout_ms_, retry_, std::move(done));
  }
  void NotifyBlocked(const NotifyBlockedRequest& req,
                     ReplyCallback<NotifyBlockedReply> done) override {
    Retried(&Stub::async::NotifyBlocked, "NotifyBlocked", req, timeout_ms_, retry_,
            std::move(done));
  }
  void FreeObjects(const FreeObjectsRequest& req, ReplyCallback<FreeObjectsReply> done) override {
    Retried(&Stub::async::FreeObjects, "FreeObjects", req, timeout_ms_, retry_, std::move(done));
  }
  void PullObject(const PullObjectRequest& req, ReplyCallback<PullObjectReply> done) override {
    Retried(&Stub::async::PullObject, "PullObject", req, pull_timeout_ms_, retry_, std::move(done));
  }
  void GetWorkerState(const GetWorkerStateRequest& req,
                      ReplyCallback<GetWorkerStateReply> done) override {
    CallAsync(stub_->async(), &Stub::async::GetWorkerState, "GetWorkerState", req, timeout_ms_,
              [self = shared_from_this(), done = std::move(done)](
                  const absl::Status& s, GetWorkerStateReply&& r) { done(s, std::move(r)); });
  }
  void RegisterWorker(const RegisterWorkerRequest& req,
                      ReplyCallback<RegisterWorkerReply> done) override {
    RetryPolicy p = retry_;
    p.deadline = absl::Milliseconds(register_timeout_ms_);
    Retried(&Stub::async::RegisterWorker, "RegisterWorker", req, timeout_ms_, p, std::move(done));
  }
  void HealthCheck(int64_t timeout_ms, ReplyCallback<HealthCheckReply> done) override {
    CallAsync(stub_->async(), &Stub::async::HealthCheck, "HealthCheck", HealthCheckRequest(),
              timeout_ms,
              [self = shared_from_this(), done = std::move(done)](
                  const absl::Status& s, HealthCheckReply&& r) { done(s, std::move(r)); });
  }
  void GetNodeStats(const GetNodeStatsRequest& req,
                    ReplyCallback<GetNodeStatsReply> done) override {
    Retried(&Stub::async::GetNodeStats, "GetNodeStats", req, timeout_ms_, retry_, std::move(done));
  }
  void PrepareBundleResources(const PrepareBundleResourcesRequest& req,
                              ReplyCallback<PrepareBundleResourcesReply> done) override {
    Retried(&Stub::async::PrepareBundleResources, "PrepareBundleResources", req, timeout_ms_,
            retry_, std::move(done));
  }
  void CommitBundleResources(const CommitBundleResourcesRequest& req,
                             ReplyCallback<CommitBundleResourcesReply> done) override {
    Retried(&Stub::async::CommitBundleResources, "CommitBundleResources", req, timeout_ms_, retry_,
            std::move(done));
  }
  void CancelResourceReserve(const CancelResourceReserveRequest& req,
                             ReplyCallback<CancelResourceReserveReply> done) override {
    Retried(&Stub::async::CancelResourceReserve, "CancelResourceReserve", req, timeout_ms_, retry_,
            std::move(done));
  }

 private:
  template <typename Request, typename Reply>
  void Retried(void (Stub::async::*method)(grpc::ClientContext*, const Request*, Reply*,
                                           std::function<void(grpc::Status)>),
               const char* name, const Request& req, int64_t timeout_ms, const RetryPolicy& policy,
               ReplyCallback<Reply> done) {
    // Each attempt holds the client, so its stub outlives every call.
    CallWithRetry<Reply>(
        timer_, fmt::format("{} to {}", name, address_), policy,
        [self = shared_from_this(), method, name, req, timeout_ms](ReplyCallback<Reply> cb) {
          CallAsync(self->stub_->async(), method, name, req, timeout_ms, std::move(cb));
        },
        std::move(done));
  }

  const std::string address_;
  const std::unique_ptr<Stub> stub_;
  const std::shared_ptr<Timer> timer_;
  const RetryPolicy retry_;
  const int64_t timeout_ms_;
  const int64_t pull_timeout_ms_;
  const int64_t register_timeout_ms_;
};

class GrpcRayletClientPool : public RayletClientPool {
 public:
  GrpcRayletClientPool(const SystemConfig& config, std::shared_ptr<Timer> timer)
      : config_(config), timer_(std::move(timer)) {}

  std::shared_ptr<RayletClient> Get(const std::string& address) override {
    absl::MutexLock lock(&mu_);
    auto& c = clients_[address];
    if (c == nullptr) c = std::make_shared<GrpcRayletClient>(address, config_, timer_);
    return c;
  }

 private:
  const SystemConfig config_;
  const std::shared_ptr<Timer> timer_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<RayletClient>> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<RayletClientPool> MakeRayletClientPool(const SystemConfig& config,
                                                       std::shared_ptr<Timer> timer) {
  return std::make_unique<GrpcRayletClientPool>(config, std::move(timer));
}

}  // namespace photon::rpc
