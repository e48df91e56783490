// Runtime integration tests: tasks and objects on a private local cluster
// (photon::Init with num_cpus / resources), with real daemons and workers.
#include <gtest/gtest.h>
#include <photon/api.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime_test_util.h"

namespace {

using photon_test::Clock;
using photon_test::LocalClusterTest;
using photon_test::SecondsSince;

// ---- remote functions --------------------------------------------------------

int GetPid() { return static_cast<int>(getpid()); }
std::string RayletOfTask() { return photon_test::ThisRaylet(); }
int64_t Square(int64_t x) { return x * x; }

// Small values of several types.
struct Record {
  int32_t id = 0;
  double score = 0;
  std::string label;
  std::vector<int64_t> values;
  std::map<std::string, std::string> tags;
  MSGPACK_DEFINE(id, score, label, values, tags);
  bool operator==(const Record&) const = default;
};
Record EchoRecord(Record r) { return r; }
std::string EchoString(std::string s) { return s; }

// Large values.
std::vector<uint8_t> MakeBytesTask(int64_t n, uint64_t seed) {
  return photon_test::MakeBytes(n, seed);
}
uint64_t ChecksumBytes(std::vector<uint8_t> bytes) {
  return photon_test::Fnv1a(bytes.data(), bytes.size());
}
int64_t SizeOfBytes(std::vector<uint8_t> bytes) { return static_cast<int64_t>(bytes.size()); }
std::vector<uint8_t> EchoBytes(std::vector<uint8_t> bytes) { return bytes; }

// Chains: f(g(h())) == 123.
int H() { return 1; }
int G(int x) { return x * 10 + 2; }
int F(int x) { return x * 10 + 3; }
int Add3(int a, int b, int c) { return a + b + c; }
int SlowValue(int value, int sleep_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return value;
}

// Nested tasks.
int Leaf(int x) { return x * 2; }
int Fanout(int n) {
  std::vector<photon::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(photon::Task(Leaf).Remote(i));
  int sum = 0;
  for (const auto& v : photon::Get(refs)) sum += *v;
  return sum;
}
int Deep(int depth) {
  if (depth == 0) return 1;
  return *photon::Task(Deep).Remote(depth - 1).Get() + 1;
}
// A nested task that passes a ref it made to another nested task.
int NestedChain(int x) {
  photon::ObjectRef<int> a = photon::Task(Leaf).Remote(x);
  return *photon::Task(Add3).Remote(a, a, photon::Put(1)).Get();
}

// Writes <dir>/<name> when it starts, then sleeps.
int HoldSlot(std::string dir, std::string name, int sleep_ms) {
  photon_test::WriteFileAtomically(dir + "/" + name, std::to_string(getpid()));
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return sleep_ms;
}

// void tasks.
void Touch(std::string path) { photon_test::WriteFileAtomically(path, "x"); }
void FailVoid(int code) {
  throw std::runtime_error("void task failed with " + std::to_string(code));
}

PHOTON_REMOTE(Touch, FailVoid);
PHOTON_REMOTE(GetPid, RayletOfTask, Square, EchoRecord, EchoString, MakeBytesTask, ChecksumBytes,
              SizeOfBytes, EchoBytes, H, G, F, Add3, SlowValue, Leaf, Fanout, Deep, NestedChain,
              HoldSlot);

// ---- 1. a task runs in another process ------------------------------------------

class TasksTest : public LocalClusterTest {};

TEST_F(TasksTest, RunsInAnotherProcess) {
  StartCluster(2);
  int pid = *photon::Task(GetPid).Remote().Get(30000);
  EXPECT_NE(pid, static_cast<int>(getpid()));
  EXPECT_GT(pid, 0);
  // The worker was started by a raylet, which told it where it is.
  std::string raylet = *photon::Task(RayletOfTask).Remote().Get(30000);
  EXPECT_NE(raylet, "driver");
  EXPECT_NE(raylet.find("127.0.0.1:"), std::string::npos) << raylet;
}

// ---- 2. many tiny tasks ----------------------------------------------------------

TEST_F(TasksTest, TenThousandTinyTasks) {
  StartCluster(2);
  constexpr int kTasks = 10000;
  auto start = Clock::now();
  std::vector<photon::ObjectRef<int64_t>> refs;
  refs.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) refs.push_back(photon::Task(Square).Remote(int64_t{i}));
  auto values = photon::Get(refs, 90000);
  ASSERT_EQ(values.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(*values[i], int64_t{i} * i) << "task " << i;
  std::printf("%d tasks in %.2f s\n", kTasks, SecondsSince(start));
  // Get one at a time too (values are still there while the refs live).
  EXPECT_EQ(*refs[kTasks - 1].Get(), int64_t{kTasks - 1} * (kTasks - 1));
  refs.clear();
  values.clear();
  // The runtime still works after all refs are gone.
  EXPECT_EQ(*photon::Task(Square).Remote(int64_t{12}).Get(30000), 144);
}

TEST_F(TasksTest, TrackedObjectsReturnToBaseline) {
  StartCluster(2);
  const size_t baseline = photon::internal::GetRuntime().NumTrackedObjects();
  {
    std::vector<photon::ObjectRef<int64_t>> refs;
    for (int i = 0; i < 10000; ++i) refs.push_back(photon::Task(Square).Remote(int64_t{i}));
    auto values = photon::Get(refs, 90000);
    ASSERT_EQ(values.size(), 10000u);
    EXPECT_GT(photon::internal::GetRuntime().NumTrackedObjects(), baseline);
  }
  // Every ref is gone: the driver's table returns to where it started.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (photon::internal::GetRuntime().NumTrackedObjects() != baseline &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(photon::internal::GetRuntime().NumTrackedObjects(), baseline);
}

TEST_F(TasksTest, ConcurrentSubmittersFromThreads) {
  StartCluster(2);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      try {
        std::vector<photon::ObjectRef<int64_t>> refs;
        for (int i = 0; i < 300; ++i) {
          refs.push_back(photon::Task(Square).Remote(int64_t{t * 1000 + i}));
        }
        auto values = photon::Get(refs, 60000);
        for (int i = 0; i < 300; ++i) {
          int64_t x = t * 1000 + i;
          if (*values[i] != x * x) ++failures;
        }
        for (int i = 0; i < 20; ++i) {
          if (*photon::Put(t * 100 + i).Get() != t * 100 + i) ++failures;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "thread %d: %s\n", t, e.what());
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(TasksTest, VoidTasks) {
  StartCluster(2);
  std::string dir = photon_test::MakeScratchDir("void");
  ASSERT_FALSE(dir.empty());
  photon::ObjectRef<void> done = photon::Task(Touch).Remote(dir + "/touched");
  photon::Get(done, 30000);
  EXPECT_TRUE(photon_test::WaitForFile(dir + "/touched", 0));
  try {
    photon::Task(FailVoid).Remote(3).Get(30000);
    ADD_FAILURE() << "Get returned for a void task that threw";
  } catch (const photon::TaskError& e) {
    EXPECT_EQ(e.exception_type(), "std::runtime_error");
    EXPECT_EQ(e.message(), "void task failed with 3");
  }
}

// ---- 3. Put / Get, large values ---------------------------------------------------

TEST_F(TasksTest, PutGetSmallValuesRoundTrip) {
  StartCluster(2);
  EXPECT_EQ(*photon::Put(42).Get(), 42);
  EXPECT_EQ(*photon::Put(std::string("hello\0world", 11)).Get(), std::string("hello\0world", 11));
  EXPECT_EQ(*photon::Put(std::string()).Get(), "");
  Record r{7, 2.5, "seven", {1, -2, 3}, {{"k", "v"}, {"a", "b"}}};
  EXPECT_EQ(*photon::Put(r).Get(), r);
  // Through a task and back.
  EXPECT_EQ(*photon::Task(EchoRecord).Remote(r).Get(30000), r);
  EXPECT_EQ(*photon::Task(EchoRecord).Remote(photon::Put(r)).Get(30000), r);
  // Just below and just above the inline limit (102400 bytes by default).
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{102300}, int64_t{102500}}) {
    std::string s(static_cast<size_t>(n), 'x');
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31 + 7);
    EXPECT_EQ(*photon::Put(s).Get(), s) << n;
    EXPECT_EQ(*photon::Task(EchoString).Remote(s).Get(30000), s) << n;
  }
}

