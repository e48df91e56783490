#include "photon/core_worker/task_submitter.h"

#include <iostream>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/core_worker/core_worker.h"
#include "photon/rpc/client.h"

namespace photon::core {
namespace {

// How many lease requests one scheduling key may have outstanding; more
// requests let more nodes (through spillback) work on a long queue at once.
constexpr size_t kMaxPendingLeaseRequests = 8;

std::string SchedulingKey(const rpc::TaskSpec& spec) {
  std::map<std::string, double> sorted(spec.resources().begin(), spec.resources().end());
  std::string key;
  for (const auto& [k, v] : sorted) key += fmt::format("{}={};", k, v);
  const rpc::SchedulingStrategy& st = spec.scheduling();
  if (!st.node_id().empty() || st.spread()) {
    key += fmt::format("|{}{}{}", st.node_id(), st.soft() ? "s" : "", st.spread() ? "S" : "");
  }
  return key;
}

std::string NewLeaseId() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  return std::string(reinterpret_cast<char*>(b), sizeof(b));
}

}  // namespace

TaskSubmitter::TaskSubmitter(CoreWorker* worker) : worker_(worker) {}

TaskSubmitter::~TaskSubmitter() { Stop(); }

void TaskSubmitter::Start() {
  timer_ = std::thread([this] { TimerLoop(); });
}

void TaskSubmitter::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (timer_.joinable()) timer_.join();
  std::vector<std::shared_ptr<Lease>> leases;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, q] : queues_) {
      for (auto& l : q.leases) leases.push_back(l);
      q.leases.clear();
    }
  }
  for (auto& l : leases) ReturnLease(l, false);
}

size_t TaskSubmitter::NumPendingTasks() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

void TaskSubmitter::Submit(rpc::TaskSpec spec, std::vector<ObjectID> ref_args) {
  TaskID id = TaskID::FromBinaryOrDie(spec.task_id());
  int retries = spec.max_retries();
  {
    absl::MutexLock lock(&mu_);
    Task& t = tasks_[id];
    t.key = SchedulingKey(spec);
    t.spec = std::move(spec);
    t.ref_args = ref_args;
    t.retries_left = retries;
    t.deps_left = static_cast<int>(ref_args.size()) + 1;  // +1 released below
  }
  for (const ObjectID& dep : ref_args) {
    if (!worker_->references().IsOwned(dep)) {
      if (auto owner = worker_->references().OwnerOf(dep)) worker_->FetchFromOwner(dep, *owner);
    }
    worker_->memory_store().OnReady(dep,
                                    [this, id, g = worker_->guard()](std::shared_ptr<ObjectValue>) {
                                      auto token = g->Enter();
                                      if (token) OnDependencyReady(id);
                                    });
  }
  OnDependencyReady(id);
}

void TaskSubmitter::OnDependencyReady(const TaskID& id) {
  std::vector<ObjectID> deps;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end() || --it->second.deps_left > 0) return;
    deps = it->second.ref_args;
  }
  // Every argument exists. Inline the small ones (their bytes travel in the
  // push); an argument that failed fails this task with the same error.
  std::optional<rpc::ErrorInfo> dep_error;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    dep_error = worker_->InlineReadyArgs(&it->second.spec);
  }
  if (dep_error) {
    FailTask(id, *dep_error);
    return;
  }
  Enqueue(id);
}

void TaskSubmitter::Enqueue(const TaskID& id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.cancelled) return;
    Queue& q = queues_[it->second.key];
    if (q.lease_template.worker_command().empty()) {
      auto& t = q.lease_template;
      *t.mutable_resources() = it->second.spec.resources();
      t.set_language(worker_->options().language);
      t.set_job_id(worker_->job_id().Binary());
      t.set_function_name(it->second.spec.name());
      *t.mutable_scheduling() = it->second.spec.scheduling();
      for (const auto& a : worker_->options().worker_command) t.add_worker_command(a);
      for (const auto& [k, v] : worker_->options().worker_env) (*t.mutable_worker_env())[k] = v;
    }
    q.tasks.push_back(id);
    Pump(it->second.key, &actions);
  }
  for (auto& a : actions) a();
}

