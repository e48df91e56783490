// Streaming generators: the caller's side (items arrive by ReportGeneratorItem
// and are taken in order by StreamNext) and the executing side (each yielded
// item is handed to the caller before the next one is produced).
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/core_worker/core_worker.h"
#include "photon/rpc/client.h"

namespace photon::core {
namespace {

// Item `index` of a stream is return index + 2: index 1 is the completion.
ObjectID ItemId(const TaskID& task, int64_t index) {
  return ObjectID::FromIndex(task, static_cast<int>(index + 2));
}

}  // namespace

// ---- the caller's side ------------------------------------------------------------

void CoreWorker::OpenStream(const TaskID& task, int num_returns) {
  PHOTON_CHECK(num_returns == 1, "a streaming task has one return (its completion), not {}",
               num_returns);
  absl::MutexLock lock(&mu_);
  streams_[task];
}

absl::StatusOr<std::optional<ObjectID>> CoreWorker::StreamNext(const TaskID& task, int64_t index,
                                                               int64_t timeout_ms) {
  {
    absl::MutexLock lock(&mu_);
    if (!streams_.contains(task)) {
      return absl::NotFoundError(
          fmt::format("task {} is not a streaming generator of this process", task.Hex()));
    }
  }
  const ObjectID item = ItemId(task, index);
  const ObjectID done = ObjectID::FromIndex(task, 1);
  absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  auto values = memory_store_.Wait({item, done}, 1, deadline);
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(task);
  if (it == streams_.end()) return absl::NotFoundError("the generator was released");
  StreamState& st = it->second;
  // Items are reported before the task's reply, so once the completion is
  // here every item is too: look at the item first.
  if (values[0] != nullptr || memory_store_.Contains(item)) {
    st.reported.erase(index);
    st.next_index = std::max(st.next_index, index + 1);
    return std::optional<ObjectID>(item);  // the stream's reference passes to the caller
  }
  if (values[1] == nullptr) {
    return absl::DeadlineExceededError(
        fmt::format("no item {} of the generator after {} ms", index, timeout_ms));
  }
  if (values[1]->IsError() && !st.error_given) {
    st.error_given = true;
    refs_.AddLocalRef(done);
    return std::optional<ObjectID>(done);
  }
  return std::optional<ObjectID>();
}

void CoreWorker::StreamRelease(const TaskID& task) {
  std::vector<ObjectID> untaken;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task);
    if (it == streams_.end()) return;
    for (int64_t index : it->second.reported) untaken.push_back(ItemId(task, index));
    streams_.erase(it);
  }
  for (const auto& id : untaken) refs_.RemoveLocalRef(id);
}

void CoreWorker::OnStreamItem(const rpc::ReportGeneratorItemRequest& req) {
  auto task = TaskID::FromBinary(req.task_id());
  if (!task.ok() || req.index() < 0) return;
  const ObjectID id = ItemId(*task, req.index());
  const rpc::ReturnObject& r = req.item();
  std::shared_ptr<ObjectValue> v =
      r.in_plasma() ? ObjectValue::InPlasma(NodeID::FromBinaryOrDie(r.node_id()))
                    : ObjectValue::FromBytes(r.value().metadata(), r.value().data());
  bool keep = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(*task);
    // A retried task reports its items again: the first copy stands.
    if (it != streams_.end() && req.index() >= it->second.next_index &&
        !it->second.reported.contains(req.index())) {
      it->second.reported.insert(req.index());
      keep = true;
    }
  }
  if (!keep) {
    auto existing = memory_store_.GetIfReady(id);
    bool same_copy = existing != nullptr && existing->in_plasma && r.in_plasma() &&
                     existing->plasma_node == v->plasma_node;
    if (r.in_plasma() && !same_copy) FreePlasmaCopy(id, v->plasma_node);
    return;
  }
  refs_.AddOwned(id, 1);  // held by the stream until the caller takes it
  memory_store_.Put(id, std::move(v));
}

// ---- the executing side -------------------------------------------------------------

void CoreWorker::BeginExecutingStream(const TaskID& task, const rpc::Address& caller) {
  absl::MutexLock lock(&mu_);
  executing_streams_[task] = caller;
}

void CoreWorker::EndExecutingStream(const TaskID& task) {
  absl::MutexLock lock(&mu_);
  executing_streams_.erase(task);
}

absl::Status CoreWorker::ReportStreamItem(const TaskID& task, int64_t index,
                                          const std::string& metadata,
                                          const std::vector<std::string_view>& parts) {
  rpc::Address caller;
  {
    absl::MutexLock lock(&mu_);
    auto it = executing_streams_.find(task);
    if (it == executing_streams_.end()) {
      return absl::FailedPreconditionError(
          fmt::format("task {} is not a streaming task running here", task.Hex()));
    }
    caller = it->second;
  }
  const ObjectID id = ItemId(task, index);
  size_t total = 0;
  for (auto p : parts) total += p.size();
  rpc::ReportGeneratorItemRequest req;
  req.set_task_id(task.Binary());
  req.set_index(index);
  rpc::ReturnObject* r = req.mutable_item();
  r->set_object_id(id.Binary());
  r->set_size(static_cast<int64_t>(total));
  if (static_cast<int64_t>(total) > config_.max_direct_call_object_size()) {
    absl::Status s = PutPartsToStore(id, metadata, parts, total);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    r->set_in_plasma(true);
    r->set_node_id(node_id_.Binary());
  } else {
    r->mutable_value()->set_metadata(metadata);
    std::string* data = r->mutable_value()->mutable_data();
    data->reserve(total);
    for (auto p : parts) data->append(p);
  }
  auto stub = rpc::CoreWorkerService::NewStub(
      rpc::GetChannel(fmt::format("{}:{}", caller.ip(), caller.port()), caller.worker_id()));
  rpc::ReportGeneratorItemReply reply;
  absl::Status s = rpc::CallSync(stub.get(), &rpc::CoreWorkerService::Stub::ReportGeneratorItem,
                                 req, &reply, -1);
  if (!s.ok()) {
    return absl::UnavailableError(fmt::format("the caller of streaming task {} is unreachable: {}",
                                              task.Hex(), std::string(s.message())));
  }
  return absl::OkStatus();
}

}  // namespace photon::core
