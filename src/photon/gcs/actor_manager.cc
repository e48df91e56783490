#include "photon/gcs/actor_manager.h"

#include <map>
#include <tuple>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/rpc/client.h"
#include "photon/rpc/server.h"

namespace photon::gcs {
namespace {

constexpr char kActorTable[] = "actors";
constexpr char kWorkerTable[] = "workers";  // deaths of workers, the latest kept

std::string NameKey(const std::string& ns, const std::string& name) { return ns + '\0' + name; }

std::string NewLeaseId() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  return std::string(reinterpret_cast<char*>(b), sizeof(b));
}

rpc::ErrorInfo ActorDied(const std::string& message) {
  rpc::ErrorInfo e;
  e.set_type(rpc::ACTOR_DIED);
  e.set_message(message);
  return e;
}

grpc::Status BadActorId() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad actor id");
}

}  // namespace

ActorManager::ActorManager(Deps deps)
    : d_(std::move(deps)), scheduling_options_(raylet::SchedulingOptions::FromConfig(*d_.config)) {}

ActorManager::~ActorManager() { Stop(); }

void ActorManager::Stop() { guard_->Close(); }

std::optional<rpc::ActorTableData> ActorManager::Find(const ActorID& id) {
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(id);
  if (it == actors_.end()) return std::nullopt;
  return it->second.data;
}

std::vector<ActorManager::StateCount> ActorManager::CountByState() {
  std::map<std::tuple<int, std::string, std::string>, int64_t> counts;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, a] : actors_) {
      ++counts[{a.data.state(), a.data.class_name(), a.data.job_id()}];
    }
  }
  std::vector<StateCount> out;
  for (const auto& [k, n] : counts) {
    out.push_back({static_cast<rpc::ActorTableData::State>(std::get<0>(k)), std::get<1>(k),
                   std::get<2>(k), n});
  }
  return out;
}

void ActorManager::Persist(const Actor& a) {
  if (d_.storage == nullptr || !d_.storage->durable()) return;
  rpc::StoredActor stored;
  *stored.mutable_data() = a.data;
  *stored.mutable_create() = a.create;
  stored.set_created_requested(a.created_requested);
  stored.set_kill_requested(a.kill_requested);
  stored.set_kill_reason(a.kill_reason);
  stored.set_raylet_address(a.raylet_address);
  stored.set_worker_id(a.worker_id);
  if (auto s = d_.storage->Put(kActorTable, a.data.actor_id(), stored.SerializeAsString(), true);
      !s.ok()) {
    PHOTON_LOG_WARN("cannot store actor {}: {}", ActorID::FromBinaryOrDie(a.data.actor_id()).Hex(),
                    std::string(s.status().message()));
  }
}

