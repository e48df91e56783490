#include "photon/core_worker/submit/task_manager.h"

namespace photon::core {

TaskManager::TaskManager(ReferenceCounter* refs, MemoryStore* store, rpc::Address self,
                         FreeCopyFn free_copy, EndBorrowsFn end_borrows)
    : refs_(refs),
      store_(store),
      self_(std::move(self)),
      free_copy_(std::move(free_copy)),
      end_borrows_(std::move(end_borrows)) {}

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
  absl::MutexLock lock(&mu_);
  pending_[id] = Pending{spec.num_returns(), args.held};
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

void TaskManager::CompleteTask(const TaskID& id, const rpc::PushTaskReply& reply) {
  Pending p;
  if (!Take(id, &p)) return;
  for (const auto& r : reply.returns()) StoreReturnObject(r);
  refs_->RemoveSubmittedRefs(p.held);
}

void TaskManager::FailTask(const TaskID& id, const rpc::ErrorInfo& error) {
  Pending p;
  if (!Take(id, &p)) return;
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
