#include "photon/core_worker/submit/task_submitter.h"

#include <iostream>

#include "fmt/format.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"

namespace photon::core {
namespace {

// How many lease requests one scheduling key may have outstanding; more
// requests let more nodes (through spillback) work on a long queue at once.
constexpr size_t kMaxPendingLeaseRequests = 8;

std::string SchedulingKey(const rpc::TaskSpec& spec) {
  std::map<std::string, double> sorted(spec.resources().begin(), spec.resources().end());
  std::string key;
  for (const auto& [k, v] : sorted) key += fmt::format("{}={};", k, v);
  // Tasks share leases only when they share their placement rules (resources
  // in a placement group carry the group's name already).
  const rpc::SchedulingStrategy& st = spec.scheduling();
  if (!st.node_id().empty() || st.spread()) {
    key += fmt::format("|{}{}{}", st.node_id(), st.soft() ? "s" : "", st.spread() ? "S" : "");
  }
  if (!spec.runtime_env().empty()) key += "|R" + spec.runtime_env();
  if (st.by_labels()) {
    rpc::SchedulingStrategy labels;
    *labels.mutable_label_hard() = st.label_hard();
    *labels.mutable_label_soft() = st.label_soft();
    key += "|L" + labels.SerializeAsString();
  }
  return key;
}

std::string NewLeaseId() {
  uint8_t b[16];
  FillRandom(b, sizeof(b));
  return std::string(reinterpret_cast<char*>(b), sizeof(b));
}

}  // namespace

TaskSubmitter::TaskSubmitter(Deps deps) : d_(std::move(deps)) {}

void TaskSubmitter::Stop() {
  std::vector<std::shared_ptr<Lease>> leases;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
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

size_t TaskSubmitter::NumLeases() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [key, q] : queues_) n += q.leases.size();
  return n;
}

void TaskSubmitter::Submit(rpc::TaskSpec spec) {
  TaskID id = TaskID::FromBinaryOrDie(spec.task_id());
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    Task& t = tasks_[id];
    t.key = SchedulingKey(spec);
    t.retries_left = spec.max_retries();
    t.name = spec.name();
    t.parent = spec.parent_task_id();
  }
  d_.resolver->Resolve(std::move(spec),
                       [this, id](rpc::TaskSpec resolved, std::optional<rpc::ErrorInfo> error) {
                         OnResolved(id, std::move(resolved), std::move(error));
                       });
}

void TaskSubmitter::OnResolved(const TaskID& id, rpc::TaskSpec spec,
                               std::optional<rpc::ErrorInfo> error) {
  if (error) {
    // An argument failed: this task fails with the same error.
    FailTask(id, *error);
    return;
  }
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.cancelled) return;
    Task& t = it->second;
    t.spec = std::move(spec);
    t.resolved = true;
    Queue& q = queues_[t.key];
    if (q.lease_template.worker_command().empty()) {
      auto& lt = q.lease_template;
      *lt.mutable_resources() = t.spec.resources();
      lt.set_language(d_.language);
      lt.set_job_id(d_.job.Binary());
      lt.set_function_name(t.spec.name());
      lt.set_retriable(t.spec.max_retries() != 0);
      lt.set_owner_id(t.spec.caller().worker_id());
      *lt.mutable_scheduling() = t.spec.scheduling();
      for (const auto& a : d_.worker_command) lt.add_worker_command(a);
      for (const auto& [k, v] : d_.worker_env) (*lt.mutable_worker_env())[k] = v;
      if (!t.spec.runtime_env().empty()) {
        (*lt.mutable_worker_env())[ConfigEnvVar("runtime_env")] = t.spec.runtime_env();
      }
      q.wait_reason = std::make_shared<const std::string>(WaitReason(t.spec));
    }
    q.tasks.push_back(id);
    d_.tasks->NoteStatus(id, rpc::PENDING_NODE_ASSIGNMENT);  // its mutex is a leaf too
    // The buffer's mutex is a leaf (it calls nothing while held), so this
    // records under ours rather than paying for a deferred action per task.
    if (TaskEventBuffer* events = d_.tasks->events()) {
      events->RecordWaiting(id, id.JobId(), t.spec.attempt(),
                            q.infeasible_reason ? q.infeasible_reason : q.wait_reason);
    }
    Pump(t.key, &actions);
  }
  for (auto& a : actions) a();
}

