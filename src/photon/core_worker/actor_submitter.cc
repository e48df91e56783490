#include "photon/core_worker/actor_submitter.h"

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/core_worker/core_worker.h"
#include "photon/rpc/client.h"

namespace photon::core {

ActorSubmitter::ActorSubmitter(CoreWorker* worker) : worker_(worker) {}

size_t ActorSubmitter::NumActors() const {
  absl::MutexLock lock(&mu_);
  return actors_.size();
}

void ActorSubmitter::EnsureSubscribed() {
  {
    absl::MutexLock lock(&mu_);
    if (subscribed_) return;
    subscribed_ = true;
  }
  worker_->gcs().Subscribe({rpc::ACTOR_CHANNEL}, "",
                           [this](const rpc::PubMessage& m) { OnActorUpdate(m.actor()); });
}

void ActorSubmitter::EnsureKnown(const ActorID& id) {
  EnsureSubscribed();
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it != actors_.end() && it->second.known) return;
  }
  auto info = worker_->gcs().GetActorInfo(id);
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
}

void ActorSubmitter::AddOwnedActor(const ActorID& id, const rpc::ActorTableData& data) {
  absl::MutexLock lock(&mu_);
  Actor& a = actors_[id];
  a.owned = true;
  a.known = true;
  a.data = data;
  ++a.handles;
}

void ActorSubmitter::AddHandle(const ActorID& id) {
  bool first_borrow = false;
  {
    absl::MutexLock lock(&mu_);
    Actor& a = actors_[id];
    first_borrow = ++a.handles == 1 && !a.owned && !a.announced_borrow;
  }
  if (!first_borrow) return;
  // A handle that came from elsewhere: tell the owner, so the actor lives
  // while this process holds it.
  EnsureKnown(id);
  rpc::Address owner;
  {
    absl::MutexLock lock(&mu_);
    Actor& a = actors_[id];
    if (a.owned || a.announced_borrow || a.handles == 0) return;
    if (a.data.owner().worker_id() == worker_->worker_id().Binary()) return;
    a.announced_borrow = true;
    owner = a.data.owner();
  }
  NotifyOwner(id, owner, true);
}

void ActorSubmitter::NotifyOwner(const ActorID& id, const rpc::Address& owner, bool borrowing) {
  if (owner.port() == 0) return;
  auto stub = std::shared_ptr<rpc::CoreWorkerService::Stub>(rpc::CoreWorkerService::NewStub(
      rpc::GetChannel(fmt::format("{}:{}", owner.ip(), owner.port()), owner.worker_id())));
  rpc::ActorBorrowRequest req;
  req.set_actor_id(id.Binary());
  req.set_borrower_worker_id(worker_->worker_id().Binary());
  req.set_borrower_node_id(worker_->node_id().Binary());
  req.set_borrowing(borrowing);
  rpc::CallAsync(stub->async(), &rpc::CoreWorkerService::Stub::async::UpdateActorBorrower, req,
                 5000, [stub](const absl::Status&, rpc::ActorBorrowReply&&) {});
}

void ActorSubmitter::UpdateBorrower(const ActorID& id, const std::string& borrower,
                                    const std::string& node, bool borrowing) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || !it->second.owned) return;
    if (borrowing) {
      it->second.borrowers[borrower] = node;
    } else {
      it->second.borrowers.erase(borrower);
      MaybeDestroy(id, it->second, &actions);
    }
  }
  for (auto& f : actions) f();
}

size_t ActorSubmitter::NumPendingCalls(const ActorID& actor) {
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(actor);
  return it == actors_.end() ? 0 : it->second.calls.size();
}

absl::Status ActorSubmitter::Cancel(const TaskID& task) {
  std::optional<Call> unsent;
  std::shared_ptr<rpc::CoreWorkerService::Stub> stub;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(task.ActorId());
    if (it == actors_.end()) return absl::NotFoundError("no such actor call");
    Actor& a = it->second;
    for (auto c = a.calls.begin(); c != a.calls.end(); ++c) {
      if (c->second.spec.task_id() != task.Binary()) continue;
      if (!c->second.sent) {
        unsent = std::move(c->second);
        a.calls.erase(c);
      } else {
        stub = a.stub;
      }
      break;
    }
  }
  if (unsent) {
    FailCall(*unsent, MakeError(rpc::TASK_CANCELLED,
                                fmt::format("actor task '{}' was cancelled", unsent->spec.name())));
    return absl::OkStatus();
  }
  if (stub == nullptr) return absl::NotFoundError("the actor call has finished");
  rpc::CancelTaskRequest req;
  req.set_task_id(task.Binary());
  rpc::CallAsync(stub->async(), &rpc::CoreWorkerService::Stub::async::CancelTask, req, 5000,
                 [stub](const absl::Status&, rpc::CancelTaskReply&&) {});
  return absl::OkStatus();
}

