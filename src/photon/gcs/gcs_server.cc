#include "photon/gcs/gcs_server.h"

#include <cstring>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/common/status.h"
#include "photon/protocol/task_events.h"
#include "photon/raylet/scheduling/bundle_resources.h"
#include "photon/rpc/client.h"
#include "photon/rpc/fault_injection.h"
#include "photon/rpc/server.h"

namespace photon::gcs {
namespace {

constexpr char kKvTable[] = "kv";

grpc::Status BadRequest(const std::string& what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, what);
}

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

constexpr char kMetaTable[] = "meta";

uint64_t NewIncarnation() {
  uint64_t v = 0;
  while (v == 0) FillRandom(reinterpret_cast<uint8_t*>(&v), sizeof(v));
  return v;
}

std::string NewClusterId() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  return std::string(reinterpret_cast<char*>(b), sizeof(b));
}

}  // namespace

GcsServer::GcsServer(SystemConfig config, std::unique_ptr<GcsStorage> storage, std::string host,
                     int port)
    : config_(std::move(config)),
      storage_(std::move(storage)),
      timer_(std::make_shared<ThreadTimer>("gcs")),
      server_("photon-gcs", std::move(host), port, config_.cluster_token()),
      publisher_(timer_.get(), /*max_log=*/100000, NewIncarnation()),
      raylets_(rpc::MakeRayletClientPool(config_, timer_)),
      workers_(rpc::MakeCoreWorkerClientPool(config_)) {
  server_.RegisterService(static_cast<rpc::NodeInfoGcsService::CallbackService*>(this));
  server_.RegisterService(static_cast<rpc::JobInfoGcsService::CallbackService*>(this));
  server_.RegisterService(static_cast<rpc::InternalKvGcsService::CallbackService*>(this));
  server_.RegisterService(static_cast<rpc::PubsubGcsService::CallbackService*>(this));
  server_.RegisterService(&metrics_service_);
  actors_ = std::make_unique<ActorManager>(
      ActorManager::Deps{&config_, &publisher_, raylets_.get(), workers_.get(), timer_.get(),
                         [this] { return AliveNodes(); }, storage_.get(),
                         [this](rpc::TaskExecutionReport x) {
                           if (!config_.enable_task_events()) return;
                           rpc::AddTaskEventDataRequest req;
                           rpc::TaskEvents* e = req.add_events();
                           e->set_task_id(x.task_id());
                           e->set_attempt_number(x.attempt());
                           e->set_job_id(x.job_id());
                           rpc::AddExecution(x, rpc::WorkerLogFile(x.worker_id(), "out"),
                                             rpc::WorkerLogFile(x.worker_id(), "err"), e);
                           task_events_.Add(req);
                         }});
  server_.RegisterService(actors_.get());
  placement_groups_ = std::make_unique<PlacementGroupManager>(PlacementGroupManager::Deps{
      &config_, raylets_.get(), timer_.get(),
      [this](bool resources) {
        return AliveNodes(resources ? NodeResources::kWithoutBundles : NodeResources::kNone);
      },
      [this](const std::string& pg) { actors_->OnPlacementGroupRemoved(pg); },
      [this](const std::string& node_id, const raylet::ResourceSet& named) {
        UpdateNodeResources(node_id, /*only_bundle_names=*/true,
                            [&](ResourceMap* total, ResourceMap* avail) {
                              named.ApplyToProto(total, /*subtract=*/false);
                              named.ApplyToProto(avail, /*subtract=*/false);
                            });
      },
      [this](const std::string& node_id, const raylet::ResourceSet& named,
             const raylet::ResourceSet& raw) {
        UpdateNodeResources(node_id, /*only_bundle_names=*/false,
                            [&](ResourceMap* total, ResourceMap* avail) {
                              named.ApplyToProto(total, /*subtract=*/true);
                              named.ApplyToProto(avail, /*subtract=*/true);
                              raw.ApplyToProto(avail, /*subtract=*/false);
                              // Available never names what the total does not have.
                              for (const auto* set : {&named, &raw}) {
                                for (const auto& [name, amount] : set->ToMap()) {
                                  if (!total->contains(name)) avail->erase(name);
                                }
                              }
                            });
      },
      storage_.get()});
  server_.RegisterService(placement_groups_.get());
  server_.RegisterService(&task_info_);
}