TEST_F(TasksTest, PutGetLargeValuesBitExact) {
  StartCluster(2);
  for (int64_t n : {int64_t{1} << 20, int64_t{20} << 20}) {
    std::vector<uint8_t> bytes = photon_test::MakeBytes(n, static_cast<uint64_t>(n));
    auto ref = photon::Put(bytes);
    auto got = ref.Get();
    ASSERT_EQ(got->size(), bytes.size());
    EXPECT_TRUE(*got == bytes) << n << " bytes differ after Put/Get";
    // A second Get of the same object gives the same bytes.
    EXPECT_TRUE(*ref.Get() == bytes);
    // The same as a std::string.
    std::string s(bytes.begin(), bytes.end());
    EXPECT_TRUE(*photon::Put(s).Get() == s);
  }
}

TEST_F(TasksTest, LargeTaskArgumentsAndReturns) {
  StartCluster(2);
  constexpr int64_t kBig = int64_t{20} << 20;
  std::vector<uint8_t> bytes = photon_test::MakeBytes(kBig, 99);
  uint64_t want = photon_test::Fnv1a(bytes.data(), bytes.size());
  // A large value passed by value (the runtime puts it in the store).
  EXPECT_EQ(*photon::Task(ChecksumBytes).Remote(bytes).Get(60000), want);
  // A large value passed as a ref of a Put.
  EXPECT_EQ(*photon::Task(ChecksumBytes).Remote(photon::Put(bytes)).Get(60000), want);
  // A large return value.
  auto made = photon::Task(MakeBytesTask).Remote(kBig, uint64_t{99}).Get(60000);
  ASSERT_EQ(made->size(), bytes.size());
  EXPECT_TRUE(*made == bytes);
  // Large in and large out; and a large return passed on to another task.
  auto echoed = photon::Task(EchoBytes).Remote(bytes);
  EXPECT_TRUE(*echoed.Get(60000) == bytes);
  EXPECT_EQ(*photon::Task(ChecksumBytes).Remote(echoed).Get(60000), want);
  EXPECT_EQ(*photon::Task(SizeOfBytes)
                 .Remote(photon::Task(MakeBytesTask).Remote(int64_t{1} << 20, uint64_t{5}))
                 .Get(60000),
            int64_t{1} << 20);
}

