#include "photon/core_worker/task_receiver.h"

#include <unistd.h>

#include <cstdio>

#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::core {
namespace {
// Must match the raylet's LogMonitor marker (raylet/log_monitor.h).
constexpr char kTaskNameMarker[] = ":photon:task_name:";
}  // namespace

TaskReceiver::TaskReceiver(CoreWorker* worker, TaskExecutor executor)
    : worker_(worker), executor_(std::move(executor)) {}

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
  absl::MutexLock lock(&mu_);
  if (exiting_) {
    reply->set_worker_exiting(true);
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "worker is exiting"));
    return;
  }
  if (request->task().type() != rpc::ACTOR_TASK) {
    queue_.push_back(Item{reactor, request, reply});
    return;
  }
  // Calls from one caller run in its submission order: hold each until the
  // ones numbered before it have been released.
  const std::string& caller = request->caller_worker_id();
  CallerQueue& q = callers_[caller];
  q.next_seq = std::max(q.next_seq, request->skip_before());
  uint64_t seq = request->task().sequence_number();
  if (seq < q.next_seq) {
    queue_.push_back(Item{reactor, request, reply});  // a resend of a call we never ran
    return;
  }
  q.waiting[seq] = Item{reactor, request, reply};
  ReleaseInOrder(caller);
}

bool TaskReceiver::Cancel(const TaskID& task) {
  std::optional<Item> dropped;
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
    if (!dropped && !running_.contains(task)) return false;
  }
  if (dropped) {
    FinishCancelled(*dropped);
    return true;
  }
  if (worker_->options().interrupt) worker_->options().interrupt(task);
  return true;
}

void TaskReceiver::FinishCancelled(const Item& item) {
  const rpc::TaskSpec& spec = item.request->task();
  TaskID task_id = TaskID::FromBinaryOrDie(spec.task_id());
  rpc::ErrorInfo e =
      MakeError(rpc::TASK_CANCELLED, fmt::format("task '{}' was cancelled", spec.name()));
  for (int i = 1; i <= std::max(1, spec.num_returns()); ++i) {
    AddReturn(ObjectID::FromIndex(task_id, i), kErrorMetadata, e.SerializeAsString(), item.reply);
  }
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

bool TaskReceiver::Next(Item* item) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return exiting_ || !queue_.empty(); };
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

void TaskReceiver::Exit(int code) {
  absl::MutexLock lock(&mu_);
  exiting_ = true;
  exit_code_ = code;
}

int TaskReceiver::Run() {
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return exiting_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (exiting_) {
        for (auto& i : queue_) {
          i.reply->set_worker_exiting(true);
          i.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "worker is exiting"));
        }
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
    std::vector<const ObjectValue*>* args) {
  std::vector<ObjectID> refs;
  for (const auto& a : spec.args()) {
    if (a.has_ref()) {
      ObjectID id = ObjectID::FromBinaryOrDie(a.ref().object_id());
      worker_->references().AddBorrowed(id, a.ref().owner());
      refs.push_back(id);
    }
  }
  std::vector<std::shared_ptr<ObjectValue>> fetched;
  if (!refs.empty()) {
    auto got = worker_->Get(refs, -1, rpc::PullObjectRequest::TASK_ARGS);
    if (!got.ok()) {
      return MakeError(rpc::OBJECT_LOST,
                       fmt::format("cannot fetch the arguments of '{}': {}", spec.name(),
                                   std::string(got.status().message())));
    }
    fetched = std::move(*got);
  }
  size_t next_ref = 0;
  for (const auto& a : spec.args()) {
    std::shared_ptr<ObjectValue> v;
    if (a.has_ref()) {
      v = fetched[next_ref++];
    } else {
      v = std::make_shared<ObjectValue>();
      v->metadata = a.value().metadata();
      v->data = a.value().data();  // a view into the request, which outlives the call
    }
    if (v->IsError()) return v->Error();
    holders->push_back(v);
    args->push_back(v.get());
  }
  return std::nullopt;
}