std::string TaskSubmitter::WaitReason(const rpc::TaskSpec& spec) {
  std::map<std::string, double> shape(spec.resources().begin(), spec.resources().end());
  std::string text;
  for (const auto& [k, v] : shape)
    text += fmt::format("{}{}: {:g}", text.empty() ? "" : ", ", k, v);
  const auto& s = spec.scheduling();
  if (!s.placement_group_id().empty()) {
    auto pg = PlacementGroupID::FromBinary(s.placement_group_id());
    return fmt::format(
        "waiting for a worker lease of {{{}}} in placement group {} (bundle {})", text,
        pg.ok() ? pg->Hex() : "?",
        s.bundle_index() < 0 ? std::string("any") : std::to_string(s.bundle_index()));
  }
  return fmt::format("waiting for a worker lease of {{{}}}", text);
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
    rpc::TaskSpec spec = SpecForLease(it->second, *lease);
    auto backoff =
        std::make_shared<Backoff>(absl::Milliseconds(d_.config->rpc_retry_initial_backoff_ms()),
                                  absl::Milliseconds(d_.config->rpc_retry_max_backoff_ms()));
    actions->push_back([this, key, lease, id, spec = std::move(spec), backoff]() mutable {
      PushTask(key, lease, id, std::move(spec), backoff);
    });
  }
  if (q.tasks.empty()) {
    CancelUnneededRequests(q, actions);
    return;
  }
  // Ask for more workers while tasks wait (unless waiting out a retry delay).
  if (q.retry_scheduled || stopped_) return;
  size_t wanted = std::min(q.tasks.size(), kMaxPendingLeaseRequests);
  if (q.pending_requests.size() < wanted) ReturnIdleLeasesOfOthers(key, actions);
  while (q.pending_requests.size() < wanted) {
    std::string lease_id = NewLeaseId();
    q.pending_requests[lease_id] = d_.local_raylet;
    actions->push_back([this, key, raylet = d_.local_raylet, lease_id] {
      RequestLease(key, raylet, lease_id, false);
    });
  }
}

bool TaskSubmitter::OtherShapeWaitsLocked(const std::string& key) const {
  if (queues_.size() < 2) return false;
  for (const auto& [k, q] : queues_) {
    if (k != key && !q.pending_requests.empty()) return true;
  }
  return false;
}

void TaskSubmitter::ReturnIdleLeasesOfOthers(const std::string& key, std::vector<Action>* actions) {
  if (queues_.size() < 2) return;
  for (auto& [k, q] : queues_) {
    if (k == key || !q.tasks.empty()) continue;
    for (auto it = q.leases.begin(); it != q.leases.end();) {
      std::shared_ptr<Lease> lease = *it;
      if (lease->busy || lease->dead) {
        ++it;
        continue;
      }
      lease->dead = true;
      it = q.leases.erase(it);
      actions->push_back([this, lease] { ReturnLease(lease, false); });
    }
  }
}

void TaskSubmitter::CancelUnneededRequests(Queue& q, std::vector<Action>* actions) {
  for (const auto& [lease_id, raylet] : q.pending_requests) {
    rpc::CancelLeaseRequest req;
    req.set_lease_id(lease_id);
    actions->push_back([this, raylet = raylet, req] {
      d_.raylets->Get(raylet)->CancelLease(
          req, rpc::LogIfFailed<rpc::CancelLeaseReply>(
                   "CancelLease (a worker granted anyway is returned when its reply comes)"));
    });
  }
  q.pending_requests.clear();
}