// ---- 4. ObjectRef arguments -------------------------------------------------------

TEST_F(TasksTest, ObjectRefArgumentsAreResolved) {
  StartCluster(2);
  EXPECT_EQ(*photon::Task(F).Remote(photon::Task(G).Remote(photon::Task(H).Remote())).Get(30000),
            123);
  // Mixed refs and values; the same ref twice; a Put ref.
  auto one = photon::Task(H).Remote();
  EXPECT_EQ(*photon::Task(Add3).Remote(one, 10, one).Get(30000), 12);
  EXPECT_EQ(*photon::Task(Add3).Remote(photon::Put(100), one, 1000).Get(30000), 1101);
  // The consumer is submitted long before its argument exists: it waits.
  auto slow = photon::Task(SlowValue).Remote(5, 1000);
  auto start = Clock::now();
  auto sum = photon::Task(Add3).Remote(slow, slow, 1);
  EXPECT_LT(SecondsSince(start), 0.5) << "Remote must not block on its arguments";
  EXPECT_EQ(*sum.Get(30000), 11);
  // A long chain of refs.
  photon::ObjectRef<int> acc = photon::Put(0);
  for (int i = 1; i <= 20; ++i) acc = photon::Task(Add3).Remote(acc, i, 0);
  EXPECT_EQ(*acc.Get(30000), 210);
}

// ---- 5. nested tasks --------------------------------------------------------------

TEST_F(TasksTest, NestedTasksOnOneCpuDoNotDeadlock) {
  StartCluster(1);
  EXPECT_EQ(*photon::Task(Fanout).Remote(4).Get(60000), 0 + 2 + 4 + 6);
  EXPECT_EQ(*photon::Task(Deep).Remote(3).Get(60000), 4);
  EXPECT_EQ(*photon::Task(NestedChain).Remote(5).Get(60000), 21);
}

// ---- code_search_path: functions from a library, in photon-default-worker -------------

