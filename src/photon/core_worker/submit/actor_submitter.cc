#include "photon/core_worker/submit/actor_submitter.h"

#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::core {
namespace {

// After this many sends of a call that got no answer, the actor's state is
// looked up at the GCS (its update may have been missed).
constexpr int kUnansweredBeforeLookup = 3;

}  // namespace

ActorSubmitter::ActorSubmitter(Deps deps) : d_(std::move(deps)) {}

size_t ActorSubmitter::NumActors() const {
  absl::MutexLock lock(&mu_);
  return actors_.size();
}

rpc::ErrorInfo ActorSubmitter::DeathCause(const rpc::ActorTableData& data) {
  rpc::ErrorInfo cause = data.death_cause();
  if (cause.message().empty()) {
    cause.set_type(rpc::ACTOR_DIED);
    cause.set_message("the actor is dead");
  }
  return cause;
}

void ActorSubmitter::EnsureSubscribed() {
  {
    absl::MutexLock lock(&mu_);
    if (subscribed_) return;
    subscribed_ = true;
  }
  d_.gcs->Subscribe({rpc::ACTOR_CHANNEL}, "",
                    [this](const rpc::PubMessage& m) { OnActorUpdate(m.actor()); });
}

rpc::ActorTableData ActorSubmitter::EnsureKnown(const ActorID& id) {
  EnsureSubscribed();
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it != actors_.end() && it->second.known) return it->second.data;
    actors_[id];  // so that updates from now on are kept
  }
  auto info = d_.gcs->GetActorInfo(id);
  if (info.ok() && info->has_value()) {
    OnActorUpdate(**info);
  } else {
    rpc::ActorTableData dead;
    dead.set_actor_id(id.Binary());
    dead.set_state(rpc::ActorTableData::DEAD);
    dead.set_version(1);
    dead.mutable_death_cause()->set_type(rpc::ACTOR_DIED);
    dead.mutable_death_cause()->set_message(
        info.ok() ? fmt::format("no actor {} exists in this cluster", id.Hex())
                  : fmt::format("cannot look up actor {}: {}", id.Hex(),
                                std::string(info.status().message())));
    OnActorUpdate(dead);
  }
  absl::MutexLock lock(&mu_);
  return actors_[id].data;
}

void ActorSubmitter::AddOwnedActor(const ActorID& id, const rpc::ActorTableData& data,
                                   const TaskID& creation_task) {
  absl::MutexLock lock(&mu_);
  Actor& a = actors_[id];
  a.owned = true;
  a.known = true;
  a.data = data;
  a.creation_task = creation_task;
}

size_t ActorSubmitter::NumPendingCalls(const ActorID& actor) {
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(actor);
  return it == actors_.end() ? 0 : it->second.calls.size();
}

void ActorSubmitter::Submit(const ActorID& actor, rpc::TaskSpec spec) {
  EnsureKnown(actor);
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    Actor& a = actors_[actor];
    seq = a.next_seq++;
    spec.set_sequence_number(seq);
    Call& c = a.calls[seq];
    c.retries_left = a.data.max_task_retries();
    c.task = TaskID::FromBinaryOrDie(spec.task_id());
    c.name = spec.name();
    c.backoff =
        std::make_shared<Backoff>(absl::Milliseconds(d_.config->rpc_retry_initial_backoff_ms()),
                                  absl::Milliseconds(d_.config->rpc_retry_max_backoff_ms()));
  }
  d_.resolver->Resolve(std::move(spec), [this, actor, seq](rpc::TaskSpec resolved,
                                                           std::optional<rpc::ErrorInfo> error) {
    OnResolved(actor, seq, std::move(resolved), std::move(error));
  });
}