void GcsServer::UpdateNodeResources(const std::string& node_id, bool only_bundle_names,
                                    const std::function<void(ResourceMap*, ResourceMap*)>& change) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  change(it->second.info.mutable_resources_total(), it->second.info.mutable_resources_available());
  if (!only_bundle_names) it->second.base_stale = true;
}

std::vector<rpc::NodeInfo> GcsServer::AliveNodes(NodeResources resources) {
  std::vector<rpc::NodeInfo> alive;
  absl::MutexLock lock(&mu_);
  for (auto& [id, e] : nodes_) {
    if (e.info.state() != rpc::NodeInfo::ALIVE) continue;
    if (resources == NodeResources::kAll) {
      alive.push_back(e.info);
      continue;
    }
    // Copied without the maps (a node with many bundles has thousands of
    // names), then given only the names that are not a bundle's.
    if (resources == NodeResources::kWithoutBundles && e.base_stale) {
      e.base_total.clear();
      e.base_available.clear();
      for (const auto& [name, amount] : e.info.resources_total()) {
        if (!raylet::IsBundleResource(name)) e.base_total[name] = amount;
      }
      for (const auto& [name, amount] : e.info.resources_available()) {
        if (!raylet::IsBundleResource(name)) e.base_available[name] = amount;
      }
      e.base_stale = false;
    }
    ResourceMap total, available;
    total.swap(*e.info.mutable_resources_total());
    available.swap(*e.info.mutable_resources_available());
    rpc::NodeInfo& n = alive.emplace_back(e.info);
    e.info.mutable_resources_total()->swap(total);
    e.info.mutable_resources_available()->swap(available);
    if (resources == NodeResources::kWithoutBundles) {
      *n.mutable_resources_total() = e.base_total;
      *n.mutable_resources_available() = e.base_available;
    }
  }
  return alive;
}

GcsServer::~GcsServer() { Stop(); }

absl::Status GcsServer::Recover() {
  auto id = storage_->Get(kMetaTable, "cluster_id");
  if (!id.ok()) return id.status();
  auto version = storage_->Get(kMetaTable, "cluster_version");
  if (!version.ok()) return version.status();
  if (!id->has_value() || !version->has_value() || version->value().size() != 4) {
    // A new cluster.
    cluster_id_ = NewClusterId();
    uint32_t v = static_cast<uint32_t>(absl::ToUnixSeconds(absl::Now()));
    {
      absl::MutexLock lock(&mu_);
      cluster_version_ = v;
    }
    std::string bytes(reinterpret_cast<const char*>(&v), sizeof(v));
    PHOTON_RETURN_IF_ERROR(storage_->Put(kMetaTable, "cluster_version", bytes, true).status());
    PHOTON_RETURN_IF_ERROR(storage_->Put(kMetaTable, "cluster_id", cluster_id_, true).status());
    PHOTON_LOG_INFO("a new cluster; tables in {}", storage_->Describe());
    return absl::OkStatus();
  }
  cluster_id_ = **id;
  auto nodes = storage_->GetAll("nodes");
  if (!nodes.ok()) return nodes.status();
  auto jobs = storage_->GetAll("jobs");
  if (!jobs.ok()) return jobs.status();
  int alive = 0;
  {
    absl::MutexLock lock(&mu_);
    std::memcpy(&cluster_version_, version->value().data(), sizeof(cluster_version_));
    for (const auto& [key, value] : *nodes) {
      NodeEntry e;
      if (!e.info.ParseFromString(value))
        return absl::DataLossError("a stored node does not parse");
      if (e.info.state() == rpc::NodeInfo::ALIVE) ++alive;  // checked again from now on
      nodes_[key] = std::move(e);
    }
    for (const auto& [key, value] : *jobs) {
      rpc::JobInfo job;
      if (!job.ParseFromString(value)) return absl::DataLossError("a stored job does not parse");
      auto jid = JobID::FromBinary(job.job_id());
      if (jid.ok()) next_job_ = std::max(next_job_, jid->Counter() + 1);
      jobs_[key] = std::move(job);
    }
  }
  // Published again, so that subscribers that missed the old GCS's last
  // words read the current state from the start of this one's log.
  std::vector<rpc::NodeInfo> node_infos;
  std::vector<rpc::JobInfo> job_infos;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, e] : nodes_) node_infos.push_back(e.info);
    for (const auto& [key, j] : jobs_) job_infos.push_back(j);
  }
  for (const auto& n : node_infos) PublishNode(n);
  for (const auto& j : job_infos) {
    rpc::PubMessage msg;
    msg.set_channel(rpc::JOB_CHANNEL);
    msg.set_key(j.job_id());
    *msg.mutable_job() = j;
    publisher_.Publish(std::move(msg));
  }
  PHOTON_RETURN_IF_ERROR(actors_->Recover());
  PHOTON_RETURN_IF_ERROR(placement_groups_->Recover());
  PHOTON_LOG_INFO("recovered the cluster from {}: {} nodes ({} alive), {} jobs",
                  storage_->Describe(), nodes->size(), alive, jobs->size());
  return absl::OkStatus();
}

