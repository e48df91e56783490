#include "photon/gcs_client/gcs_client.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/common/status.h"
#include "photon/common/timer.h"
#include "photon/rpc/client.h"
#include "photon/rpc/raylet_client.h"

namespace photon {
namespace {

class GrpcGcsClient : public GcsClient {
 public:
  GrpcGcsClient(std::string address, const SystemConfig& config)
      : address_(std::move(address)),
        config_(config),
        retry_(rpc::GcsRetryPolicy(config)),
        timeout_ms_(config.gcs_rpc_timeout_ms()),
        timer_(std::make_shared<ThreadTimer>("gcs-client")) {
    auto channel = rpc::GetChannel(address_);
    nodes_ = rpc::NodeInfoGcsService::NewStub(channel);
    jobs_ = rpc::JobInfoGcsService::NewStub(channel);
    kv_ = rpc::InternalKvGcsService::NewStub(channel);
    pubsub_ = rpc::PubsubGcsService::NewStub(channel);
    actors_ = rpc::ActorInfoGcsService::NewStub(channel);
    pgs_ = rpc::PlacementGroupInfoGcsService::NewStub(channel);
    tasks_ = rpc::TaskInfoGcsService::NewStub(channel);
  }

  ~GrpcGcsClient() override {
    *stopping_ = true;
    {
      absl::MutexLock lock(&poll_mu_);
      for (auto& ctx : poll_contexts_) ctx->TryCancel();
    }
    std::vector<std::thread> pollers;
    {
      absl::MutexLock lock(&poll_mu_);
      pollers.swap(pollers_);
    }
    for (auto& t : pollers) t.join();
    timer_->Stop();  // pending retries are dropped
  }

  // Waits until the GCS answers (or the connect timeout passes).
  absl::Status WaitUntilReachable() {
    const int64_t timeout_ms = config_.gcs_connect_timeout_ms();
    absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
    absl::Status last;
    while (true) {
      rpc::GetAllNodesReply reply;
      grpc::ClientContext ctx;
      rpc::PrepareCall(&ctx,
                       std::max<int64_t>(1, absl::ToInt64Milliseconds(deadline - absl::Now())));
      ctx.set_wait_for_ready(true);
      last = rpc::FromGrpcStatus(nodes_->GetAllNodes(&ctx, rpc::GetAllNodesRequest(), &reply));
      if (last.ok()) {
        NoteClusterId(reply.cluster_id());
        return last;
      }
      if (absl::IsUnauthenticated(last)) {
        // It answered: trying again will not make the token right.
        return absl::UnauthenticatedError(
            fmt::format("the GCS at {} refused us: {}", address_, std::string(last.message())));
      }
      if (absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(config_.rpc_retry_initial_backoff_ms()));
    }
    return absl::UnavailableError(fmt::format("cannot reach the GCS at {} within {} ms: {}",
                                              address_, timeout_ms, std::string(last.message())));
  }

  const std::string& address() const override { return address_; }