absl::Status ActorManager::Recover() {
  if (d_.storage == nullptr || !d_.storage->durable()) return absl::OkStatus();
  auto rows = d_.storage->GetAll(kActorTable);
  if (!rows.ok()) return rows.status();
  std::vector<Action> actions;
  int alive = 0, rescheduled = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, value] : *rows) {
      rpc::StoredActor stored;
      if (!stored.ParseFromString(value))
        return absl::DataLossError("a stored actor does not parse");
      auto id = ActorID::FromBinary(stored.data().actor_id());
      if (!id.ok()) return absl::DataLossError("a stored actor has a bad id");
      Actor& a = actors_[*id];
      a.data = stored.data();
      a.create = stored.create();
      a.created_requested = stored.created_requested();
      a.kill_requested = stored.kill_requested();
      a.kill_reason = stored.kill_reason();
      a.raylet_address = stored.raylet_address();
      a.worker_id = stored.worker_id();
      const auto state = a.data.state();
      // Published again first thing: a subscriber that missed the old GCS's
      // last word on it reads this from the start of the new one's log.
      rpc::PubMessage msg;
      msg.set_channel(rpc::ACTOR_CHANNEL);
      msg.set_key(a.data.actor_id());
      *msg.mutable_actor() = a.data;
      actions.push_back(
          [this, msg = std::move(msg)]() mutable { d_.publisher->Publish(std::move(msg)); });
      if (state != rpc::ActorTableData::DEAD && !a.data.name().empty()) {
        names_[NameKey(a.data.ray_namespace(), a.data.name())] = *id;
      }
      if (state == rpc::ActorTableData::ALIVE) {
        if (!a.worker_id.empty()) by_worker_[a.worker_id] = *id;
        ++alive;
      } else if (a.created_requested && (state == rpc::ActorTableData::PENDING_CREATION ||
                                         state == rpc::ActorTableData::RESTARTING)) {
        // Whatever the old GCS had in flight for it is gone: a worker it had
        // leased goes back, and the actor is placed again.
        ReleaseWorker(a, &actions);
        Schedule(*id, &actions);
        ++rescheduled;
      }
    }
  }
  // Workers' deaths, published again (oldest first) for the borrowers that
  // missed the old GCS's word: they drop what those workers borrowed.
  auto workers = d_.storage->GetAll(kWorkerTable);
  if (!workers.ok()) return workers.status();
  std::vector<rpc::WorkerFailure> failures;
  for (const auto& [key, value] : *workers) {
    rpc::WorkerFailure f;
    if (f.ParseFromString(value)) failures.push_back(std::move(f));
  }
  std::sort(failures.begin(), failures.end(),
            [](const auto& a, const auto& b) { return a.time_ms() < b.time_ms(); });
  {
    absl::MutexLock lock(&mu_);
    for (const auto& f : failures) failed_workers_.push_back(f.worker_id());
  }
  for (const auto& f : failures) {
    rpc::PubMessage msg;
    msg.set_channel(rpc::WORKER_CHANNEL);
    msg.set_key(f.worker_id());
    *msg.mutable_worker_failure() = f;
    actions.push_back(
        [this, msg = std::move(msg)]() mutable { d_.publisher->Publish(std::move(msg)); });
  }
  PHOTON_LOG_INFO("recovered {} actors ({} alive, {} being scheduled again) and {} worker deaths",
                  rows->size(), alive, rescheduled, failures.size());
  for (auto& f : actions) f();
  return absl::OkStatus();
}

void ActorManager::RecordWorkerFailure(const rpc::WorkerFailure& f) {
  if (d_.storage == nullptr || !d_.storage->durable()) return;
  if (auto s = d_.storage->Put(kWorkerTable, f.worker_id(), f.SerializeAsString(), true); !s.ok()) {
    PHOTON_LOG_WARN("cannot store a worker's death: {}", std::string(s.status().message()));
    return;
  }
  failed_workers_.push_back(f.worker_id());
  while (failed_workers_.size() > kMaxStoredWorkerFailures) {
    (void)d_.storage->Delete(kWorkerTable, failed_workers_.front(), false);
    failed_workers_.pop_front();
  }
}

void ActorManager::Publish(const Actor& a, std::vector<Action>* actions) {
  Persist(a);
  rpc::PubMessage msg;
  msg.set_channel(rpc::ACTOR_CHANNEL);
  msg.set_key(a.data.actor_id());
  *msg.mutable_actor() = a.data;
  actions->push_back(
      [this, msg = std::move(msg)]() mutable { d_.publisher->Publish(std::move(msg)); });
}