absl::Status GcsServer::Start() {
  PHOTON_RETURN_IF_ERROR(rpc::InstallFaultInjection(config_.testing_rpc_failure()));
  if (auto s = Recover(); !s.ok()) {
    return absl::Status(s.code(), fmt::format("cannot read the GCS tables in {}: {}",
                                              storage_->Describe(), std::string(s.message())));
  }
  if (auto s = server_.Start(); !s.ok()) return s;
  metrics_collector_ =
      stats::ScopedCollector(&stats::Registry::Default(),
                             [this](std::vector<rpc::MetricFamily>* out) { CollectMetrics(out); });
  WriteServiceDiscovery();
  timer_->RunEvery("health checks", absl::Milliseconds(config_.health_check_period_ms()),
                   [this] { RunHealthChecks(); });
  return absl::OkStatus();
}

void GcsServer::Stop() {
  if (stopped_.exchange(true)) return;
  metrics_collector_.Reset();
  timer_->Stop();
  actors_->Stop();
  placement_groups_->Stop();
  guard_->Close();
  publisher_.FlushAll();
  server_.Shutdown(config_.server_shutdown_grace_ms());
}

// ---- nodes ------------------------------------------------------------------

void GcsServer::PublishNode(const rpc::NodeInfo& info) {
  rpc::PubMessage msg;
  msg.set_channel(rpc::NODE_CHANNEL);
  msg.set_key(info.node_id());
  *msg.mutable_node() = info;
  publisher_.Publish(std::move(msg));
}

grpc::ServerUnaryReactor* GcsServer::RegisterNode(grpc::CallbackServerContext* ctx,
                                                  const rpc::RegisterNodeRequest* req,
                                                  rpc::RegisterNodeReply*) {
  const rpc::NodeInfo& in = req->node();
  if (in.node_id().size() != NodeID::kSize)
    return rpc::FinishNow(ctx, BadRequest("node_id is not a NodeID"));
  if (in.ip().empty() || in.raylet_port() <= 0) {
    return rpc::FinishNow(ctx, BadRequest("a node needs an ip and a raylet_port"));
  }
  rpc::NodeInfo info = in;
  info.set_state(rpc::NodeInfo::ALIVE);
  info.set_start_time_ms(NowMs());
  {
    absl::MutexLock lock(&mu_);
    NodeEntry& e = nodes_[info.node_id()];
    e.info = info;
    e.failed_checks = 0;
    e.base_stale = true;
  }
  if (auto s = storage_->Put("nodes", info.node_id(), info.SerializeAsString(), true); !s.ok()) {
    // The in-memory table above is what the GCS serves from.
    PHOTON_LOG_WARN("cannot store node {}: {}", NodeID::FromBinaryOrDie(info.node_id()).Hex(),
                    std::string(s.status().message()));
  }
  PHOTON_LOG_INFO("node {} registered at {}:{}", NodeID::FromBinaryOrDie(info.node_id()).Hex(),
                  info.ip(), info.raylet_port());
  PublishNode(info);
  placement_groups_->OnNodeAdded();  // pending groups may fit now
  WriteServiceDiscovery();
  return rpc::FinishNow(ctx);
}

