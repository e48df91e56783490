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
  absl::MutexLock lock(&mu_);
  while (true) {
    size_t ready = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (out[i] == nullptr) {
        auto it = values_.find(ids[i]);
        if (it != values_.end()) out[i] = it->second;
      }
      ready += out[i] != nullptr;
    }
    if (ready >= num_ready) return out;
    if (changed_.WaitWithDeadline(&mu_, deadline)) {
      // Timed out: one last look happens in the next loop iteration only if
      // we are not past the deadline; return what we have.
      for (size_t i = 0; i < ids.size(); ++i) {
        if (out[i] == nullptr) {
          auto it = values_.find(ids[i]);
          if (it != values_.end()) out[i] = it->second;
        }
      }
      return out;
    }
  }
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