void ActorSubmitter::OnResolved(const ActorID& actor, uint64_t seq, rpc::TaskSpec spec,
                                std::optional<rpc::ErrorInfo> error) {
  std::vector<Action> actions;
  std::optional<std::pair<TaskID, rpc::ErrorInfo>> failed;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor);
    if (it == actors_.end()) return;
    Actor& a = it->second;
    auto c = a.calls.find(seq);
    if (c == a.calls.end()) return;  // cancelled or failed meanwhile
    TaskID task = c->second.task;
    if (error) {
      failed.emplace(task, *error);  // an argument failed: so does the call
      a.calls.erase(c);
    } else if (a.data.state() == rpc::ActorTableData::DEAD) {
      failed.emplace(task, DeathCause(a.data));
      a.calls.erase(c);
    } else {
      c->second.spec = std::move(spec);
      c->second.resolved = true;
      SendReady(actor, a, &actions);
    }
    if (failed) MaybeDestroy(actor, a, &actions);
  }
  if (failed) d_.tasks->FailTask(failed->first, failed->second);
  for (auto& f : actions) f();
}

void ActorSubmitter::SendReady(const ActorID& id, Actor& a, std::vector<Action>* actions) {
  if (a.data.state() != rpc::ActorTableData::ALIVE || a.data.address().port() == 0) return;
  const rpc::Address& to = a.data.address();
  std::shared_ptr<rpc::CoreWorkerClient> client = ClientFor(a);
  uint64_t skip_before = a.calls.empty() ? a.next_seq : a.calls.begin()->first;
  for (auto& [seq, call] : a.calls) {
    if (call.sent || !call.resolved) continue;
    call.sent = true;
    call.sent_to = to.worker_id();
    call.unanswered = 0;
    rpc::PushTaskRequest req;
    *req.mutable_task() = call.spec;
    req.set_intended_worker_id(to.worker_id());
    req.set_skip_before(skip_before);
    req.set_caller_worker_id(d_.self_worker_id);
    actions->push_back([this, id, s = seq, client, req = std::move(req)]() mutable {
      d_.tasks->RecordStatus(TaskID::FromBinaryOrDie(req.task().task_id()), req.task().attempt(),
                             rpc::SUBMITTED_TO_WORKER);
      Send(id, s, client, std::move(req));
    });
  }
}

std::shared_ptr<rpc::CoreWorkerClient> ActorSubmitter::ClientFor(Actor& a) {
  const rpc::Address& to = a.data.address();
  if (a.client == nullptr || a.client->address().worker_id() != to.worker_id() ||
      a.client->address().port() != to.port() || a.client->address().ip() != to.ip()) {
    a.client = d_.workers->Get(to);
  }
  return a.client;
}

void ActorSubmitter::Send(const ActorID& id, uint64_t seq,
                          std::shared_ptr<rpc::CoreWorkerClient> to, rpc::PushTaskRequest req) {
  std::string worker = to->address().worker_id();
  to->PushTask(std::move(req), [this, id, seq, worker = std::move(worker), g = d_.guard](
                                   const absl::Status& st, rpc::PushTaskReply&& reply) {
    auto token = g->Enter();
    if (token) OnReply(id, seq, worker, st, std::move(reply));
  });
}

void ActorSubmitter::OnIncarnationGone(const ActorID& id, Actor& a, uint64_t seq,
                                       const std::string& why,
                                       std::vector<std::pair<TaskID, rpc::ErrorInfo>>* failed) {
  auto c = a.calls.find(seq);
  if (c == a.calls.end()) return;
  Call& call = c->second;
  if (call.retries_left != 0 && a.data.state() != rpc::ActorTableData::DEAD) {
    // Resent to the next incarnation once it is alive.
    if (call.retries_left > 0) --call.retries_left;
    call.sent = false;
    return;
  }
  rpc::ErrorInfo error;
  if (a.data.state() == rpc::ActorTableData::DEAD && a.data.has_death_cause() &&
      !a.data.death_cause().message().empty()) {
    error = a.data.death_cause();
  } else {
    error.set_type(rpc::ACTOR_DIED);
    error.set_message(
        fmt::format("the actor died while running '{}' ({}), and the call may not be retried "
                    "(max_task_retries={})",
                    call.name, why, a.data.max_task_retries()));
  }
  failed->emplace_back(call.task, error);
  a.calls.erase(c);
}

