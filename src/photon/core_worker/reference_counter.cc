#include "photon/core_worker/reference_counter.h"

namespace photon::core {

void ReferenceCounter::AddOwned(const ObjectID& id, int local_refs) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  r.owned = true;
  r.local += local_refs;
}

bool ReferenceCounter::AddBorrowed(const ObjectID& id, const rpc::Address& owner,
                                   bool to_register) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  if (r.owned) return false;
  r.owner = owner;
  if (!to_register || r.registered || r.registering) return false;
  r.registering = true;
  return true;
}

void ReferenceCounter::MarkRegistered(const ObjectID& id, bool ok) {
  absl::MutexLock lock(&mu_);
  auto it = refs_.find(id);
  if (it == refs_.end() || it->second.owned) return;
  it->second.registering = false;
  it->second.registered = ok;
}

void ReferenceCounter::AddBorrowers(const std::vector<ObjectID>& ids, const std::string& borrower,
                                    const std::string& node, int delta) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& id : ids) {
      auto it = refs_.find(id);
      if (it == refs_.end() || !it->second.owned) continue;
      if (delta > 0) {
        Borrower& b = borrowers_[borrower];
        if (!node.empty()) b.node = node;
        b.objects[id] += delta;
        it->second.borrowers += delta;
        continue;
      }
      auto b = borrowers_.find(borrower);
      if (b == borrowers_.end()) continue;
      auto held = b->second.objects.find(id);
      if (held == b->second.objects.end()) continue;
      int drop = std::min(held->second, -delta);
      held->second -= drop;
      it->second.borrowers -= drop;
      if (held->second <= 0) b->second.objects.erase(held);
      if (b->second.objects.empty()) borrowers_.erase(b);
      if (auto f = MaybeRelease(id)) freed.push_back(std::move(*f));
    }
  }
  for (const auto& f : freed) on_free_(f);
}

void ReferenceCounter::DropBorrowerLocked(const std::string& borrower, std::vector<Freed>* freed) {
  auto b = borrowers_.find(borrower);
  if (b == borrowers_.end()) return;
  for (const auto& [id, count] : b->second.objects) {
    auto it = refs_.find(id);
    if (it == refs_.end()) continue;
    it->second.borrowers = std::max(0, it->second.borrowers - count);
    if (auto f = MaybeRelease(id)) freed->push_back(std::move(*f));
  }
  borrowers_.erase(b);
}

void ReferenceCounter::DropBorrower(const std::string& borrower) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    DropBorrowerLocked(borrower, &freed);
  }
  for (const auto& f : freed) on_free_(f);
}

void ReferenceCounter::DropBorrowersOnNode(const std::string& node) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> gone;
    for (const auto& [worker, b] : borrowers_) {
      if (b.node == node) gone.push_back(worker);
    }
    for (const auto& worker : gone) DropBorrowerLocked(worker, &freed);
  }
  for (const auto& f : freed) on_free_(f);
}

bool ReferenceCounter::IsOwned(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  auto it = refs_.find(id);
  return it != refs_.end() && it->second.owned;
}

bool ReferenceCounter::Contains(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  return refs_.contains(id);
}

std::optional<rpc::Address> ReferenceCounter::OwnerOf(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  auto it = refs_.find(id);
  if (it == refs_.end()) return std::nullopt;
  return it->second.owner;
}

std::optional<ReferenceCounter::Freed> ReferenceCounter::MaybeRelease(const ObjectID& id) {
  auto it = refs_.find(id);
  if (it == refs_.end()) return std::nullopt;
  const Ref& r = it->second;
  if (r.local > 0 || r.submitted > 0 || r.borrowers > 0) return std::nullopt;
  Freed f{id, r.owned, r.owner, r.registered};
  refs_.erase(it);
  return f;
}

void ReferenceCounter::AddLocalRef(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  ++refs_[id].local;
}

void ReferenceCounter::RemoveLocalRef(const ObjectID& id) {
  std::optional<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    auto it = refs_.find(id);
    if (it == refs_.end() || it->second.local <= 0) return;
    --it->second.local;
    freed = MaybeRelease(id);
  }
  if (freed) on_free_(*freed);
}

void ReferenceCounter::AddSubmittedRefs(const std::vector<ObjectID>& ids) {
  absl::MutexLock lock(&mu_);
  for (const auto& id : ids) ++refs_[id].submitted;
}

void ReferenceCounter::RemoveSubmittedRefs(const std::vector<ObjectID>& ids) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& id : ids) {
      auto it = refs_.find(id);
      if (it == refs_.end() || it->second.submitted <= 0) continue;
      --it->second.submitted;
      if (auto f = MaybeRelease(id)) freed.push_back(std::move(*f));
    }
  }
  for (const auto& f : freed) on_free_(f);
}

size_t ReferenceCounter::NumObjects() const {
  absl::MutexLock lock(&mu_);
  return refs_.size();
}

}  // namespace photon::core
