#include "photon/core_worker/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

namespace photon::core {
namespace {

std::shared_ptr<ObjectValue> Value(const std::string& s) { return ObjectValue::FromBytes("m", s); }

TEST(MemoryStoreTest, PutThenGet) {
  MemoryStore store;
  ObjectID id = ObjectID::FromRandom();
  EXPECT_EQ(store.GetIfReady(id), nullptr);
  store.Put(id, Value("a"));
  ASSERT_NE(store.GetIfReady(id), nullptr);
  EXPECT_EQ(store.GetIfReady(id)->data, "a");
  store.Put(id, Value("b"));  // first value wins
  EXPECT_EQ(store.GetIfReady(id)->data, "a");
  store.Put(id, Value("c"), /*overwrite=*/true);
  EXPECT_EQ(store.GetIfReady(id)->data, "c");
  store.Erase(id);
  EXPECT_FALSE(store.Contains(id));
}

TEST(MemoryStoreTest, OnReadyRunsOnceWhenTheValueComes) {
  MemoryStore store;
  ObjectID id = ObjectID::FromRandom();
  int runs = 0;
  store.OnReady(id, [&](std::shared_ptr<ObjectValue>) { ++runs; });
  EXPECT_EQ(runs, 0);
  store.Put(id, Value("x"));
  store.Put(id, Value("y"), true);
  EXPECT_EQ(runs, 1);
  store.OnReady(id, [&](std::shared_ptr<ObjectValue>) { ++runs; });  // at once
  EXPECT_EQ(runs, 2);
}

TEST(MemoryStoreTest, CancelledCallbackNeverRuns) {
  MemoryStore store;
  ObjectID id = ObjectID::FromRandom();
  bool ran = false;
  uint64_t token = store.OnReady(id, [&](std::shared_ptr<ObjectValue>) { ran = true; });
  store.CancelOnReady(id, token);
  EXPECT_EQ(store.NumPendingWaits(), 0u);
  store.Put(id, Value("x"));
  EXPECT_FALSE(ran);
}

TEST(MemoryStoreTest, WaitReturnsWhenEnoughAreReady) {
  MemoryStore store;
  ObjectID a = ObjectID::FromRandom(), b = ObjectID::FromRandom();
  std::thread putter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store.Put(b, Value("b"));
  });
  auto values = store.Wait({a, b}, 1, absl::InfiniteFuture());
  putter.join();
  EXPECT_EQ(values[0], nullptr);
  ASSERT_NE(values[1], nullptr);
}

// A get retried in short slices (Ctrl-C) must not pile up registrations.
TEST(MemoryStoreTest, TimedOutWaitsLeaveNothingBehind) {
  MemoryStore store;
  std::vector<ObjectID> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(ObjectID::FromRandom());
  for (int slice = 0; slice < 20; ++slice) {
    auto values = store.Wait(ids, ids.size(), absl::Now() + absl::Milliseconds(1));
    EXPECT_EQ(values[0], nullptr);
  }
  EXPECT_EQ(store.NumPendingWaits(), 0u);
  store.Put(ids[0], Value("late"));  // nothing left to wake
  EXPECT_EQ(store.NumPendingWaits(), 0u);
}

// `stop` is polled while the wait keeps its registrations: values that come
// between polls count, and a true answer ends the wait and says so.
TEST(MemoryStoreTest, AWaitAsksStopBetweenPollsAndKeepsItsRegistrations) {
  MemoryStore store;
  ObjectID a = ObjectID::FromRandom(), b = ObjectID::FromRandom();
  std::atomic<int> polls = 0;
  std::function<bool()> never = [&] {
    if (++polls == 1) store.Put(a, Value("a"));  // arrives while the wait is unlocked
    return false;
  };
  std::thread putter([&] {
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(3 * MemoryStore::kStopPollInterval));
    store.Put(b, Value("b"));
  });
  bool stopped = false;
  auto values = store.Wait({a, b}, 2, absl::Now() + absl::Seconds(30), &never, &stopped);
  putter.join();
  EXPECT_FALSE(stopped);
  EXPECT_GE(polls.load(), 2);
  ASSERT_NE(values[0], nullptr);
  ASSERT_NE(values[1], nullptr);

  ObjectID c = ObjectID::FromRandom();
  std::function<bool()> now = [] { return true; };
  const absl::Time start = absl::Now();
  values = store.Wait({c}, 1, absl::Now() + absl::Seconds(30), &now, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(values[0], nullptr);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(store.NumPendingWaits(), 0u);
}

TEST(MemoryStoreTest, WaitCountsDuplicateIds) {
  MemoryStore store;
  ObjectID a = ObjectID::FromRandom();
  std::thread putter([&] { store.Put(a, Value("a")); });
  auto values = store.Wait({a, a}, 2, absl::Now() + absl::Seconds(10));
  putter.join();
  EXPECT_NE(values[0], nullptr);
  EXPECT_NE(values[1], nullptr);
}

}  // namespace
}  // namespace photon::core
