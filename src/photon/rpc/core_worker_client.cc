#include "photon/rpc/core_worker_client.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace photon::rpc {
namespace {

using Stub = CoreWorkerService::Stub;

class GrpcCoreWorkerClient : public CoreWorkerClient,
                             public std::enable_shared_from_this<GrpcCoreWorkerClient> {
 public:
  GrpcCoreWorkerClient(const Address& address, const SystemConfig& config)
      : address_(address),
        stub_(CoreWorkerService::NewStub(GetChannel(HostPort(address), address.worker_id()))),
        timeout_ms_(config.rpc_timeout_ms()) {}

  const Address& address() const override { return address_; }

  // No deadline: the task runs as long as it runs.
  void PushTask(PushTaskRequest req, ReplyCallback<PushTaskReply> done) override {
    Call(&Stub::async::PushTask, "PushTask", std::move(req), -1, std::move(done));
  }
  // No deadline: the owner answers once the object exists.
  void GetObjectStatus(const GetObjectStatusRequest& req,
                       ReplyCallback<GetObjectStatusReply> done) override {
    Call(&Stub::async::GetObjectStatus, "GetObjectStatus", req, -1, std::move(done));
  }
  void CancelTask(const CancelTaskRequest& req, ReplyCallback<CancelTaskReply> done) override {
    Call(&Stub::async::CancelTask, "CancelTask", req, timeout_ms_, std::move(done));
  }
  void UpdateObjectBorrowers(const ObjectBorrowRequest& req,
                             ReplyCallback<ObjectBorrowReply> done) override {
    Call(&Stub::async::UpdateObjectBorrowers, "UpdateObjectBorrowers", req, timeout_ms_,
         std::move(done));
  }
  void Exit(const ExitRequest& req, ReplyCallback<ExitReply> done) override {
    Call(&Stub::async::Exit, "Exit", req, timeout_ms_, std::move(done));
  }
  // No deadline: the caller takes the item when it has room.
  void ReportGeneratorItem(const ReportGeneratorItemRequest& req,
                           ReplyCallback<ReportGeneratorItemReply> done) override {
    Call(&Stub::async::ReportGeneratorItem, "ReportGeneratorItem", req, -1, std::move(done));
  }

 private:
  template <typename Request, typename Reply>
  void Call(void (Stub::async::*method)(grpc::ClientContext*, const Request*, Reply*,
                                        std::function<void(grpc::Status)>),
            const char* name, Request req, int64_t timeout_ms, ReplyCallback<Reply> done) {
    // The callback holds the client, so its stub outlives the call.
    CallAsync(stub_->async(), method, name, std::move(req), timeout_ms,
              [self = shared_from_this(), done = std::move(done)](
                  const absl::Status& s, Reply&& r) { done(s, std::move(r)); });
  }

  const Address address_;
  const std::unique_ptr<Stub> stub_;
  const int64_t timeout_ms_;
};

class GrpcCoreWorkerClientPool : public CoreWorkerClientPool {
 public:
  explicit GrpcCoreWorkerClientPool(const SystemConfig& config) : config_(config) {}

  std::shared_ptr<CoreWorkerClient> Get(const Address& worker) override {
    std::string key = HostPort(worker) + '/' + worker.worker_id();
    absl::MutexLock lock(&mu_);
    auto& c = clients_[key];
    if (c == nullptr) c = std::make_shared<GrpcCoreWorkerClient>(worker, config_);
    return c;
  }

 private:
  const SystemConfig config_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<CoreWorkerClient>> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<CoreWorkerClientPool> MakeCoreWorkerClientPool(const SystemConfig& config) {
  return std::make_unique<GrpcCoreWorkerClientPool>(config);
}

}  // namespace photon::rpc
