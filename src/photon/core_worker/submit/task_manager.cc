#include "photon/core_worker/submit/task_manager.h"

#include "fmt/format.h"

namespace photon::core {

namespace {
// Dropped lineage remembered, to tell "evicted" from "never had any".
constexpr size_t kRememberedEvictions = 100000;
}  // namespace

TaskManager::TaskManager(ReferenceCounter* refs, MemoryStore* store, rpc::Address self,
                         FreeCopyFn free_copy, EndBorrowsFn end_borrows, int64_t max_lineage_bytes,
                         TaskEventBuffer* events)
    : refs_(refs),
      store_(store),
      self_(std::move(self)),
      free_copy_(std::move(free_copy)),
      end_borrows_(std::move(end_borrows)),
      max_lineage_bytes_(max_lineage_bytes),
      events_(events) {}

void TaskManager::RecordStatus(const TaskID& id, int attempt, rpc::TaskStatus status) {
  NoteStatus(id, status);
  if (events_ != nullptr) events_->RecordStatus(id, id.JobId(), attempt, status);
}

void TaskManager::NoteStatus(const TaskID& id, rpc::TaskStatus status) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(id);
  if (it != pending_.end()) it->second.status = status;
}

std::optional<std::pair<rpc::TaskStatus, int>> TaskManager::PendingStatus(const TaskID& id) const {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  return std::make_pair(it->second.status, it->second.attempt);
}

void TaskManager::RecordRetry(const TaskID& id, int new_attempt, const rpc::ErrorInfo& why) {
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) {
      it->second.attempt = new_attempt;
      it->second.status = rpc::PENDING_ARGS_AVAIL;
    }
  }
  if (events_ == nullptr) return;
  events_->RecordStatus(id, id.JobId(), new_attempt - 1, rpc::FAILED, &why);
}

std::vector<ObjectID> TaskManager::AddPendingTask(const rpc::TaskSpec& spec,
                                                  const ArgumentRefs& args) {
  TaskID id = TaskID::FromBinaryOrDie(spec.task_id());
  std::vector<ObjectID> returns;
  for (int i = 1; i <= spec.num_returns(); ++i) {
    ObjectID rid = ObjectID::FromIndex(id, i);
    refs_->AddOwned(rid, 1);
    returns.push_back(rid);
  }
  // Held first, then the creators' references handed over: never a moment
  // with neither.
  refs_->AddSubmittedRefs(args.held);
  for (const ObjectID& put : args.put) refs_->RemoveLocalRef(put);
  if (events_ != nullptr) events_->RecordSubmitted(spec);
  absl::MutexLock lock(&mu_);
  pending_[id] = Pending{spec.num_returns(), args.held, spec.attempt()};
  return returns;
}

bool TaskManager::Take(const TaskID& id, Pending* out) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  *out = std::move(it->second);
  pending_.erase(it);
  return true;
}

void TaskManager::CompleteTask(const TaskID& id, const rpc::PushTaskReply& reply,
                               const rpc::TaskSpec* lineage, int retries_left) {
  Pending p;
  if (!Take(id, &p)) return;
  if (lineage != nullptr && max_lineage_bytes_ > 0) {
    absl::MutexLock lock(&mu_);
    KeepLineage(id, *lineage, retries_left);
  }
  for (const auto& r : reply.returns()) StoreReturnObject(r);
  refs_->RemoveSubmittedRefs(p.held);
}

void TaskManager::KeepLineage(const TaskID& id, rpc::TaskSpec spec, int rebuilds_left) {
  Lineage l;
  l.bytes = spec.ByteSizeLong();
  l.live_returns = spec.num_returns();
  l.rebuilds_left = rebuilds_left;
  l.spec = std::move(spec);
  auto it = lineage_.find(id);
  if (it == lineage_.end()) {
    // Pin the kept lineage of the arguments this process owns.
    for (const auto& arg : l.spec.args()) {
      if (!arg.has_ref() || arg.ref().owner().worker_id() != self_.worker_id()) continue;
      auto aid = ObjectID::FromBinary(arg.ref().object_id());
      if (!aid.ok()) continue;
      auto a = lineage_.find(aid->TaskId());
      if (a == lineage_.end() || a->first == id) continue;
      ++a->second.pins;
      l.pinned.push_back(a->first);
    }
    it = lineage_.emplace(id, std::move(l)).first;
    lineage_order_.push_back(id);
  } else {
    // Kept again after a rebuild: same place in the eviction order, same
    // pins, and the returns still tracked as they were.
    lineage_bytes_ -= static_cast<int64_t>(it->second.bytes);
    l.pins = it->second.pins;
    l.pinned = std::move(it->second.pinned);
    l.live_returns = it->second.live_returns;
    it->second = std::move(l);
  }
  lineage_bytes_ += static_cast<int64_t>(it->second.bytes);
  while (lineage_bytes_ > max_lineage_bytes_ && !lineage_order_.empty()) {
    TaskID oldest = lineage_order_.front();
    lineage_order_.pop_front();
    auto o = lineage_.find(oldest);
    if (o == lineage_.end()) continue;
    EraseLineage(oldest);
    if (evicted_.insert(oldest).second) evicted_order_.push_back(oldest);
    while (evicted_order_.size() > kRememberedEvictions) {
      evicted_.erase(evicted_order_.front());
      evicted_order_.pop_front();
    }
  }
}