void GcsServer::WriteServiceDiscovery() {
  if (service_discovery_file_.empty()) return;
  absl::MutexLock lock(&service_discovery_mu_);
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& n : AliveNodes()) {
    if (n.metrics_export_port() > 0) {
      targets.push_back(fmt::format("{}:{}", n.ip(), n.metrics_export_port()));
    }
  }
  nlohmann::json doc = nlohmann::json::array();
  doc.push_back({{"labels", {{"job", "photon"}}}, {"targets", targets}});
  if (auto s = WriteFileAtomically(service_discovery_file_, doc.dump(2) + "\n"); !s.ok()) {
    PHOTON_LOG_WARN("cannot write the Prometheus target list {}: {}", service_discovery_file_,
                    std::string(s.message()));
  }
}

void GcsServer::CollectMetrics(std::vector<rpc::MetricFamily>* out) {
  auto job_hex = [](const std::string& bin) {
    auto id = JobID::FromBinary(bin);
    return id.ok() ? id->Hex() : std::string();
  };
  stats::FamilyBuilder tasks(out, "photon_tasks",
                             "Task attempts by state: live ones now, ended ones since the GCS "
                             "started (from task events)");
  for (const auto& c : task_events_.CountByState()) {
    tasks.Add({{"State", rpc::TaskStatus_Name(c.state)},
               {"Name", c.name},
               {"IsRetry", c.is_retry ? "1" : "0"},
               {"JobId", job_hex(c.job_id)}},
              static_cast<double>(c.count));
  }
  stats::FamilyBuilder actors(out, "photon_actors", "Actors by state and class");
  for (const auto& c : actors_->CountByState()) {
    actors.Add({{"State", rpc::ActorTableData::State_Name(c.state)},
                {"Name", c.class_name},
                {"JobId", job_hex(c.job_id)}},
               static_cast<double>(c.count));
  }
  stats::FamilyBuilder pgs(out, "photon_placement_groups", "Placement groups by state");
  for (const auto& [state, n] : placement_groups_->CountByState()) {
    pgs.Add({{"State", rpc::PlacementGroupTableData::State_Name(state)}}, static_cast<double>(n));
  }
  int64_t running = 0, finished = 0, alive = 0, dead = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, j] : jobs_) (j.is_dead() ? finished : running) += 1;
    for (const auto& [id, n] : nodes_) (n.info.state() == rpc::NodeInfo::ALIVE ? alive : dead) += 1;
  }
  stats::FamilyBuilder(out, "photon_running_jobs", "Jobs whose driver is running")
      .Add({}, static_cast<double>(running));
  stats::FamilyBuilder(out, "photon_finished_jobs", "Jobs that ended")
      .Add({}, static_cast<double>(finished));
  stats::FamilyBuilder(out, "photon_cluster_nodes", "Nodes in the node table by state")
      .Add({{"State", "ALIVE"}}, static_cast<double>(alive))
      .Add({{"State", "DEAD"}}, static_cast<double>(dead));
}

void GcsServer::MarkNodeDead(const std::string& node_id, const std::string& reason) {
  rpc::NodeInfo info;
  {
    absl::MutexLock lock(&mu_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.info.state() == rpc::NodeInfo::DEAD) return;
    it->second.info.set_state(rpc::NodeInfo::DEAD);
    it->second.info.set_death_reason(reason);
    it->second.info.clear_resources_available();
    it->second.base_stale = true;
    info = it->second.info;
  }
  if (auto s = storage_->Put("nodes", node_id, info.SerializeAsString(), true); !s.ok()) {
    PHOTON_LOG_WARN("cannot store node {}: {}", NodeID::FromBinaryOrDie(node_id).Hex(),
                    std::string(s.status().message()));
  }
  PHOTON_LOG_WARN("node {} is dead: {}", NodeID::FromBinaryOrDie(node_id).Hex(), reason);
  PublishNode(info);
  WriteServiceDiscovery();
  actors_->OnNodeDead(node_id);
  placement_groups_->OnNodeDead(node_id);  // its bundles are placed again elsewhere
}