void TaskReceiver::AddReturn(const ObjectID& id, const std::string& metadata, std::string value,
                             rpc::PushTaskReply* reply) {
  rpc::ReturnObject* r = reply->add_returns();
  r->set_object_id(id.Binary());
  r->set_size(static_cast<int64_t>(value.size()));
  if (static_cast<int64_t>(value.size()) > worker_->config().max_direct_call_object_size()) {
    absl::Status s = worker_->local_store().Put(id, metadata, value,
                                                worker_->config().object_store_full_grace_ms());
    if (s.ok() || absl::IsAlreadyExists(s)) {
      r->set_in_plasma(true);
      r->set_node_id(worker_->node_id().Binary());
      return;
    }
    rpc::ErrorInfo e =
        MakeError(rpc::OBJECT_STORE_FULL, fmt::format("cannot store a return value of {} bytes: {}",
                                                      value.size(), std::string(s.message())));
    r->mutable_value()->set_metadata(kErrorMetadata);
    r->mutable_value()->set_data(e.SerializeAsString());
    return;
  }
  r->mutable_value()->set_metadata(metadata);
  r->mutable_value()->set_data(std::move(value));
}

void TaskReceiver::Execute(const Item& item) {
  const rpc::TaskSpec& spec = item.request->task();
  TaskID task_id = TaskID::FromBinaryOrDie(spec.task_id());
  bool threaded = !pool_.empty();
  if (!threaded) worker_->SetCurrentTask(task_id);
  if (spec.type() == rpc::ACTOR_CREATION_TASK) {
    worker_->SetCurrentActor(ActorID::FromBinaryOrDie(spec.actor_id()), spec.restarted());
  }
  std::unique_lock<std::mutex> marker_lock(marker_mu_);
  if (spec.name() != last_task_name_) {
    // Tells the raylet's log monitor which task the following output belongs to.
    last_task_name_ = spec.name();
    std::fflush(stdout);
    std::fflush(stderr);
    std::printf("%s%s\n", kTaskNameMarker, spec.name().c_str());
    std::fprintf(stderr, "%s%s\n", kTaskNameMarker, spec.name().c_str());
    std::fflush(stdout);
    std::fflush(stderr);
  }
  marker_lock.unlock();
  std::string where = fmt::format("task '{}' in worker pid {} on node {}", spec.name(), getpid(),
                                  worker_->node_id().Hex().substr(0, 8));
  std::vector<std::shared_ptr<ObjectValue>> holders;
  std::vector<const ObjectValue*> args;
  std::optional<rpc::ErrorInfo> error = ResolveArgs(spec, &holders, &args);
  TaskResult result;
  if (!error) {
    if (spec.streaming()) worker_->BeginExecutingStream(task_id, spec.caller());
    {
      absl::MutexLock lock(&mu_);
      running_.insert(task_id);
    }
    result = executor_(spec, args);
    {
      absl::MutexLock lock(&mu_);
      running_.erase(task_id);
    }
    if (spec.streaming()) worker_->EndExecutingStream(task_id);
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
  std::fflush(stdout);
  std::fflush(stderr);
  for (int i = 1; i <= std::max(1, spec.num_returns()); ++i) {
    ObjectID rid = ObjectID::FromIndex(task_id, i);
    if (error) {
      AddReturn(rid, kErrorMetadata, error->SerializeAsString(), item.reply);
    } else {
      if (i == 1) {
        AddReturn(rid, result.metadata, std::move(result.value), item.reply);
      } else if (static_cast<size_t>(i - 2) < result.more_returns.size()) {
        auto& [meta, value] = result.more_returns[i - 2];
        AddReturn(rid, meta, std::move(value), item.reply);
      } else {
        AddReturn(rid, result.metadata, std::string(), item.reply);
      }
    }
  }
  if (!threaded) worker_->SetCurrentTask(TaskID::Nil());
  // `spec` lives in the request, which gRPC frees once the call finishes.
  bool created = spec.type() == rpc::ACTOR_CREATION_TASK && !error;
  int max_concurrency = spec.max_concurrency();
  // A worker that exits after this task (max_calls) tells its owner so.
  if (exit_after_task_ && spec.type() == rpc::NORMAL_TASK) item.reply->set_worker_exiting(true);
  item.reactor->Finish(grpc::Status::OK);
  if (created && max_concurrency > 1) StartPool(max_concurrency - 1);
  if (exit_after_task_) Exit(0);  // RunTaskLoop drains replies, then tells the GCS
}

}  // namespace photon::core