absl::StatusOr<rpc::TaskSpec> TaskManager::Resubmit(const ObjectID& object) {
  const TaskID id = object.TaskId();
  rpc::TaskSpec spec;
  {
    absl::MutexLock lock(&mu_);
    if (pending_.contains(id)) return absl::AlreadyExistsError("being rebuilt already");
    auto it = lineage_.find(id);
    if (it == lineage_.end()) {
      if (evicted_.contains(id)) {
        return absl::OutOfRangeError(fmt::format(
            "the lineage of task {} was dropped to keep within max_lineage_bytes", id.Hex()));
      }
      return absl::NotFoundError("no lineage");
    }
    Lineage& l = it->second;
    if (l.rebuilds_left == 0) {
      return absl::FailedPreconditionError(
          fmt::format("task '{}' has no retries left (max_retries) to run again", l.spec.name()));
    }
    l.spec.set_attempt(l.spec.attempt() + 1);
    // The rebuild is a retry: what is left after it is the new budget.
    if (l.rebuilds_left > 0) --l.rebuilds_left;
    l.spec.set_max_retries(l.rebuilds_left);
    spec = l.spec;
    pending_[id] = Pending{spec.num_returns(), {}, spec.attempt()};
    // The entry stays (a rebuild that fails for good leaves it spent);
    // CompleteTask refreshes it with the retries the rerun has left.
  }
  for (int i = 1; i <= spec.num_returns(); ++i) store_->Erase(ObjectID::FromIndex(id, i));
  // A rebuild is a new attempt of the task, shown from its submission.
  if (events_ != nullptr) events_->RecordSubmitted(spec);
  return spec;
}

void TaskManager::OnObjectFreed(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = lineage_.find(id.TaskId());
  if (it == lineage_.end()) return;
  if (it->second.live_returns > 0) --it->second.live_returns;
  if (it->second.live_returns > 0 || it->second.pins > 0) return;
  EraseLineage(id.TaskId());  // its lineage_order_ entry is skipped when reached
}

void TaskManager::EraseLineage(const TaskID& id) {
  std::vector<TaskID> work = {id};
  while (!work.empty()) {
    TaskID t = work.back();
    work.pop_back();
    auto it = lineage_.find(t);
    if (it == lineage_.end()) continue;
    std::vector<TaskID> pinned = std::move(it->second.pinned);
    lineage_bytes_ -= static_cast<int64_t>(it->second.bytes);
    lineage_.erase(it);
    for (const TaskID& p : pinned) {
      auto a = lineage_.find(p);
      if (a == lineage_.end()) continue;
      if (--a->second.pins == 0 && a->second.live_returns == 0) work.push_back(p);
    }
  }
}

bool TaskManager::Retrack(const ObjectID& id, const TaskID& rebuilding) {
  {
    absl::MutexLock lock(&mu_);
    auto it = lineage_.find(id.TaskId());
    if (it == lineage_.end()) return false;
    ++it->second.live_returns;
  }
  refs_->AddOwned(id, 0);
  refs_->AddSubmittedRefs({id});
  bool held = false;
  {
    absl::MutexLock lock(&mu_);
    auto p = pending_.find(rebuilding);
    if (p != pending_.end()) {
      p->second.held.push_back(id);
      held = true;
    }
  }
  // The rebuild already ended (not so when called before it is submitted).
  if (!held) refs_->RemoveSubmittedRefs({id});
  return true;
}

bool TaskManager::HasLineage(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  return lineage_.contains(id.TaskId());
}

size_t TaskManager::NumLineageEntries() const {
  absl::MutexLock lock(&mu_);
  return lineage_.size();
}

void TaskManager::FailTask(const TaskID& id, const rpc::ErrorInfo& error) {
  Pending p;
  if (!Take(id, &p)) return;
  if (events_ != nullptr) events_->RecordStatus(id, id.JobId(), p.attempt, rpc::FAILED, &error);
  auto v = ObjectValue::FromError(error);
  for (int i = 1; i <= std::max(1, p.num_returns); ++i) {
    store_->Put(ObjectID::FromIndex(id, i), v, /*overwrite=*/true);
  }
  refs_->RemoveSubmittedRefs(p.held);
}

bool TaskManager::IsPending(const TaskID& id) const {
  absl::MutexLock lock(&mu_);
  return pending_.contains(id);
}

size_t TaskManager::NumPending() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

void TaskManager::StoreReturnObject(const rpc::ReturnObject& r) {
  auto id = ObjectID::FromBinary(r.object_id());
  if (!id.ok()) return;
  std::vector<OwnedRef> nested;
  std::vector<OwnedRef> borrowed;  // the nested refs owned by others
  for (const auto& n : r.nested_refs()) {
    auto inner = ObjectID::FromBinary(n.object_id());
    if (!inner.ok()) continue;
    nested.push_back(OwnedRef{*inner, n.owner()});
    if (n.owner().worker_id() != self_.worker_id()) borrowed.push_back(nested.back());
  }
  auto value = ObjectValue::FromReturn(r);
  if (!refs_->Contains(*id)) {
    // Every reference was dropped before the value came: nobody can ask for
    // it, so free it instead of keeping it.
    if (value->in_plasma) free_copy_(*id, value->plasma_node);
    if (!borrowed.empty()) end_borrows_(*id, borrowed);
    return;
  }
  if (!nested.empty()) {
    refs_->AddContainedRefs(*id, nested);
    if (!borrowed.empty() && !refs_->AddOnBehalfBorrows(*id, borrowed)) {
      end_borrows_(*id, borrowed);
    }
  }
  bool in_plasma = value->in_plasma;
  NodeID node = value->plasma_node;
  store_->Put(*id, std::move(value));
  // The last reference may have gone meanwhile, before the value was there
  // to be freed with it.
  if (!refs_->Contains(*id)) {
    store_->Erase(*id);
    if (in_plasma) free_copy_(*id, node);
  }
}

}  // namespace photon::core