  // --- nodes ---
  absl::Status RegisterNode(const rpc::NodeInfo& node) override {
    rpc::RegisterNodeRequest req;
    *req.mutable_node() = node;
    rpc::RegisterNodeReply reply;
    return Sync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::RegisterNode, "RegisterNode", req,
                &reply);
  }
  absl::Status UnregisterNode(const NodeID& node, const std::string& reason) override {
    rpc::UnregisterNodeRequest req;
    req.set_node_id(node.Binary());
    req.set_reason(reason);
    rpc::UnregisterNodeReply reply;
    return rpc::CallSync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::UnregisterNode,
                         "UnregisterNode", req, &reply, config_.shutdown_rpc_timeout_ms());
  }
  absl::StatusOr<std::vector<rpc::NodeInfo>> GetAllNodes() override {
    rpc::GetAllNodesReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::GetAllNodes,
                                "GetAllNodes", rpc::GetAllNodesRequest(), &reply));
    NoteClusterId(reply.cluster_id());
    PHOTON_RETURN_IF_ERROR(LostStatus());
    return std::vector<rpc::NodeInfo>(reply.nodes().begin(), reply.nodes().end());
  }
  void GetAllNodesAsync(
      std::function<void(absl::StatusOr<std::vector<rpc::NodeInfo>>)> done) override {
    Async<rpc::GetAllNodesReply>(
        nodes_->async(), &rpc::NodeInfoGcsService::Stub::async::GetAllNodes, "GetAllNodes",
        rpc::GetAllNodesRequest(),
        [this, done = std::move(done)](const absl::Status& s, rpc::GetAllNodesReply&& reply) {
          if (!s.ok()) return done(s);
          NoteClusterId(reply.cluster_id());
          if (auto lost = LostStatus(); !lost.ok()) return done(lost);
          done(std::vector<rpc::NodeInfo>(reply.nodes().begin(), reply.nodes().end()));
        });
  }
  void ReportResourcesAsync(const rpc::ReportResourcesRequest& request) override {
    rpc::CallAsync(nodes_->async(), &rpc::NodeInfoGcsService::Stub::async::ReportResources,
                   "ReportResources", request, timeout_ms_,
                   rpc::LogIfFailed<rpc::ReportResourcesReply>(
                       "ReportResources (the next periodic report replaces it)"));
  }

  // --- jobs ---
  absl::StatusOr<JobID> AddJob(const rpc::JobInfo& job) override {
    rpc::AddJobRequest req;
    *req.mutable_job() = job;
    rpc::AddJobReply reply;
    // Not retried: a second attempt would register a second job.
    PHOTON_RETURN_IF_ERROR(rpc::CallSync(jobs_.get(), &rpc::JobInfoGcsService::Stub::AddJob,
                                         "AddJob", req, &reply, timeout_ms_));
    return JobID::FromBinary(reply.job_id());
  }
  absl::Status MarkJobFinished(const JobID& job) override {
    rpc::MarkJobFinishedRequest req;
    req.set_job_id(job.Binary());
    rpc::MarkJobFinishedReply reply;
    return rpc::CallSync(jobs_.get(), &rpc::JobInfoGcsService::Stub::MarkJobFinished,
                         "MarkJobFinished", req, &reply, config_.shutdown_rpc_timeout_ms());
  }
  absl::StatusOr<std::vector<rpc::JobInfo>> GetAllJobs() override {
    rpc::GetAllJobsReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(jobs_.get(), &rpc::JobInfoGcsService::Stub::GetAllJobs,
                                "GetAllJobs", rpc::GetAllJobsRequest(), &reply));
    return std::vector<rpc::JobInfo>(reply.jobs().begin(), reply.jobs().end());
  }

  // --- KV ---
  absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key,
                             const std::string& value, bool overwrite) override {
    rpc::KvPutRequest req;
    req.set_ns(ns);
    req.set_key(key);
    req.set_value(value);
    req.set_overwrite(overwrite);
    rpc::KvPutReply reply;
    PHOTON_RETURN_IF_ERROR(
        Sync(kv_.get(), &rpc::InternalKvGcsService::Stub::Put, "KvPut", req, &reply));
    return reply.added();
  }
  absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns,
                                                   const std::string& key) override {
    rpc::KvGetRequest req;
    req.set_ns(ns);
    req.set_key(key);
    rpc::KvGetReply reply;
    PHOTON_RETURN_IF_ERROR(
        Sync(kv_.get(), &rpc::InternalKvGcsService::Stub::Get, "KvGet", req, &reply));
    if (!reply.found()) return std::optional<std::string>();
    return std::optional<std::string>(reply.value());
  }
  absl::StatusOr<int64_t> KvDel(const std::string& ns, const std::string& key,
                                bool by_prefix) override {
    rpc::KvDelRequest req;
    req.set_ns(ns);
    req.set_key(key);
    req.set_by_prefix(by_prefix);
    rpc::KvDelReply reply;
    PHOTON_RETURN_IF_ERROR(
        Sync(kv_.get(), &rpc::InternalKvGcsService::Stub::Del, "KvDel", req, &reply));
    return reply.deleted();
  }
  absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns,
                                                  const std::string& prefix) override {
    rpc::KvKeysRequest req;
    req.set_ns(ns);
    req.set_prefix(prefix);
    rpc::KvKeysReply reply;
    PHOTON_RETURN_IF_ERROR(
        Sync(kv_.get(), &rpc::InternalKvGcsService::Stub::Keys, "KvKeys", req, &reply));
    return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
  }

  // --- actors ---
  absl::Status RegisterActor(const rpc::ActorTableData& actor) override {
    rpc::RegisterActorRequest req;
    *req.mutable_actor() = actor;
    rpc::RegisterActorReply reply;
    return Sync(actors_.get(), &rpc::ActorInfoGcsService::Stub::RegisterActor, "RegisterActor", req,
                &reply);
  }
  void CreateActorAsync(const rpc::CreateActorRequest& request,
                        std::function<void(const absl::Status&)> done) override {
    Async<rpc::CreateActorReply>(
        actors_->async(), &rpc::ActorInfoGcsService::Stub::async::CreateActor, "CreateActor",
        request,
        [done = std::move(done)](const absl::Status& s, rpc::CreateActorReply&&) { done(s); });
  }
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetActorInfo(const ActorID& id) override {
    rpc::GetActorInfoRequest req;
    req.set_actor_id(id.Binary());
    rpc::GetActorInfoReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(actors_.get(), &rpc::ActorInfoGcsService::Stub::GetActorInfo,
                                "GetActorInfo", req, &reply));
    if (!reply.found()) return std::optional<rpc::ActorTableData>();
    return std::optional<rpc::ActorTableData>(reply.actor());
  }
  void GetActorInfoAsync(
      const ActorID& id,
      std::function<void(absl::StatusOr<std::optional<rpc::ActorTableData>>)> done) override {
    rpc::GetActorInfoRequest req;
    req.set_actor_id(id.Binary());
    Async<rpc::GetActorInfoReply>(
        actors_->async(), &rpc::ActorInfoGcsService::Stub::async::GetActorInfo, "GetActorInfo", req,
        [done = std::move(done)](const absl::Status& s, rpc::GetActorInfoReply&& reply) {
          if (!s.ok()) return done(s);
          if (!reply.found()) return done(std::optional<rpc::ActorTableData>());
          done(std::optional<rpc::ActorTableData>(std::move(*reply.mutable_actor())));
        });
  }
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetNamedActor(const std::string& name,
                                                                   const std::string& ns) override {
    rpc::GetNamedActorRequest req;
    req.set_name(name);
    req.set_ray_namespace(ns);
    rpc::GetNamedActorReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(actors_.get(), &rpc::ActorInfoGcsService::Stub::GetNamedActor,
                                "GetNamedActor", req, &reply));
    if (!reply.found()) return std::optional<rpc::ActorTableData>();
    return std::optional<rpc::ActorTableData>(reply.actor());
  }
  absl::StatusOr<rpc::ActorTableData> KillActor(const ActorID& id, bool no_restart,
                                                const std::string& reason) override {
    rpc::KillActorReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(actors_.get(), &rpc::ActorInfoGcsService::Stub::KillActor,
                                "KillActor", KillRequest(id, no_restart, reason), &reply));
    return std::move(*reply.mutable_actor());
  }
  void KillActorAsync(const ActorID& id, bool no_restart, const std::string& reason,
                      std::function<void(const absl::Status&)> done) override {
    Async<rpc::KillActorReply>(
        actors_->async(), &rpc::ActorInfoGcsService::Stub::async::KillActor, "KillActor",
        KillRequest(id, no_restart, reason),
        [done = std::move(done)](const absl::Status& s, rpc::KillActorReply&&) { done(s); });
  }
  absl::StatusOr<std::vector<rpc::ActorTableData>> ListActors() override {
    rpc::ListActorsReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(actors_.get(), &rpc::ActorInfoGcsService::Stub::ListActors,
                                "ListActors", rpc::ListActorsRequest(), &reply));
    return std::vector<rpc::ActorTableData>(reply.actors().begin(), reply.actors().end());
  }
  absl::Status CreatePlacementGroup(const rpc::PlacementGroupSpec& spec) override {
    rpc::CreatePlacementGroupRequest req;
    *req.mutable_spec() = spec;
    rpc::CreatePlacementGroupReply reply;
    return Sync(pgs_.get(), &rpc::PlacementGroupInfoGcsService::Stub::CreatePlacementGroup,
                "CreatePlacementGroup", req, &reply);
  }
  absl::Status RemovePlacementGroup(const PlacementGroupID& id) override {
    rpc::RemovePlacementGroupRequest req;
    req.set_placement_group_id(id.Binary());
    rpc::RemovePlacementGroupReply reply;
    return Sync(pgs_.get(), &rpc::PlacementGroupInfoGcsService::Stub::RemovePlacementGroup,
                "RemovePlacementGroup", req, &reply);
  }
  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetPlacementGroup(
      const PlacementGroupID& id) override {
    rpc::GetPlacementGroupRequest req;
    req.set_placement_group_id(id.Binary());
    return GetGroup(req);
  }
  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetNamedPlacementGroup(
      const std::string& name, const std::string& ray_namespace) override {
    rpc::GetPlacementGroupRequest req;
    req.set_name(name);
    req.set_ray_namespace(ray_namespace);
    return GetGroup(req);
  }
  absl::StatusOr<std::vector<rpc::PlacementGroupTableData>> GetAllPlacementGroups() override {
    rpc::GetAllPlacementGroupsReply reply;
    PHOTON_RETURN_IF_ERROR(
        Sync(pgs_.get(), &rpc::PlacementGroupInfoGcsService::Stub::GetAllPlacementGroups,
             "GetAllPlacementGroups", rpc::GetAllPlacementGroupsRequest(), &reply));
    return std::vector<rpc::PlacementGroupTableData>(reply.placement_groups().begin(),
                                                     reply.placement_groups().end());
  }
  absl::StatusOr<bool> WaitPlacementGroupReady(const PlacementGroupID& id,
                                               int64_t timeout_ms) override {
    // In pieces shorter than one call's deadline.
    const absl::Time deadline =
        timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
    const int64_t piece = std::max<int64_t>(1, timeout_ms_ / 2);
    while (true) {
      int64_t left = deadline == absl::InfiniteFuture()
                         ? piece
                         : std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      rpc::WaitPlacementGroupReadyRequest req;
      req.set_placement_group_id(id.Binary());
      req.set_timeout_ms(std::min(left, piece));
      rpc::WaitPlacementGroupReadyReply reply;
      PHOTON_RETURN_IF_ERROR(Sync(pgs_.get(),
                                  &rpc::PlacementGroupInfoGcsService::Stub::WaitPlacementGroupReady,
                                  "WaitPlacementGroupReady", req, &reply));
      if (reply.ready()) return true;
      if (absl::Now() >= deadline) return false;
    }
  }
  void ReportWorkerFailureAsync(const std::string& worker_id, const std::string& node_id,
                                const std::string& reason) override {
    rpc::ReportWorkerFailureRequest req;
    req.set_worker_id(worker_id);
    req.set_node_id(node_id);
    req.set_reason(reason);
    rpc::RetryPolicy until_it_lands = retry_;
    until_it_lands.deadline = absl::InfiniteDuration();
    Async<rpc::ReportWorkerFailureReply>(
        actors_->async(), &rpc::ActorInfoGcsService::Stub::async::ReportWorkerFailure,
        "ReportWorkerFailure", req,
        rpc::LogIfFailed<rpc::ReportWorkerFailureReply>("ReportWorkerFailure", spdlog::level::warn),
        until_it_lands);
  }

  void AddTaskEventDataAsync(const rpc::AddTaskEventDataRequest& request,
                             std::function<void(const absl::Status&)> done) override {
    rpc::CallAsync(tasks_->async(), &rpc::TaskInfoGcsService::Stub::async::AddTaskEventData,
                   "AddTaskEventData", request, timeout_ms_,
                   [done = std::move(done)](const absl::Status& s, rpc::AddTaskEventDataReply&&) {
                     if (done) done(s);
                   });
  }
  absl::StatusOr<rpc::GetTaskEventsReply> GetTaskEvents(
      const rpc::GetTaskEventsRequest& request) override {
    rpc::GetTaskEventsReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(tasks_.get(), &rpc::TaskInfoGcsService::Stub::GetTaskEvents,
                                "GetTaskEvents", request, &reply));
    return reply;
  }

  void PublishLogAsync(const rpc::LogBatch& batch) override {
    rpc::PublishRequest req;
    req.mutable_message()->set_channel(rpc::LOG_CHANNEL);
    req.mutable_message()->set_key(batch.job_id());
    *req.mutable_message()->mutable_log() = batch;
    rpc::CallAsync(pubsub_->async(), &rpc::PubsubGcsService::Stub::async::Publish, "Publish", req,
                   timeout_ms_,
                   rpc::LogIfFailed<rpc::PublishReply>("publishing worker output (lines lost)",
                                                       spdlog::level::warn));
  }

  void Subscribe(std::vector<rpc::Channel> channels, std::string key_filter,
                 std::function<void(const rpc::PubMessage&)> callback) override;

  void OnClusterLost(std::function<void(const std::string& why)> handler) override {
    absl::MutexLock lock(&lost_mu_);
    lost_handlers_.push_back(std::move(handler));
  }

 private:
  // Records the cluster id a GCS reply carried; a different one than before
  // means the GCS restarted without the cluster's state.
  void NoteClusterId(const std::string& id) {
    if (id.empty()) return;
    std::vector<std::function<void(const std::string&)>> handlers;
    std::string why;
    {
      absl::MutexLock lock(&lost_mu_);
      if (cluster_id_.empty()) cluster_id_ = id;
      if (cluster_id_ == id || !lost_.empty()) return;
      lost_ = fmt::format(
          "the GCS at {} restarted without the cluster's state (its tables were in memory; "
          "start the head with --redis-address for a GCS that survives restarts): this "
          "cluster is gone",
          address_);
      why = lost_;
      handlers = lost_handlers_;
    }
    PHOTON_LOG_ERROR("{}", why);
    for (auto& h : handlers) h(why);
  }
  absl::Status LostStatus() {
    absl::MutexLock lock(&lost_mu_);
    return lost_.empty() ? absl::OkStatus() : absl::FailedPreconditionError(lost_);
  }

  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetGroup(
      const rpc::GetPlacementGroupRequest& req) {
    rpc::GetPlacementGroupReply reply;
    PHOTON_RETURN_IF_ERROR(Sync(pgs_.get(),
                                &rpc::PlacementGroupInfoGcsService::Stub::GetPlacementGroup,
                                "GetPlacementGroup", req, &reply));
    if (!reply.found()) return std::optional<rpc::PlacementGroupTableData>();
    return std::optional<rpc::PlacementGroupTableData>(reply.placement_group());
  }
  static rpc::KillActorRequest KillRequest(const ActorID& id, bool no_restart,
                                           const std::string& reason) {
    rpc::KillActorRequest req;
    req.set_actor_id(id.Binary());
    req.set_no_restart(no_restart);
    req.set_reason(reason);
    return req;
  }

  // A blocking call, retried after transient failures (every GCS handler
  // that is called through here is idempotent).
  template <typename Stub, typename Request, typename Reply>
  absl::Status Sync(Stub* stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
                    const char* name, const Request& req, Reply* reply) {
    PHOTON_RETURN_IF_ERROR(LostStatus());
    int attempts = 0;
    absl::Status s = rpc::RetrySync(name, retry_, [&] {
      ++attempts;
      return rpc::CallSync(stub, method, name, req, reply, timeout_ms_);
    });
    if (attempts > 1) {
      // The GCS was away: is it still the same cluster's?
      ProbeClusterId();
      PHOTON_RETURN_IF_ERROR(LostStatus());
    }
    return s;
  }

  // Asks the GCS for its cluster id (one attempt) and notes it; false if
  // it did not answer.
  bool ProbeClusterId() {
    rpc::GetAllNodesReply reply;
    if (!rpc::CallSync(nodes_.get(), &rpc::NodeInfoGcsService::Stub::GetAllNodes, "GetAllNodes",
                       rpc::GetAllNodesRequest(), &reply, timeout_ms_)
             .ok()) {
      return false;
    }
    NoteClusterId(reply.cluster_id());
    return true;
  }

  // An async call, retried after transient failures on this client's timer.
  template <typename Reply, typename AsyncStub, typename Request>
  void Async(AsyncStub* async,
             void (AsyncStub::*method)(grpc::ClientContext*, const Request*, Reply*,
                                       std::function<void(grpc::Status)>),
             const char* name, const Request& req, rpc::ReplyCallback<Reply> done,
             std::optional<rpc::RetryPolicy> policy = std::nullopt) {
    if (auto lost = LostStatus(); !lost.ok()) return done(lost, Reply());
    int64_t timeout_ms = timeout_ms_;
    // Stubs live in the channel-sharing stubs of this client; a call that
    // ends after the client is gone finds `stopping` set and the timer
    // stopped, and touches nothing else of it.
    rpc::CallWithRetry<Reply>(
        timer_, name, policy.value_or(retry_),
        [async, method, name, req, timeout_ms, stopping = stopping_](rpc::ReplyCallback<Reply> cb) {
          if (*stopping) return cb(absl::CancelledError("the GCS client is gone"), Reply());
          rpc::CallAsync(async, method, name, req, timeout_ms, std::move(cb));
        },
        std::move(done), [stopping = stopping_] { return !stopping->load(); });
  }

  const std::string address_;
  const SystemConfig config_;
  const rpc::RetryPolicy retry_;
  const int64_t timeout_ms_;
  std::unique_ptr<rpc::NodeInfoGcsService::Stub> nodes_;
  std::unique_ptr<rpc::JobInfoGcsService::Stub> jobs_;
  std::unique_ptr<rpc::InternalKvGcsService::Stub> kv_;
  std::unique_ptr<rpc::PubsubGcsService::Stub> pubsub_;
  std::unique_ptr<rpc::ActorInfoGcsService::Stub> actors_;
  std::unique_ptr<rpc::PlacementGroupInfoGcsService::Stub> pgs_;
  std::unique_ptr<rpc::TaskInfoGcsService::Stub> tasks_;
  const std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  const std::shared_ptr<ThreadTimer> timer_;
  absl::Mutex lost_mu_;
  std::string cluster_id_ ABSL_GUARDED_BY(lost_mu_);  // learned from the first reply
  std::string lost_ ABSL_GUARDED_BY(lost_mu_);        // why the cluster is gone, if it is
  std::vector<std::function<void(const std::string&)>> lost_handlers_ ABSL_GUARDED_BY(lost_mu_);
  absl::Mutex poll_mu_;
  std::vector<std::thread> pollers_ ABSL_GUARDED_BY(poll_mu_);
  std::vector<std::shared_ptr<grpc::ClientContext>> poll_contexts_ ABSL_GUARDED_BY(poll_mu_);
};