void TaskSubmitter::Pump(const std::string& key, std::vector<Action>* actions) {
  Queue& q = queues_[key];
  // Hand queued tasks to idle leased workers.
  for (auto& lease : q.leases) {
    if (q.tasks.empty()) break;
    if (lease->busy || lease->dead) continue;
    TaskID id = q.tasks.front();
    q.tasks.pop_front();
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.cancelled) continue;
    lease->busy = true;
    it->second.pushed = true;
    it->second.lease = lease;
    rpc::TaskSpec spec = it->second.spec;
    for (int g : lease->gpu_ids) spec.add_assigned_gpu_ids(g);
    actions->push_back([this, key, lease, id, spec = std::move(spec)]() mutable {
      PushTask(key, lease, id, std::move(spec));
    });
  }
  // Ask for more workers while tasks wait.
  if (absl::Now() < q.retry_after) return;
  size_t wanted = std::min(q.tasks.size(), kMaxPendingLeaseRequests);
  while (q.pending_requests.size() < wanted) {
    std::string lease_id = NewLeaseId();
    std::string raylet = worker_->raylet_address();
    q.pending_requests[lease_id] = raylet;
    actions->push_back(
        [this, key, raylet, lease_id] { RequestLease(key, raylet, lease_id, false); });
  }
}

rpc::NodeManagerService::Stub* TaskSubmitter::RayletStub(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = raylets_[address];
  if (!stub) stub = rpc::NodeManagerService::NewStub(rpc::GetChannel(address));
  return stub.get();
}

void TaskSubmitter::RequestLease(const std::string& key, const std::string& raylet_address,
                                 const std::string& lease_id, bool grant_or_reject) {
  rpc::RequestWorkerLeaseRequest req;
  {
    absl::MutexLock lock(&mu_);
    req = queues_[key].lease_template;
  }
  req.set_lease_id(lease_id);
  req.set_grant_or_reject(grant_or_reject);
  rpc::CallAsync(RayletStub(raylet_address)->async(),
                 &rpc::NodeManagerService::Stub::async::RequestWorkerLease, req, -1,
                 [this, key, raylet_address, lease_id, g = worker_->guard()](
                     const absl::Status& s, rpc::RequestWorkerLeaseReply&& reply) {
                   auto token = g->Enter();
                   if (token) OnLeaseReply(key, raylet_address, lease_id, s, std::move(reply));
                 });
}

void TaskSubmitter::OnLeaseReply(const std::string& key, const std::string& raylet_address,
                                 const std::string& lease_id, const absl::Status& status,
                                 rpc::RequestWorkerLeaseReply&& reply) {
  std::vector<Action> actions;
  std::vector<TaskID> to_fail;
  std::string fail_message;
  std::shared_ptr<Lease> unneeded;
  {
    absl::MutexLock lock(&mu_);
    Queue& q = queues_[key];
    if (!q.pending_requests.contains(lease_id)) {
      // Cancelled meanwhile; give back a worker we no longer asked for.
      if (status.ok() && reply.has_worker()) {
        unneeded = std::make_shared<Lease>();
        unneeded->worker = reply.worker();
        unneeded->raylet_address = raylet_address;
        unneeded->lease_id = lease_id;
      }
    } else if (absl::IsInvalidArgument(status)) {
      // The raylet refuses the request itself (e.g. a resource amount it
      // cannot represent): asking again cannot help, so the tasks fail.
      q.pending_requests.erase(lease_id);
      to_fail.assign(q.tasks.begin(), q.tasks.end());
      q.tasks.clear();
      fail_message = std::string(status.message());
    } else if (!status.ok()) {
      q.pending_requests.erase(lease_id);
      PHOTON_LOG_WARN("lease request to raylet {} failed: {}", raylet_address,
                      std::string(status.message()));
      q.retry_after = absl::Now() + absl::Milliseconds(500);
    } else if (reply.has_retry_at_raylet()) {
      std::string next =
          fmt::format("{}:{}", reply.retry_at_raylet().ip(), reply.retry_at_raylet().port());
      q.pending_requests[lease_id] = next;
      actions.push_back([this, key, next, lease_id] { RequestLease(key, next, lease_id, true); });
    } else if (reply.infeasible()) {
      q.pending_requests.erase(lease_id);
      if (!q.warned_infeasible) {
        q.warned_infeasible = true;
        std::cerr << "photon: warning: a task cannot be scheduled: " << reply.message()
                  << ". It stays pending until a node that fits joins the cluster.\n";
        PHOTON_LOG_WARN("infeasible task: {}", reply.message());
      }
      q.retry_after = absl::Now() + absl::Seconds(1);
    } else if (reply.rejected()) {
      q.pending_requests.erase(lease_id);
      if (reply.message().find("cancelled") == std::string::npos) {
        to_fail.assign(q.tasks.begin(), q.tasks.end());
        q.tasks.clear();
        fail_message = reply.message();
      }
    } else if (reply.has_worker()) {
      q.pending_requests.erase(lease_id);
      auto lease = std::make_shared<Lease>();
      lease->worker = reply.worker();
      lease->gpu_ids.assign(reply.gpu_ids().begin(), reply.gpu_ids().end());
      lease->raylet_address = raylet_address;
      lease->lease_id = lease_id;
      lease->stub = rpc::CoreWorkerService::NewStub(
          rpc::GetChannel(fmt::format("{}:{}", lease->worker.ip(), lease->worker.port()),
                          lease->worker.worker_id()));
      lease->idle_since = absl::Now();
      q.warned_infeasible = false;
      if (q.tasks.empty()) {
        unneeded = lease;
      } else {
        q.leases.push_back(lease);
      }
    }
    Pump(key, &actions);
  }
  if (unneeded) ReturnLease(unneeded, false);
  for (auto& a : actions) a();
  for (const TaskID& id : to_fail) {
    FailTask(id, MakeError(rpc::TASK_UNSCHEDULABLE,
                           fmt::format("cannot run the task: {}", fail_message)));
  }
}