grpc::ServerUnaryReactor* ActorManager::RegisterActor(grpc::CallbackServerContext* ctx,
                                                      const rpc::RegisterActorRequest* req,
                                                      rpc::RegisterActorReply*) {
  auto id = ActorID::FromBinary(req->actor().actor_id());
  if (!id.ok()) return rpc::FinishNow(ctx, BadActorId());
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    if (actors_.contains(*id)) return rpc::FinishNow(ctx);  // a retried registration
    const auto& d = req->actor();
    if (!d.name().empty()) {
      std::string key = NameKey(d.ray_namespace(), d.name());
      auto it = names_.find(key);
      if (it != names_.end()) {
        auto existing = actors_.find(it->second);
        if (existing != actors_.end() &&
            existing->second.data.state() != rpc::ActorTableData::DEAD) {
          return rpc::FinishNow(ctx,
                                grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                                             fmt::format("an actor named '{}' already exists in "
                                                         "namespace '{}'",
                                                         d.name(), d.ray_namespace())));
        }
      }
      names_[key] = *id;
    }
    Actor& a = actors_[*id];
    a.data = d;
    a.data.set_state(rpc::ActorTableData::DEPENDENCIES_UNREADY);
    a.data.set_version(1);
    Publish(a, &actions);
  }
  for (auto& f : actions) f();
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* ActorManager::CreateActor(grpc::CallbackServerContext* ctx,
                                                    const rpc::CreateActorRequest* req,
                                                    rpc::CreateActorReply*) {
  auto id = ActorID::FromBinary(req->creation_task().actor_id());
  if (!id.ok()) return rpc::FinishNow(ctx, BadActorId());
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(*id);
    if (it == actors_.end()) {
      return rpc::FinishNow(ctx,
                            grpc::Status(grpc::StatusCode::NOT_FOUND, "actor was not registered"));
    }
    Actor& a = it->second;
    // A repeated request (a retry), or one for an actor killed meanwhile.
    if (a.created_requested || a.data.state() == rpc::ActorTableData::DEAD)
      return rpc::FinishNow(ctx);
    a.created_requested = true;
    a.create = *req;
    a.data.set_state(rpc::ActorTableData::PENDING_CREATION);
    a.data.set_version(a.data.version() + 1);
    Publish(a, &actions);
    Schedule(*id, &actions);
  }
  for (auto& f : actions) f();
  return rpc::FinishNow(ctx);
}

std::string ActorManager::PickRaylet(const rpc::TaskSpec& spec, const std::string& owner_node,
                                     int64_t* retry_ms, std::optional<std::string>* dead_cause) {
  std::vector<rpc::NodeInfo> nodes = d_.alive_nodes();
  if (nodes.empty()) {
    *retry_ms = d_.config->lease_retry_delay_ms();  // no node yet
    return "";
  }
  raylet::ClusterView view(NodeID::FromBinary(owner_node).value_or(NodeID::Nil()));
  absl::flat_hash_map<NodeID, std::string> addresses;
  for (const auto& n : nodes) {
    auto nid = NodeID::FromBinary(n.node_id());
    if (!nid.ok()) continue;
    raylet::NodeView v;
    v.id = *nid;
    v.address.set_ip(n.ip());
    v.address.set_port(n.raylet_port());
    v.total = raylet::ResourceSet::FromProto(n.resources_total()).value_or(raylet::ResourceSet());
    v.available =
        raylet::ResourceSet::FromProto(n.resources_available()).value_or(raylet::ResourceSet());
    v.labels.insert(n.labels().begin(), n.labels().end());
    addresses[*nid] = fmt::format("{}:{}", n.ip(), n.raylet_port());
    view.Upsert(std::move(v));
  }
  auto resources = raylet::ResourceSet::FromProto(spec.resources());
  if (!resources.ok()) {
    *dead_cause =
        fmt::format("the actor cannot be scheduled: {}", std::string(resources.status().message()));
    return "";
  }
  if (spec.resources().empty()) {
    // As in Ray, an actor that asks for nothing (not even num_cpus=0) needs 1
    // CPU to be placed, and holds none once it runs: it never lands on a node
    // without CPUs.
    *resources = raylet::ResourceSet::FromMap({{"CPU", 1}}).value();
  }
  raylet::SchedulingRequest request{*resources, spec.scheduling(), false, spec.name()};
  raylet::SchedulingDecision decision;
  {
    absl::MutexLock lock(&scheduling_mu_);
    decision = raylet::Schedule(view, request, scheduling_options_, &scheduling_state_);
  }
  switch (decision.kind) {
    case raylet::SchedulingDecision::Kind::kLocal:
      return addresses[view.local()];
    case raylet::SchedulingDecision::Kind::kRemote:
      return addresses[decision.node];
    case raylet::SchedulingDecision::Kind::kInfeasible:
      PHOTON_LOG_WARN("actor cannot be scheduled yet: {}", decision.message);
      *retry_ms = d_.config->infeasible_retry_delay_ms();
      return "";
    case raylet::SchedulingDecision::Kind::kUnschedulable:
      *dead_cause = decision.message;
      return "";
  }
  return "";
}