void GrpcGcsClient::Subscribe(std::vector<rpc::Channel> channels, std::string key_filter,
                              std::function<void(const rpc::PubMessage&)> callback) {
  // Learn the current position first, so the subscriber sees what comes after
  // this call and nothing before it. One attempt: if the GCS is away (it is
  // restarting), the poller learns the position from its first answer.
  int64_t after = -1;
  uint64_t first_incarnation = 0;
  if (LostStatus().ok()) {
    rpc::PollRequest req;
    for (auto c : channels) req.add_channels(c);
    req.set_after_seq(-1);
    rpc::PollReply reply;
    if (rpc::CallSync(pubsub_.get(), &rpc::PubsubGcsService::Stub::Poll, "Poll", req, &reply,
                      timeout_ms_)
            .ok()) {
      after = reply.last_seq();
      first_incarnation = reply.incarnation();
    }
  }
  const int64_t poll_ms = config_.pubsub_poll_timeout_ms();
  absl::MutexLock lock(&poll_mu_);
  pollers_.emplace_back([this, channels = std::move(channels), key_filter = std::move(key_filter),
                         callback = std::move(callback), after, first_incarnation,
                         poll_ms]() mutable {
    rpc::PollRequest req;
    for (auto c : channels) req.add_channels(c);
    req.set_key_filter(key_filter);
    req.set_timeout_ms(poll_ms);
    int64_t seq = after;
    uint64_t incarnation = first_incarnation;
    bool failed = false;
    Backoff backoff(absl::Milliseconds(config_.rpc_retry_initial_backoff_ms()),
                    absl::Milliseconds(config_.rpc_retry_max_backoff_ms()));
    while (!*stopping_) {
      if (failed) {
        // After a failure, perhaps facing a restarted GCS: learn at once
        // (not at the end of a parked poll) whether the cluster survived.
        if (ProbeClusterId()) failed = false;
        if (!LostStatus().ok()) break;
      }
      req.set_after_seq(seq);
      req.set_incarnation(incarnation);
      auto ctx = std::make_shared<grpc::ClientContext>();
      // The GCS answers a parked poll after poll_ms; allow it the call deadline on top.
      rpc::PrepareCall(ctx.get(), poll_ms + timeout_ms_);
      {
        absl::MutexLock l(&poll_mu_);
        if (*stopping_) break;
        poll_contexts_.push_back(ctx);
      }
      rpc::PollReply reply;
      grpc::Status s = pubsub_->Poll(ctx.get(), req, &reply);
      {
        absl::MutexLock l(&poll_mu_);
        std::erase(poll_contexts_, ctx);
      }
      if (*stopping_) break;
      if (!s.ok()) {
        // The GCS is busy or gone for a moment: poll again from the same
        // position, so nothing published meanwhile is missed.
        absl::SleepFor(backoff.Next());
        failed = true;
        continue;
      }
      backoff = Backoff(absl::Milliseconds(config_.rpc_retry_initial_backoff_ms()),
                        absl::Milliseconds(config_.rpc_retry_max_backoff_ms()));
      NoteClusterId(reply.cluster_id());
      if (!LostStatus().ok()) break;  // nothing more will come from this cluster
      if (incarnation != 0 && reply.incarnation() != incarnation && seq >= 0) {
        // A restarted GCS: its reply holds its publications from the start,
        // and its sequence numbers start again.
        PHOTON_LOG_INFO("the GCS at {} restarted; subscriptions carry on", address_);
        seq = 0;
      }
      incarnation = reply.incarnation();
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

}  // namespace

absl::StatusOr<std::unique_ptr<GcsClient>> GcsClient::Connect(const std::string& address,
                                                              const SystemConfig& config,
                                                              bool wait_until_reachable) {
  auto client = std::make_unique<GrpcGcsClient>(address, config);
  if (wait_until_reachable) PHOTON_RETURN_IF_ERROR(client->WaitUntilReachable());
  return std::unique_ptr<GcsClient>(std::move(client));
}

}  // namespace photon