void ActorSubmitter::DropBorrowers(
    const std::function<bool(const std::string& worker, const std::string& node)>& dead) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (!a.owned) continue;
      bool dropped = false;
      for (auto b = a.borrowers.begin(); b != a.borrowers.end();) {
        if (dead(b->first, b->second)) {
          a.borrowers.erase(b++);
          dropped = true;
        } else {
          ++b;
        }
      }
      if (dropped) MaybeDestroy(id, a, &actions);
    }
  }
  for (auto& f : actions) f();
}

void ActorSubmitter::DropBorrower(const std::string& worker) {
  DropBorrowers([&](const std::string& w, const std::string&) { return w == worker; });
}

void ActorSubmitter::DropBorrowersOnNode(const std::string& node) {
  DropBorrowers([&](const std::string&, const std::string& n) { return n == node; });
}

void ActorSubmitter::RemoveHandle(const ActorID& id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.handles <= 0) return;
    if (--it->second.handles == 0) {
      it->second.out_of_scope = true;
      MaybeDestroy(id, it->second, &actions);
      if (it->second.announced_borrow) {
        it->second.announced_borrow = false;
        rpc::Address owner = it->second.data.owner();
        actions.push_back([this, id, owner] { NotifyOwner(id, owner, false); });
      }
    }
  }
  for (auto& f : actions) f();
}

void ActorSubmitter::MaybeDestroy(const ActorID& id, Actor& a, std::vector<Action>* actions) {
  // Only the owner destroys, only anonymous non-detached actors, and only
  // once the calls this process made have finished.
  if (!a.owned || !a.out_of_scope || !a.calls.empty() || !a.borrowers.empty()) return;
  if (a.data.detached() || !a.data.name().empty()) return;
  if (a.data.state() == rpc::ActorTableData::DEAD) return;
  a.owned = false;  // once
  actions->push_back([this, id] {
    worker_->gcs()
        .KillActor(id, /*no_restart=*/true, "all handles to the actor are gone")
        .status()
        .IgnoreError();
  });
}

void ActorSubmitter::Submit(const ActorID& actor, rpc::TaskSpec spec,
                            std::vector<ObjectID> ref_args) {
  EnsureKnown(actor);
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    Actor& a = actors_[actor];
    seq = a.next_seq++;
    spec.set_sequence_number(seq);
    Call& c = a.calls[seq];
    c.retries_left = a.data.max_task_retries();
    c.ref_args = ref_args;
    c.deps_left = static_cast<int>(ref_args.size()) + 1;
    c.spec = std::move(spec);
  }
  for (const ObjectID& dep : ref_args) {
    if (!worker_->references().IsOwned(dep)) {
      if (auto owner = worker_->references().OwnerOf(dep)) worker_->FetchFromOwner(dep, *owner);
    }
    worker_->memory_store().OnReady(
        dep, [this, actor, seq, g = worker_->guard()](std::shared_ptr<ObjectValue>) {
          auto token = g->Enter();
          if (token) OnDepReady(actor, seq);
        });
  }
  OnDepReady(actor, seq);
}

void ActorSubmitter::OnDepReady(const ActorID& actor, uint64_t seq) {
  std::vector<Action> actions;
  std::optional<Call> failed;
  rpc::ErrorInfo error;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor);
    if (it == actors_.end()) return;
    auto c = it->second.calls.find(seq);
    if (c == it->second.calls.end() || --c->second.deps_left > 0) return;
    // Inline small argument values; an argument that failed fails the call.
    if (auto arg_error = worker_->InlineReadyArgs(&c->second.spec)) {
      error = *arg_error;
      failed = std::move(c->second);
      it->second.calls.erase(c);
    }
    if (!failed && it->second.data.state() == rpc::ActorTableData::DEAD) {
      error = it->second.data.death_cause();
      if (error.message().empty()) {
        error.set_type(rpc::ACTOR_DIED);
        error.set_message("the actor is dead");
      }
      failed = std::move(c->second);
      it->second.calls.erase(c);
    }
    if (!failed) SendReady(actor, it->second, &actions);
  }
  if (failed) FailCall(*failed, error);
  for (auto& f : actions) f();
}

void ActorSubmitter::SendReady(const ActorID& id, Actor& a, std::vector<Action>* actions) {
  if (a.data.state() != rpc::ActorTableData::ALIVE || a.data.address().port() == 0) return;
  std::string address = fmt::format("{}:{}", a.data.address().ip(), a.data.address().port());
  const std::string& worker = a.data.address().worker_id();
  if (a.stub == nullptr || a.stub_address != address || a.stub_worker != worker) {
    a.stub = std::shared_ptr<rpc::CoreWorkerService::Stub>(
        rpc::CoreWorkerService::NewStub(rpc::GetChannel(address, worker)));
    a.stub_address = address;
    a.stub_worker = worker;
  }
  uint64_t skip_before = a.calls.empty() ? a.next_seq : a.calls.begin()->first;
  for (auto& [seq, call] : a.calls) {
    if (call.sent || call.deps_left > 0) continue;
    call.sent = true;
    rpc::PushTaskRequest req;
    *req.mutable_task() = call.spec;
    req.set_intended_worker_id(a.data.address().worker_id());
    req.set_skip_before(skip_before);
    req.set_caller_worker_id(worker_->worker_id().Binary());
    auto stub = a.stub;
    uint64_t s = seq;
    actions->push_back([this, id, s, address, stub, req = std::move(req)] {
      rpc::CallAsync(stub->async(), &rpc::CoreWorkerService::Stub::async::PushTask, req, -1,
                     [this, id, s, address, g = worker_->guard()](const absl::Status& st,
                                                                  rpc::PushTaskReply&& reply) {
                       auto token = g->Enter();
                       if (token) OnReply(id, s, address, st, std::move(reply));
                     });
    });
  }
}

