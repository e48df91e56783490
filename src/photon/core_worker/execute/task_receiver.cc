#include "photon/core_worker/execute/task_receiver.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::core {
namespace {

// Replies kept for resends of pushes that finished. A caller resends only
// a push it got no answer for, soon after; older replies are not needed.
constexpr size_t kKeptReplies = 1024;
// ... and at most this many bytes of them for tasks (a resend of a task whose
// reply was dropped runs it again, which a task's retry may do anyway).
constexpr size_t kKeptTaskReplyBytes = 16 << 20;

}  // namespace

TaskReceiver::TaskReceiver(Deps deps) : d_(std::move(deps)) {}

TaskReceiver::~TaskReceiver() {
  Exit(0);
  for (auto& t : pool_) t.join();
}

std::string TaskReceiver::KeyOf(const rpc::PushTaskRequest& req) {
  const rpc::TaskSpec& spec = req.task();
  if (spec.type() == rpc::ACTOR_TASK) {
    return fmt::format("c{}:{}", req.caller_worker_id(), spec.sequence_number());
  }
  return fmt::format("t{}:{}", spec.task_id(), spec.attempt());
}

void TaskReceiver::HandlePushTask(grpc::ServerUnaryReactor* reactor,
                                  const rpc::PushTaskRequest* request, rpc::PushTaskReply* reply) {
  // A malformed request is refused, never allowed to reach a CHECK.
  const rpc::TaskSpec& spec = request->task();
  bool valid = spec.task_id().size() == TaskID::kSize;
  if (spec.type() == rpc::ACTOR_TASK || spec.type() == rpc::ACTOR_CREATION_TASK) {
    valid = valid && spec.actor_id().size() == ActorID::kSize;
  }
  for (const auto& a : spec.args()) {
    if (a.has_ref()) valid = valid && a.ref().object_id().size() == ObjectID::kSize;
  }
  if (!valid) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed task spec"));
    return;
  }
  const std::string key = KeyOf(*request);
  absl::MutexLock lock(&mu_);
  if (exiting_) {
    reply->set_worker_exiting(true);
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "worker is exiting"));
    return;
  }
  if (auto in = inflight_.find(key); in != inflight_.end()) {
    in->second.push_back(Waiter{reactor, reply});  // answered when the first one is
    return;
  }
  Item item{reactor, request, reply, key};
  if (spec.type() != rpc::ACTOR_TASK) {
    if (auto done = done_.find(key); done != done_.end()) {
      *reply = done->second;  // a resend of a push that finished: its reply again
      reactor->Finish(grpc::Status::OK);
      return;
    }
    if (exit_after_task_) {
      FinishExiting(item);  // no new work starts once an exit is asked for
      return;
    }
    inflight_[key];
    queue_.push_back(item);
    return;
  }
  // Calls from one caller run in its submission order: hold each until the
  // ones numbered before it have been released.
  const std::string& caller = request->caller_worker_id();
  CallerQueue& q = callers_[caller];
  q.next_seq = std::max(q.next_seq, request->skip_before());
  // The caller has the replies of everything below skip_before.
  q.replies.erase(q.replies.begin(), q.replies.lower_bound(request->skip_before()));
  uint64_t seq = spec.sequence_number();
  if (auto done = q.replies.find(seq); done != q.replies.end()) {
    *reply = done->second;  // a resend of a call that finished: its reply again
    reactor->Finish(grpc::Status::OK);
    return;
  }
  if (exit_after_task_) {
    // The actor called exit_actor (or was asked to exit): a call that
    // arrives now fails as the actor's death, it never starts.
    FinishExiting(item);
    return;
  }
  inflight_[key];
  if (seq < q.next_seq) {
    queue_.push_back(item);  // a resend of a call we never ran
    return;
  }
  q.waiting[seq] = item;
  ReleaseInOrder(caller);
}

bool TaskReceiver::Cancel(const TaskID& task, bool recursive) {
  std::optional<Item> dropped;
  bool running = false;
  {
    absl::MutexLock lock(&mu_);
    const std::string id = task.Binary();
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->request->task().task_id() == id) {
        dropped = *it;
        queue_.erase(it);
        break;
      }
    }
    for (auto& [caller, q] : callers_) {
      if (dropped) break;
      for (auto it = q.waiting.begin(); it != q.waiting.end(); ++it) {
        if (it->second.request->task().task_id() != id) continue;
        dropped = it->second;
        // Its turn is skipped: the calls after it still run.
        q.skipped.insert(it->first);
        q.waiting.erase(it);
        ReleaseInOrder(caller);
        break;
      }
    }
    running = running_.contains(task);
  }
  if (recursive && d_.cancel_children) d_.cancel_children(task);
  if (dropped) {
    FinishCancelled(*dropped);
    return true;
  }
  if (!running) return false;
  if (d_.interrupt) d_.interrupt(task);
  return true;
}

