#include "photon/raylet/node_manager.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/common/status.h"
#include "photon/raylet/memory_monitor.h"
#include "photon/rpc/client.h"
#include "photon/rpc/fault_injection.h"
#include "photon/rpc/server.h"

namespace photon::raylet {
namespace {

grpc::Status Invalid(const std::string& what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, what);
}

std::string PoolKey(const rpc::RequestWorkerLeaseRequest& req) {
  std::string key = req.job_id();
  for (const auto& a : req.worker_command()) key += '\0' + a;
  // A protobuf map iterates in no fixed order: sort, so equal envs give equal keys.
  std::map<std::string, std::string> env(req.worker_env().begin(), req.worker_env().end());
  for (const auto& [k, v] : env) key += '\1' + k + '=' + v;
  return key;
}

// Infeasible shapes kept for photon status (the most recent ones).
constexpr size_t kMaxInfeasibleShapes = 50;
constexpr size_t kMaxInfeasibleFunctions = 3;
// Ended workers remembered for GetWorkerState (their reasons).
constexpr size_t kRememberedDeadWorkers = 10000;
// Ended workers listed by GetNodeStats (list_workers shows them as dead).
constexpr size_t kListedEndedWorkers = 1000;

std::string ExitReason(pid_t pid, int status) {
  return WIFSIGNALED(status) ? fmt::format("its worker process (pid {}) was killed by signal {}",
                                           pid, WTERMSIG(status))
                             : fmt::format("its worker process (pid {}) exited with code {}", pid,
                                           WEXITSTATUS(status));
}

}  // namespace

NodeManager::NodeManager(SystemConfig config, NodeManagerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      node_id_(NodeID::FromRandom()),
      scheduling_options_(SchedulingOptions::FromConfig(config_)),
      timer_(std::make_shared<ThreadTimer>("raylet")),
      server_("photon-raylet", options_.host, options_.port, config_.cluster_token()),
      objects_(config_, [this] { return PeerAddresses(); }),
      pool_([this](const WorkerID& id, pid_t pid) { OnWorkerStarted(id, pid); },
            [this](const WorkerID& id, const std::string& m) { OnWorkerStartFailed(id, m); },
            [this](pid_t pid, int status) { OnProcessExit(pid, status); },
            absl::Milliseconds(config_.worker_reap_period_ms())),
      log_monitor_([this](const rpc::LogBatch& b) {
        if (gcs_) gcs_->PublishLogAsync(b);
      }),
      system_metrics_(options_.session_dir),
      cluster_(node_id_) {
  server_.RegisterService(static_cast<rpc::NodeManagerService::CallbackService*>(this));
  server_.RegisterService(&objects_);
}

NodeManager::~NodeManager() { Stop(); }

absl::Status NodeManager::Start() {
  PHOTON_RETURN_IF_ERROR(rpc::InstallFaultInjection(config_.testing_rpc_failure()));
  auto capacity = StoreCapacity();
  if (!capacity.ok()) return capacity.status();
  // As in Ray, a node also offers its object store and the rest of its RAM
  // (in bytes) as the resources "object_store_memory" and "memory".
  const double ram = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  std::map<std::string, double> resources = options_.resources;
  resources.emplace("object_store_memory", static_cast<double>(*capacity));
  resources.emplace("memory", std::max(0.0, ram - static_cast<double>(*capacity)));
  auto total = ResourceSet::FromMap(resources);
  if (!total.ok()) return total.status();
  {
    absl::MutexLock lock(&mu_);
    total_ = *total;
    available_ = *total;
    gpu_free_.assign(static_cast<size_t>(total_.Get("GPU")), 1.0);
  }
  store_socket_ = fmt::format("photon-store-{}-{}", getpid(), node_id_.Hex().substr(0, 12));
  if (auto s = objects_.Start(*capacity, store_socket_,
                              fmt::format("{}/spill/{}", options_.session_dir, node_id_.Hex()));
      !s.ok()) {
    return s;
  }
  auto gcs = GcsClient::Connect(options_.gcs_address, config_);
  if (!gcs.ok()) return gcs.status();
  gcs_ = std::move(*gcs);
  gcs_->OnClusterLost([this](const std::string& why) {
    // Nothing this node holds belongs to a cluster any more.
    if (options_.on_cluster_lost) options_.on_cluster_lost(why);
  });
  if (auto s = server_.Start(); !s.ok()) return s;
  pool_.Start();

  gcs_->Subscribe({rpc::JOB_CHANNEL}, "", [this](const rpc::PubMessage& m) {
    if (m.job().is_dead()) KillJobWorkers(JobID::FromBinaryOrDie(m.job().job_id()));
  });
  gcs_->Subscribe({rpc::NODE_CHANNEL}, "",
                  [this](const rpc::PubMessage&) { RefreshClusterView(); });

  rpc::NodeInfo info;
  info.set_node_id(node_id_.Binary());
  info.set_ip(options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host);
  info.set_raylet_port(server_.port());
  info.set_object_manager_port(server_.port());
  for (const auto& [k, v] : resources) (*info.mutable_resources_total())[k] = v;
  for (const auto& [k, v] : resources) (*info.mutable_resources_available())[k] = v;
  for (const auto& [k, v] : options_.labels) (*info.mutable_labels())[k] = v;
  (*info.mutable_labels())["ray.io/node-id"] = node_id_.Hex();  // as in Ray
  info.set_session_dir(options_.session_dir);
  info.set_store_socket(store_socket_);
  if (config_.enable_metrics_collection()) {
    metrics_collector_ = stats::ScopedCollector(
        &stats::Registry::Default(),
        [this](std::vector<rpc::MetricFamily>* out) { CollectMetrics(out); });
    MetricsExporter::Options mo;
    mo.host = options_.host;
    mo.port = options_.metrics_export_port;
    mo.scrape_timeout_ms = config_.metrics_scrape_timeout_ms();
    mo.common_labels = {{"SessionName", std::filesystem::path(options_.session_dir).filename()},
                        {"NodeAddress", info.ip()},
                        {"Version", PHOTON_VERSION_STRING}};
    metrics_ = std::make_unique<MetricsExporter>(std::move(mo), &stats::Registry::Default(),
                                                 [this] { return MetricsTargets(); });
    PHOTON_RETURN_IF_ERROR(metrics_->Start());
    info.set_metrics_export_port(metrics_->port());
  }
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) info.set_hostname(host);
  if (auto s = gcs_->RegisterNode(info); !s.ok()) return s;
  RefreshClusterView();
  timer_->RunEvery("raylet tick", absl::Milliseconds(config_.raylet_tick_period_ms()),
                   [this] { Tick(); });
  timer_->RunEvery("report resources", absl::Milliseconds(config_.resource_report_period_ms()),
                   [this] { ReportResources(); });
  timer_->RunEvery("check drivers", absl::Milliseconds(config_.driver_check_period_ms()),
                   [this] { CheckDrivers(); });
  timer_->RunEvery("read worker logs", absl::Milliseconds(config_.log_monitor_period_ms()),
                   [this] { log_monitor_.Poll(); });
  if (config_.memory_monitor_refresh_ms() > 0) {
    timer_->RunEvery("check memory", absl::Milliseconds(config_.memory_monitor_refresh_ms()),
                     [this] { CheckMemory(); });
  }
  PHOTON_LOG_INFO("raylet {} serving on port {} with {}", node_id_.Hex(), server_.port(),
                  total->ToString());
  return absl::OkStatus();
}