void ActorSubmitter::OnReply(const ActorID& id, uint64_t seq, const std::string& worker,
                             const absl::Status& s, rpc::PushTaskReply&& reply) {
  std::vector<Action> actions;
  std::vector<std::pair<TaskID, rpc::ErrorInfo>> failed;
  std::optional<TaskID> done;
  std::optional<rpc::TaskSpec> lineage;
  int retries_left = 0;
  bool lookup = false;
  // The executor's side of the call goes with this process's events.
  if (TaskEventBuffer* events = d_.tasks->events();
      events != nullptr && s.ok() && reply.has_execution()) {
    events->RecordExecutionReport(std::move(*reply.mutable_execution()));
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end()) return;
    Actor& a = it->second;
    auto c = a.calls.find(seq);
    if (c == a.calls.end() || c->second.sent_to != worker) return;  // stale
    Call& call = c->second;
    const bool same_incarnation =
        a.data.state() == rpc::ActorTableData::ALIVE && a.data.address().worker_id() == worker;
    if (s.ok() && !reply.worker_exiting()) {
      done = call.task;
      // Lineage, as in Ray, only for a call that may run again
      // (max_task_retries) and left a return in a store.
      bool in_a_store = false;
      for (const auto& r : reply.returns()) in_a_store |= r.in_plasma();
      if (in_a_store && (call.retries_left != 0 || call.spec.attempt() > 0)) {
        lineage = call.spec;
        retries_left = call.retries_left;
      }
      a.calls.erase(c);
    } else if (rpc::IsTransient(s) && same_incarnation) {
      // No answer, and nothing says the actor's worker died: send the call
      // again (the receiver answers a resend with the call's reply).
      ++call.unanswered;
      lookup = call.unanswered % kUnansweredBeforeLookup == 0;
      rpc::PushTaskRequest req;
      *req.mutable_task() = call.spec;
      req.set_intended_worker_id(worker);
      req.set_skip_before(a.calls.begin()->first);
      req.set_caller_worker_id(d_.self_worker_id);
      std::shared_ptr<rpc::CoreWorkerClient> to = ClientFor(a);
      d_.timer->RunAfter("resend actor call", call.backoff->Next(),
                         [this, id, seq, to, req = std::move(req), g = d_.guard]() mutable {
                           auto token = g->Enter();
                           if (token) Send(id, seq, to, std::move(req));
                         });
    } else {
      // The incarnation is gone (the GCS said so, or the worker refused the
      // call because it exits or is not the actor's any more).
      std::string why = s.ok() ? "its worker is exiting" : std::string(s.message());
      if (same_incarnation) {
        // The GCS has not said so yet: wait for its update before resending.
        a.data.set_state(rpc::ActorTableData::RESTARTING);
        lookup = true;
      }
      OnIncarnationGone(id, a, seq, why, &failed);
      SendReady(id, a, &actions);  // a newer incarnation may be known already
    }
    MaybeDestroy(id, a, &actions);
  }
  if (lookup) {
    d_.gcs->GetActorInfoAsync(
        id, [this, g = d_.guard](absl::StatusOr<std::optional<rpc::ActorTableData>> info) {
          auto token = g->Enter();
          if (token && info.ok() && info->has_value()) OnActorUpdate(**info);
        });
  }
  if (done) d_.tasks->CompleteTask(*done, reply, lineage ? &*lineage : nullptr, retries_left);
  for (const auto& [task, error] : failed) d_.tasks->FailTask(task, error);
  for (auto& f : actions) f();
}

void ActorSubmitter::OnActorUpdate(const rpc::ActorTableData& data) {
  auto id = ActorID::FromBinary(data.actor_id());
  if (!id.ok()) return;
  std::vector<Action> actions;
  std::vector<std::pair<TaskID, rpc::ErrorInfo>> failed;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(*id);
    if (it == actors_.end()) return;  // an actor this process does not use
    Actor& a = it->second;
    if (a.known && data.version() < a.data.version()) return;
    a.known = true;
    a.data = data;
    if (data.state() == rpc::ActorTableData::DEAD) {
      // Calls not yet sent fail now; calls in flight wait for their replies
      // (which may still arrive: a graceful exit answers them first).
      rpc::ErrorInfo cause = DeathCause(data);
      for (auto c = a.calls.begin(); c != a.calls.end();) {
        if (!c->second.sent) {
          // (An unresolved call's resolution finds no call later and stops.)
          failed.emplace_back(c->second.task, cause);
          c = a.calls.erase(c);
        } else {
          ++c;
        }
      }
      ReleaseCreationArgs(a, &actions);
    } else if (data.state() == rpc::ActorTableData::ALIVE) {
      if (a.creation_task && data.max_restarts() == 0) ReleaseCreationArgs(a, &actions);
      SendReady(*id, a, &actions);
    }
    // Calls sent to an incarnation that is gone learn it when their RPC fails.
    MaybeDestroy(*id, a, &actions);
  }
  for (const auto& [task, error] : failed) d_.tasks->FailTask(task, error);
  for (auto& f : actions) f();
}

