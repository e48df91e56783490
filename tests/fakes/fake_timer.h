// A Timer whose clock moves only when the test says: Advance(d) runs, on the
// calling thread and in due order, every callback that falls due. For unit
// tests of components that take a Timer.
#pragma once

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "photon/common/timer.h"

namespace photon::testing {

class FakeTimer : public Timer {
 public:
  explicit FakeTimer(absl::Time start = absl::FromUnixSeconds(1'000'000)) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  Id RunAfter(std::string name, absl::Duration delay, std::function<void()> fn) override {
    return Add(std::move(name), delay, absl::ZeroDuration(), std::move(fn));
  }
  Id RunEvery(std::string name, absl::Duration period, std::function<void()> fn) override {
    return Add(std::move(name), period, period, std::move(fn));
  }
  void Cancel(Id id) override {
    absl::MutexLock lock(&mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->second.id == id) {
        queue_.erase(it);
        return;
      }
    }
  }

  // Moves the clock forward by `d`, running what falls due on the way.
  void Advance(absl::Duration d) {
    absl::Time until;
    {
      absl::MutexLock lock(&mu_);
      until = now_ + d;
    }
    while (true) {
      Entry e;
      {
        absl::MutexLock lock(&mu_);
        if (queue_.empty() || queue_.begin()->first.first > until) {
          now_ = until;
          return;
        }
        auto it = queue_.begin();
        now_ = std::max(now_, it->first.first);
        e = std::move(it->second);
        queue_.erase(it);
        if (e.period > absl::ZeroDuration()) queue_[{now_ + e.period, e.id}] = e;
      }
      e.fn();
    }
  }
  // Runs what is due now.
  void RunDue() { Advance(absl::ZeroDuration()); }

  size_t NumPending() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }
  // How many pending callbacks have this name.
  size_t NumPending(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& [k, e] : queue_) n += e.name == name;
    return n;
  }

 private:
  struct Entry {
    Id id = 0;
    std::string name;
    std::function<void()> fn;
    absl::Duration period;
  };
  Id Add(std::string name, absl::Duration delay, absl::Duration period, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    Id id = next_++;
    queue_[{now_ + std::max(delay, absl::ZeroDuration()), id}] =
        Entry{id, std::move(name), std::move(fn), period};
    return id;
  }

  mutable absl::Mutex mu_;
  absl::Time now_;
  Id next_ = 1;
  std::map<std::pair<absl::Time, Id>, Entry> queue_;
};

}  // namespace photon::testing
