#include "photon/core_worker/memory_store.h"

#include <algorithm>

namespace photon::core {

void MemoryStore::Put(const ObjectID& id, std::shared_ptr<ObjectValue> value, bool overwrite) {
  std::vector<std::pair<uint64_t, Callback>> cbs;
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
    // Each waiter counts an arrival once: it unregisters itself from the ids
    // it found ready, and overwrites of a value already counted find it gone.
    auto w = waiters_.find(id);
    if (w != waiters_.end()) {
      for (Waiter* waiter : w->second) ++waiter->ready;
      waiters_.erase(w);
    }
  }
  for (auto& [token, cb] : cbs) cb(value);
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

uint64_t MemoryStore::OnReady(const ObjectID& id, Callback cb) {
  std::shared_ptr<ObjectValue> v;
  {
    absl::MutexLock lock(&mu_);
    auto it = values_.find(id);
    if (it == values_.end()) {
      uint64_t token = next_token_++;
      callbacks_[id].emplace_back(token, std::move(cb));
      return token;
    }
    v = it->second;
  }
  cb(v);
  return 0;
}

void MemoryStore::CancelOnReady(const ObjectID& id, uint64_t token) {
  if (token == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = callbacks_.find(id);
  if (it == callbacks_.end()) return;
  auto& list = it->second;
  list.erase(
      std::remove_if(list.begin(), list.end(), [token](const auto& e) { return e.first == token; }),
      list.end());
  if (list.empty()) callbacks_.erase(it);
}

std::vector<std::shared_ptr<ObjectValue>> MemoryStore::Wait(const std::vector<ObjectID>& ids,
                                                            size_t num_ready, absl::Time deadline,
                                                            const std::function<bool()>* stop,
                                                            bool* stopped) {
  std::vector<std::shared_ptr<ObjectValue>> out(ids.size());
  Waiter waiter;
  std::vector<size_t> missing;
  absl::MutexLock lock(&mu_);
  size_t already = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = values_.find(ids[i]);
    if (it != values_.end()) {
      out[i] = it->second;
      ++already;
    } else {
      missing.push_back(i);
    }
  }
  if (already >= num_ready || missing.empty() || absl::Now() >= deadline) return out;
  // One registration per missing id; each arrival costs O(1) (rescanning
  // every id on every arrival would cost O(n^2) for a get of n refs).
  for (size_t i : missing) waiters_[ids[i]].push_back(&waiter);
  const size_t needed = num_ready - already;
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiter.ready >= needed; };
  if (stop == nullptr || !*stop) {
    mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
  } else {
    while (!mu_.AwaitWithDeadline(absl::Condition(&enough),
                                  std::min(deadline, absl::Now() + kStopPollInterval)) &&
           absl::Now() < deadline) {
      mu_.Unlock();  // `stop` may take other locks (the GIL)
      const bool give_up = (*stop)();
      mu_.Lock();
      if (give_up) {
        if (stopped != nullptr) *stopped = true;
        break;
      }
    }
  }
  for (size_t i : missing) {
    auto it = values_.find(ids[i]);
    if (it != values_.end()) {
      out[i] = it->second;
      continue;
    }
    // Not ready: take this wait's registration back.
    auto w = waiters_.find(ids[i]);
    if (w == waiters_.end()) continue;
    auto& list = w->second;
    list.erase(std::remove(list.begin(), list.end(), &waiter), list.end());
    if (list.empty()) waiters_.erase(w);
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

size_t MemoryStore::NumPendingWaits() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [id, cbs] : callbacks_) n += cbs.size();
  for (const auto& [id, ws] : waiters_) n += ws.size();
  return n;
}

}  // namespace photon::core