grpc::ServerUnaryReactor* GcsServer::UnregisterNode(grpc::CallbackServerContext* ctx,
                                                    const rpc::UnregisterNodeRequest* req,
                                                    rpc::UnregisterNodeReply*) {
  MarkNodeDead(req->node_id(), req->reason().empty() ? "stopped" : req->reason());
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::GetAllNodes(grpc::CallbackServerContext* ctx,
                                                 const rpc::GetAllNodesRequest*,
                                                 rpc::GetAllNodesReply* reply) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, e] : nodes_) *reply->add_nodes() = e.info;
  reply->set_cluster_id(cluster_id_);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::ReportResources(grpc::CallbackServerContext* ctx,
                                                     const rpc::ReportResourcesRequest* req,
                                                     rpc::ReportResourcesReply*) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(req->node_id());
  if (it == nodes_.end())
    return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown node"));
  if (it->second.info.state() == rpc::NodeInfo::ALIVE) {
    *it->second.info.mutable_resources_available() = req->resources_available();
    if (req->has_resources_total()) {
      *it->second.info.mutable_resources_total() = req->resources_total();
    }
    it->second.base_stale = true;
  }
  return rpc::FinishNow(ctx);
}

void GcsServer::RunHealthChecks() {
  struct Target {
    std::string id;
    std::string address;
  };
  std::vector<Target> targets;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, e] : nodes_) {
      if (e.info.state() == rpc::NodeInfo::ALIVE && !e.check_in_flight) {
        e.check_in_flight = true;
        targets.push_back({id, fmt::format("{}:{}", e.info.ip(), e.info.raylet_port())});
      }
    }
  }
  for (const Target& t : targets) {
    raylets_->Get(t.address)->HealthCheck(
        config_.health_check_timeout_ms(),
        [this, id = t.id, g = guard_](const absl::Status& s, rpc::HealthCheckReply&&) {
          auto token = g->Enter();
          if (!token) return;
          bool dead = false;
          int failures = 0;
          {
            absl::MutexLock lock(&mu_);
            auto it = nodes_.find(id);
            if (it == nodes_.end()) return;
            it->second.check_in_flight = false;
            it->second.failed_checks = s.ok() ? 0 : it->second.failed_checks + 1;
            failures = it->second.failed_checks;
            dead = failures >= config_.health_check_failure_threshold();
          }
          if (dead) {
            MarkNodeDead(id, fmt::format("did not answer {} health checks in a row ({})", failures,
                                         std::string(s.message())));
          }
        });
  }
}

// ---- jobs -------------------------------------------------------------------

grpc::ServerUnaryReactor* GcsServer::AddJob(grpc::CallbackServerContext* ctx,
                                            const rpc::AddJobRequest* req,
                                            rpc::AddJobReply* reply) {
  rpc::JobInfo job = req->job();
  {
    absl::MutexLock lock(&mu_);
    JobID id = JobID::FromParts(cluster_version_, next_job_++);
    job.set_job_id(id.Binary());
    job.set_start_time_ms(NowMs());
    job.set_is_dead(false);
    jobs_[job.job_id()] = job;
  }
  // Stored before the reply: a restarted GCS must not hand out this id again.
  if (auto s = storage_->Put("jobs", job.job_id(), job.SerializeAsString(), true); !s.ok()) {
    PHOTON_LOG_WARN("cannot store job {}: {}", JobID::FromBinaryOrDie(job.job_id()).Hex(),
                    std::string(s.status().message()));
  }
  reply->set_job_id(job.job_id());
  rpc::PubMessage msg;
  msg.set_channel(rpc::JOB_CHANNEL);
  msg.set_key(job.job_id());
  *msg.mutable_job() = job;
  publisher_.Publish(std::move(msg));
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::MarkJobFinished(grpc::CallbackServerContext* ctx,
                                                     const rpc::MarkJobFinishedRequest* req,
                                                     rpc::MarkJobFinishedReply*) {
  rpc::JobInfo job;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(req->job_id());
    if (it == jobs_.end()) {
      return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown job"));
    }
    if (it->second.is_dead()) return rpc::FinishNow(ctx);
    it->second.set_is_dead(true);
    it->second.set_end_time_ms(NowMs());
    job = it->second;
  }
  if (auto s = storage_->Put("jobs", job.job_id(), job.SerializeAsString(), true); !s.ok()) {
    PHOTON_LOG_WARN("cannot store job {}: {}", JobID::FromBinaryOrDie(job.job_id()).Hex(),
                    std::string(s.status().message()));
  }
  actors_->OnJobFinished(job.job_id());
  placement_groups_->OnJobFinished(job.job_id());
  if (auto j = JobID::FromBinary(job.job_id()); j.ok()) {
    task_events_.OnJobFinished(*j, absl::GetCurrentTimeNanos());
  }
  rpc::PubMessage msg;
  msg.set_channel(rpc::JOB_CHANNEL);
  msg.set_key(job.job_id());
  *msg.mutable_job() = job;
  publisher_.Publish(std::move(msg));
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::GetAllJobs(grpc::CallbackServerContext* ctx,
                                                const rpc::GetAllJobsRequest*,
                                                rpc::GetAllJobsReply* reply) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, j] : jobs_) *reply->add_jobs() = j;
  return rpc::FinishNow(ctx);
}

