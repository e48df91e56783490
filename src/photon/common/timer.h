// Time and delayed work: the one timer facility of every Photon process.
//
// Components read the time and schedule work through a `Timer` they are
// given (never through absl::Now() or a thread of their own), so that unit
// tests can drive them with a fake timer (tests/fakes/fake_timer.h) and so that
// every periodic job and delayed call has a name, is cancelled when its owner
// stops, and runs on a thread whose lifetime is known: no detached threads.
//
// Callbacks run one at a time on the timer's thread and must not block for
// long: they start RPCs, they do not wait for them. Each name's run count and
// run times are kept (Stats) and a callback that runs for longer than
// `slow_callback_ms` is logged with its name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace photon {

// Reads the time. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real clock (absl::Now()); a process-wide stateless object.
const Clock& RealClock();

// Schedules named callbacks. Thread-safe: any thread may schedule or cancel.
class Timer : public Clock {
 public:
  // 0 is never a valid id (Run* return it after Stop).
  using Id = uint64_t;

  // Runs `fn` once, `delay` from now (at once if delay <= 0), on the timer's
  // thread.
  virtual Id RunAfter(std::string name, absl::Duration delay, std::function<void()> fn) = 0;
  // Runs `fn` every `period`, the first time one period from now. A run that
  // is late is not repeated to catch up.
  virtual Id RunEvery(std::string name, absl::Duration period, std::function<void()> fn) = 0;
  // Cancels `id` (unknown or finished ids are ignored). When called from
  // another thread than the timer's, returns only once `fn` is not running,
  // so `fn` may capture objects the caller is about to destroy.
  virtual void Cancel(Id id) = 0;
};

// Per callback name: how often it ran and for how long.
struct TimerStats {
  int64_t runs = 0;
  absl::Duration total_run_time;
  absl::Duration max_run_time;
  absl::Duration max_lateness;  // how long after its due time a run started
};

// A Timer with one thread of its own.
class ThreadTimer : public Timer {
 public:
  // `name` names the thread in logs. Callbacks that run longer than
  // `slow_callback` are logged.
  explicit ThreadTimer(std::string name, absl::Duration slow_callback = absl::Milliseconds(200));
  ~ThreadTimer() override;  // Stop()
  ThreadTimer(const ThreadTimer&) = delete;
  ThreadTimer& operator=(const ThreadTimer&) = delete;

  absl::Time Now() const override { return absl::Now(); }
  Id RunAfter(std::string name, absl::Duration delay, std::function<void()> fn) override;
  Id RunEvery(std::string name, absl::Duration period, std::function<void()> fn) override;
  void Cancel(Id id) override;

  // Cancels everything, waits for a running callback and joins the thread.
  // Later Run* calls schedule nothing and return 0. Idempotent; must not be
  // called from a callback.
  void Stop();

  std::map<std::string, TimerStats> Stats() const;

 private:
  struct Entry {
    std::string name;
    std::function<void()> fn;
    absl::Time due;
    absl::Duration period;  // zero: once
  };
  Id Add(std::string name, absl::Duration delay, absl::Duration period, std::function<void()> fn);
  void Loop();

  const std::string name_;
  const absl::Duration slow_callback_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Id, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Due time -> id, in order (ties broken by id, i.e. by scheduling order).
  std::map<std::pair<absl::Time, Id>, Id> queue_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  Id running_ ABSL_GUARDED_BY(mu_) = 0;  // the id whose callback runs now
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, TimerStats> stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::thread::id thread_id_;
};

// Exponential backoff: Next() returns initial, initial*2, ... up to max.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max) : next_(initial), max_(max) {}
  absl::Duration Next() {
    absl::Duration d = next_;
    next_ = std::min(next_ * 2, max_);
    return d;
  }

 private:
  absl::Duration next_;
  absl::Duration max_;
};

}  // namespace photon