void TaskSubmitter::RetryLeasesAfter(const std::string& key, absl::Duration delay) {
  Queue& q = queues_[key];
  if (q.retry_scheduled) return;
  q.retry_scheduled = true;
  d_.timer->RunAfter("retry lease requests", delay, [this, key, g = d_.guard] {
    auto token = g->Enter();
    if (!token) return;
    std::vector<Action> actions;
    {
      absl::MutexLock lock(&mu_);
      queues_[key].retry_scheduled = false;
      Pump(key, &actions);
    }
    for (auto& a : actions) a();
  });
}

void TaskSubmitter::RequestLease(const std::string& key, const std::string& raylet,
                                 const std::string& lease_id, bool grant_or_reject) {
  rpc::RequestWorkerLeaseRequest req;
  {
    absl::MutexLock lock(&mu_);
    req = queues_[key].lease_template;
  }
  req.set_lease_id(lease_id);
  req.set_grant_or_reject(grant_or_reject);
  PHOTON_LOG_DEBUG("requesting a lease at {} for key {}", raylet, key);
  d_.raylets->Get(raylet)->RequestWorkerLease(
      req, [this, key, raylet, lease_id, g = d_.guard](const absl::Status& s,
                                                       rpc::RequestWorkerLeaseReply&& reply) {
        auto token = g->Enter();
        if (token) OnLeaseReply(key, raylet, lease_id, s, std::move(reply));
      });
}