void TaskSubmitter::PushTask(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                             rpc::TaskSpec spec) {
  rpc::PushTaskRequest req;
  *req.mutable_task() = std::move(spec);
  req.set_intended_worker_id(lease->worker.worker_id());
  rpc::CallAsync(lease->stub->async(), &rpc::CoreWorkerService::Stub::async::PushTask, req, -1,
                 [this, key, lease, id, g = worker_->guard()](const absl::Status& s,
                                                              rpc::PushTaskReply&& reply) {
                   auto token = g->Enter();
                   if (token) OnPushReply(key, lease, id, s, std::move(reply));
                 });
}

void TaskSubmitter::OnPushReply(const std::string& key, std::shared_ptr<Lease> lease,
                                const TaskID& id, const absl::Status& status,
                                rpc::PushTaskReply&& reply) {
  std::vector<Action> actions;
  std::optional<rpc::ErrorInfo> fail;
  bool finish = false;
  bool drop_lease = false;
  rpc::TaskSpec spec;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    Queue& q = queues_[key];
    lease->busy = false;
    lease->idle_since = absl::Now();
    if (!status.ok() || reply.worker_exiting()) {
      // The worker is gone (or going): never reuse this lease.
      lease->dead = true;
      drop_lease = true;
      std::erase(q.leases, lease);
    }
    if (it != tasks_.end() && !it->second.cancelled) {
      Task& t = it->second;
      if (!status.ok()) {
        if (t.retries_left != 0) {
          if (t.retries_left > 0) --t.retries_left;
          t.spec.set_attempt(t.spec.attempt() + 1);
          t.pushed = false;
          q.tasks.push_front(id);
          PHOTON_LOG_INFO("task {} lost its worker ({}); retrying", t.spec.name(),
                          std::string(status.message()));
        } else {
          fail = MakeError(
              rpc::WORKER_DIED,
              fmt::format("the worker running task '{}' died ({}), and no retries "
                          "are left (max_retries={})",
                          t.spec.name(), std::string(status.message()), t.spec.max_retries()));
        }
      } else if (reply.is_application_error() && t.spec.retry_exceptions() && t.retries_left != 0) {
        if (t.retries_left > 0) --t.retries_left;
        t.spec.set_attempt(t.spec.attempt() + 1);
        q.tasks.push_front(id);
      } else {
        for (const auto& r : reply.returns()) {
          ObjectID oid = ObjectID::FromBinaryOrDie(r.object_id());
          std::shared_ptr<ObjectValue> v;
          if (r.in_plasma()) {
            v = ObjectValue::InPlasma(NodeID::FromBinaryOrDie(r.node_id()));
          } else {
            v = ObjectValue::FromBytes(r.value().metadata(), r.value().data());
          }
          // Stored outside the lock below.
          actions.push_back([this, oid, v] { worker_->StoreReturn(oid, v); });
        }
        t.completed = true;  // a Cancel from now on finds nothing to cancel
        finish = true;
      }
    }
    Pump(key, &actions);
  }
  if (drop_lease) ReturnLease(lease, true);
  for (auto& a : actions) a();
  if (finish) FinishTask(id);
  if (fail) FailTask(id, *fail);
}

