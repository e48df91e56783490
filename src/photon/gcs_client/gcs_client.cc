#include "photon/gcs_client/gcs_client.h"

#include <chrono>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/rpc/client.h"

namespace photon {
namespace {
constexpr int64_t kCallTimeoutMs = 10000;
constexpr int64_t kPollTimeoutMs = 10000;
}  // namespace

GcsClient::GcsClient(std::string address) : address_(std::move(address)) {
  auto channel = rpc::GetChannel(address_);
  nodes_ = rpc::NodeInfoGcsService::NewStub(channel);
  jobs_ = rpc::JobInfoGcsService::NewStub(channel);
  kv_ = rpc::InternalKvGcsService::NewStub(channel);
  pubsub_ = rpc::PubsubGcsService::NewStub(channel);
  actors_ = rpc::ActorInfoGcsService::NewStub(channel);
}

GcsClient::~GcsClient() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    for (auto& ctx : poll_contexts_) ctx->TryCancel();
  }
  for (auto& t : pollers_) t.join();
}

absl::StatusOr<std::unique_ptr<GcsClient>> GcsClient::Connect(const std::string& address,
                                                              int64_t timeout_ms) {
  std::unique_ptr<GcsClient> client(new GcsClient(address));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  absl::Status last;
  while (true) {
    rpc::GetAllNodesReply reply;
    int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now())
                       .count();
    grpc::ClientContext ctx;
    rpc::SetTimeout(&ctx, std::max<int64_t>(left, 1));
    ctx.set_wait_for_ready(true);
    last =
        rpc::FromGrpcStatus(client->nodes_->GetAllNodes(&ctx, rpc::GetAllNodesRequest(), &reply));
    if (last.ok()) return client;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::UnavailableError(fmt::format("cannot reach the GCS at {} within {} ms: {}", address,
                                            timeout_ms, std::string(last.message())));
}

absl::Status GcsClient::RegisterNode(const rpc::NodeInfo& node) {
  rpc::RegisterNodeRequest req;
  *req.mutable_node() = node;
  rpc::RegisterNodeReply reply;
  return rpc::CallSync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::RegisterNode, req, &reply,
                       kCallTimeoutMs);
}

absl::Status GcsClient::UnregisterNode(const NodeID& node, const std::string& reason) {
  rpc::UnregisterNodeRequest req;
  req.set_node_id(node.Binary());
  req.set_reason(reason);
  rpc::UnregisterNodeReply reply;
  return rpc::CallSync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::UnregisterNode, req, &reply,
                       2000);
}

absl::StatusOr<std::vector<rpc::NodeInfo>> GcsClient::GetAllNodes() {
  rpc::GetAllNodesReply reply;
  auto s = rpc::CallSync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::GetAllNodes,
                         rpc::GetAllNodesRequest(), &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return std::vector<rpc::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
}

void GcsClient::ReportResourcesAsync(const rpc::ReportResourcesRequest& request) {
  rpc::CallAsync(nodes_->async(), &rpc::NodeInfoGcsService::Stub::async::ReportResources, request,
                 2000, [](const absl::Status&, rpc::ReportResourcesReply&&) {});
}

absl::StatusOr<JobID> GcsClient::AddJob(const rpc::JobInfo& job) {
  rpc::AddJobRequest req;
  *req.mutable_job() = job;
  rpc::AddJobReply reply;
  auto s = rpc::CallSync(jobs_.get(), &rpc::JobInfoGcsService::Stub::AddJob, req, &reply,
                         kCallTimeoutMs);
  if (!s.ok()) return s;
  return JobID::FromBinary(reply.job_id());
}

absl::Status GcsClient::MarkJobFinished(const JobID& job) {
  rpc::MarkJobFinishedRequest req;
  req.set_job_id(job.Binary());
  rpc::MarkJobFinishedReply reply;
  return rpc::CallSync(jobs_.get(), &rpc::JobInfoGcsService::Stub::MarkJobFinished, req, &reply,
                       2000);
}