void ActorManager::RescheduleAfter(const ActorID& id, uint64_t attempt, absl::Duration delay) {
  d_.timer->RunAfter("reschedule actor", delay, [this, id, attempt, g = guard_] {
    auto token = g->Enter();
    if (!token) return;
    std::vector<Action> later;
    {
      absl::MutexLock lock(&mu_);
      auto it = actors_.find(id);
      if (it == actors_.end() || it->second.attempt != attempt) return;  // superseded
      Schedule(id, &later);
    }
    for (auto& f : later) f();
  });
}

void ActorManager::Schedule(const ActorID& id, std::vector<Action>* actions) {
  Actor& a = actors_[id];
  uint64_t attempt = ++a.attempt;
  a.lease_id = NewLeaseId();
  actions->push_back(
      [this, id, attempt, spec = a.create.creation_task(), owner_node = a.data.owner().node_id()] {
        int64_t retry_ms = 0;
        std::optional<std::string> dead_cause;
        std::string raylet = PickRaylet(spec, owner_node, &retry_ms, &dead_cause);
        if (dead_cause) {
          std::vector<Action> later;
          {
            absl::MutexLock lock(&mu_);
            auto it = actors_.find(id);
            if (it == actors_.end() || it->second.attempt != attempt) return;
            MarkDead(it->second, ActorDied(*dead_cause), &later);
          }
          for (auto& f : later) f();
          return;
        }
        if (raylet.empty()) {
          RescheduleAfter(id, attempt, absl::Milliseconds(retry_ms));
          return;
        }
        RequestLease(id, attempt, raylet, false);
      });
}

void ActorManager::RequestLease(const ActorID& id, uint64_t attempt, std::string raylet,
                                bool grant_or_reject) {
  rpc::RequestWorkerLeaseRequest req;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.attempt != attempt) return;
    const Actor& a = it->second;
    const rpc::TaskSpec& spec = a.create.creation_task();
    *req.mutable_resources() = spec.resources();
    req.set_language(spec.language());
    req.set_job_id(spec.job_id());
    req.set_grant_or_reject(grant_or_reject);
    req.set_function_name(spec.function_name());
    req.set_lease_id(a.lease_id);
    *req.mutable_scheduling() = spec.scheduling();
    for (const auto& c : a.create.worker_command()) req.add_worker_command(c);
    *req.mutable_worker_env() = a.create.worker_env();
    req.set_detached_actor(a.data.detached());
    req.set_actor_id(a.data.actor_id());
    req.set_retriable(spec.max_restarts() != 0);
    req.set_owner_id(spec.caller().worker_id());
  }
  d_.raylets->Get(raylet)->RequestWorkerLease(
      req, [this, id, attempt, raylet, g = guard_](const absl::Status& s,
                                                   rpc::RequestWorkerLeaseReply&& reply) {
        auto token = g->Enter();
        if (token) OnLeaseReply(id, attempt, raylet, s, std::move(reply));
      });
}