void TaskSubmitter::FinishTask(const TaskID& id) {
  std::vector<ObjectID> deps;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    deps = std::move(it->second.ref_args);
    tasks_.erase(it);
  }
  worker_->references().RemoveSubmittedRefs(deps);
}

void TaskSubmitter::FailTask(const TaskID& id, const rpc::ErrorInfo& error) {
  int num_returns = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    num_returns = it->second.spec.num_returns();
  }
  auto v = ObjectValue::FromError(error);
  for (int i = 1; i <= num_returns; ++i) {
    worker_->memory_store().Put(ObjectID::FromIndex(id, i), v, /*overwrite=*/true);
  }
  FinishTask(id);
}

absl::Status TaskSubmitter::Cancel(const TaskID& id, bool force, bool recursive) {
  std::string name;
  std::shared_ptr<Lease> lease;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.completed) {
      return absl::NotFoundError("the task has finished");
    }
    it->second.cancelled = true;
    name = it->second.spec.name();
    auto& q = queues_[it->second.key].tasks;
    std::erase(q, id);
    if (it->second.pushed) lease = it->second.lease;
    if (lease && force) lease->dead = true;  // never reused: it is killed below
  }
  FailTask(id, MakeError(rpc::TASK_CANCELLED, fmt::format("task '{}' was cancelled", name)));
  if (lease) {
    rpc::CancelTaskRequest req;
    req.set_task_id(id.Binary());
    req.set_force(force);
    req.set_recursive(recursive);
    rpc::CallAsync(lease->stub->async(), &rpc::CoreWorkerService::Stub::async::CancelTask, req,
                   5000, [lease](const absl::Status&, rpc::CancelTaskReply&&) {});
    if (force) ReturnLease(lease, /*disconnect=*/true);
  }
  return absl::OkStatus();
}

void TaskSubmitter::CancelChildrenOf(const TaskID& parent) {
  std::vector<TaskID> children;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, t] : tasks_) {
      if (t.spec.parent_task_id() == parent.Binary()) children.push_back(id);
    }
  }
  for (const auto& c : children) Cancel(c, /*force=*/false, /*recursive=*/true).IgnoreError();
}

void TaskSubmitter::ReturnLease(const std::shared_ptr<Lease>& lease, bool disconnect) {
  rpc::ReturnWorkerRequest req;
  req.set_worker_id(lease->worker.worker_id());
  req.set_lease_id(lease->lease_id);
  req.set_disconnect(disconnect);
  rpc::CallAsync(RayletStub(lease->raylet_address)->async(),
                 &rpc::NodeManagerService::Stub::async::ReturnWorker, req, 5000,
                 [](const absl::Status&, rpc::ReturnWorkerReply&&) {});
}

void TaskSubmitter::TimerLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
    std::vector<std::shared_ptr<Lease>> to_return;
    std::vector<std::pair<std::string, std::string>> to_cancel;  // raylet, lease id
    std::vector<Action> actions;
    {
      absl::MutexLock lock(&mu_);
      absl::Time cutoff =
          absl::Now() - absl::Milliseconds(worker_->config().worker_lease_timeout_ms());
      for (auto& [key, q] : queues_) {
        if (q.tasks.empty()) {
          for (auto it = q.leases.begin(); it != q.leases.end();) {
            if (!(*it)->busy && (*it)->idle_since < cutoff) {
              to_return.push_back(*it);
              it = q.leases.erase(it);
            } else {
              ++it;
            }
          }
          for (const auto& [lease_id, raylet] : q.pending_requests)
            to_cancel.emplace_back(raylet, lease_id);
          q.pending_requests.clear();
        } else {
          Pump(key, &actions);
        }
      }
    }
    for (auto& l : to_return) ReturnLease(l, false);
    for (auto& [raylet, lease_id] : to_cancel) {
      rpc::CancelLeaseRequest req;
      req.set_lease_id(lease_id);
      rpc::CallAsync(RayletStub(raylet)->async(),
                     &rpc::NodeManagerService::Stub::async::CancelLease, req, 5000,
                     [](const absl::Status&, rpc::CancelLeaseReply&&) {});
    }
    for (auto& a : actions) a();
  }
}

}  // namespace photon::core