absl::StatusOr<std::vector<rpc::JobInfo>> GcsClient::GetAllJobs() {
  rpc::GetAllJobsReply reply;
  auto s = rpc::CallSync(jobs_.get(), &rpc::JobInfoGcsService::Stub::GetAllJobs,
                         rpc::GetAllJobsRequest(), &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return std::vector<rpc::JobInfo>(reply.jobs().begin(), reply.jobs().end());
}

absl::StatusOr<bool> GcsClient::KvPut(const std::string& ns, const std::string& key,
                                      const std::string& value, bool overwrite) {
  rpc::KvPutRequest req;
  req.set_ns(ns);
  req.set_key(key);
  req.set_value(value);
  req.set_overwrite(overwrite);
  rpc::KvPutReply reply;
  auto s =
      rpc::CallSync(kv_.get(), &rpc::InternalKvGcsService::Stub::Put, req, &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return reply.added();
}

absl::StatusOr<std::optional<std::string>> GcsClient::KvGet(const std::string& ns,
                                                            const std::string& key) {
  rpc::KvGetRequest req;
  req.set_ns(ns);
  req.set_key(key);
  rpc::KvGetReply reply;
  auto s =
      rpc::CallSync(kv_.get(), &rpc::InternalKvGcsService::Stub::Get, req, &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  if (!reply.found()) return std::optional<std::string>();
  return std::optional<std::string>(reply.value());
}

absl::StatusOr<int64_t> GcsClient::KvDel(const std::string& ns, const std::string& key,
                                         bool by_prefix) {
  rpc::KvDelRequest req;
  req.set_ns(ns);
  req.set_key(key);
  req.set_by_prefix(by_prefix);
  rpc::KvDelReply reply;
  auto s =
      rpc::CallSync(kv_.get(), &rpc::InternalKvGcsService::Stub::Del, req, &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return reply.deleted();
}

absl::StatusOr<std::vector<std::string>> GcsClient::KvKeys(const std::string& ns,
                                                           const std::string& prefix) {
  rpc::KvKeysRequest req;
  req.set_ns(ns);
  req.set_prefix(prefix);
  rpc::KvKeysReply reply;
  auto s =
      rpc::CallSync(kv_.get(), &rpc::InternalKvGcsService::Stub::Keys, req, &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
}

absl::Status GcsClient::RegisterActor(const rpc::ActorTableData& actor) {
  rpc::RegisterActorRequest req;
  *req.mutable_actor() = actor;
  rpc::RegisterActorReply reply;
  return rpc::CallSync(actors_.get(), &rpc::ActorInfoGcsService::Stub::RegisterActor, req, &reply,
                       kCallTimeoutMs);
}

void GcsClient::CreateActorAsync(const rpc::CreateActorRequest& request,
                                 std::function<void(const absl::Status&)> done) {
  rpc::CallAsync(
      actors_->async(), &rpc::ActorInfoGcsService::Stub::async::CreateActor, request,
      kCallTimeoutMs,
      [done = std::move(done)](const absl::Status& s, rpc::CreateActorReply&&) { done(s); });
}

absl::StatusOr<std::optional<rpc::ActorTableData>> GcsClient::GetActorInfo(const ActorID& id) {
  rpc::GetActorInfoRequest req;
  req.set_actor_id(id.Binary());
  rpc::GetActorInfoReply reply;
  auto s = rpc::CallSync(actors_.get(), &rpc::ActorInfoGcsService::Stub::GetActorInfo, req, &reply,
                         kCallTimeoutMs);
  if (!s.ok()) return s;
  if (!reply.found()) return std::optional<rpc::ActorTableData>();
  return std::optional<rpc::ActorTableData>(reply.actor());
}

absl::StatusOr<std::optional<rpc::ActorTableData>> GcsClient::GetNamedActor(const std::string& name,
                                                                            const std::string& ns) {
  rpc::GetNamedActorRequest req;
  req.set_name(name);
  req.set_ray_namespace(ns);
  rpc::GetNamedActorReply reply;
  auto s = rpc::CallSync(actors_.get(), &rpc::ActorInfoGcsService::Stub::GetNamedActor, req, &reply,
                         kCallTimeoutMs);
  if (!s.ok()) return s;
  if (!reply.found()) return std::optional<rpc::ActorTableData>();
  return std::optional<rpc::ActorTableData>(reply.actor());
}

absl::StatusOr<rpc::ActorTableData> GcsClient::KillActor(const ActorID& id, bool no_restart,
                                                         const std::string& reason) {
  rpc::KillActorRequest req;
  req.set_actor_id(id.Binary());
  req.set_no_restart(no_restart);
  req.set_reason(reason);
  rpc::KillActorReply reply;
  auto s = rpc::CallSync(actors_.get(), &rpc::ActorInfoGcsService::Stub::KillActor, req, &reply,
                         kCallTimeoutMs);
  if (!s.ok()) return s;
  return std::move(*reply.mutable_actor());
}

absl::StatusOr<std::vector<rpc::ActorTableData>> GcsClient::ListActors() {
  rpc::ListActorsReply reply;
  auto s = rpc::CallSync(actors_.get(), &rpc::ActorInfoGcsService::Stub::ListActors,
                         rpc::ListActorsRequest(), &reply, kCallTimeoutMs);
  if (!s.ok()) return s;
  return std::vector<rpc::ActorTableData>(reply.actors().begin(), reply.actors().end());
}

void GcsClient::ReportWorkerFailureAsync(const std::string& worker_id, const std::string& node_id,
                                         const std::string& reason) {
  rpc::ReportWorkerFailureRequest req;
  req.set_worker_id(worker_id);
  req.set_node_id(node_id);
  req.set_reason(reason);
  rpc::CallAsync(actors_->async(), &rpc::ActorInfoGcsService::Stub::async::ReportWorkerFailure, req,
                 5000, [](const absl::Status&, rpc::ReportWorkerFailureReply&&) {});
}

void GcsClient::PublishLogAsync(const rpc::LogBatch& batch) {
  rpc::PublishRequest req;
  req.mutable_message()->set_channel(rpc::LOG_CHANNEL);
  req.mutable_message()->set_key(batch.job_id());
  *req.mutable_message()->mutable_log() = batch;
  rpc::CallAsync(pubsub_->async(), &rpc::PubsubGcsService::Stub::async::Publish, req, 5000,
                 [](const absl::Status&, rpc::PublishReply&&) {});
}

void GcsClient::Subscribe(std::vector<rpc::Channel> channels, std::string key_filter,
                          std::function<void(const rpc::PubMessage&)> callback) {
  // Learn the current position first, so the subscriber sees what comes after
  // this call and nothing before it.
  int64_t after = -1;
  {
    rpc::PollRequest req;
    for (auto c : channels) req.add_channels(c);
    req.set_after_seq(-1);
    rpc::PollReply reply;
    if (rpc::CallSync(pubsub_.get(), &rpc::PubsubGcsService::Stub::Poll, req, &reply, 5000).ok()) {
      after = reply.last_seq();
    }
  }
  std::lock_guard<std::mutex> lock(poll_mu_);
  pollers_.emplace_back([this, channels = std::move(channels), key_filter = std::move(key_filter),
                         callback = std::move(callback), after]() mutable {
    rpc::PollRequest req;
    for (auto c : channels) req.add_channels(c);
    req.set_key_filter(key_filter);
    req.set_timeout_ms(kPollTimeoutMs);
    int64_t seq = after;
    while (!stopping_) {
      req.set_after_seq(seq);
      auto ctx = std::make_shared<grpc::ClientContext>();
      rpc::SetTimeout(ctx.get(), kPollTimeoutMs + 5000);
      {
        std::lock_guard<std::mutex> l(poll_mu_);
        if (stopping_) break;
        poll_contexts_.push_back(ctx);
      }
      rpc::PollReply reply;
      grpc::Status s = pubsub_->Poll(ctx.get(), req, &reply);
      {
        std::lock_guard<std::mutex> l(poll_mu_);
        std::erase(poll_contexts_, ctx);
      }
      if (stopping_) break;
      if (!s.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (seq < 0) {
        seq = reply.last_seq();
        continue;
      }
      for (const auto& m : reply.messages()) {
        callback(m);
        seq = std::max(seq, m.seq());
      }
      if (reply.messages().empty()) seq = std::max(seq, reply.last_seq());
    }
  });
}

}  // namespace photon