void ActorManager::OnLeaseReply(const ActorID& id, uint64_t attempt, const std::string& raylet,
                                const absl::Status& s, rpc::RequestWorkerLeaseReply&& reply) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.attempt != attempt) {
      if (s.ok() && reply.has_worker()) {
        // A grant for a superseded attempt: its worker goes back.
        rpc::ReturnWorkerRequest ret;
        ret.set_worker_id(reply.worker().worker_id());
        ret.set_disconnect(true);
        actions.push_back([this, raylet, ret] {
          d_.raylets->Get(raylet)->ReturnWorker(
              ret, rpc::LogIfFailed<rpc::ReturnWorkerReply>(
                       "ReturnWorker of a superseded actor lease (the raylet reclaims it when "
                       "the job ends)",
                       spdlog::level::warn));
        });
      }
    } else {
      Actor& a = it->second;
      if (a.kill_requested) {
        MarkDead(a, ActorDied(a.kill_reason), &actions);
        if (s.ok() && reply.has_worker()) {
          a.raylet_address = raylet;
          a.worker_id = reply.worker().worker_id();
          ReleaseWorker(a, &actions);
        }
      } else if (absl::IsInvalidArgument(s)) {
        // The request itself is refused (e.g. a resource amount the raylet
        // cannot represent): retrying cannot help, the actor dies.
        MarkDead(
            a,
            ActorDied(fmt::format("the actor cannot be scheduled: {}", std::string(s.message()))),
            &actions);
      } else if (!s.ok() || reply.rejected()) {
        // The raylet did not answer (within its retries) or refused: try
        // again, maybe elsewhere.
        PHOTON_LOG_WARN("actor {}: lease from {} failed: {}", id.Hex(), raylet,
                        s.ok() ? reply.message() : std::string(s.message()));
        RescheduleAfter(id, attempt, absl::Milliseconds(d_.config->lease_retry_delay_ms()));
      } else if (reply.has_retry_at_raylet()) {
        std::string next =
            fmt::format("{}:{}", reply.retry_at_raylet().ip(), reply.retry_at_raylet().port());
        actions.push_back([this, id, attempt, next] { RequestLease(id, attempt, next, true); });
      } else if (reply.infeasible()) {
        PHOTON_LOG_WARN("actor {} cannot be scheduled: {}", id.Hex(), reply.message());
        RescheduleAfter(id, attempt, absl::Milliseconds(d_.config->infeasible_retry_delay_ms()));
      } else if (reply.has_worker()) {
        a.raylet_address = raylet;
        a.worker_id = reply.worker().worker_id();
        a.data.set_pid(reply.worker_pid());
        by_worker_[a.worker_id] = id;
        Persist(a);  // a restarted GCS returns this worker if the actor is not up yet
        rpc::Address worker = reply.worker();
        std::vector<int> gpus(reply.gpu_ids().begin(), reply.gpu_ids().end());
        auto backoff =
            std::make_shared<Backoff>(absl::Milliseconds(d_.config->rpc_retry_initial_backoff_ms()),
                                      absl::Milliseconds(d_.config->rpc_retry_max_backoff_ms()));
        actions.push_back([this, id, attempt, worker, gpus, backoff] {
          PushCreation(id, attempt, worker, gpus, backoff);
        });
      }
    }
  }
  for (auto& f : actions) f();
}

void ActorManager::PushCreation(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                                const std::vector<int>& gpu_ids, std::shared_ptr<Backoff> backoff) {
  rpc::PushTaskRequest req;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.attempt != attempt) return;
    *req.mutable_task() = it->second.create.creation_task();
    req.mutable_task()->set_restarted(it->second.data.num_restarts() > 0);
    for (int g : gpu_ids) req.mutable_task()->add_assigned_gpu_ids(g);
    req.set_intended_worker_id(worker.worker_id());
  }
  d_.workers->Get(worker)->PushTask(req, [this, id, attempt, worker, gpu_ids, backoff, g = guard_](
                                             const absl::Status& s, rpc::PushTaskReply&& reply) {
    auto token = g->Enter();
    if (!token) return;
    if (rpc::IsTransient(s)) {
      OnCreationUnanswered(id, attempt, worker, gpu_ids, backoff, s);
      return;
    }
    if (s.ok() && reply.has_execution() && d_.on_execution) {
      d_.on_execution(std::move(*reply.mutable_execution()));
    }
    OnCreationReply(id, attempt, worker, s, std::move(reply));
  });
}