TEST_F(TasksTest, CodeSearchPathFunctionsRun) {
  photon::Config config;
  config.num_cpus = 2;
  config.code_search_path = {PHOTON_CODE_SEARCH_PLUGIN};
  StartCluster(config);
  EXPECT_EQ(*photon::Task<int>("PluginSquare").Remote(7).Get(30000), 49);
  // This executable's own functions are not there.
  EXPECT_THROW(photon::Task<int>("GetPid").Remote().Get(30000), photon::FunctionNotFoundError);
}

TEST_F(TasksTest, NestedTasksInCodeSearchPathWorkers) {
  photon::Config config;
  config.num_cpus = 2;
  config.code_search_path = {photon_test::fs::path(PHOTON_CODE_SEARCH_PLUGIN).parent_path()};
  StartCluster(config);
  EXPECT_EQ(*photon::Task<int>("PluginNestedSquarePlusOne").Remote(7).Get(30000), 50);
}

// ---- 9. timeouts and Wait ---------------------------------------------------------

TEST_F(TasksTest, GetTimeoutOnSlowTask) {
  StartCluster(2);
  auto slow = photon::Task(SlowValue).Remote(7, 2000);
  auto start = Clock::now();
  EXPECT_THROW(slow.Get(300), photon::GetTimeoutError);
  double waited = SecondsSince(start);
  EXPECT_GE(waited, 0.25);
  EXPECT_LT(waited, 1.5);
  EXPECT_THROW(photon::Get(std::vector<photon::ObjectRef<int>>{slow}, 100),
               photon::GetTimeoutError);
  // The task is unaffected by the timed-out Gets.
  EXPECT_EQ(*slow.Get(30000), 7);
}

TEST_F(TasksTest, WaitReturnsReadyAndUnreadyInInputOrder) {
  StartCluster(5);
  // slow, fast, slow, fast, fast
  std::vector<photon::ObjectRef<int>> refs = {
      photon::Task(SlowValue).Remote(0, 6000), photon::Task(SlowValue).Remote(1, 0),
      photon::Task(SlowValue).Remote(2, 6000), photon::Task(SlowValue).Remote(3, 0),
      photon::Task(SlowValue).Remote(4, 0)};
  auto start = Clock::now();
  auto r = photon::Wait(refs, 3, 30000);
  EXPECT_LT(SecondsSince(start), 5.0) << "Wait should return once the three fast tasks are done";
  ASSERT_EQ(r.ready.size(), 3u);
  ASSERT_EQ(r.unready.size(), 2u);
  EXPECT_EQ(r.ready[0], refs[1]);
  EXPECT_EQ(r.ready[1], refs[3]);
  EXPECT_EQ(r.ready[2], refs[4]);
  EXPECT_EQ(r.unready[0], refs[0]);
  EXPECT_EQ(r.unready[1], refs[2]);
  EXPECT_EQ(*r.ready[0].Get(), 1);
  EXPECT_EQ(*r.ready[2].Get(), 4);
  // Asking for all of them with a short timeout: not an error, same split.
  start = Clock::now();
  auto t = photon::Wait(refs, 5, 300);
  double waited = SecondsSince(start);
  EXPECT_GE(waited, 0.25);
  EXPECT_LT(waited, 2.0);
  ASSERT_EQ(t.ready.size(), 3u);
  ASSERT_EQ(t.unready.size(), 2u);
  EXPECT_EQ(t.ready[0], refs[1]);
  EXPECT_EQ(t.unready[1], refs[2]);
  // num_objects = 1 returns at once when something is ready.
  start = Clock::now();
  auto one = photon::Wait(refs, 1, 10000);
  EXPECT_LT(SecondsSince(start), 1.0);
  EXPECT_GE(one.ready.size(), 1u);
  EXPECT_EQ(one.ready.size() + one.unready.size(), refs.size());
  // A zero timeout only looks.
  auto now = photon::Wait(refs, 5, 0);
  EXPECT_EQ(now.ready.size(), 3u);
  // Bad arguments.
  EXPECT_THROW(photon::Wait(refs, 0, 10), std::invalid_argument);
  EXPECT_THROW(photon::Wait(refs, 6, 10), std::invalid_argument);
  // The slow tasks are still running: Shutdown in TearDown stops them.
}

// ---- 10. Cancel ------------------------------------------------------------------

