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

void ReferenceCounter::AddBorrowers(const std::vector<ObjectID>& ids, int delta) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& id : ids) {
      auto it = refs_.find(id);
      if (it == refs_.end() || !it->second.owned) continue;
      it->second.borrowers = std::max(0, it->second.borrowers + delta);
      if (auto f = MaybeRelease(id)) freed.push_back(std::move(*f));
    }
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