void ActorManager::OnCreationUnanswered(const ActorID& id, uint64_t attempt,
                                        const rpc::Address& worker, const std::vector<int>& gpu_ids,
                                        std::shared_ptr<Backoff> backoff, const absl::Status& s) {
  std::string raylet;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.attempt != attempt) return;
    raylet = it->second.raylet_address;
  }
  rpc::GetWorkerStateRequest req;
  req.set_worker_id(worker.worker_id());
  std::string why(s.message());
  d_.raylets->Get(raylet)->GetWorkerState(req, [this, id, attempt, worker, gpu_ids, backoff, why,
                                                g = guard_](const absl::Status& st,
                                                            rpc::GetWorkerStateReply&& state) {
    auto token = g->Enter();
    if (!token) return;
    bool dead = st.ok() && state.state() != rpc::GetWorkerStateReply::ALIVE;
    if (!dead) {
      // Alive (busy), or its raylet cannot tell now (a dead node is
      // reported by the health checks): send the creation again.
      PHOTON_LOG_DEBUG("actor {}: creation push unanswered ({}); sending it again", id.Hex(), why);
      d_.timer->RunAfter("resend actor creation", backoff->Next(),
                         [this, id, attempt, worker, gpu_ids, backoff, g] {
                           auto token = g->Enter();
                           if (token) PushCreation(id, attempt, worker, gpu_ids, backoff);
                         });
      return;
    }
    std::vector<Action> actions;
    {
      absl::MutexLock lock(&mu_);
      auto it = actors_.find(id);
      if (it == actors_.end() || it->second.attempt != attempt) return;
      if (it->second.data.state() == rpc::ActorTableData::DEAD) return;
      OnActorFailure(id,
                     fmt::format("its worker died while running the constructor ({})",
                                 state.reason().empty() ? why : state.reason()),
                     &actions);
    }
    for (auto& f : actions) f();
  });
}

void ActorManager::OnCreationReply(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                                   const absl::Status& s, rpc::PushTaskReply&& reply) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.attempt != attempt) return;
    Actor& a = it->second;
    if (a.data.state() == rpc::ActorTableData::DEAD) return;
    if (!s.ok()) {
      // Refused outright (the worker is not the one leased, or exits).
      OnActorFailure(
          id,
          fmt::format("its worker could not run the constructor ({})", std::string(s.message())),
          &actions);
    } else if (reply.is_application_error() ||
               (reply.returns_size() > 0 &&
                reply.returns(0).value().metadata() == "photon:error")) {
      rpc::ErrorInfo cause;
      if (reply.returns_size() > 0) cause.ParseFromString(reply.returns(0).value().data());
      rpc::ErrorInfo e =
          ActorDied(fmt::format("the actor's constructor failed: {}{}{}", cause.exception_type(),
                                cause.exception_type().empty() ? "" : ": ", cause.message()));
      MarkDead(a, e, &actions);
      ReleaseWorker(a, &actions);
    } else if (a.kill_requested) {
      MarkDead(a, ActorDied(a.kill_reason), &actions);
      ReleaseWorker(a, &actions);
    } else {
      *a.data.mutable_address() = worker;
      a.data.set_state(rpc::ActorTableData::ALIVE);
      a.data.set_version(a.data.version() + 1);
      Publish(a, &actions);
    }
  }
  for (auto& f : actions) f();
}