void TaskSubmitter::OnLeaseReply(const std::string& key, const std::string& raylet,
                                 const std::string& lease_id, const absl::Status& status,
                                 rpc::RequestWorkerLeaseReply&& reply) {
  std::vector<Action> actions;
  std::vector<TaskID> to_fail;
  std::string fail_message;
  std::shared_ptr<Lease> unneeded;
  PHOTON_LOG_DEBUG("lease reply from {}: {}", raylet, status.ToString());
  {
    absl::MutexLock lock(&mu_);
    Queue& q = queues_[key];
    if (!q.pending_requests.contains(lease_id) || stopped_) {
      // Cancelled meanwhile; give back a worker we no longer asked for.
      if (status.ok() && reply.has_worker()) {
        unneeded = std::make_shared<Lease>();
        unneeded->worker = reply.worker();
        unneeded->raylet = raylet;
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
      // The raylet did not answer within the retry policy: ask again later.
      q.pending_requests.erase(lease_id);
      PHOTON_LOG_WARN("lease request to raylet {} failed: {}; asking again", raylet,
                      std::string(status.message()));
      RetryLeasesAfter(key, absl::Milliseconds(d_.config->lease_retry_delay_ms()));
    } else if (reply.has_retry_at_raylet()) {
      std::string next = rpc::HostPort(reply.retry_at_raylet());
      q.pending_requests[lease_id] = next;
      actions.push_back([this, key, next, lease_id] { RequestLease(key, next, lease_id, true); });
    } else if (reply.infeasible() && !q.lease_template.scheduling().placement_group_id().empty()) {
      // The group's bundles exist (the request was checked against them), so
      // the raylet's view of the cluster has not caught up with their commit:
      // ask again soon, without alarming the user.
      q.pending_requests.erase(lease_id);
      RetryLeasesAfter(key, absl::Milliseconds(d_.config->placement_group_retry_delay_ms()));
    } else if (reply.infeasible()) {
      q.pending_requests.erase(lease_id);
      // The tasks waiting now, and those that queue up until a lease is
      // granted, show why.
      const bool newly = q.infeasible_reason == nullptr;
      if (newly) {
        q.infeasible_reason = std::make_shared<const std::string>("infeasible: " + reply.message());
      }
      if (!q.warned_infeasible) {
        q.warned_infeasible = true;
        std::cerr << "photon: warning: a task cannot be scheduled: " << reply.message()
                  << ". It stays pending until a node that fits joins the cluster.\n";
        PHOTON_LOG_WARN("infeasible task: {}", reply.message());
      }
      if (newly) {
        if (d_.tasks->events() != nullptr) {
          for (const TaskID& t : q.tasks) {
            auto it = tasks_.find(t);
            if (it == tasks_.end()) continue;
            actions.push_back(
                [this, t, attempt = it->second.spec.attempt(), why = *q.infeasible_reason] {
                  d_.tasks->events()->RecordPendingReason(t, t.JobId(), attempt, why);
                });
          }
        }
      }
      RetryLeasesAfter(key, absl::Milliseconds(d_.config->infeasible_retry_delay_ms()));
    } else if (reply.rejected()) {
      q.pending_requests.erase(lease_id);
      if (reply.message().find("cancelled") == std::string::npos) {
        to_fail.assign(q.tasks.begin(), q.tasks.end());
        q.tasks.clear();
        fail_message = reply.message();
      }
    } else if (reply.has_worker()) {
      q.pending_requests.erase(lease_id);
      q.infeasible_reason.reset();
      auto lease = std::make_shared<Lease>();
      lease->worker = reply.worker();
      lease->gpu_ids.assign(reply.gpu_ids().begin(), reply.gpu_ids().end());
      lease->raylet = raylet;
      lease->lease_id = lease_id;
      lease->client = d_.workers->Get(lease->worker);
      lease->idle_since = d_.timer->Now();
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

rpc::TaskSpec TaskSubmitter::SpecForLease(const Task& t, const Lease& lease) {
  rpc::TaskSpec spec = t.spec;
  for (int g : lease.gpu_ids) spec.add_assigned_gpu_ids(g);
  return spec;
}

void TaskSubmitter::PushTask(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                             rpc::TaskSpec spec, std::shared_ptr<Backoff> backoff) {
  d_.tasks->RecordStatus(id, spec.attempt(), rpc::SUBMITTED_TO_WORKER);
  rpc::PushTaskRequest req;
  *req.mutable_task() = std::move(spec);
  req.set_intended_worker_id(lease->worker.worker_id());
  lease->client->PushTask(std::move(req), [this, key, lease, id, backoff, g = d_.guard](
                                              const absl::Status& s, rpc::PushTaskReply&& reply) {
    auto token = g->Enter();
    if (!token) return;
    if (rpc::IsTransient(s)) {
      OnPushUnanswered(key, lease, id, backoff, s);
      return;
    }
    OnPushReply(key, lease, id, s, std::move(reply));
  });
}

void TaskSubmitter::OnPushUnanswered(const std::string& key, std::shared_ptr<Lease> lease,
                                     const TaskID& id, std::shared_ptr<Backoff> backoff,
                                     const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (lease->dead || it == tasks_.end() || it->second.cancelled) {
      // Killed by a forced cancel, or cancelled: nothing to retry.
      lease->busy = false;
      return;
    }
  }
  std::string why(status.message());
  d_.liveness->Check(lease->worker, [this, key, lease, id, backoff, why, g = d_.guard](
                                        WorkerLiveness::State state, const std::string& reason) {
    auto token = g->Enter();
    if (!token) return;
    if (state == WorkerLiveness::State::kDead) {
      OnWorkerDied(key, lease, id, fmt::format("{} ({})", reason, why));
      return;
    }
    // The worker lives: it is busy, or the call was lost. Send it again; a
    // worker that already has the task answers with its reply.
    PHOTON_LOG_DEBUG("push of task {} unanswered ({}); sending it again", id.Hex(), why);
    d_.timer->RunAfter("resend task", backoff->Next(), [this, key, lease, id, backoff, g] {
      auto token = g->Enter();
      if (!token) return;
      std::optional<rpc::TaskSpec> spec;
      {
        absl::MutexLock lock(&mu_);
        auto it = tasks_.find(id);
        if (lease->dead || it == tasks_.end() || it->second.cancelled) {
          lease->busy = false;
          return;
        }
        spec = SpecForLease(it->second, *lease);
      }
      PushTask(key, lease, id, std::move(*spec), backoff);
    });
  });
}

void TaskSubmitter::OnWorkerDied(const std::string& key, std::shared_ptr<Lease> lease,
                                 const TaskID& id, const std::string& why) {
  std::vector<Action> actions;
  std::optional<rpc::ErrorInfo> fail;
  std::optional<int> retry_attempt;
  {
    absl::MutexLock lock(&mu_);
    Queue& q = queues_[key];
    lease->busy = false;
    lease->dead = true;
    std::erase(q.leases, lease);
    auto it = tasks_.find(id);
    if (it != tasks_.end() && !it->second.cancelled) {
      Task& t = it->second;
      if (t.retries_left != 0) {
        if (t.retries_left > 0) --t.retries_left;
        t.spec.set_attempt(t.spec.attempt() + 1);
        retry_attempt = t.spec.attempt();
        t.pushed = false;
        t.lease.reset();
        q.tasks.push_front(id);
        PHOTON_LOG_INFO("task {} lost its worker ({}); retrying", t.spec.name(), why);
      } else {
        // The raylet's memory monitor names itself in the reason (raylet/memory_monitor.h).
        const bool oom = why.find("the memory monitor killed it") != std::string::npos;
        if (d_.liveness->NodeDied(lease->worker)) {
          fail = MakeError(rpc::NODE_DIED,
                           fmt::format("the node running task '{}' died ({}), and no retries "
                                       "are left (max_retries={})",
                                       t.spec.name(), why, t.spec.max_retries()));
        } else {
          fail = MakeError(oom ? rpc::OUT_OF_MEMORY : rpc::WORKER_DIED,
                           fmt::format("the worker running task '{}' died ({}), and no retries "
                                       "are left (max_retries={})",
                                       t.spec.name(), why, t.spec.max_retries()));
        }
      }
    }
    Pump(key, &actions);
  }
  if (retry_attempt) {
    const bool node_died = d_.liveness->NodeDied(lease->worker);
    d_.tasks->RecordRetry(id, *retry_attempt,
                          MakeError(node_died ? rpc::NODE_DIED : rpc::WORKER_DIED,
                                    fmt::format("the {} running the task died ({})",
                                                node_died ? "node" : "worker", why)));
  }
  // The raylet reclaims the lease of a dead worker; the return just says so.
  ReturnLease(lease, true);
  for (auto& a : actions) a();
  if (fail) FailTask(id, *fail);
}

void TaskSubmitter::OnPushReply(const std::string& key, std::shared_ptr<Lease> lease,
                                const TaskID& id, const absl::Status& status,
                                rpc::PushTaskReply&& reply) {
  if (!status.ok()) {
    // Refused outright (not a lost call): the worker is not the one leased
    // (it exited and another took its port) or cannot run tasks.
    OnWorkerDied(key, lease, id, std::string(status.message()));
    return;
  }
  // The executor's side of the attempt goes with this process's events.
  if (TaskEventBuffer* events = d_.tasks->events(); events != nullptr && reply.has_execution()) {
    events->RecordExecutionReport(std::move(*reply.mutable_execution()));
  }
  // Arguments lost before it ran: rebuilt (by their owner, this process)
  // and the task runs again once they are back; this is not a retry.
  bool rerun = false;
  if (!reply.lost_args().empty() && d_.rebuild_args) {
    std::vector<ObjectID> lost;
    for (const auto& b : reply.lost_args()) {
      if (auto oid = ObjectID::FromBinary(b); oid.ok()) lost.push_back(*oid);
    }
    rerun = d_.rebuild_args(lost);
  }
  std::optional<rpc::TaskSpec> resubmit;
  std::vector<Action> actions;
  bool finish = false;
  bool drop_lease = false;    // returned, and its worker stopped
  bool return_lease = false;  // returned, its worker kept
  std::optional<rpc::TaskSpec> lineage;
  int retries_left = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    Queue& q = queues_[key];
    lease->busy = false;
    lease->idle_since = d_.timer->Now();
    if (reply.worker_exiting()) {
      // The worker is going (max_calls): never reuse this lease.
      lease->dead = true;
      drop_lease = true;
      std::erase(q.leases, lease);
    } else if (q.lease_template.scheduling().spread() && !lease->dead) {
      // SPREAD spreads tasks, not leases: each task asks the raylets anew
      // (their round-robin picks its node), so a reused lease cannot carry a
      // burst to one node. The worker stays in its raylet's pool.
      lease->dead = true;
      return_lease = true;
      std::erase(q.leases, lease);
    } else if (!lease->dead) {
      ScheduleIdleCheck(key, lease, absl::Milliseconds(d_.config->worker_lease_timeout_ms()));
    }
    if (it != tasks_.end() && !it->second.cancelled) {
      Task& t = it->second;
      if (rerun) {
        resubmit = t.spec;
        resubmit->set_attempt(t.spec.attempt() + 1);
        actions.push_back([this, id, attempt = resubmit->attempt()] {
          d_.tasks->RecordRetry(id, attempt,
                                MakeError(rpc::OBJECT_LOST, "arguments of the task were lost"));
        });
        resubmit->set_max_retries(t.retries_left);
        tasks_.erase(it);
      } else if (reply.is_application_error() && t.spec.retry_exceptions() && t.retries_left != 0) {
        if (t.retries_left > 0) --t.retries_left;
        t.spec.set_attempt(t.spec.attempt() + 1);
        if (d_.tasks->events() != nullptr) {
          actions.push_back([this, id, attempt = t.spec.attempt(), error = reply.error()] {
            d_.tasks->RecordRetry(id, attempt, error);
          });
        }
        t.pushed = false;
        t.lease.reset();
        q.tasks.push_front(id);
      } else {
        t.completed = true;  // a Cancel from now on finds nothing to cancel
        finish = true;
        // Lineage: a task that may run again and left a return in a store
        // hands its spec (and the retries it has left) to the TaskManager.
        bool in_a_store = false;
        for (const auto& r : reply.returns()) in_a_store |= r.in_plasma();
        // (attempt > 0: it had retries, now maybe spent; kept so that a later
        // loss says the attempts ran out.)
        if (in_a_store && (t.spec.max_retries() != 0 || t.spec.attempt() > 0)) {
          lineage = t.spec;
          retries_left = t.retries_left;
        }
      }
    }
    // Nothing more of this shape to run while another shape waits for a
    // worker: give the worker back now (its raylet hands it on) rather than
    // idling on it for worker_lease_timeout_ms.
    if (!lease->dead && !lease->busy && q.tasks.empty() && OtherShapeWaitsLocked(key)) {
      lease->dead = true;
      return_lease = true;
      std::erase(q.leases, lease);
    }
    Pump(key, &actions);
  }
  if (drop_lease || return_lease) ReturnLease(lease, /*disconnect=*/drop_lease);
  for (auto& a : actions) a();
  if (resubmit) {
    PHOTON_LOG_INFO("task '{}' found arguments lost; running it again once they are rebuilt",
                    resubmit->name());
    Submit(std::move(*resubmit));
  }
  if (finish) {
    d_.tasks->CompleteTask(id, reply, lineage ? &*lineage : nullptr, retries_left);
    absl::MutexLock lock(&mu_);
    FinishTask(id);
  }
}

void TaskSubmitter::ScheduleIdleCheck(const std::string& key, const std::shared_ptr<Lease>& lease,
                                      absl::Duration delay) {
  if (lease->idle_check_pending) return;
  lease->idle_check_pending = true;
  std::weak_ptr<Lease> weak = lease;
  d_.timer->RunAfter("return idle lease", delay, [this, key, weak, g = d_.guard] {
    auto token = g->Enter();
    if (!token) return;
    if (auto l = weak.lock()) MaybeReturnIdle(key, l);
  });
}

void TaskSubmitter::MaybeReturnIdle(const std::string& key, std::shared_ptr<Lease> lease) {
  {
    absl::MutexLock lock(&mu_);
    lease->idle_check_pending = false;
    Queue& q = queues_[key];
    if (lease->busy || lease->dead || !q.tasks.empty()) {
      return;  // in use again: the end of its next task schedules a check
    }
    const absl::Duration timeout = absl::Milliseconds(d_.config->worker_lease_timeout_ms());
    absl::Duration idle = d_.timer->Now() - lease->idle_since;
    if (idle < timeout) {
      // It ran tasks since this check was scheduled: look again when its
      // current idle period reaches the timeout.
      ScheduleIdleCheck(key, lease, timeout - idle);
      return;
    }
    auto it = std::find(q.leases.begin(), q.leases.end(), lease);
    if (it == q.leases.end()) return;
    q.leases.erase(it);
  }
  ReturnLease(lease, false);
}

void TaskSubmitter::FinishTask(const TaskID& id) { tasks_.erase(id); }

void TaskSubmitter::FailTask(const TaskID& id, const rpc::ErrorInfo& error) {
  d_.tasks->FailTask(id, error);
  absl::MutexLock lock(&mu_);
  FinishTask(id);
}

absl::Status TaskSubmitter::Cancel(const TaskID& id, bool force, bool recursive) {
  std::string name;
  std::shared_ptr<Lease> lease;
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.completed) {
      return absl::NotFoundError("the task has finished");
    }
    it->second.cancelled = true;
    name = it->second.name;
    Queue& q = queues_[it->second.key];
    std::erase(q.tasks, id);
    if (it->second.pushed) lease = it->second.lease;
    if (lease && force) lease->dead = true;  // never reused: it is killed below
    if (q.tasks.empty()) CancelUnneededRequests(q, &actions);
  }
  for (auto& a : actions) a();
  FailTask(id, MakeError(rpc::TASK_CANCELLED, fmt::format("task '{}' was cancelled", name)));
  if (lease) {
    rpc::CancelTaskRequest req;
    req.set_task_id(id.Binary());
    req.set_force(force);
    req.set_recursive(recursive);
    auto client = lease->client;
    d_.liveness->CallWhileAlive<rpc::CancelTaskReply>(
        lease->worker, "CancelTask",
        [client, req](rpc::ReplyCallback<rpc::CancelTaskReply> cb) {
          client->CancelTask(req, std::move(cb));
        },
        rpc::LogIfFailed<rpc::CancelTaskReply>(
            fmt::format("CancelTask of '{}' (its result is already TASK_CANCELLED)", name)));
    if (force) ReturnLease(lease, /*disconnect=*/true);
  }
  return absl::OkStatus();
}

void TaskSubmitter::CancelChildrenOf(const TaskID& parent) {
  std::vector<TaskID> children;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, t] : tasks_) {
      if (t.parent == parent.Binary()) children.push_back(id);
    }
  }
  for (const auto& c : children) {
    // NotFound: the child finished meanwhile, which is what cancelling wants.
    Cancel(c, /*force=*/false, /*recursive=*/true).IgnoreError();
  }
}

void TaskSubmitter::ReturnLease(const std::shared_ptr<Lease>& lease, bool disconnect) {
  rpc::ReturnWorkerRequest req;
  req.set_worker_id(lease->worker.worker_id());
  req.set_lease_id(lease->lease_id);
  req.set_disconnect(disconnect);
  d_.raylets->Get(lease->raylet)
      ->ReturnWorker(req, [](const absl::Status& s, rpc::ReturnWorkerReply&&) {
        // Cancelled: this process is stopping, and its raylet reclaims its
        // leases when it ends; nothing worth a warning at every shutdown.
        if (s.ok() || absl::IsCancelled(s)) return;
        PHOTON_LOG_WARN(
            "ReturnWorker failed: {} (the raylet reclaims the lease when the worker or this "
            "process ends)",
            std::string(s.message()));
      });
}

}  // namespace photon::core
