#include "photon/core_worker/reference_counter.h"

namespace photon::core {

void ReferenceCounter::AddOwned(const ObjectID& id, int local_refs) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  r.owned = true;
  r.local += local_refs;
}

void ReferenceCounter::AddBorrowed(const ObjectID& id, const rpc::Address& owner) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  if (!r.owned) r.owner = owner;
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

bool ReferenceCounter::MaybeRelease(const ObjectID& id, bool* owned) {
  auto it = refs_.find(id);
  if (it == refs_.end()) return false;
  if (it->second.local > 0 || it->second.submitted > 0) return false;
  *owned = it->second.owned;
  refs_.erase(it);
  return true;
}

void ReferenceCounter::AddLocalRef(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  ++refs_[id].local;
}

void ReferenceCounter::RemoveLocalRef(const ObjectID& id) {
  bool owned = false, release = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = refs_.find(id);
    if (it == refs_.end() || it->second.local <= 0) return;
    --it->second.local;
    release = MaybeRelease(id, &owned);
  }
  if (release) on_free_(id, owned);
}

void ReferenceCounter::AddSubmittedRefs(const std::vector<ObjectID>& ids) {
  absl::MutexLock lock(&mu_);
  for (const auto& id : ids) ++refs_[id].submitted;
}

void ReferenceCounter::RemoveSubmittedRefs(const std::vector<ObjectID>& ids) {
  std::vector<std::pair<ObjectID, bool>> freed;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& id : ids) {
      auto it = refs_.find(id);
      if (it == refs_.end() || it->second.submitted <= 0) continue;
      --it->second.submitted;
      bool owned = false;
      if (MaybeRelease(id, &owned)) freed.emplace_back(id, owned);
    }
  }
  for (const auto& [id, owned] : freed) on_free_(id, owned);
}

size_t ReferenceCounter::NumObjects() const {
  absl::MutexLock lock(&mu_);
  return refs_.size();
}

}  // namespace photon::core
