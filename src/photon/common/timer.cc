#include "photon/common/timer.h"

#include "photon/common/logging.h"

namespace photon {
namespace {

class RealClockImpl : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

const Clock& RealClock() {
  static const RealClockImpl clock;
  return clock;
}

ThreadTimer::ThreadTimer(std::string name, absl::Duration slow_callback)
    : name_(std::move(name)), slow_callback_(slow_callback) {
  thread_ = std::thread([this] { Loop(); });
  thread_id_ = thread_.get_id();
}

ThreadTimer::~ThreadTimer() { Stop(); }

Timer::Id ThreadTimer::RunAfter(std::string name, absl::Duration delay, std::function<void()> fn) {
  return Add(std::move(name), delay, absl::ZeroDuration(), std::move(fn));
}

Timer::Id ThreadTimer::RunEvery(std::string name, absl::Duration period, std::function<void()> fn) {
  if (period <= absl::ZeroDuration()) period = absl::Milliseconds(1);
  return Add(std::move(name), period, period, std::move(fn));
}

Timer::Id ThreadTimer::Add(std::string name, absl::Duration delay, absl::Duration period,
                           std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return 0;
  Id id = next_id_++;
  absl::Time due = absl::Now() + std::max(delay, absl::ZeroDuration());
  entries_[id] = Entry{std::move(name), std::move(fn), due, period};
  queue_[{due, id}] = id;
  return id;
}

void ThreadTimer::Cancel(Id id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    queue_.erase({it->second.due, id});
    entries_.erase(it);
  }
  if (std::this_thread::get_id() == thread_id_) return;  // from a callback: it may be itself
  auto not_running = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ != id; };
  mu_.Await(absl::Condition(&not_running));
}

void ThreadTimer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    entries_.clear();
    queue_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, TimerStats> ThreadTimer::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void ThreadTimer::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      auto woken = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&woken));
      continue;
    }
    auto head = queue_.begin();
    absl::Time due = head->first.first;
    absl::Time now = absl::Now();
    if (due > now) {
      // Wake at the due time, or earlier when something sooner is scheduled.
      auto sooner = [this, due]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || queue_.empty() || queue_.begin()->first.first < due;
      };
      mu_.AwaitWithDeadline(absl::Condition(&sooner), due);
      continue;
    }
    Id id = head->second;
    queue_.erase(head);
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    std::string name = it->second.name;
    std::function<void()> fn = it->second.fn;
    if (it->second.period > absl::ZeroDuration()) {
      // The next run is one period after this one starts; late runs are not
      // repeated.
      it->second.due = now + it->second.period;
      queue_[{it->second.due, id}] = id;
    } else {
      entries_.erase(it);
    }
    running_ = id;
    mu_.Unlock();
    absl::Time start = absl::Now();
    fn();
    absl::Duration took = absl::Now() - start;
    mu_.Lock();
    running_ = 0;
    TimerStats& s = stats_[name];
    ++s.runs;
    s.total_run_time += took;
    s.max_run_time = std::max(s.max_run_time, took);
    s.max_lateness = std::max(s.max_lateness, start - due);
    if (took > slow_callback_) {
      PHOTON_LOG_WARN("timer {}: '{}' ran for {} ms", name_, name, absl::ToInt64Milliseconds(took));
    }
  }
}

}  // namespace photon
