#include "photon/core_worker/reference_counter.h"

#include <algorithm>

namespace photon::core {
namespace {

std::string BorrowKey(const std::string& borrower, const std::string& tag) {
  return borrower + '\0' + tag;
}

bool IsKeyOf(const std::string& key, const std::string& borrower) {
  return key.size() > borrower.size() && key.compare(0, borrower.size(), borrower) == 0 &&
         key[borrower.size()] == '\0';
}

}  // namespace

void ReferenceCounter::Notify(const std::vector<Freed>& freed) {
  for (const auto& f : freed) on_free_(f);
}

void ReferenceCounter::AddOwned(const ObjectID& id, int local_refs) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  r.owned = true;
  r.owner.reset();
  r.local += local_refs;
}

bool ReferenceCounter::AddBorrowed(const ObjectID& id, const rpc::Address& owner,
                                   bool to_register) {
  absl::MutexLock lock(&mu_);
  Ref& r = refs_[id];
  if (r.owned) return false;
  if (!r.owner) r.owner = owner;
  if (!to_register || r.borrow_epoch != 0) return false;
  if (r.registering) {
    // Another thread registers it: the value may be used only once it has.
    while (true) {
      auto it = refs_.find(id);
      if (it == refs_.end() || !it->second.registering) break;
      registered_.Wait(&mu_);
    }
    return false;
  }
  r.registering = true;
  return true;
}

void ReferenceCounter::MarkRegistered(const ObjectID& id, uint64_t epoch) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    registered_.SignalAll();
    auto it = refs_.find(id);
    if (it == refs_.end() || it->second.owned) return;
    it->second.registering = false;
    it->second.borrow_epoch = epoch;
    // Every holder may have gone while the registration was in flight.
    MaybeRelease(id, &freed);
  }
  Notify(freed);
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

void ReferenceCounter::MaybeRelease(const ObjectID& first, std::vector<Freed>* freed) {
  // Iterative: freeing a value releases what it contains, which may free more.
  std::vector<ObjectID> pending{first};
  while (!pending.empty()) {
    ObjectID id = pending.back();
    pending.pop_back();
    auto it = refs_.find(id);
    if (it == refs_.end()) continue;
    Ref& r = it->second;
    if (r.local > 0 || r.submitted > 0 || r.contained_in > 0 || r.active_borrows > 0 ||
        r.registering) {
      continue;
    }
    Freed f;
    f.id = id;
    f.owned = r.owned;
    f.owner = r.owner;
    f.borrow_epoch = r.borrow_epoch;
    f.on_behalf = std::move(r.on_behalf);
    std::vector<ObjectID> contains = std::move(r.contains);
    for (const auto& [key, state] : r.borrows) {
      std::string borrower = key.substr(0, key.find('\0'));
      auto b = borrowers_.find(borrower);
      if (b == borrowers_.end()) continue;
      b->second.objects.erase(id);
      if (b->second.objects.empty()) borrowers_.erase(b);
    }
    refs_.erase(it);
    freed->push_back(std::move(f));
    for (const ObjectID& inner : contains) {
      auto in = refs_.find(inner);
      if (in == refs_.end() || in->second.contained_in <= 0) continue;
      --in->second.contained_in;
      pending.push_back(inner);
    }
  }
}

void ReferenceCounter::AddLocalRef(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  ++refs_[id].local;
}

void ReferenceCounter::RemoveLocalRef(const ObjectID& id) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    auto it = refs_.find(id);
    if (it == refs_.end() || it->second.local <= 0) return;
    --it->second.local;
    MaybeRelease(id, &freed);
  }
  Notify(freed);
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
      MaybeRelease(id, &freed);
    }
  }
  Notify(freed);
}

void ReferenceCounter::AddContainedRefs(const ObjectID& outer, const std::vector<OwnedRef>& inner) {
  absl::MutexLock lock(&mu_);
  auto o = refs_.find(outer);
  if (o == refs_.end()) return;
  for (const OwnedRef& ref : inner) {
    if (ref.id == outer) continue;
    Ref& r = refs_[ref.id];
    if (!r.owned && !r.owner && ref.owner.port() != 0) r.owner = ref.owner;
    ++r.contained_in;
    // `o` may have moved when refs_ grew.
    refs_[outer].contains.push_back(ref.id);
  }
}