void TaskReceiver::FinishCancelled(const Item& item) {
  const rpc::TaskSpec& spec = item.request->task();
  TaskID task_id = TaskID::FromBinaryOrDie(spec.task_id());
  rpc::ErrorInfo e =
      MakeError(rpc::TASK_CANCELLED, fmt::format("task '{}' was cancelled", spec.name()));
  for (int i = 1; i <= std::max(1, spec.num_returns()); ++i) {
    AddReturn(spec, ObjectID::FromIndex(task_id, i),
              ReturnValue{kErrorMetadata, e.SerializeAsString(), {}}, item.reply);
  }
  Finish(item);
}

void TaskReceiver::Finish(const Item& item) {
  std::vector<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto in = inflight_.find(item.key);
    if (in != inflight_.end()) {
      waiters = std::move(in->second);
      inflight_.erase(in);
    }
    for (const Waiter& w : waiters) *w.reply = *item.reply;
    // Kept for resends that come after this answer (it may be lost on the way).
    const rpc::PushTaskRequest& req = *item.request;
    if (req.task().type() == rpc::ACTOR_TASK) {
      auto& replies = callers_[req.caller_worker_id()].replies;
      replies[req.task().sequence_number()] = *item.reply;
      if (replies.size() > kKeptReplies) replies.erase(replies.begin());
    } else {
      const size_t bytes = item.reply->ByteSizeLong();
      while (!done_order_.empty() &&
             (done_.size() >= kKeptReplies || done_bytes_ + bytes > kKeptTaskReplyBytes)) {
        if (auto oldest = done_.find(done_order_.front()); oldest != done_.end()) {
          done_bytes_ -= oldest->second.ByteSizeLong();
          done_.erase(oldest);
        }
        done_order_.pop_front();
      }
      if (bytes <= kKeptTaskReplyBytes && done_.emplace(item.key, *item.reply).second) {
        done_order_.push_back(item.key);
        done_bytes_ += bytes;
      }
    }
  }
  for (const Waiter& w : waiters) w.reactor->Finish(grpc::Status::OK);
  item.reactor->Finish(grpc::Status::OK);
}

void TaskReceiver::ReleaseInOrder(const std::string& caller) {
  CallerQueue& q = callers_[caller];
  while (true) {
    while (!q.skipped.empty() && *q.skipped.begin() <= q.next_seq) {
      if (*q.skipped.begin() == q.next_seq) ++q.next_seq;
      q.skipped.erase(q.skipped.begin());
    }
    if (q.waiting.empty()) break;
    auto it = q.waiting.begin();
    if (it->first < q.next_seq) {
      queue_.push_back(it->second);
      q.waiting.erase(it);
      continue;
    }
    if (it->first != q.next_seq) break;
    queue_.push_back(it->second);
    q.waiting.erase(it);
    ++q.next_seq;
  }
}

void TaskReceiver::FinishExiting(const Item& item) {
  auto in = inflight_.find(item.key);
  if (in != inflight_.end()) {
    for (const Waiter& w : in->second) {
      w.reply->set_worker_exiting(true);
      w.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "worker is exiting"));
    }
    inflight_.erase(in);
  }
  item.reply->set_worker_exiting(true);
  item.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "worker is exiting"));
}

bool TaskReceiver::Next(Item* item) {
  absl::MutexLock lock(&mu_);
  // Once an exit is asked for, queued work waits for the exit (which fails it).
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return exiting_ || (!queue_.empty() && !exit_after_task_);
  };
  mu_.Await(absl::Condition(&ready));
  if (exiting_) return false;
  *item = queue_.front();
  queue_.pop_front();
  return true;
}

void TaskReceiver::StartPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    pool_.emplace_back([this] {
      Item item;
      while (Next(&item)) Execute(item);
    });
  }
}

void TaskReceiver::ExitAfterCurrentTask() {
  absl::MutexLock lock(&mu_);
  exit_after_task_ = true;
  if (running_.empty() && !exiting_) {
    exiting_ = true;  // asked from outside any task: nothing to wait for
    exit_code_ = 0;
  }
}

void TaskReceiver::Exit(int code) {
  absl::MutexLock lock(&mu_);
  if (exiting_) return;
  exiting_ = true;
  exit_code_ = code;
}