void ActorSubmitter::OnReply(const ActorID& id, uint64_t seq, const std::string& address,
                             const absl::Status& s, rpc::PushTaskReply&& reply) {
  std::vector<Action> actions;
  std::optional<Call> done;
  std::optional<Call> failed;
  rpc::ErrorInfo error;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id);
    if (it == actors_.end()) return;
    Actor& a = it->second;
    auto c = a.calls.find(seq);
    if (c == a.calls.end()) return;
    if (s.ok() && !reply.worker_exiting()) {
      done = std::move(c->second);
      a.calls.erase(c);
    } else if (c->second.retries_left != 0 && a.data.state() != rpc::ActorTableData::DEAD) {
      // The actor's worker is gone; resend after it restarts (or fail when
      // the GCS reports it dead).
      if (c->second.retries_left > 0) --c->second.retries_left;
      c->second.sent = false;
      if (a.stub_address == address) {
        a.data.set_state(rpc::ActorTableData::RESTARTING);
      } else {
        SendReady(id, a, &actions);  // a newer incarnation is already known
      }
    } else {
      error.set_type(rpc::ACTOR_DIED);
      error.set_message(fmt::format(
          "the actor died while running '{}' ({}), and the call may not be retried "
          "(max_task_retries={})",
          c->second.spec.name(), s.ok() ? "its worker is exiting" : std::string(s.message()),
          a.data.max_task_retries()));
      if (a.data.state() == rpc::ActorTableData::DEAD && a.data.has_death_cause()) {
        error = a.data.death_cause();
      }
      failed = std::move(c->second);
      a.calls.erase(c);
    }
    MaybeDestroy(id, a, &actions);
  }
  if (done) {
    for (const auto& r : reply.returns()) {
      ObjectID oid = ObjectID::FromBinaryOrDie(r.object_id());
      auto v = r.in_plasma() ? ObjectValue::InPlasma(NodeID::FromBinaryOrDie(r.node_id()))
                             : ObjectValue::FromBytes(r.value().metadata(), r.value().data());
      worker_->StoreReturn(oid, v);
    }
    worker_->references().RemoveSubmittedRefs(done->ref_args);
  }
  if (failed) FailCall(*failed, error);
  for (auto& f : actions) f();
}

void ActorSubmitter::FailCall(const Call& call, const rpc::ErrorInfo& error) {
  TaskID task = TaskID::FromBinaryOrDie(call.spec.task_id());
  auto v = ObjectValue::FromError(error);
  for (int i = 1; i <= std::max(1, call.spec.num_returns()); ++i) {
    worker_->memory_store().Put(ObjectID::FromIndex(task, i), v, /*overwrite=*/true);
  }
  worker_->references().RemoveSubmittedRefs(call.ref_args);
}

void ActorSubmitter::OnActorUpdate(const rpc::ActorTableData& data) {
  auto id = ActorID::FromBinary(data.actor_id());
  if (!id.ok()) return;
  std::vector<Action> actions;
  std::vector<Call> failed;
  rpc::ErrorInfo cause;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(*id);
    if (it == actors_.end()) return;  // an actor this process does not use
    Actor& a = it->second;
    if (a.known && data.version() < a.data.version()) return;
    a.known = true;
    a.data = data;
    if (data.state() == rpc::ActorTableData::DEAD) {
      cause = data.death_cause();
      if (cause.message().empty()) {
        cause.set_type(rpc::ACTOR_DIED);
        cause.set_message("the actor is dead");
      }
      // Calls not yet sent fail now; calls in flight wait for their replies
      // (which may still arrive: a graceful exit answers them first).
      for (auto it2 = a.calls.begin(); it2 != a.calls.end();) {
        if (!it2->second.sent) {
          failed.push_back(std::move(it2->second));
          it2 = a.calls.erase(it2);
        } else {
          ++it2;
        }
      }
    } else if (data.state() == rpc::ActorTableData::ALIVE) {
      // A new incarnation: calls sent to the old one that were not answered
      // are resent (those with retries left were already marked unsent).
      SendReady(*id, a, &actions);
    }
  }
  for (const auto& c : failed) FailCall(c, cause);
  for (auto& f : actions) f();
}

}  // namespace photon::core