bool ReferenceCounter::AddOnBehalfBorrows(const ObjectID& outer,
                                          const std::vector<OwnedRef>& refs) {
  absl::MutexLock lock(&mu_);
  auto o = refs_.find(outer);
  if (o == refs_.end()) return false;
  o->second.on_behalf.insert(o->second.on_behalf.end(), refs.begin(), refs.end());
  return true;
}

void ReferenceCounter::UpdateBorrows(const std::vector<std::pair<ObjectID, uint64_t>>& borrows,
                                     const std::string& borrower, const std::string& node,
                                     const std::string& tag, bool borrowing) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    const std::string key = BorrowKey(borrower, tag);
    for (const auto& [id, epoch] : borrows) {
      auto it = refs_.find(id);
      if (it == refs_.end() || !it->second.owned) continue;
      Ref& r = it->second;
      auto [state, inserted] = r.borrows.try_emplace(key);
      BorrowState& b = state->second;
      if (borrowing) {
        if (!inserted && epoch <= b.epoch) continue;  // a retry or an older registration
        b.epoch = epoch;
        if (!b.active) {
          b.active = true;
          ++r.active_borrows;
        }
        Borrower& entry = borrowers_[borrower];
        if (!node.empty()) entry.node = node;
        entry.objects.insert(id);
        continue;
      }
      // An end: it applies to the registration with its epoch; an end that
      // arrives before its registration is remembered so the late
      // registration is ignored.
      if (!inserted && epoch < b.epoch) continue;
      b.epoch = epoch;
      if (b.active) {
        b.active = false;
        --r.active_borrows;
      }
      MaybeRelease(id, &freed);
    }
  }
  Notify(freed);
}

void ReferenceCounter::DropBorrowerLocked(const std::string& borrower, std::vector<Freed>* freed) {
  auto b = borrowers_.find(borrower);
  if (b == borrowers_.end()) return;
  std::vector<ObjectID> objects(b->second.objects.begin(), b->second.objects.end());
  borrowers_.erase(b);
  for (const ObjectID& id : objects) {
    auto it = refs_.find(id);
    if (it == refs_.end()) continue;
    Ref& r = it->second;
    for (auto& [key, state] : r.borrows) {
      if (IsKeyOf(key, borrower) && state.active) {
        state.active = false;
        --r.active_borrows;
      }
    }
    MaybeRelease(id, freed);
  }
}

void ReferenceCounter::DropBorrower(const std::string& borrower) {
  std::vector<Freed> freed;
  {
    absl::MutexLock lock(&mu_);
    DropBorrowerLocked(borrower, &freed);
  }
  Notify(freed);
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
  Notify(freed);
}

size_t ReferenceCounter::NumObjects() const {
  absl::MutexLock lock(&mu_);
  return refs_.size();
}

std::optional<ReferenceCounter::Counts> ReferenceCounter::CountsOf(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  auto it = refs_.find(id);
  if (it == refs_.end()) return std::nullopt;
  const Ref& r = it->second;
  return Counts{r.owned,        r.local,          r.submitted,
                r.contained_in, r.active_borrows, r.borrow_epoch != 0};
}

void ReferenceCounter::SetCallSite(const std::vector<ObjectID>& ids, const std::string& call_site) {
  absl::MutexLock lock(&mu_);
  for (const ObjectID& id : ids) {
    auto it = refs_.find(id);
    if (it != refs_.end()) it->second.call_site = call_site;
  }
}

std::vector<ReferenceCounter::Entry> ReferenceCounter::Snapshot(size_t limit, size_t* total) const {
  absl::MutexLock lock(&mu_);
  *total = refs_.size();
  std::vector<Entry> out;
  absl::flat_hash_map<ObjectID, size_t> index;
  out.reserve(limit > 0 ? std::min(limit, refs_.size()) : refs_.size());
  for (const auto& [id, r] : refs_) {
    if (limit > 0 && out.size() >= limit) break;
    index[id] = out.size();
    out.push_back(Entry{id,
                        Counts{r.owned, r.local, r.submitted, r.contained_in, r.active_borrows,
                               r.borrow_epoch != 0},
                        {},
                        r.call_site});
  }
  for (const auto& [outer, r] : refs_) {
    for (const ObjectID& inner : r.contains) {
      auto it = index.find(inner);
      if (it != index.end()) out[it->second].contained_in.push_back(outer);
    }
  }
  return out;
}

}  // namespace photon::core