void NodeManager::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (metrics_) metrics_->Stop();
  metrics_collector_.Reset();
  timer_->Stop();
  guard_->Close();
  if (gcs_) {
    if (auto s = gcs_->UnregisterNode(node_id_, "raylet stopped"); !s.ok()) {
      // The GCS's health checks find this node gone.
      PHOTON_LOG_WARN("cannot unregister from the GCS: {}", std::string(s.message()));
    }
  }
  pool_.Stop();
  log_monitor_.Poll();  // what the workers printed last
  std::vector<PendingLease> parked;
  {
    absl::MutexLock lock(&mu_);
    for (auto& l : pending_) {
      l.reply->set_rejected(true);
      l.reply->set_message("the raylet is stopping");
      parked.push_back(l);
    }
    pending_.clear();
  }
  FinishDispatch(parked);
  server_.Shutdown(config_.server_shutdown_grace_ms());
  objects_.Stop();
  gcs_.reset();
}

int NodeManager::MaxStartingWorkers() const {
  int64_t n = config_.worker_maximum_startup_concurrency();
  if (n <= 0)
    n = static_cast<int64_t>(options_.resources.count("CPU") ? options_.resources.at("CPU") : 1);
  return static_cast<int>(std::max<int64_t>(1, n));
}

// ---- leases -------------------------------------------------------------------

NodeView* NodeManager::LocalViewLocked() {
  NodeView* local = cluster_.Find(node_id_);
  if (local == nullptr) {
    NodeView v;
    v.id = node_id_;
    v.address.set_ip(options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host);
    v.address.set_port(server_.port());
    v.address.set_node_id(node_id_.Binary());
    v.labels = options_.labels;
    v.labels["ray.io/node-id"] = node_id_.Hex();
    cluster_.Upsert(std::move(v));
    local = cluster_.Find(node_id_);
  }
  local->alive = true;
  return local;
}

bool NodeManager::DecideLocked(const rpc::RequestWorkerLeaseRequest& req,
                               const ResourceSet& resources, rpc::RequestWorkerLeaseReply* reply) {
  SchedulingRequest request{resources, req.scheduling(), req.grant_or_reject(),
                            req.function_name()};
  NodeView* local = LocalViewLocked();
  std::swap(local->total, total_);
  std::swap(local->available, available_);
  SchedulingDecision d = Schedule(cluster_, request, scheduling_options_, &scheduling_state_);
  std::swap(local->total, total_);
  std::swap(local->available, available_);
  switch (d.kind) {
    case SchedulingDecision::Kind::kLocal:
      PHOTON_LOG_DEBUG("lease {} ('{}') waits here (available: {})", req.lease_id(),
                       req.function_name(), available_.ToString());
      return false;
    case SchedulingDecision::Kind::kRemote: {
      NodeView* target = cluster_.Find(d.node);
      *reply->mutable_retry_at_raylet() = target->address;
      PHOTON_LOG_DEBUG("lease {} ('{}') goes to node {} (available there: {})", req.lease_id(),
                       req.function_name(), d.node.Hex(), target->available.ToString());
      // Count what we send there until the next view refresh, so that a
      // burst spreads over the free nodes instead of piling onto one.
      if (target->available.Contains(resources)) target->available.Subtract(resources);
      return true;
    }
    case SchedulingDecision::Kind::kInfeasible:
      if (!req.scheduling().placement_group_id().empty()) {
        // Its group's bundle is not committed anywhere the view shows yet
        // (the group is still being placed): the lease waits here, granted
        // when the bundle commits on this node or moved (each tick) to the
        // node where it commits; a removed group's queued leases are refused.
        PHOTON_LOG_DEBUG("lease {} ('{}') waits for its placement group's bundle", req.lease_id(),
                         req.function_name());
        return false;
      }
      reply->set_infeasible(true);
      reply->set_message(d.message);
      NoteInfeasibleLocked(resources, req.function_name());
      return true;
    case SchedulingDecision::Kind::kUnschedulable:
      reply->set_rejected(true);
      reply->set_message(d.message);
      return true;
  }
  return false;
}

grpc::ServerUnaryReactor* NodeManager::RequestWorkerLease(grpc::CallbackServerContext* ctx,
                                                          const rpc::RequestWorkerLeaseRequest* req,
                                                          rpc::RequestWorkerLeaseReply* reply) {
  auto resources = ResourceSet::FromProto(req->resources());
  if (!resources.ok())
    return rpc::FinishNow(ctx, Invalid(std::string(resources.status().message())));
  if (req->worker_command().empty()) return rpc::FinishNow(ctx, Invalid("worker_command is empty"));
  if (req->job_id().size() != JobID::kSize)
    return rpc::FinishNow(ctx, Invalid("job_id is not a JobID"));
  // The default reactor is constructed anew on every request for it (dropping a
  // Finish already made on it), so it is called once and kept.
  auto* const call = ctx->DefaultReactor();
  auto* reactor = call;
  std::vector<PendingLease> granted;
  {
    absl::MutexLock lock(&mu_);
    last_lease_request_ = absl::Now();
    if (!req->lease_id().empty()) {
      // A repeated request (its reply was lost): the same grant again.
      auto g = granted_.find(req->lease_id());
      if (g != granted_.end()) {
        auto w = workers_.find(g->second);
        if (w != workers_.end() && w->second.state == WorkerState::kLeased &&
            w->second.lease_id == req->lease_id()) {
          *reply->mutable_worker() = w->second.address;
          reply->set_worker_pid(w->second.pid);
          for (const auto& [index, share] : w->second.gpus) reply->add_gpu_ids(index);
          reactor->Finish(grpc::Status::OK);
          return reactor;
        }
      }
      // A repeat of a request still queued: the new call takes its place
      // (the caller gave up on the first one).
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->request->lease_id() != req->lease_id()) continue;
        it->reply->set_rejected(true);
        it->reply->set_message("superseded by a repeated request");
        granted.push_back(*it);
        PendingLease renewed = *it;
        renewed.reactor = reactor;
        renewed.request = req;
        renewed.reply = reply;
        *it = renewed;
        reactor = nullptr;
        break;
      }
    }
    if (reactor == nullptr) {
      DispatchLocked(&granted);
    } else if (finished_jobs_.contains(JobID::FromBinaryOrDie(req->job_id())) &&
               !req->detached_actor()) {
      reply->set_rejected(true);
      reply->set_message("the job has finished");
      reactor->Finish(grpc::Status::OK);
      return reactor;
    } else if (auto pg = PlacementGroupID::FromBinary(req->scheduling().placement_group_id());
               pg.ok() && bundles_.IsRemoved(*pg)) {
      reply->set_rejected(true);
      reply->set_message(fmt::format("its placement group {} was removed", pg->Hex()));
      reactor->Finish(grpc::Status::OK);
      return reactor;
    } else if (DecideLocked(*req, *resources, reply)) {
      reactor->Finish(grpc::Status::OK);
      return reactor;
    } else {
      pending_.push_back(PendingLease{reactor, req, reply, *resources, PoolKey(*req)});
      DispatchLocked(&granted);
    }
  }
  FinishDispatch(granted);
  return call;
}

void NodeManager::FinishDispatch(std::vector<PendingLease>& granted) {
  for (auto& l : granted) l.reactor->Finish(grpc::Status::OK);
}

void NodeManager::Grant(PendingLease& lease, Worker& worker) {
  PHOTON_LOG_DEBUG("lease '{}' granted worker {}", lease.request->function_name(), worker.id.Hex());
  worker.state = WorkerState::kLeased;
  worker.lease_id = lease.request->lease_id();
  worker.held = lease.resources;
  worker.detached_actor = lease.request->detached_actor();
  worker.blocked = false;
  worker.leased_at = absl::Now();
  worker.retriable = lease.request->retriable();
  worker.owner = lease.request->owner_id();
  worker.task = lease.request->function_name();
  worker.gpus = AssignGpusLocked(lease.resources.Get("GPU"));
  if (!worker.lease_id.empty()) granted_[worker.lease_id] = worker.id;
  for (const auto& [index, share] : worker.gpus) lease.reply->add_gpu_ids(index);
  *lease.reply->mutable_worker() = worker.address;
  lease.reply->set_worker_pid(worker.pid);
}