TEST_F(TasksTest, CancelPendingTask) {
  photon::Config config;
  config.num_cpus = 2;
  config.resources = {{"slot", 1}};
  StartCluster(config);
  std::string dir = photon_test::MakeScratchDir("cancel");
  ASSERT_FALSE(dir.empty());
  auto a = photon::Task(HoldSlot).SetResource("slot", 1).Remote(dir, "a", 2000);
  ASSERT_TRUE(photon_test::WaitForFile(dir + "/a", 30000)) << "task A never started";
  auto b = photon::Task(HoldSlot).SetResource("slot", 1).Remote(dir, "b", 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // B is queued behind A
  EXPECT_FALSE(photon_test::WaitForFile(dir + "/b", 0)) << "B ran while A held the slot";
  auto start = Clock::now();
  photon::Cancel(b);
  EXPECT_THROW(b.Get(10000), photon::TaskCancelledError);
  EXPECT_LT(SecondsSince(start), 1.0) << "Get of a cancelled pending task must not wait for A";
  // A is unaffected.
  EXPECT_EQ(*a.Get(30000), 2000);
  // B never runs, even once the slot is free.
  EXPECT_EQ(*photon::Task(HoldSlot).SetResource("slot", 1).Remote(dir, "c", 0).Get(30000), 0);
  EXPECT_FALSE(photon_test::WaitForFile(dir + "/b", 300)) << "a cancelled task ran";
  // A task that depends on the cancelled one fails the same way.
  EXPECT_THROW(photon::Task(Add3).Remote(b, 1, 2).Get(10000), photon::TaskCancelledError);
  // Cancelling a finished task does nothing.
  photon::Cancel(a);
  EXPECT_EQ(*a.Get(), 2000);
}

TEST_F(TasksTest, CancelTaskWaitingForItsArgument) {
  StartCluster(2);
  auto slow = photon::Task(SlowValue).Remote(1, 1500);
  auto waiting = photon::Task(Add3).Remote(slow, 1, 1);
  photon::Cancel(waiting);
  EXPECT_THROW(waiting.Get(10000), photon::TaskCancelledError);
  EXPECT_EQ(*slow.Get(30000), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_THROW(waiting.Get(1000), photon::TaskCancelledError);
}

// ---- objects are freed --------------------------------------------------------------

// The object store folder (under /dev/shm) of the only node of the local cluster that
// Init started after `sessions_before` was taken; "" if there is not exactly one.
double StoreObjects() {
  return photon::internal::GetRuntime().LocalObjectStoreStats()["num_objects"];
}

// Polls until this node's store holds no objects; returns how many are left.
double WaitForEmptyStore(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    double n = StoreObjects();
    if (n == 0 || Clock::now() >= deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST_F(TasksTest, LargeObjectsLeaveTheStoreWhenRefsAreDropped) {
  StartCluster(2);
  ASSERT_GT(photon::internal::GetRuntime().LocalObjectStoreStats()["capacity"], 0);
  {
    std::vector<photon::ObjectRef<std::vector<uint8_t>>> puts;
    for (int i = 0; i < 3; ++i) puts.push_back(photon::Put(photon_test::MakeBytes(300000, i)));
    auto made = photon::Task(MakeBytesTask).Remote(int64_t{300000}, uint64_t{1});
    EXPECT_EQ(made.Get(30000)->size(), 300000u);
    EXPECT_EQ(*photon::Task(SizeOfBytes).Remote(photon_test::MakeBytes(300000, 9)).Get(30000),
              300000);
    EXPECT_GE(StoreObjects(), 4) << "large objects should be in the store";
  }
  EXPECT_EQ(WaitForEmptyStore(5000), 0) << "objects still in the store";
}

TEST_F(TasksTest, LargeReturnOfATaskWhoseRefWasDroppedIsFreed) {
  StartCluster(2);
  // Fire and forget: the ref is gone before the task finishes.
  photon::Task(MakeBytesTask).Remote(int64_t{300000}, uint64_t{3});
  // The worker stores the return value in the node's store when the task ends;
  // the owner, which no longer refers to it, frees it as soon as the reply
  // arrives (so it may be there only for a moment).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(*photon::Task(Square).Remote(int64_t{3}).Get(30000), 9);
  EXPECT_EQ(WaitForEmptyStore(3000), 0)
      << "the return value of a task nobody refers to stays in the store";
}

}  // namespace

PHOTON_RUNTIME_TEST_MAIN();