// ---- internal KV -------------------------------------------------------------

namespace {
std::string KvKey(const std::string& ns, const std::string& key) { return ns + '\0' + key; }
}  // namespace

grpc::ServerUnaryReactor* GcsServer::Put(grpc::CallbackServerContext* ctx,
                                         const rpc::KvPutRequest* req, rpc::KvPutReply* reply) {
  auto r = storage_->Put(kKvTable, KvKey(req->ns(), req->key()), req->value(), req->overwrite());
  if (!r.ok())
    return rpc::FinishNow(
        ctx, grpc::Status(grpc::StatusCode::INTERNAL, std::string(r.status().message())));
  reply->set_added(*r);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::Get(grpc::CallbackServerContext* ctx,
                                         const rpc::KvGetRequest* req, rpc::KvGetReply* reply) {
  auto r = storage_->Get(kKvTable, KvKey(req->ns(), req->key()));
  if (!r.ok())
    return rpc::FinishNow(
        ctx, grpc::Status(grpc::StatusCode::INTERNAL, std::string(r.status().message())));
  reply->set_found(r->has_value());
  if (r->has_value()) reply->set_value(**r);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::Del(grpc::CallbackServerContext* ctx,
                                         const rpc::KvDelRequest* req, rpc::KvDelReply* reply) {
  auto r = storage_->Delete(kKvTable, KvKey(req->ns(), req->key()), req->by_prefix());
  if (!r.ok())
    return rpc::FinishNow(
        ctx, grpc::Status(grpc::StatusCode::INTERNAL, std::string(r.status().message())));
  reply->set_deleted(*r);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* GcsServer::Keys(grpc::CallbackServerContext* ctx,
                                          const rpc::KvKeysRequest* req, rpc::KvKeysReply* reply) {
  auto r = storage_->Keys(kKvTable, KvKey(req->ns(), req->prefix()));
  if (!r.ok())
    return rpc::FinishNow(
        ctx, grpc::Status(grpc::StatusCode::INTERNAL, std::string(r.status().message())));
  size_t skip = req->ns().size() + 1;
  for (const auto& k : *r) reply->add_keys(k.substr(skip));
  return rpc::FinishNow(ctx);
}

// ---- pub/sub ----------------------------------------------------------------

grpc::ServerUnaryReactor* GcsServer::Poll(grpc::CallbackServerContext* ctx,
                                          const rpc::PollRequest* req, rpc::PollReply* reply) {
  auto* reactor = ctx->DefaultReactor();
  reply->set_cluster_id(cluster_id_);
  publisher_.Poll(req, reply, [reactor](bool ok) {
    reactor->Finish(ok ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the GCS is stopping"));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GcsServer::Publish(grpc::CallbackServerContext* ctx,
                                             const rpc::PublishRequest* req, rpc::PublishReply*) {
  if (req->message().channel() != rpc::LOG_CHANNEL) {
    return rpc::FinishNow(ctx, BadRequest("only the log channel accepts outside publishers"));
  }
  publisher_.Publish(req->message());
  return rpc::FinishNow(ctx);
}

}  // namespace photon::gcs