void ActorManager::ReleaseWorker(Actor& a, std::vector<Action>* actions) {
  if (a.worker_id.empty() || a.raylet_address.empty()) return;
  rpc::ReturnWorkerRequest ret;
  ret.set_worker_id(a.worker_id);
  ret.set_disconnect(true);  // the worker held the actor's state: never reuse it
  std::string raylet = a.raylet_address;
  by_worker_.erase(a.worker_id);
  a.worker_id.clear();
  actions->push_back([this, raylet, ret] {
    d_.raylets->Get(raylet)->ReturnWorker(
        ret, rpc::LogIfFailed<rpc::ReturnWorkerReply>(
                 "ReturnWorker of an ended actor's worker (the raylet stops it when the job ends)",
                 spdlog::level::warn));
  });
}

void ActorManager::MarkDead(Actor& a, rpc::ErrorInfo cause, std::vector<Action>* actions) {
  if (a.data.state() == rpc::ActorTableData::DEAD) return;
  a.data.set_state(rpc::ActorTableData::DEAD);
  *a.data.mutable_death_cause() = std::move(cause);
  a.data.clear_address();
  a.data.set_version(a.data.version() + 1);
  ++a.attempt;  // fence anything still in flight
  Publish(a, actions);
}

void ActorManager::OnActorFailure(const ActorID& id, const std::string& why,
                                  std::vector<Action>* actions) {
  Actor& a = actors_[id];
  if (a.data.state() == rpc::ActorTableData::DEAD) return;
  by_worker_.erase(a.worker_id);
  a.worker_id.clear();
  if (a.kill_requested) {
    MarkDead(a, ActorDied(a.kill_reason), actions);
    return;
  }
  int max = a.data.max_restarts();
  if (max == -1 || a.data.num_restarts() < max) {
    a.data.set_num_restarts(a.data.num_restarts() + 1);
    a.data.set_state(rpc::ActorTableData::RESTARTING);
    a.data.clear_address();
    a.data.set_version(a.data.version() + 1);
    PHOTON_LOG_INFO("actor {} restarting ({} of {}): {}", id.Hex(), a.data.num_restarts(), max,
                    why);
    Publish(a, actions);
    Schedule(id, actions);
    return;
  }
  MarkDead(a,
           ActorDied(fmt::format("the actor died: {} (max_restarts={}, restarts used={})", why, max,
                                 a.data.num_restarts())),
           actions);
}