std::vector<std::pair<int, double>> NodeManager::AssignGpusLocked(double amount) {
  constexpr double kEps = 1e-9;
  std::vector<std::pair<int, double>> out;
  if (amount <= 0) return out;
  if (amount >= 1 - kEps) {
    size_t want = static_cast<size_t>(amount + kEps);
    for (size_t i = 0; i < gpu_free_.size() && out.size() < want; ++i) {
      if (gpu_free_[i] >= 1 - kEps) {
        gpu_free_[i] = 0;
        out.emplace_back(static_cast<int>(i), 1.0);
      }
    }
    return out;
  }
  int best = -1;  // the fullest GPU the share fits on, to keep whole GPUs free
  for (size_t i = 0; i < gpu_free_.size(); ++i) {
    if (gpu_free_[i] + kEps >= amount && (best < 0 || gpu_free_[i] < gpu_free_[best])) {
      best = static_cast<int>(i);
    }
  }
  if (best >= 0) {
    gpu_free_[best] -= amount;
    out.emplace_back(best, amount);
  }
  return out;
}

void NodeManager::StartWorkerLocked(const PendingLease& lease) {
  WorkerID id = WorkerID::FromRandom(node_id_);
  PHOTON_LOG_DEBUG("starting worker {} for '{}'", id.Hex(), lease.request->function_name());
  Worker w;
  w.id = id;
  w.pool_key = lease.pool_key;
  w.job = JobID::FromBinaryOrDie(lease.request->job_id());
  w.started = absl::Now();
  workers_[id] = w;
  WorkerPool::StartRequest r;
  r.worker_id = id;
  r.argv.assign(lease.request->worker_command().begin(), lease.request->worker_command().end());
  for (const auto& [k, v] : lease.request->worker_env()) r.env[k] = v;
  r.env[ConfigEnvVar("raylet_address")] = fmt::format(
      "{}:{}", options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host, server_.port());
  r.env[ConfigEnvVar("worker_id")] = id.Hex();
  r.env[ConfigEnvVar("job_id")] = w.job.Hex();
  r.env[ConfigEnvVar("address")] = options_.gcs_address;
  r.env[ConfigEnvVar("session_dir")] = options_.session_dir;
  r.env[ConfigEnvVar("raylet_pid")] = std::to_string(getpid());
  // The node's token, whatever the driver had: a worker belongs to this node.
  r.env[ConfigEnvVar("cluster_token")] = config_.cluster_token();
  r.env[ConfigEnvVar("auth_mode")] = config_.cluster_token().empty() ? "disabled" : "token";
  r.stdout_path = fmt::format("{}/logs/worker-{}.out", options_.session_dir, id.Hex());
  r.stderr_path = fmt::format("{}/logs/worker-{}.err", options_.session_dir, id.Hex());
  pool_.StartWorker(std::move(r));
}

void NodeManager::DispatchLocked(std::vector<PendingLease>* granted) {
  absl::flat_hash_map<std::string, int> waiting;  // acquired leases per key without a worker
  for (auto it = pending_.begin(); it != pending_.end();) {
    PendingLease& l = *it;
    if (!l.resources_acquired) {
      if (!available_.Contains(l.resources)) {
        ++it;
        continue;
      }
      available_.Subtract(l.resources);
      l.resources_acquired = true;
      resources_dirty_ = true;
    }
    Worker* idle = nullptr;
    for (auto& [id, w] : workers_) {
      if (w.state == WorkerState::kIdle && w.pool_key == l.pool_key) {
        idle = &w;
        break;
      }
    }
    if (idle != nullptr) {
      Grant(l, *idle);
      granted->push_back(l);
      it = pending_.erase(it);
      continue;
    }
    ++waiting[l.pool_key];
    ++it;
  }
  StartWorkersLocked(waiting);
}

void NodeManager::StartWorkersLocked(const absl::flat_hash_map<std::string, int>& waiting) {
  if (waiting.empty()) return;
  absl::flat_hash_map<std::string, int> starting;
  int starting_total = 0;
  for (const auto& [id, w] : workers_) {
    if (w.state != WorkerState::kStarting) continue;
    ++starting[w.pool_key];
    ++starting_total;
  }
  // Start a worker for each lease that has its resources but no worker, at
  // most MaxStartingWorkers at once: the rest start as these register.
  const int limit = MaxStartingWorkers();
  for (const auto& l : pending_) {
    if (starting_total >= limit) break;
    if (!l.resources_acquired) continue;
    auto w = waiting.find(l.pool_key);
    if (w == waiting.end() || starting[l.pool_key] >= w->second) continue;
    StartWorkerLocked(l);
    ++starting[l.pool_key];
    ++starting_total;
  }
}

void NodeManager::ReleaseWorkerLocked(Worker& w) {
  available_.Add(w.held);
  // Bundle resources of a placement group removed meanwhile are gone.
  available_.KeepOnlyNamesOf(total_, w.held);
  w.held = ResourceSet();
  for (const auto& [index, share] : w.gpus) {
    if (static_cast<size_t>(index) < gpu_free_.size()) {
      gpu_free_[index] = std::min(1.0, gpu_free_[index] + share);
    }
  }
  w.gpus.clear();
  if (!w.lease_id.empty()) granted_.erase(w.lease_id);
  w.lease_id.clear();
  w.blocked = false;
  resources_dirty_ = true;
}

grpc::ServerUnaryReactor* NodeManager::ReturnWorker(grpc::CallbackServerContext* ctx,
                                                    const rpc::ReturnWorkerRequest* req,
                                                    rpc::ReturnWorkerReply*) {
  auto id = WorkerID::FromBinary(req->worker_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("worker_id is not a WorkerID"));
  std::vector<PendingLease> granted;
  pid_t kill_pid = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(*id);
    // A repeated return (or one for a lease the worker no longer holds) is a no-op.
    if (it == workers_.end() || it->second.state != WorkerState::kLeased ||
        (!req->lease_id().empty() && it->second.lease_id != req->lease_id())) {
      return rpc::FinishNow(ctx);
    }
    PHOTON_LOG_DEBUG("worker {} returned{}", id->Hex(), req->disconnect() ? " to stop" : "");
    ReleaseWorkerLocked(it->second);
    if (req->disconnect()) {
      kill_pid = it->second.pid;
      it->second.state = WorkerState::kDead;
    } else {
      it->second.state = WorkerState::kIdle;
      it->second.idle_since = absl::Now();
    }
    DispatchLocked(&granted);
  }
  if (kill_pid > 0) pool_.Kill(kill_pid, true);
  FinishDispatch(granted);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::CancelLease(grpc::CallbackServerContext* ctx,
                                                   const rpc::CancelLeaseRequest* req,
                                                   rpc::CancelLeaseReply* reply) {
  std::vector<PendingLease> cancelled;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->request->lease_id() == req->lease_id()) {
        if (it->resources_acquired) available_.Add(it->resources);
        it->reply->set_rejected(true);
        it->reply->set_message("lease request cancelled");
        cancelled.push_back(*it);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  reply->set_cancelled(!cancelled.empty());
  FinishDispatch(cancelled);
  return rpc::FinishNow(ctx);
}

// ---- workers ------------------------------------------------------------------

void NodeManager::RememberDeadLocked(const WorkerID& id, std::string reason) {
  if (dead_.emplace(id, std::move(reason)).second) dead_order_.push_back(id);
  while (dead_order_.size() > kRememberedDeadWorkers) {
    dead_.erase(dead_order_.front());
    dead_order_.pop_front();
  }
}

void NodeManager::NoteEndedLocked(const WorkerID& id, pid_t pid, const JobID& job, bool is_driver,
                                  absl::Time started, std::string exit_type, std::string detail) {
  rpc::WorkerStats& ws = ended_.emplace_back();
  ws.set_worker_id(id.Binary());
  ws.set_pid(pid);
  ws.set_job_id(job.Binary());
  ws.set_is_driver(is_driver);
  ws.set_state("DEAD");
  if (started > absl::UnixEpoch()) ws.set_start_time_ms(absl::ToUnixMillis(started));
  ws.set_end_time_ms(absl::ToUnixMillis(absl::Now()));
  ws.set_exit_type(std::move(exit_type));
  ws.set_exit_detail(std::move(detail));
  while (ended_.size() > kListedEndedWorkers) ended_.pop_front();
}

