#include "photon/core_worker/stream_manager.h"

#include "absl/synchronization/notification.h"
#include "fmt/format.h"

namespace photon::core {

StreamManager::StreamManager(Deps deps) : d_(std::move(deps)) {}

ObjectID StreamManager::ItemId(const TaskID& task, int64_t index) {
  return ObjectID::FromIndex(task, static_cast<uint32_t>(index + 2));
}

// ---- the caller's side ------------------------------------------------------------

void StreamManager::Open(const TaskID& task) {
  absl::MutexLock lock(&mu_);
  streams_[task];
}

absl::StatusOr<std::optional<ObjectID>> StreamManager::Next(const TaskID& task, int64_t index,
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
  auto values = d_.memory_store->Wait({item, done}, 1, deadline);
  bool give_error = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task);
    if (it == streams_.end()) return absl::NotFoundError("the generator was released");
    Stream& st = it->second;
    // Items are reported before the task's reply, so once the completion is
    // here every item is too: look at the item first.
    if (values[0] != nullptr || d_.memory_store->Contains(item)) {
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
      give_error = true;
    }
  }
  if (!give_error) return std::optional<ObjectID>();
  d_.refs->AddLocalRef(done);
  return std::optional<ObjectID>(done);
}

void StreamManager::Release(const TaskID& task) {
  std::vector<ObjectID> untaken;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task);
    if (it == streams_.end()) return;
    for (int64_t index : it->second.reported) untaken.push_back(ItemId(task, index));
    streams_.erase(it);
  }
  for (const auto& id : untaken) d_.refs->RemoveLocalRef(id);
}

void StreamManager::OnItem(const rpc::ReportGeneratorItemRequest& req) {
  auto task = TaskID::FromBinary(req.task_id());
  if (!task.ok() || req.index() < 0) return;
  const ObjectID id = ItemId(*task, req.index());
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
  rpc::ReturnObject item = req.item();
  item.set_object_id(id.Binary());  // the item's id is the stream's, whatever the request says
  if (keep) {
    d_.refs->AddOwned(id, 1);  // held by the stream until the caller takes it
    d_.tasks->StoreReturnObject(item);
    return;
  }
  // Not kept: free its copy (unless it is the copy already held) and end the
  // borrows its nested refs came with.
  auto existing = d_.memory_store->GetIfReady(id);
  auto node = NodeID::FromBinary(item.node_id());
  bool same_copy = existing != nullptr && existing->in_plasma && item.in_plasma() && node.ok() &&
                   existing->plasma_node == *node;
  if (same_copy || d_.refs->Contains(id)) {
    // The same item again: its nested refs are already held for it.
    if (!same_copy && item.in_plasma() && node.ok()) d_.fetcher->FreeCopy(id, *node);
    return;
  }
  d_.tasks->StoreReturnObject(item);  // untracked: frees the copy and ends the borrows
}

// ---- the executing side -------------------------------------------------------------

void StreamManager::BeginExecuting(const TaskID& task, const rpc::Address& caller) {
  absl::MutexLock lock(&mu_);
  executing_[task] = caller;
}

void StreamManager::EndExecuting(const TaskID& task) {
  absl::MutexLock lock(&mu_);
  executing_.erase(task);
}

absl::Status StreamManager::Report(const TaskID& task, int64_t index, const std::string& metadata,
                                   const std::vector<std::string_view>& parts,
                                   const std::vector<OwnedRef>& nested) {
  rpc::Address caller;
  {
    absl::MutexLock lock(&mu_);
    auto it = executing_.find(task);
    if (it == executing_.end()) {
      return absl::FailedPreconditionError(
          fmt::format("task {} is not a streaming task running here", task.Hex()));
    }
    caller = it->second;
  }
  const ObjectID id = ItemId(task, index);
  if (!nested.empty()) d_.borrows->RegisterOnBehalf(caller, id, nested);
  size_t total = 0;
  for (auto p : parts) total += p.size();
  rpc::ReportGeneratorItemRequest req;
  req.set_task_id(task.Binary());
  req.set_index(index);
  rpc::ReturnObject* r = req.mutable_item();
  r->set_object_id(id.Binary());
  r->set_size(static_cast<int64_t>(total));
  for (const auto& n : nested) {
    rpc::ObjectReference* ref = r->add_nested_refs();
    ref->set_object_id(n.id.Binary());
    *ref->mutable_owner() = n.owner;
  }
  if (static_cast<int64_t>(total) > d_.config->max_direct_call_object_size()) {
    absl::Status s = d_.fetcher->PutToStore(id, metadata, parts, total);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    r->set_in_plasma(true);
    r->set_node_id(d_.node_id.Binary());
  } else {
    r->mutable_value()->set_metadata(metadata);
    std::string* data = r->mutable_value()->mutable_data();
    data->reserve(total);
    for (auto p : parts) data->append(p);
  }
  struct Result {
    absl::Notification done;
    absl::Status status;
  };
  auto result = std::make_shared<Result>();
  auto client = d_.workers->Get(caller);
  d_.liveness->CallWhileAlive<rpc::ReportGeneratorItemReply>(
      caller, "ReportGeneratorItem",
      [client, req](rpc::ReplyCallback<rpc::ReportGeneratorItemReply> cb) {
        client->ReportGeneratorItem(req, std::move(cb));
      },
      [result](const absl::Status& s, rpc::ReportGeneratorItemReply&&) {
        result->status = s;
        result->done.Notify();
      });
  result->done.WaitForNotification();
  if (!result->status.ok()) {
    return absl::UnavailableError(fmt::format("the caller of streaming task {} is unreachable: {}",
                                              task.Hex(), std::string(result->status.message())));
  }
  return absl::OkStatus();
}

}  // namespace photon::core