int TaskReceiver::Run() {
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return exiting_ || (!queue_.empty() && !exit_after_task_);
      };
      mu_.Await(absl::Condition(&ready));
      if (exiting_) {
        for (auto& i : queue_) FinishExiting(i);
        queue_.clear();
        return exit_code_;
      }
      item = queue_.front();
      queue_.pop_front();
    }
    Execute(item);
  }
}

std::optional<rpc::ErrorInfo> TaskReceiver::ResolveArgs(
    const rpc::TaskSpec& spec, std::vector<std::shared_ptr<ObjectValue>>* holders,
    std::vector<const ObjectValue*>* args, std::vector<ObjectID>* lost) {
  std::vector<ObjectID> refs;
  for (const auto& a : spec.args()) {
    if (!a.has_ref()) continue;
    ObjectID id = ObjectID::FromBinaryOrDie(a.ref().object_id());
    // Held for the task's duration (its value stays here that long; the
    // caller's pending task keeps the object meanwhile).
    d_.refs->AddBorrowed(id, a.ref().owner());
    d_.refs->AddLocalRef(id);
    refs.push_back(id);
  }
  std::optional<rpc::ErrorInfo> error;
  std::vector<std::shared_ptr<ObjectValue>> fetched;
  if (!refs.empty()) {
    auto got = d_.fetcher->Get(refs, -1, rpc::PullObjectRequest::TASK_ARGS);
    if (!got.ok()) {
      error = MakeError(rpc::OBJECT_LOST,
                        fmt::format("cannot fetch the arguments of '{}': {}", spec.name(),
                                    std::string(got.status().message())));
    } else {
      fetched = std::move(*got);
    }
  }
  size_t next_ref = 0;
  for (const auto& a : spec.args()) {
    if (error) break;
    std::shared_ptr<ObjectValue> v;
    if (a.has_ref()) {
      v = fetched[next_ref++];
    } else {
      v = std::make_shared<ObjectValue>();
      v->metadata = a.value().metadata();
      v->data = a.value().data();  // a view into the request, which outlives the call
    }
    if (v->IsError()) {
      error = v->Error();
      if (error->type() == rpc::OBJECT_LOST && a.has_ref() && lost != nullptr) {
        lost->push_back(ObjectID::FromBinaryOrDie(a.ref().object_id()));
      }
      break;
    }
    holders->push_back(v);
    args->push_back(v.get());
  }
  for (const ObjectID& id : refs) d_.refs->RemoveLocalRef(id);
  return error;
}

void TaskReceiver::AddReturn(const rpc::TaskSpec& spec, const ObjectID& id, ReturnValue value,
                             rpc::PushTaskReply* reply) {
  rpc::ReturnObject* r = reply->add_returns();
  r->set_object_id(id.Binary());
  r->set_size(static_cast<int64_t>(value.data.size()));
  if (!value.nested_refs.empty()) {
    // The caller owns this return: make it a borrower of what the value
    // holds before it can drop this worker's references.
    d_.borrows->RegisterOnBehalf(spec.caller(), id, value.nested_refs);
    for (const auto& n : value.nested_refs) {
      rpc::ObjectReference* ref = r->add_nested_refs();
      ref->set_object_id(n.id.Binary());
      *ref->mutable_owner() = n.owner;
    }
  }
  if (static_cast<int64_t>(value.data.size()) > d_.config->max_direct_call_object_size()) {
    absl::Status s = d_.fetcher->PutToStore(id, value.metadata, {value.data}, value.data.size());
    if (s.ok() || absl::IsAlreadyExists(s)) {
      r->set_in_plasma(true);
      r->set_node_id(d_.node_id.Binary());
      return;
    }
    if (absl::IsUnavailable(s) || absl::IsInternal(s)) {
      // The node's store is unreachable (a full store is ResourceExhausted): its raylet died, and
      // this worker goes with it. Exiting (rather than answering with an error value) lets the
      // owner see a worker death and retry the task elsewhere.
      PHOTON_LOG_ERROR("cannot reach the node's object store ({}); exiting",
                       std::string(s.message()));
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(1);
    }
    rpc::ErrorInfo e =
        MakeError(rpc::OBJECT_STORE_FULL, fmt::format("cannot store a return value of {} bytes: {}",
                                                      value.data.size(), std::string(s.message())));
    r->mutable_value()->set_metadata(kErrorMetadata);
    r->mutable_value()->set_data(e.SerializeAsString());
    return;
  }
  r->mutable_value()->set_metadata(std::move(value.metadata));
  r->mutable_value()->set_data(std::move(value.data));
}

