#include "photon/core_worker/memory_store.h"

namespace photon::core {

void MemoryStore::Put(const ObjectID& id, std::shared_ptr<ObjectValue> value, bool overwrite) {
  std::vector<Callback> cbs;
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = values_.try_emplace(id, value);
    if (!inserted) {
      if (!overwrite) return;
      it->second = value;
    }
    auto c = callbacks_.find(id);
    if (c != callbacks_.end()) {
      cbs = std::move(c->second);
      callbacks_.erase(c);
    }
    changed_.SignalAll();
  }
  for (auto& cb : cbs) cb(value);
}

std::shared_ptr<ObjectValue> MemoryStore::GetIfReady(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  auto it = values_.find(id);
  return it == values_.end() ? nullptr : it->second;
}

bool MemoryStore::Contains(const ObjectID& id) const {
  absl::MutexLock lock(&mu_);
  return values_.contains(id);
}

void MemoryStore::OnReady(const ObjectID& id, Callback cb) {
  std::shared_ptr<ObjectValue> v;
  {
    absl::MutexLock lock(&mu_);
    auto it = values_.find(id);
    if (it == values_.end()) {
      callbacks_[id].push_back(std::move(cb));
      return;
    }
    v = it->second;
  }
  cb(v);
}

std::vector<std::shared_ptr<ObjectValue>> MemoryStore::Wait(const std::vector<ObjectID>& ids,
                                                            size_t num_ready, absl::Time deadline) {
  std::vector<std::shared_ptr<ObjectValue>> out(ids.size());
  // A countdown fed by OnReady callbacks: each arrival costs O(1), where
  // rescanning every id on every arrival would cost O(n) (O(n^2) in all).
  struct Countdown {
    absl::Mutex mu;
    size_t ready ABSL_GUARDED_BY(mu) = 0;
  };
  auto countdown = std::make_shared<Countdown>();
  size_t already = 0;
  std::vector<size_t> missing;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = values_.find(ids[i]);
      if (it != values_.end()) {
        out[i] = it->second;
        ++already;
      } else {
        missing.push_back(i);
      }
    }
  }
  if (already >= num_ready || missing.empty()) return out;
  for (size_t i : missing) {
    OnReady(ids[i], [countdown](std::shared_ptr<ObjectValue>) {
      absl::MutexLock lock(&countdown->mu);
      ++countdown->ready;
    });
  }
  {
    absl::MutexLock lock(&countdown->mu);
    size_t needed = num_ready - already;
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(countdown->mu) {
      return countdown->ready >= needed;
    };
    countdown->mu.AwaitWithDeadline(absl::Condition(&enough), deadline);
  }
  absl::MutexLock lock(&mu_);
  for (size_t i : missing) {
    auto it = values_.find(ids[i]);
    if (it != values_.end()) out[i] = it->second;
  }
  return out;
}

void MemoryStore::Erase(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  values_.erase(id);
}

size_t MemoryStore::Size() const {
  absl::MutexLock lock(&mu_);
  return values_.size();
}

}  // namespace photon::core