void NodeManager::OnWorkerStarted(const WorkerID& id, pid_t pid) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  it->second.pid = pid;
  worker_by_pid_[pid] = id;
  if (pid_history_.insert_or_assign(pid, id).second) pid_history_order_.push_back(pid);
  while (pid_history_order_.size() > kRememberedDeadWorkers + workers_.size()) {
    pid_history_.erase(pid_history_order_.front());
    pid_history_order_.pop_front();
  }
  log_monitor_.AddWorker(pid, it->second.job.Binary(), options_.host,
                         fmt::format("{}/logs/worker-{}.out", options_.session_dir, id.Hex()),
                         fmt::format("{}/logs/worker-{}.err", options_.session_dir, id.Hex()));
}

void NodeManager::FailLeasesLocked(const std::string& pool_key, const std::string& why,
                                   std::vector<PendingLease>* out) {
  for (auto l = pending_.begin(); l != pending_.end();) {
    if (l->pool_key == pool_key) {
      if (l->resources_acquired) available_.Add(l->resources);
      l->reply->set_rejected(true);
      l->reply->set_message(why);
      out->push_back(*l);
      l = pending_.erase(l);
    } else {
      ++l;
    }
  }
}

void NodeManager::OnWorkerStartFailed(const WorkerID& id, const std::string& message) {
  std::vector<PendingLease> failed;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(id);
    if (it == workers_.end()) return;
    std::string key = it->second.pool_key;
    workers_.erase(it);
    RememberDeadLocked(id, fmt::format("its process could not be started: {}", message));
    PHOTON_LOG_ERROR("cannot start a worker: {}", message);
    FailLeasesLocked(key, fmt::format("cannot start a worker: {}", message), &failed);
    DispatchLocked(&failed);
  }
  FinishDispatch(failed);
}

void NodeManager::OnProcessExit(pid_t pid, int status) {
  std::vector<PendingLease> granted;
  std::string dead_worker;
  const std::string reason = ExitReason(pid, status);
  {
    absl::MutexLock lock(&mu_);
    auto p = worker_by_pid_.find(pid);
    if (p == worker_by_pid_.end()) return;
    auto it = workers_.find(p->second);
    worker_by_pid_.erase(p);
    if (it == workers_.end()) return;
    Worker& w = it->second;
    if (w.state == WorkerState::kLeased) ReleaseWorkerLocked(w);
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
      PHOTON_LOG_INFO("worker {} (pid {}) exited with status {}", w.id.Hex(), pid, status);
    }
    dead_worker = w.id.Binary();
    RememberDeadLocked(w.id, reason);  // keeps the memory monitor's reason if it killed it
    {
      auto known = dead_.find(w.id);  // just remembered, with the reason that counts
      const std::string detail = known != dead_.end() ? known->second : reason;
      std::string exit_type = detail.find("memory monitor") != std::string::npos
                                  ? "NODE_OUT_OF_MEMORY"
                              : w.state == WorkerState::kDead ? "INTENDED_SYSTEM_EXIT"
                              : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "INTENDED_USER_EXIT"
                                                                              : "SYSTEM_ERROR";
      NoteEndedLocked(w.id, pid, w.job, false, w.started, std::move(exit_type), detail);
    }
    if (pid == oom_victim_) oom_victim_ = 0;
    if (w.state == WorkerState::kStarting && ++startup_failures_[w.pool_key] >= 3) {
      // Workers of this kind die before they register: starting more would
      // loop forever. Fail the leases that wait for one, with the reason.
      std::string why = fmt::format(
          "workers for this job exit during startup (last: pid {}, status {}); see {}/logs/"
          "worker-{}.err",
          pid, status, options_.session_dir, w.id.Hex());
      PHOTON_LOG_ERROR("{}", why);
      FailLeasesLocked(w.pool_key, why, &granted);
      startup_failures_.erase(w.pool_key);
    }
    workers_.erase(it);
    DispatchLocked(&granted);
  }
  log_monitor_.RemoveWorker(pid);
  // Retried until it lands: the GCS restarts the worker's actor from it.
  if (!dead_worker.empty() && gcs_)
    gcs_->ReportWorkerFailureAsync(dead_worker, node_id_.Binary(), reason);
  FinishDispatch(granted);
}

grpc::ServerUnaryReactor* NodeManager::RegisterWorker(grpc::CallbackServerContext* ctx,
                                                      const rpc::RegisterWorkerRequest* req,
                                                      rpc::RegisterWorkerReply* reply) {
  reply->set_node_id(node_id_.Binary());
  reply->set_store_socket(store_socket_);
  reply->set_session_dir(options_.session_dir);
  if (req->is_driver()) {
    auto job = JobID::FromBinary(req->job_id());
    if (!job.ok()) return rpc::FinishNow(ctx, Invalid("job_id is not a JobID"));
    absl::MutexLock lock(&mu_);
    // A repeated registration of the same driver gets the same WorkerID.
    for (const auto& [id, d] : drivers_) {
      if (d.job == *job && d.pid == req->pid()) {
        reply->set_worker_id(id.Binary());
        return rpc::FinishNow(ctx);
      }
    }
    WorkerID id = WorkerID::FromRandom(node_id_);
    drivers_[id] = Driver{*job, req->pid(), id, req->address(), absl::Now()};
    reply->set_worker_id(id.Binary());
    return rpc::FinishNow(ctx);
  }
  auto id = WorkerID::FromBinary(req->worker_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("worker_id is not a WorkerID"));
  reply->set_worker_id(id->Binary());
  std::vector<PendingLease> granted;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(*id);
    if (it == workers_.end()) {
      return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                              "this raylet did not start a worker with that id"));
    }
    Worker& w = it->second;
    if (w.state != WorkerState::kStarting) {
      // A repeated registration (its reply was lost): answered again.
      return rpc::FinishNow(
          ctx, w.state == WorkerState::kDead
                   ? grpc::Status(grpc::StatusCode::NOT_FOUND, "this worker was stopped")
                   : grpc::Status::OK);
    }
    w.address = req->address();
    w.address.set_node_id(node_id_.Binary());
    w.address.set_worker_id(id->Binary());
    if (w.pid == 0) {
      w.pid = req->pid();
      worker_by_pid_[w.pid] = *id;
    }
    PHOTON_LOG_DEBUG("worker {} (pid {}) registered", id->Hex(), w.pid);
    w.state = WorkerState::kIdle;
    w.idle_since = absl::Now();
    startup_failures_.erase(w.pool_key);
    DispatchLocked(&granted);
  }
  FinishDispatch(granted);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::GetWorkerState(grpc::CallbackServerContext* ctx,
                                                      const rpc::GetWorkerStateRequest* req,
                                                      rpc::GetWorkerStateReply* reply) {
  auto id = WorkerID::FromBinary(req->worker_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("worker_id is not a WorkerID"));
  pid_t driver_pid = 0;
  {
    absl::MutexLock lock(&mu_);
    if (auto w = workers_.find(*id); w != workers_.end()) {
      if (w->second.state == WorkerState::kDead) {
        reply->set_state(rpc::GetWorkerStateReply::DEAD);
        reply->set_reason("its worker process was stopped");
      } else {
        reply->set_state(rpc::GetWorkerStateReply::ALIVE);
      }
      return rpc::FinishNow(ctx);
    }
    if (auto d = drivers_.find(*id); d != drivers_.end()) driver_pid = d->second.pid;
    if (auto dead = dead_.find(*id); dead != dead_.end()) {
      reply->set_state(rpc::GetWorkerStateReply::DEAD);
      reply->set_reason(dead->second);
      return rpc::FinishNow(ctx);
    }
  }
  if (driver_pid > 0) {
    bool alive = ProcessAlive(driver_pid);
    reply->set_state(alive ? rpc::GetWorkerStateReply::ALIVE : rpc::GetWorkerStateReply::DEAD);
    if (!alive) reply->set_reason(fmt::format("its driver process (pid {}) exited", driver_pid));
    return rpc::FinishNow(ctx);
  }
  reply->set_state(rpc::GetWorkerStateReply::UNKNOWN);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::NotifyBlocked(grpc::CallbackServerContext* ctx,
                                                     const rpc::NotifyBlockedRequest* req,
                                                     rpc::NotifyBlockedReply*) {
  auto id = WorkerID::FromBinary(req->worker_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("worker_id is not a WorkerID"));
  std::vector<PendingLease> granted;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(*id);
    if (it == workers_.end() || it->second.state != WorkerState::kLeased)
      return rpc::FinishNow(ctx);
    Worker& w = it->second;
    // Notifications may arrive out of order (retries): the newest wins.
    if (req->seq() != 0 && req->seq() <= w.blocked_seq) return rpc::FinishNow(ctx);
    w.blocked_seq = req->seq();
    auto cpu = ResourceSet::FromMap({{"CPU", w.held.Get("CPU")}});
    if (req->blocked() && !w.blocked) {
      // A worker waiting in get gives its CPU back, so the tasks it waits for
      // can run here: nested fan-out cannot deadlock the node.
      w.blocked = true;
      available_.Add(*cpu);
    } else if (!req->blocked() && w.blocked) {
      w.blocked = false;
      available_.Subtract(*cpu);
    }
    resources_dirty_ = true;
    DispatchLocked(&granted);
  }
  FinishDispatch(granted);
  return rpc::FinishNow(ctx);
}