void ActorSubmitter::ReleaseCreationArgs(Actor& a, std::vector<Action>* actions) {
  if (!a.creation_task) return;
  TaskID task = *a.creation_task;
  a.creation_task.reset();
  actions->push_back([this, task] { d_.tasks->CompleteTask(task, rpc::PushTaskReply()); });
}

void ActorSubmitter::OnHandlesGone(const ActorID& id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || !it->second.owned) return;
    it->second.handles_gone = true;
    MaybeDestroy(id, it->second, &actions);
  }
  for (auto& f : actions) f();
}

void ActorSubmitter::MaybeDestroy(const ActorID& id, Actor& a, std::vector<Action>* actions) {
  // Only the owner destroys, only non-detached actors, and only once the
  // calls this process made have finished.
  if (!a.owned || !a.handles_gone || a.destroy_requested || !a.calls.empty()) return;
  if (a.data.detached() || a.data.state() == rpc::ActorTableData::DEAD) return;
  a.destroy_requested = true;
  if (a.data.state() == rpc::ActorTableData::ALIVE && !a.data.address().worker_id().empty()) {
    // As Ray: a live actor that went out of scope ends gracefully (its
    // __ray_shutdown__ and atexit handlers run, and it tells the GCS it is
    // gone). If it cannot be asked, the GCS ends it.
    std::shared_ptr<rpc::CoreWorkerClient> to = ClientFor(a);
    actions->push_back([this, id, to, g = d_.guard] {
      to->Exit(rpc::ExitRequest(), [this, id, g](const absl::Status& st, rpc::ExitReply&&) {
        auto token = g->Enter();
        if (token && !st.ok()) Kill(id);
      });
    });
    return;
  }
  actions->push_back([this, id] { Kill(id); });
}

void ActorSubmitter::Kill(const ActorID& id) {
  d_.gcs->KillActorAsync(id, /*no_restart=*/true, "all references to the actor were removed",
                         [id](const absl::Status& s) {
                           if (!s.ok()) {
                             PHOTON_LOG_WARN("cannot destroy actor {} (out of scope): {}", id.Hex(),
                                             std::string(s.message()));
                           }
                         });
}

absl::Status ActorSubmitter::Cancel(const TaskID& task) {
  std::optional<TaskID> unsent;
  std::string name;
  rpc::Address to;
  bool sent = false;
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(task.ActorId());
    if (it == actors_.end()) return absl::NotFoundError("no such actor call");
    Actor& a = it->second;
    for (auto c = a.calls.begin(); c != a.calls.end(); ++c) {
      if (c->second.task != task) continue;
      name = c->second.name;
      if (!c->second.sent) {
        unsent = task;
        a.calls.erase(c);
        MaybeDestroy(task.ActorId(), a, &actions);
      } else {
        sent = true;
        to = a.data.address();
      }
      break;
    }
  }
  for (auto& f : actions) f();
  if (unsent) {
    d_.tasks->FailTask(*unsent, MakeError(rpc::TASK_CANCELLED,
                                          fmt::format("actor task '{}' was cancelled", name)));
    return absl::OkStatus();
  }
  if (!sent) return absl::NotFoundError("the actor call has finished");
  rpc::CancelTaskRequest req;
  req.set_task_id(task.Binary());
  d_.workers->Get(to)->CancelTask(
      req, rpc::LogIfFailed<rpc::CancelTaskReply>(
               fmt::format("CancelTask of actor call '{}' (the call runs to its end)", name)));
  return absl::OkStatus();
}

}  // namespace photon::core