grpc::ServerUnaryReactor* ActorManager::GetActorInfo(grpc::CallbackServerContext* ctx,
                                                     const rpc::GetActorInfoRequest* req,
                                                     rpc::GetActorInfoReply* reply) {
  auto id = ActorID::FromBinary(req->actor_id());
  if (!id.ok()) return rpc::FinishNow(ctx, BadActorId());
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(*id);
  reply->set_found(it != actors_.end());
  if (it != actors_.end()) *reply->mutable_actor() = it->second.data;
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* ActorManager::GetNamedActor(grpc::CallbackServerContext* ctx,
                                                      const rpc::GetNamedActorRequest* req,
                                                      rpc::GetNamedActorReply* reply) {
  absl::MutexLock lock(&mu_);
  auto n = names_.find(NameKey(req->ray_namespace(), req->name()));
  if (n != names_.end()) {
    auto it = actors_.find(n->second);
    if (it != actors_.end() && it->second.data.state() != rpc::ActorTableData::DEAD) {
      reply->set_found(true);
      *reply->mutable_actor() = it->second.data;
    }
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* ActorManager::KillActor(grpc::CallbackServerContext* ctx,
                                                  const rpc::KillActorRequest* req,
                                                  rpc::KillActorReply* reply) {
  auto id = ActorID::FromBinary(req->actor_id());
  if (!id.ok()) return rpc::FinishNow(ctx, BadActorId());
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(*id);
    if (it == actors_.end()) {
      return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND, "no such actor"));
    }
    Actor& a = it->second;
    if (a.data.state() == rpc::ActorTableData::DEAD) {
      *reply->mutable_actor() = a.data;
      return rpc::FinishNow(ctx);
    }
    std::string reason = req->reason().empty() ? "the actor was killed" : req->reason();
    if (req->no_restart()) {
      a.kill_requested = true;
      a.kill_reason = reason;
    }
    if (!a.worker_id.empty()) {
      // Kill its process; the raylet's report of the exit, or the lines
      // below, finish the job.
      ReleaseWorker(a, &actions);
      OnActorFailure(*id, reason, &actions);
    } else if (req->no_restart()) {
      MarkDead(a, ActorDied(reason), &actions);
    }
    *reply->mutable_actor() = a.data;
  }
  for (auto& f : actions) f();
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* ActorManager::ReportWorkerFailure(
    grpc::CallbackServerContext* ctx, const rpc::ReportWorkerFailureRequest* req,
    rpc::ReportWorkerFailureReply*) {
  std::vector<Action> actions;
  // Owners that lent references to this worker drop its borrows.
  rpc::PubMessage msg;
  msg.set_channel(rpc::WORKER_CHANNEL);
  msg.set_key(req->worker_id());
  msg.mutable_worker_failure()->set_worker_id(req->worker_id());
  msg.mutable_worker_failure()->set_node_id(req->node_id());
  msg.mutable_worker_failure()->set_reason(req->reason());
  msg.mutable_worker_failure()->set_time_ms(absl::ToUnixMillis(absl::Now()));
  const rpc::WorkerFailure failure = msg.worker_failure();
  actions.push_back(
      [this, msg = std::move(msg)]() mutable { d_.publisher->Publish(std::move(msg)); });
  {
    absl::MutexLock lock(&mu_);
    RecordWorkerFailure(failure);
    auto it = by_worker_.find(req->worker_id());
    if (it != by_worker_.end()) {
      ActorID id = it->second;
      OnActorFailure(id, req->reason().empty() ? "its worker process died" : req->reason(),
                     &actions);
    }
  }
  for (auto& f : actions) f();
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* ActorManager::ListActors(grpc::CallbackServerContext* ctx,
                                                   const rpc::ListActorsRequest*,
                                                   rpc::ListActorsReply* reply) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, a] : actors_) *reply->add_actors() = a.data;
  return rpc::FinishNow(ctx);
}

void ActorManager::OnNodeDead(const std::string& node_id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    std::vector<ActorID> victims;
    for (auto& [id, a] : actors_) {
      if (a.worker_id.empty()) continue;
      auto w = WorkerID::FromBinary(a.worker_id);
      if (w.ok() && w->NodeId().Binary() == node_id) victims.push_back(id);
    }
    for (const auto& id : victims) OnActorFailure(id, "its node died", &actions);
  }
  for (auto& f : actions) f();
}

void ActorManager::OnJobFinished(const std::string& job_id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (a.data.job_id() != job_id || a.data.detached()) continue;
      if (a.data.state() == rpc::ActorTableData::DEAD) continue;
      a.kill_requested = true;
      a.kill_reason = "the actor's owner (its job's driver) has exited";
      ReleaseWorker(a, &actions);
      MarkDead(a, ActorDied(a.kill_reason), &actions);
    }
  }
  for (auto& f : actions) f();
}

void ActorManager::OnPlacementGroupRemoved(const std::string& placement_group_id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (a.create.creation_task().scheduling().placement_group_id() != placement_group_id) {
        continue;
      }
      if (a.data.state() == rpc::ActorTableData::DEAD) continue;
      a.kill_requested = true;
      a.kill_reason = "its placement group was removed";
      ReleaseWorker(a, &actions);
      MarkDead(a, ActorDied(a.kill_reason), &actions);
    }
  }
  for (auto& f : actions) f();
}

}  // namespace photon::gcs