void NodeManager::KillJobWorkers(const JobID& job) {
  std::vector<pid_t> pids;
  {
    absl::MutexLock lock(&mu_);
    finished_jobs_.insert(job);
    for (auto it = drivers_.begin(); it != drivers_.end();) {
      if (it->second.job == job) {
        RememberDeadLocked(it->first, "its job finished");
        NoteEndedLocked(it->first, it->second.pid, it->second.job, true, it->second.started,
                        "INTENDED_USER_EXIT", "its job finished");
        drivers_.erase(it++);
      } else {
        ++it;
      }
    }
    for (auto& [id, w] : workers_) {
      if (w.job == job && w.pid > 0 && !w.detached_actor) pids.push_back(w.pid);
    }
  }
  for (pid_t pid : pids) pool_.Kill(pid, true);
  if (!pids.empty()) PHOTON_LOG_INFO("job {} finished: stopped {} workers", job.Hex(), pids.size());
}

grpc::ServerUnaryReactor* NodeManager::JobFinished(grpc::CallbackServerContext* ctx,
                                                   const rpc::JobFinishedRequest* req,
                                                   rpc::JobFinishedReply*) {
  auto job = JobID::FromBinary(req->job_id());
  if (!job.ok()) return rpc::FinishNow(ctx, Invalid("job_id is not a JobID"));
  KillJobWorkers(*job);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::PrepareBundleResources(
    grpc::CallbackServerContext* ctx, const rpc::PrepareBundleResourcesRequest* req,
    rpc::PrepareBundleResourcesReply* reply) {
  auto pg = PlacementGroupID::FromBinary(req->placement_group_id());
  if (!pg.ok()) return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
  std::vector<BundleLedger::Bundle> bundles;
  for (const auto& b : req->bundles()) {
    auto r = ResourceSet::FromProto(b.resources());
    if (!r.ok()) return rpc::FinishNow(ctx, Invalid(std::string(r.status().message())));
    bundles.push_back({b.index(), *r});
  }
  absl::MutexLock lock(&mu_);
  absl::Status s = bundles_.Prepare(*pg, bundles, &available_);
  reply->set_success(s.ok());
  reply->set_message(std::string(s.message()));
  if (s.ok()) {
    resources_dirty_ = true;
    PHOTON_LOG_DEBUG("prepared {} bundles of placement group {}", bundles.size(), pg->Hex());
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::CommitBundleResources(
    grpc::CallbackServerContext* ctx, const rpc::CommitBundleResourcesRequest* req,
    rpc::CommitBundleResourcesReply*) {
  auto pg = PlacementGroupID::FromBinary(req->placement_group_id());
  if (!pg.ok()) return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
  std::vector<int> indexes(req->bundle_indexes().begin(), req->bundle_indexes().end());
  std::vector<PendingLease> granted;
  {
    absl::MutexLock lock(&mu_);
    absl::Status s = bundles_.Commit(*pg, indexes, &total_, &available_);
    if (!s.ok())
      return rpc::FinishNow(
          ctx, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, std::string(s.message())));
    resources_dirty_ = true;
    DispatchLocked(&granted);  // leases waiting for the bundle
  }
  FinishDispatch(granted);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::CancelResourceReserve(
    grpc::CallbackServerContext* ctx, const rpc::CancelResourceReserveRequest* req,
    rpc::CancelResourceReserveReply*) {
  auto pg = PlacementGroupID::FromBinary(req->placement_group_id());
  if (!pg.ok()) return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
  std::vector<pid_t> victims;
  std::vector<PendingLease> refused;
  {
    absl::MutexLock lock(&mu_);
    if (req->removed()) bundles_.MarkRemoved(*pg);
    const std::vector<int> indexes(req->bundle_indexes().begin(), req->bundle_indexes().end());
    // Whether a lease's resource belongs to a bundle being cancelled.
    auto cancelled = [&](const std::string& name) {
      if (!IsBundleResourceOf(name, *pg)) return false;
      if (indexes.empty()) return true;
      for (int i : indexes) {
        if (name.find(fmt::format("_group_{}_", i)) != std::string::npos) return true;
      }
      return false;
    };
    // The workers leasing from the cancelled bundles go with them (as in Ray).
    for (auto& [id, w] : workers_) {
      if (w.pid <= 0 || w.state != WorkerState::kLeased) continue;
      for (const auto& [name, amount] : w.held.ToMap()) {
        if (cancelled(name)) {
          victims.push_back(w.pid);
          break;
        }
      }
    }
    if (bundles_.Cancel(*pg, indexes, &total_, &available_)) resources_dirty_ = true;
    if (req->removed()) {
      // Queued leases for the group can never be served now.
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->request->scheduling().placement_group_id() == req->placement_group_id()) {
          it->reply->set_rejected(true);
          it->reply->set_message(fmt::format("its placement group {} was removed", pg->Hex()));
          refused.push_back(*it);
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  FinishDispatch(refused);
  for (pid_t pid : victims) pool_.Kill(pid, true);
  if (!victims.empty()) {
    PHOTON_LOG_INFO("placement group {} released: stopped {} workers", pg->Hex(), victims.size());
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::HealthCheck(grpc::CallbackServerContext* ctx,
                                                   const rpc::HealthCheckRequest*,
                                                   rpc::HealthCheckReply*) {
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::GetNodeStats(grpc::CallbackServerContext* ctx,
                                                    const rpc::GetNodeStatsRequest* req,
                                                    rpc::GetNodeStatsReply* reply) {
  absl::MutexLock lock(&mu_);
  int idle = 0;
  for (const auto& [id, w] : workers_) idle += w.state == WorkerState::kIdle;
  reply->set_num_workers(static_cast<int>(workers_.size()));
  reply->set_num_idle_workers(idle);
  *reply->mutable_store() = objects_.Stats();
  total_.ToProto(reply->mutable_resources_total());
  available_.ToProto(reply->mutable_resources_available());
  const absl::Time now = absl::Now();
  for (const auto& [id, w] : workers_) {
    if (w.state == WorkerState::kDead) continue;
    rpc::WorkerStats* ws = reply->add_workers();
    ws->set_worker_id(id.Binary());
    ws->set_pid(w.pid);
    ws->set_job_id(w.job.Binary());
    ws->set_state(w.state == WorkerState::kStarting ? "STARTING"
                  : w.state == WorkerState::kIdle   ? "IDLE"
                  : w.blocked                       ? "BLOCKED"
                                                    : "LEASED");
    w.held.ToProto(ws->mutable_resources());
    if (w.started < now) ws->set_start_time_ms(absl::ToUnixMillis(w.started));
    *ws->mutable_address() = w.address;
  }
  for (const auto& [id, d] : drivers_) {
    rpc::WorkerStats* ws = reply->add_workers();
    ws->set_worker_id(id.Binary());
    ws->set_pid(d.pid);
    ws->set_job_id(d.job.Binary());
    ws->set_is_driver(true);
    ws->set_state("ALIVE");
    ws->set_start_time_ms(absl::ToUnixMillis(d.started));
    *ws->mutable_address() = d.address;
  }
  if (req->include_ended()) {
    for (const auto& e : ended_) *reply->add_workers() = e;
  }
  const absl::Duration recent = absl::Milliseconds(5 * config_.infeasible_retry_delay_ms());
  for (const auto& [key, inf] : infeasible_) {
    if (now - inf.last_seen > recent) continue;  // nobody asks any more
    rpc::InfeasibleDemand* d = reply->add_infeasible();
    inf.shape.ToProto(d->mutable_shape());
    d->set_requests(inf.requests);
    for (const auto& f : inf.functions) d->add_functions(f);
  }
  for (const auto& l : pending_) {
    if (!l.resources_acquired) {
      reply->add_pending_reasons(fmt::format("'{}' waits for {} (available: {})",
                                             l.request->function_name(), l.resources.ToString(),
                                             available_.ToString()));
    }
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::ListLogs(grpc::CallbackServerContext* ctx,
                                                const rpc::ListLogsRequest* req,
                                                rpc::ListLogsReply* reply) {
  const std::filesystem::path dir = std::filesystem::path(options_.session_dir) / "logs";
  reply->set_log_dir(dir.string());
  std::error_code ec;
  std::vector<rpc::LogFileInfo> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    std::string name = entry.path().filename().string();
    if (!req->glob().empty() && fnmatch(req->glob().c_str(), name.c_str(), 0) != 0) continue;
    struct stat st {};
    if (stat(entry.path().c_str(), &st) != 0) continue;
    rpc::LogFileInfo f;
    f.set_name(name);
    f.set_size(st.st_size);
    f.set_mtime_ms(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  for (auto& f : files) *reply->add_files() = std::move(f);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::GetLog(grpc::CallbackServerContext* ctx,
                                              const rpc::GetLogRequest* req,
                                              rpc::GetLogReply* reply) {
  auto bad = [&](std::string why) {
    return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(why)));
  };
  auto missing = [&](std::string why) {
    return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND, std::move(why)));
  };
  std::string suffix = req->suffix().empty() ? "out" : req->suffix();
  if (suffix != "out" && suffix != "err") {
    return bad(fmt::format("suffix must be 'out' or 'err', got '{}'", suffix));
  }
  std::string name = req->filename();
  if (name.empty()) {
    std::optional<WorkerID> worker;
    if (!req->worker_id().empty()) {
      auto id = WorkerID::FromBinary(req->worker_id());
      if (!id.ok()) return bad("worker_id is not a WorkerID");
      worker = *id;
    } else if (req->pid() > 0) {
      absl::MutexLock lock(&mu_);
      auto it = pid_history_.find(req->pid());
      if (it != pid_history_.end()) worker = it->second;
      if (!worker) {
        for (const auto& [id, d] : drivers_) {
          if (d.pid == req->pid()) {
            return missing(fmt::format(
                "pid {} is a driver on this node: a driver's output goes to its terminal, not "
                "to the node's log folder",
                req->pid()));
          }
        }
        return missing(fmt::format("no worker with pid {} ran on this node lately", req->pid()));
      }
    } else {
      return bad("give a filename, a pid or a worker id");
    }
    name = fmt::format("worker-{}.{}", worker->Hex(), suffix);
  }
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return bad(fmt::format("'{}' is not a file name of the log folder", name));
  }
  const std::string path = (std::filesystem::path(options_.session_dir) / "logs" / name).string();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return missing(
        fmt::format("no log file '{}' on node {} (photon logs lists them)", name, node_id_.Hex()));
  }
  struct stat st {};
  fstat(fd, &st);
  const int64_t size = st.st_size;
  int64_t start = std::clamp<int64_t>(req->start(), 0, size);
  int64_t end = req->end() <= 0 ? size : std::min<int64_t>(req->end(), size);
  if (end < start) end = start;
  // Replies stay bounded; a reader asks again from `next`.
  constexpr int64_t kMaxReply = 8 << 20;
  int64_t cap = req->max_bytes() > 0 ? std::min(req->max_bytes(), kMaxReply) : kMaxReply;
  std::string data;
  if (req->tail_lines() > 0) {
    // Back from `end` in blocks until the range holds tail_lines + 1 line ends.
    int64_t from = end;
    int newlines = 0;
    std::string block;
    while (from > start && end - from < kMaxReply) {
      int64_t len = std::min<int64_t>(64 << 10, from - start);
      block.resize(static_cast<size_t>(len));
      if (pread(fd, block.data(), static_cast<size_t>(len), from - len) != len) break;
      int64_t cut = -1;
      for (int64_t i = len - 1; i >= 0; --i) {
        // A final newline ends the last line; it does not start one.
        if (block[static_cast<size_t>(i)] == '\n' && from - len + i != end - 1 &&
            ++newlines == req->tail_lines()) {
          cut = i + 1;
          break;
        }
      }
      from -= len;
      if (cut >= 0) {
        from += cut;
        break;
      }
    }
    start = from;
  }
  end = std::min(end, start + cap);
  data.resize(static_cast<size_t>(end - start));
  ssize_t n = data.empty() ? 0 : pread(fd, data.data(), data.size(), start);
  close(fd);
  data.resize(n > 0 ? static_cast<size_t>(n) : 0);
  reply->set_filename(name);
  reply->set_file_size(size);
  reply->set_next(start + static_cast<int64_t>(data.size()));
  reply->set_data(std::move(data));
  return rpc::FinishNow(ctx);
}

std::vector<MetricsExporter::Target> NodeManager::MetricsTargets() {
  std::vector<MetricsExporter::Target> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, w] : workers_) {
      if (w.state == WorkerState::kDead || w.state == WorkerState::kStarting ||
          w.address.port() <= 0) {
        continue;
      }
      out.push_back(
          {{{"Component", "core_worker"}, {"WorkerId", id.Hex()}}, rpc::HostPort(w.address)});
    }
    for (const auto& [id, d] : drivers_) {
      if (d.address.port() <= 0) continue;
      out.push_back(
          {{{"Component", "core_worker"}, {"WorkerId", id.Hex()}}, rpc::HostPort(d.address)});
    }
  }
  if (options_.resources.count("node:__internal_head__")) {
    out.push_back({{{"Component", "gcs_server"}}, options_.gcs_address});
  }
  return out;
}

void NodeManager::CollectMetrics(std::vector<rpc::MetricFamily>* out) {
  rpc::StoreStats store = objects_.Stats();
  std::map<std::string, double> total, available;
  std::map<std::string, int> workers;
  int waiting = 0, dispatched = 0, executing = 0, infeasible = 0;
  {
    absl::MutexLock lock(&mu_);
    total = total_.ToMap();
    available = available_.ToMap();
    for (const auto& [id, w] : workers_) {
      switch (w.state) {
        case WorkerState::kStarting:
          ++workers["STARTING"];
          break;
        case WorkerState::kIdle:
          ++workers["IDLE"];
          break;
        case WorkerState::kLeased:
          ++workers[w.blocked ? "BLOCKED" : "LEASED"];
          ++executing;
          break;
        case WorkerState::kDead:
          break;
      }
    }
    workers["DRIVER"] = static_cast<int>(drivers_.size());
    for (const auto& l : pending_) (l.resources_acquired ? dispatched : waiting) += 1;
    const absl::Time now = absl::Now();
    const absl::Duration recent = absl::Milliseconds(5 * config_.infeasible_retry_delay_ms());
    for (const auto& [key, inf] : infeasible_) {
      if (now - inf.last_seen <= recent) infeasible += inf.requests;
    }
  }
  stats::FamilyBuilder resources(out, "photon_resources",
                                 "Logical resources of the node, used and available");
  for (const auto& [name, qty] : total) {
    double avail = available.count(name) ? available[name] : 0;
    resources.Add({{"Name", name}, {"State", "AVAILABLE"}}, avail);
    resources.Add({{"Name", name}, {"State", "USED"}}, qty - avail);
  }
  stats::FamilyBuilder(out, "photon_object_store_memory",
                       "Object store bytes by where they are (shared memory, spilled to disk)")
      .Add({{"Location", "MMAP_SHM"}}, static_cast<double>(store.bytes_used()))
      .Add({{"Location", "SPILLED"}}, static_cast<double>(store.spilled_bytes_current()));
  stats::FamilyBuilder(out, "photon_object_store_used_memory", "Object store bytes in use")
      .Add({}, static_cast<double>(store.bytes_used()));
  stats::FamilyBuilder(out, "photon_object_store_available_memory",
                       "Object store bytes free for new objects")
      .Add({}, static_cast<double>(store.capacity() - store.bytes_used()));
  stats::FamilyBuilder(out, "photon_object_store_num_local_objects",
                       "Objects in the node's object store's memory")
      .Add({}, static_cast<double>(store.num_objects_in_memory()));
  stats::FamilyBuilder(out, "photon_object_store_pinned_memory",
                       "Object store bytes held by processes' gets")
      .Add({}, static_cast<double>(store.pinned_bytes()));
  stats::FamilyBuilder(out, "photon_spill_manager_objects", "Objects spilled to disk now")
      .Add({{"Type", "Spilled"}},
           static_cast<double>(store.num_objects() - store.num_objects_in_memory()));
  stats::FamilyBuilder(out, "photon_spill_manager_objects_bytes", "Bytes spilled to disk now")
      .Add({{"Type", "Spilled"}}, static_cast<double>(store.spilled_bytes_current()));
  stats::FamilyBuilder(out, "photon_spill_manager_request", "Objects spilled and restored",
                       stats::MetricType::kCounter)
      .Add({{"Type", "Spilled"}}, static_cast<double>(store.spilled_objects_total()))
      .Add({{"Type", "Restored"}}, static_cast<double>(store.restored_objects_total()));
  stats::FamilyBuilder(out, "photon_spill_manager_bytes", "Bytes spilled and restored",
                       stats::MetricType::kCounter)
      .Add({{"Type", "Spilled"}}, static_cast<double>(store.spilled_bytes_total()))
      .Add({{"Type", "Restored"}}, static_cast<double>(store.restored_bytes_total()));
  stats::FamilyBuilder(out, "photon_object_store_evicted", "Objects evicted from the store",
                       stats::MetricType::kCounter)
      .Add({}, static_cast<double>(store.evicted_objects_total()));
  stats::FamilyBuilder(out, "photon_scheduler_tasks",
                       "Leases at this raylet: waiting for resources, granted and waiting for a "
                       "worker, running on a worker, infeasible")
      .Add({{"State", "Waiting"}}, waiting)
      .Add({{"State", "Dispatched"}}, dispatched)
      .Add({{"State", "Executing"}}, executing)
      .Add({{"State", "Infeasible"}}, infeasible);
  stats::FamilyBuilder(out, "photon_scheduler_unscheduleable_tasks",
                       "Lease requests no node can serve, lately")
      .Add({{"Reason", "Infeasible"}}, infeasible);
  stats::FamilyBuilder workers_family(out, "photon_workers",
                                      "Worker processes of the node by state");
  for (const auto& [state, n] : workers) workers_family.Add({{"State", state}}, n);
  system_metrics_.Collect(out);
}

void NodeManager::NoteInfeasibleLocked(const ResourceSet& shape, const std::string& function) {
  const absl::Time now = absl::Now();
  const absl::Duration recent = absl::Milliseconds(5 * config_.infeasible_retry_delay_ms());
  absl::erase_if(infeasible_, [&](const auto& e) { return now - e.second.last_seen > recent; });
  std::string key = shape.ToString();
  auto it = infeasible_.find(key);
  if (it == infeasible_.end()) {
    if (infeasible_.size() >= kMaxInfeasibleShapes) return;
    it = infeasible_.emplace(key, Infeasible{shape, 0, {}, now}).first;
  }
  Infeasible& inf = it->second;
  ++inf.requests;
  inf.last_seen = now;
  if (inf.functions.size() < kMaxInfeasibleFunctions &&
      std::find(inf.functions.begin(), inf.functions.end(), function) == inf.functions.end()) {
    inf.functions.push_back(function);
  }
}

void NodeManager::CheckMemory() {
  std::vector<pid_t> pids;
  {
    absl::MutexLock lock(&mu_);
    if (oom_victim_ > 0) return;  // the last one has not exited yet
    for (const auto& [id, w] : workers_) {
      if (w.pid > 0 && w.state != WorkerState::kDead) pids.push_back(w.pid);
    }
  }
  auto usage = ReadNodeMemory(config_.memory_monitor_capacity_bytes(), pids);
  if (!usage.ok() || usage->fraction() <= config_.memory_usage_threshold()) return;
  constexpr double kGiB = 1 << 30;
  std::string why;
  pid_t victim = 0;
  {
    absl::MutexLock lock(&mu_);
    std::vector<OomCandidate> candidates;
    std::vector<WorkerID> ids;
    for (const auto& [id, w] : workers_) {
      if (w.pid <= 0 || w.state != WorkerState::kLeased) continue;
      candidates.push_back(OomCandidate{w.pid, w.owner, w.retriable, w.leased_at});
      ids.push_back(id);
    }
    auto pick = PickOomVictim(candidates);
    if (!pick) return;  // nothing of ours to kill
    const Worker& w = workers_[ids[*pick]];
    victim = w.pid;
    why = fmt::format(
        "the memory monitor killed it: node {} used {:.2f} of {:.2f} GiB ({:.0f}%, above "
        "memory_usage_threshold {:.2f}) while it ran '{}' (pid {}); out of memory",
        node_id_.Hex(), usage->used_bytes / kGiB, usage->total_bytes / kGiB,
        100 * usage->fraction(), config_.memory_usage_threshold(), w.task, w.pid);
    RememberDeadLocked(w.id, why);
    oom_victim_ = victim;
  }
  PHOTON_LOG_WARN("out of memory: {}", why);
  pool_.Kill(victim, /*force=*/true);
}

// ---- periodic work ---------------------------------------------------------------

void NodeManager::Tick() {
  bool dirty, want_view;
  {
    absl::MutexLock lock(&mu_);
    dirty = resources_dirty_;
    // Other nodes' free resources matter to the leases placed here: the view
    // is fresh every tick while leases are queued or asked for (in the last
    // second). An idle node asks once a report period, so an idle cluster
    // does not cost the GCS nodes x nodes reads ten times a second; joins
    // and deaths come on the node channel at once either way.
    const absl::Time now = absl::Now();
    want_view = !pending_.empty() || now - last_lease_request_ < absl::Seconds(1) ||
                now - last_view_refresh_ >= absl::Milliseconds(config_.resource_report_period_ms());
    if (want_view) last_view_refresh_ = now;
  }
  if (dirty) ReportResources();
  if (want_view) RefreshClusterView();
  SpillbackQueuedLeases();
  ReapIdleWorkers();
  StopUnregisteredWorkers();
}

void NodeManager::RefreshClusterView() {
  if (!gcs_) return;
  gcs_->GetAllNodesAsync([this, g = guard_](absl::StatusOr<std::vector<rpc::NodeInfo>> nodes) {
    auto token = g->Enter();
    if (!token || !nodes.ok()) return;  // stopping; or the next tick asks again
    for (const auto& n : *nodes) {
      if (n.node_id() != node_id_.Binary() || n.state() != rpc::NodeInfo::DEAD) continue;
      if (declared_dead_.exchange(true)) return;
      PHOTON_LOG_ERROR(
          "the GCS declared this node ({}) dead: {}. Its tasks and actors were moved to other "
          "nodes, so it cannot take part any more: the raylet exits and its workers with it",
          node_id_.Hex(), n.death_reason());
      if (options_.on_declared_dead) options_.on_declared_dead(n.death_reason());
      return;
    }
    absl::MutexLock lock(&mu_);
    for (const auto& n : *nodes) {
      auto id = NodeID::FromBinary(n.node_id());
      if (!id.ok() || *id == node_id_) continue;
      NodeView v;
      v.id = *id;
      v.address.set_ip(n.ip());
      v.address.set_port(n.raylet_port());
      v.address.set_node_id(n.node_id());
      v.alive = n.state() == rpc::NodeInfo::ALIVE;
      v.total = ResourceSet::FromProto(n.resources_total()).value_or(ResourceSet());
      v.available = ResourceSet::FromProto(n.resources_available()).value_or(ResourceSet());
      v.labels.insert(n.labels().begin(), n.labels().end());
      cluster_.Upsert(std::move(v));
    }
  });
}

void NodeManager::ReportResources() {
  rpc::ReportResourcesRequest req;
  {
    absl::MutexLock lock(&mu_);
    req.set_node_id(node_id_.Binary());
    // Negative amounts (oversubscription while workers block) report as zero.
    for (const auto& [k, v] : available_.ToMap()) {
      if (v > 0) (*req.mutable_resources_available())[k] = v;
    }
    // Totals change when placement-group bundles are committed or released.
    total_.ToProto(req.mutable_resources_total());
    req.set_has_resources_total(true);
    resources_dirty_ = false;
  }
  gcs_->ReportResourcesAsync(req);
}

void NodeManager::ReapIdleWorkers() {
  std::vector<pid_t> victims;
  {
    absl::MutexLock lock(&mu_);
    int soft_limit = std::max(1, static_cast<int>(total_.Get("CPU")));
    int live = 0;
    for (const auto& [id, w] : workers_) live += w.state != WorkerState::kDead;
    absl::Time cutoff = absl::Now() - absl::Milliseconds(config_.idle_worker_kill_ms());
    for (auto& [id, w] : workers_) {
      if (live <= soft_limit) break;
      if (w.state == WorkerState::kIdle && w.idle_since < cutoff && w.pid > 0) {
        w.state = WorkerState::kDead;
        victims.push_back(w.pid);
        --live;
      }
    }
  }
  for (pid_t pid : victims) pool_.Kill(pid, false);
}

void NodeManager::StopUnregisteredWorkers() {
  std::vector<pid_t> victims;
  {
    absl::MutexLock lock(&mu_);
    absl::Time cutoff = absl::Now() - absl::Milliseconds(config_.worker_register_timeout_ms());
    for (auto& [id, w] : workers_) {
      if (w.state == WorkerState::kStarting && w.pid > 0 && w.started < cutoff) {
        PHOTON_LOG_WARN("worker {} (pid {}) did not register within {} ms; stopping it", id.Hex(),
                        w.pid, config_.worker_register_timeout_ms());
        victims.push_back(w.pid);
        w.started = absl::InfiniteFuture();  // once
      }
    }
  }
  // Its exit is handled as a startup failure (OnProcessExit).
  for (pid_t pid : victims) pool_.Kill(pid, true);
}

void NodeManager::CheckDrivers() {
  std::vector<JobID> dead;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, d] : drivers_) {
      if (!ProcessAlive(d.pid)) dead.push_back(d.job);
    }
  }
  for (const JobID& job : dead) {
    PHOTON_LOG_INFO("driver of job {} is gone; finishing the job", job.Hex());
    if (auto s = gcs_->MarkJobFinished(job); !s.ok()) {
      // Its workers are stopped here regardless; the next check tries again.
      PHOTON_LOG_WARN("cannot mark job {} finished: {}", job.Hex(), std::string(s.message()));
    }
    KillJobWorkers(job);
  }
}