void TaskReceiver::MarkTaskName(const std::string& name) {
  absl::MutexLock lock(&marker_mu_);
  if (name == last_task_name_) return;
  // Tells the raylet's log monitor which task the following output belongs to.
  last_task_name_ = name;
  std::fflush(stdout);
  std::fflush(stderr);
  std::printf("%s%s\n", kTaskNameMarker, name.c_str());
  std::fprintf(stderr, "%s%s\n", kTaskNameMarker, name.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
}

void TaskReceiver::Execute(const Item& item) {
  const rpc::TaskSpec& spec = item.request->task();
  TaskID task_id = TaskID::FromBinaryOrDie(spec.task_id());
  TaskContexts::Scope scope(d_.contexts, task_id);
  MarkTaskName(spec.name());
  std::string where = fmt::format("task '{}' in worker pid {} on node {}", spec.name(), getpid(),
                                  d_.node_id.Hex().substr(0, 8));
  std::vector<std::shared_ptr<ObjectValue>> holders;
  std::vector<const ObjectValue*> args;
  std::vector<ObjectID> lost;
  std::optional<rpc::ErrorInfo> error = ResolveArgs(spec, &holders, &args, &lost);
  for (const ObjectID& id : lost) item.reply->add_lost_args(id.Binary());
  TaskResult result;
  if (!error) {
    if (spec.streaming()) d_.streams->BeginExecuting(task_id, spec.caller());
    {
      absl::MutexLock lock(&mu_);
      running_.insert(task_id);
    }
    if (d_.events != nullptr) d_.events->StartExecution(spec);
    result = d_.executor(spec, args);
    {
      absl::MutexLock lock(&mu_);
      running_.erase(task_id);
    }
    if (spec.streaming()) d_.streams->EndExecuting(task_id);
    if (result.kind == TaskResult::Kind::kApplicationError) {
      rpc::ErrorInfo e = MakeError(rpc::TASK_EXECUTION_EXCEPTION, result.error_message);
      if (!result.serialized_error.empty()) e.ParseFromString(result.serialized_error);
      e.set_exception_type(e.exception_type().empty() ? result.error_type : e.exception_type());
      if (e.where().empty()) e.set_where(where);
      error = e;
      item.reply->set_is_application_error(true);
    } else if (result.kind == TaskResult::Kind::kFunctionNotFound) {
      rpc::ErrorInfo e = MakeError(rpc::FUNCTION_NOT_FOUND, result.error_message);
      e.set_where(where);
      error = e;
    }
  }
  if (d_.events != nullptr && d_.events->enabled() && lost.empty()) {
    // Reported by the owner with its own events (one report per task).
    d_.events->EndExecution(spec, error ? &*error : nullptr, item.reply->mutable_execution());
  }
  if (spec.type() == rpc::ACTOR_CREATION_TASK && d_.on_actor_created) {
    d_.on_actor_created(ActorID::FromBinaryOrDie(spec.actor_id()), spec.restarted());
  }
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<ObjectID> pinned;  // the executor's references to nested refs
  for (const auto& r : result.returns) {
    for (const auto& n : r.nested_refs) pinned.push_back(n.id);
  }
  if (error) result.returns.clear();  // an error value carries no refs
  for (int i = 1; i <= std::max(1, spec.num_returns()); ++i) {
    ObjectID rid = ObjectID::FromIndex(task_id, i);
    if (error) {
      AddReturn(spec, rid, ReturnValue{kErrorMetadata, error->SerializeAsString(), {}}, item.reply);
    } else if (static_cast<size_t>(i - 1) < result.returns.size()) {
      AddReturn(spec, rid, std::move(result.returns[i - 1]), item.reply);
    } else {
      AddReturn(spec, rid,
                ReturnValue{result.returns.empty() ? std::string() : result.returns[0].metadata,
                            std::string(),
                            {}},
                item.reply);
    }
  }
  // `spec` lives in the request, which gRPC frees once the call finishes.
  bool created = spec.type() == rpc::ACTOR_CREATION_TASK && !error;
  int max_concurrency = spec.max_concurrency();
  // A worker that exits after this task (max_calls) tells its owner so.
  if (exit_after_task_ && spec.type() == rpc::NORMAL_TASK) item.reply->set_worker_exiting(true);
  Finish(item);
  for (const ObjectID& id : pinned) d_.refs->RemoveLocalRef(id);
  if (created && max_concurrency > 1) StartPool(max_concurrency - 1);
  if (exit_after_task_) Exit(0);  // RunTaskLoop drains replies, then tells the GCS
}

}  // namespace photon::core
