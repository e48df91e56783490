#include "photon/common/timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "tests/fakes/fake_timer.h"

namespace photon {
namespace {

TEST(ThreadTimerTest, RunsDelayedCallsInDueOrder) {
  ThreadTimer timer("test");
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  timer.RunAfter("third", absl::Milliseconds(30), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(3);
    done.Notify();
  });
  timer.RunAfter("first", absl::ZeroDuration(), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(1);
  });
  timer.RunAfter("second", absl::Milliseconds(10), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(2);
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(ThreadTimerTest, PeriodicCallRepeatsUntilCancelled) {
  ThreadTimer timer("test");
  std::atomic<int> runs{0};
  Timer::Id id = timer.RunEvery("tick", absl::Milliseconds(1), [&] { ++runs; });
  while (runs < 3) absl::SleepFor(absl::Milliseconds(1));
  timer.Cancel(id);
  int after = runs;
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(runs, after);
  EXPECT_GE(timer.Stats()["tick"].runs, 3);
}

TEST(ThreadTimerTest, CancelWaitsForARunningCallback) {
  ThreadTimer timer("test");
  absl::Notification started;
  std::atomic<bool> finished{false};
  Timer::Id id = timer.RunAfter("slow", absl::ZeroDuration(), [&] {
    started.Notify();
    absl::SleepFor(absl::Milliseconds(50));
    finished = true;
  });
  started.WaitForNotification();
  timer.Cancel(id);
  EXPECT_TRUE(finished) << "Cancel returned while the callback ran";
}

TEST(ThreadTimerTest, StopDropsPendingWorkAndRefusesNew) {
  ThreadTimer timer("test");
  std::atomic<bool> ran{false};
  timer.RunAfter("later", absl::Hours(1), [&] { ran = true; });
  timer.Stop();
  EXPECT_EQ(timer.RunAfter("after stop", absl::ZeroDuration(), [&] { ran = true; }), 0u);
  timer.Stop();  // idempotent
  EXPECT_FALSE(ran);
}

TEST(FakeTimerTest, AdvanceRunsWhatFallsDue) {
  testing::FakeTimer timer;
  std::vector<std::string> ran;
  timer.RunAfter("a", absl::Seconds(2), [&] { ran.push_back("a"); });
  Timer::Id b = timer.RunAfter("b", absl::Seconds(1), [&] { ran.push_back("b"); });
  timer.RunEvery("p", absl::Milliseconds(600), [&] { ran.push_back("p"); });
  timer.Cancel(b);
  absl::Time start = timer.Now();
  timer.Advance(absl::Seconds(2));
  EXPECT_EQ(timer.Now() - start, absl::Seconds(2));
  EXPECT_EQ(ran, (std::vector<std::string>{"p", "p", "p", "a"}));
}

TEST(BackoffTest, DoublesUpToItsCap) {
  Backoff b(absl::Milliseconds(100), absl::Milliseconds(350));
  EXPECT_EQ(b.Next(), absl::Milliseconds(100));
  EXPECT_EQ(b.Next(), absl::Milliseconds(200));
  EXPECT_EQ(b.Next(), absl::Milliseconds(350));
  EXPECT_EQ(b.Next(), absl::Milliseconds(350));
}

}  // namespace
}  // namespace photon