void NodeManager::SpillbackQueuedLeases() {
  std::vector<PendingLease> moved;
  {
    absl::MutexLock lock(&mu_);
    LocalViewLocked();  // present, so that the remote nodes are told apart from it
    for (auto it = pending_.begin(); it != pending_.end();) {
      // A lease still waiting for resources here goes to a node that has
      // them free now (the cluster view is refreshed every tick).
      bool pinned = !it->request->scheduling().node_id().empty();  // NodeAffinity
      if (!it->resources_acquired && !it->request->grant_or_reject() && !pinned) {
        if (auto node = LeastLoadedRemoteWithRoom(cluster_, it->resources)) {
          NodeView* target = cluster_.Find(*node);
          *it->reply->mutable_retry_at_raylet() = target->address;
          PHOTON_LOG_DEBUG("queued lease {} ('{}') moves to node {} (available there: {})",
                           it->request->lease_id(), it->request->function_name(), node->Hex(),
                           target->available.ToString());
          target->available.Subtract(it->resources);
          moved.push_back(*it);
          it = pending_.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  FinishDispatch(moved);
}

// ---- objects ----------------------------------------------------------------------

absl::StatusOr<uint64_t> NodeManager::StoreCapacity() const {
  int64_t want = options_.object_store_memory > 0 ? options_.object_store_memory
                                                  : config_.object_store_memory();
  const int64_t ram = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  if (want <= 0) {
    want = std::max(
        static_cast<int64_t>(config_.object_store_memory_fraction() * static_cast<double>(ram)),
        config_.object_store_min_memory());
  }
  if (want < config_.object_store_min_memory()) {
    return absl::InvalidArgumentError(
        fmt::format("object_store_memory of {} bytes is below the minimum of {} bytes "
                    "(object_store_min_memory)",
                    want, config_.object_store_min_memory()));
  }
  if (want > ram) {
    return absl::InvalidArgumentError(fmt::format(
        "object_store_memory of {} bytes is more than this node's {} bytes of RAM", want, ram));
  }
  return static_cast<uint64_t>(want);
}

std::vector<rpc::Address> NodeManager::PeerAddresses() {
  std::vector<rpc::Address> out;
  absl::MutexLock lock(&mu_);
  for (const NodeView* n : cluster_.Nodes()) {
    if (n->alive && n->id != node_id_) out.push_back(n->address);
  }
  return out;
}

grpc::ServerUnaryReactor* NodeManager::FreeObjects(grpc::CallbackServerContext* ctx,
                                                   const rpc::FreeObjectsRequest* req,
                                                   rpc::FreeObjectsReply*) {
  for (const auto& b : req->object_ids()) {
    auto id = ObjectID::FromBinary(b);
    if (id.ok()) objects_.Free(*id);
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* NodeManager::PullObject(grpc::CallbackServerContext* ctx,
                                                  const rpc::PullObjectRequest* req,
                                                  rpc::PullObjectReply*) {
  auto id = ObjectID::FromBinary(req->object_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("object_id is not an ObjectID"));
  auto* reactor = ctx->DefaultReactor();
  objects_.PullObject(*id, req->from(), static_cast<int>(req->priority()),
                      [reactor](const absl::Status& s) { reactor->Finish(rpc::ToGrpcStatus(s)); });
  return reactor;
}

}  // namespace photon::raylet
