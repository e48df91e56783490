// Integration tests of actors with real processes: photon-gcs, photon-raylet, actor
// worker processes (this executable started again by a raylet), and for the tests with
// several drivers, a second driver process (actors_driver_helper).
//
// Every test starts and stops its own cluster: photon::Init(config) in most tests, or
// photon::LocalCluster (which outlives any one driver) joined with Config.address when a
// second driver takes part. Sessions go under a folder of this test process
// (PHOTON_SESSION_DIR_ROOT, set in main), removed when every test passed.
//
//   ctest -R '^actors\.' -j2 --output-on-failure
#include <fcntl.h>
#include <gtest/gtest.h>
#include <photon/api.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "photon/cluster/local_cluster.h"
#include "shared_actors.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using actors_test::Counter;
using Clock = std::chrono::steady_clock;

// Long enough for a worker to start on a busy machine, short enough that a hang shows up
// as a GetTimeoutError rather than a ctest timeout.
constexpr int kGetTimeoutMs = 30000;

// ---- actor classes and tasks used only by this executable ---------------------------

// Counts the calls running at once (max_concurrency).
class Probe {
 public:
  static Probe* Create() { return new Probe(); }
  // Enters, sleeps `sleep_ms`, leaves; returns how many calls were inside when it entered.
  int Enter(int sleep_ms) {
    int inside;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inside = ++current_;
      max_seen_ = std::max(max_seen_, current_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    {
      std::lock_guard<std::mutex> lock(mu_);
      --current_;
    }
    return inside;
  }
  int MaxSeen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_seen_;
  }
  // The number of threads of the actor's process (the "Threads:" line of /proc/self/status).
  int Threads() const {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
    }
    return -1;
  }

 private:
  mutable std::mutex mu_;
  int current_ = 0;
  int max_seen_ = 0;
};

// An actor whose factory throws (or returns nullptr).
class Faulty {
 public:
  static Faulty* CreateThrowing(std::string message) { throw std::runtime_error(message); }
  static Faulty* CreateNull() { return nullptr; }
  int Get() const { return 1; }
};

// A normal task that calls an actor through a handle it received as an argument; returns
// the actor's count after its last call.
int AddThroughHandle(photon::ActorHandle<Counter> counter, int times) {
  int last = 0;
  for (int i = 0; i < times; ++i) last = *counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs);
  return last;
}

PHOTON_REMOTE(Probe::Create, &Probe::Enter, &Probe::MaxSeen, &Probe::Threads);
PHOTON_REMOTE(Faulty::CreateThrowing, Faulty::CreateNull, &Faulty::Get);

// Normal tasks that call the APIs reserved to actors; return what happened.
std::string ExitActorInTask() {
  try {
    photon::ExitActor();
    return "returned";
  } catch (const photon::Error&) {
    return "threw photon::Error";
  }
}
std::string WasRestartedInTask() {
  try {
    return photon::WasCurrentActorRestarted() ? "returned true" : "returned false";
  } catch (const photon::Error&) {
    return "threw photon::Error";
  }
}

// Calls Add(1) through each handle; `ready` only delays the task until it exists.
int AddThroughHandles(std::vector<photon::ActorHandle<Counter>> counters, int ready) {
  int last = ready;
  for (auto& c : counters) last = *c.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs);
  return last;
}

int SleepThenReturn(int sleep_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return 0;
}

// Creates a counter in this worker (which owns it) and returns its only handle, in a value.
std::vector<photon::ActorHandle<Counter>> MakeCounterInAValue(int start) {
  return {photon::Actor(Counter::Create).Remote(start)};
}

PHOTON_REMOTE(AddThroughHandle, ExitActorInTask, WasRestartedInTask, AddThroughHandles,
              SleepThenReturn, MakeCounterInAValue);

// ---- helpers -------------------------------------------------------------------------

// Tests that reproduce a known runtime bug are skipped, with the bug's description, so that
// the suite stays green; ACTORS_TEST_RUN_KNOWN_BUGS=1 runs them. (Not a PHOTON_* variable:
// the runtime rejects unknown ones.)
// Every bug these tests found is fixed: the tests below always run.
bool RunKnownBugs() { return true; }
#define SKIP_KNOWN_BUG(description) \
  if (!RunKnownBugs())              \
  GTEST_SKIP() << "known runtime bug (ACTORS_TEST_RUN_KNOWN_BUGS=1 runs it): " << description

// The description of the bug that DefaultConcurrencyIsAlwaysOne reproduces.
constexpr char kSpuriousThreadPoolBug[] =
    "an actor without SetMaxConcurrency sometimes (1 actor in 30-40 with max_restarts=1; "
    "rarer without) runs its calls on several threads at once, and has hundreds to over a "
    "thousand threads (11 normally): TaskReceiver::Execute (src/photon/core_worker/"
    "task_receiver.cc) reads spec.max_concurrency() after item.reactor->Finish(), when "
    "`spec` (a reference into the gRPC request, which the callback server frees once the "
    "call is done) can be gone; a stale value > 1 starts StartPool(value - 1) executor "
    "threads. Besides breaking the one-call-at-a-time guarantee (ordering, state races), "
    "the thread storm can exhaust the machine's threads: pthread_create fails with EAGAIN "
    "and processes abort with std::system_error 'Resource temporarily unavailable' (the "
    "actor itself, other actors, a photon-gcs starting up, a raylet spawning a worker). "
    "AddressSanitizer confirms it: heap-use-after-free in TaskReceiver::Execute at the "
    "StartPool line, on the TaskSpec that ~PushTaskRequest freed in CallOnDone (run by "
    "Finish). Fix: read the type and max_concurrency into locals before Finish";

// True if `counter` (max_concurrency 1) runs calls at once, i.e. the bug of
// kSpuriousThreadPoolBug struck it; tests whose outcome that changes skip then.
bool RunsCallsAtOnce(const photon::ActorHandle<Counter>& counter) {
  std::vector<photon::ObjectRef<int>> refs;
  for (int i = 0; i < 3; ++i) refs.push_back(counter.Task(&Counter::Overlap).Remote(20));
  int most = 0;
  for (const auto& v : photon::Get(refs, kGetTimeoutMs)) most = std::max(most, *v);
  return most > 1;
}

std::string SessionRoot() {
  const char* root = std::getenv("PHOTON_SESSION_DIR_ROOT");
  return root != nullptr ? root : "/tmp/photon";
}

// A new empty folder for one test's marker files.
std::string MakeScratchDir(const std::string& tag) {
  fs::create_directories(SessionRoot());
  std::string tmpl = SessionRoot() + "/scratch-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "";
  return buf.data();
}

bool WaitForFile(const std::string& path, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (access(path.c_str(), F_OK) != 0) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// True once `pid` has exited: kill(pid, 0) fails with ESRCH, /proc/<pid> is gone, or the
// process is a zombie (actor workers are children of the raylet, which reaps them).
bool ProcessGone(int pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = content.rfind(')');
  return paren != std::string::npos && paren + 2 < content.size() && content[paren + 2] == 'Z';
}

bool WaitProcessGone(int pid, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!ProcessGone(pid)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Get of `ref` must throw ActorDiedError; returns its what() ("" and a failure otherwise).
template <typename T>
std::string ExpectActorDied(const photon::ObjectRef<T>& ref, const std::string& what_call) {
  try {
    auto value = ref.Get(kGetTimeoutMs);
    ADD_FAILURE() << what_call << ": Get returned " << testing::PrintToString(*value)
                  << ", expected ActorDiedError";
  } catch (const photon::ActorDiedError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what_call << ": expected ActorDiedError, got " << typeid(e).name() << ": "
                  << e.what();
  }
  return "";
}

// Calls `call` until it returns without ActorDiedError (or `timeout_ms` passes, when it
// rethrows). After an actor's process dies, calls the caller sent before it learned of the
// death fail with ActorDiedError (max_task_retries=0: at most once); calls made once the
// caller knows the actor is restarting wait for the new instance. `early_failures` counts
// the failures before the first success.
template <typename T>
T CallUntilAlive(const std::function<photon::ObjectRef<T>()>& call, int timeout_ms,
                 int* early_failures) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  *early_failures = 0;
  while (true) {
    try {
      return *call().Get(kGetTimeoutMs);
    } catch (const photon::ActorDiedError&) {
      ++*early_failures;
      if (Clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// Runs `argv` (argv[0] a path) with stdout and stderr into `output`; returns its wait
// status, or -1 if it could not start or ran longer than `timeout_ms` (then it is killed).
int RunProcess(const std::vector<std::string>& argv, int timeout_ms, std::string* output) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    *output = "posix_spawn: " + std::string(std::strerror(rc));
    return -1;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  char buf[4096];
  while (true) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = read(fds[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: the helper (and anything holding its pipe) is done
    output->append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  if (timed_out) {
    kill(pid, SIGKILL);  // the helper this test started
    *output += "\n[timed out after " + std::to_string(timeout_ms) + " ms; killed]";
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return timed_out ? -1 : status;
}

// The integer after `prefix` in `output` (e.g. "helper: pid "), or nullopt.
std::optional<int> IntAfter(const std::string& output, const std::string& prefix) {
  size_t at = output.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stoi(output.substr(at + prefix.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---- fixtures -------------------------------------------------------------------------

// A private local cluster (photon::Init with num_cpus), shut down in TearDown even when the
// test fails. Unless told otherwise, the driver subscribes to actor updates before the test
// creates actors (a workaround for the bug of FirstCallAfterTheActorIsAliveIsDelivered).
class ActorTest : public ::testing::Test {
 protected:
  void StartCluster(double num_cpus = 2, const std::string& ray_namespace = "",
                    bool subscribe_first = true) {
    photon::Config config;
    config.num_cpus = num_cpus;
    config.ray_namespace = ray_namespace;
    photon::Init(config);
    if (subscribe_first) actors_test::SubscribeToActorUpdates();
  }
  void TearDown() override { photon::Shutdown(); }
};

// A cluster started with photon::LocalCluster, so that it outlives any one driver; this
// process joins it with Config.address, and helper drivers join it too. TearDown stops this
// driver, then the daemons (and with the raylet, every worker), also when the test fails.
class MultiDriverTest : public ::testing::Test {
 protected:
  void StartCluster() {
    auto bin = photon::FindBinDir("");
    ASSERT_TRUE(bin.ok()) << bin.status().ToString();
    photon::NodeArgs head;
    head.num_cpus = 2;
    auto cluster = photon::LocalCluster::Start(*bin, SessionRoot(), &head);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }
  void Connect(const std::string& ray_namespace = "") {
    photon::Config config;
    config.address = cluster_->gcs_address();
    config.ray_namespace = ray_namespace;
    photon::Init(config);
    actors_test::SubscribeToActorUpdates();  // see ActorTest
  }
  // Runs actors_driver_helper with `args` (the GCS address is filled in as the second
  // argument); returns its wait status.
  int RunHelper(const std::string& command, const std::vector<std::string>& args,
                std::string* output) {
    std::vector<std::string> argv = {PHOTON_ACTORS_HELPER_PATH, command, cluster_->gcs_address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, 60000, output);
  }
  void TearDown() override {
    photon::Shutdown();
    if (cluster_) cluster_->Shutdown();
  }

  std::unique_ptr<photon::LocalCluster> cluster_;
};

// ---- 1. state persists across calls ----------------------------------------------------

TEST_F(ActorTest, StatePersistsAcrossCalls) {
  StartCluster();
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(10);
  ASSERT_FALSE(counter.IsNil());
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 11);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(kGetTimeoutMs), 16);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 16);
  // The state lives in another process, the same one for every call.
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  EXPECT_NE(pid, static_cast<int>(getpid()));
  EXPECT_EQ(*counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs), pid);
  EXPECT_FALSE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  // Two actors of one class have separate state.
  photon::ActorHandle<Counter> other = photon::Actor(Counter::Create).Remote(100);
  EXPECT_EQ(*other.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 101);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 16);
  EXPECT_NE(*other.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs), pid);
}

// ---- 2. ordered calls ------------------------------------------------------------------

TEST_F(ActorTest, TenThousandCallsFromOneCallerRunInOrder) {
  StartCluster();
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(0);
  if (RunsCallsAtOnce(counter)) {
    SKIP_KNOWN_BUG(
        "this run's actor executes calls on several threads: " << kSpuriousThreadPoolBug);
  }
  constexpr int kCalls = 10000;
  std::vector<photon::ObjectRef<int>> refs;
  refs.reserve(kCalls);
  auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) refs.push_back(counter.Task(&Counter::Add).Remote(1));
  std::vector<std::shared_ptr<int>> values = photon::Get(refs, 90000);
  std::printf("%d actor calls in %.2f s\n", kCalls,
              std::chrono::duration<double>(Clock::now() - start).count());
  ASSERT_EQ(values.size(), static_cast<size_t>(kCalls));
  // Each call returns the running count: call i (0-based) must see i + 1.
  int out_of_order = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (*values[i] != i + 1) {
      if (++out_of_order <= 5) ADD_FAILURE() << "call " << i << " returned " << *values[i];
    }
  }
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), kCalls);
}

// ---- 3. concurrency ----------------------------------------------------------------------

TEST_F(ActorTest, MaxConcurrencyRunsCallsAtOnce) {
  StartCluster();
  photon::ActorHandle<Probe> concurrent =
      photon::Actor(Probe::Create).SetMaxConcurrency(4).Remote();
  photon::ActorHandle<Probe> serial = photon::Actor(Probe::Create).Remote();
  // Both actors are up before the calls that measure them.
  ASSERT_EQ(*concurrent.Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs), 0);
  ASSERT_EQ(*serial.Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs), 0);
  std::vector<photon::ObjectRef<int>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(concurrent.Task(&Probe::Enter).Remote(600));
  for (int i = 0; i < 3; ++i) refs.push_back(serial.Task(&Probe::Enter).Remote(100));
  photon::Get(refs, kGetTimeoutMs);
  int max_concurrent = *concurrent.Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs);
  EXPECT_GT(max_concurrent, 1) << "calls to an actor with max_concurrency 4 never overlapped";
  EXPECT_LE(max_concurrent, 4);
  // The default (1) runs one call at a time.
  int max_serial = *serial.Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs);
  if (max_serial > 1) {
    SKIP_KNOWN_BUG("this run's max_concurrency-1 actor ran "
                   << max_serial << " calls at once: " << kSpuriousThreadPoolBug);
  }
  EXPECT_EQ(max_serial, 1);
}

// Reproduces kSpuriousThreadPoolBug (with max_restarts=1: about 1 actor in 30-40; with the
// default options, none in 120 actors here, but seen in other tests). Careful: when it
// strikes, the actor starts a thread storm that can briefly exhaust the machine's threads.
TEST_F(ActorTest, DefaultConcurrencyIsAlwaysOne) {
  SKIP_KNOWN_BUG(kSpuriousThreadPoolBug);
  StartCluster();
  constexpr int kActors = 40;
  int concurrent = 0;
  for (int i = 0; i < kActors; ++i) {
    photon::ActorHandle<Probe> probe = photon::Actor(Probe::Create).SetMaxRestarts(1).Remote();
    std::vector<photon::ObjectRef<int>> refs;
    for (int c = 0; c < 3; ++c) refs.push_back(probe.Task(&Probe::Enter).Remote(20));
    photon::Get(refs, kGetTimeoutMs);
    int max_seen = *probe.Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs);
    int threads = *probe.Task(&Probe::Threads).Remote().Get(kGetTimeoutMs);
    if (i == 0) std::printf("actor 0: %d threads\n", threads);
    if (max_seen > 1) {
      ++concurrent;
      std::printf("actor %d ran %d calls at once; it has %d threads\n", i, max_seen, threads);
    }
  }
  EXPECT_EQ(concurrent, 0) << "of " << kActors
                           << " actors with max_concurrency 1, this many ran calls at once";
}

// ---- 4. the actor's process dies (kill -9) -------------------------------------------------

TEST_F(ActorTest, KillNineRestartsWithMaxRestarts) {
  StartCluster();
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).Remote(10);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(kGetTimeoutMs), 15);
  EXPECT_FALSE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitProcessGone(pid, 10000));

  int early_failures = 0;
  int value = CallUntilAlive<int>([&] { return counter.Task(&Counter::Get).Remote(); }, 10000,
                                  &early_failures);
  std::printf("calls that failed before the restarted actor answered: %d\n", early_failures);
  // The constructor ran again: the state is the initial one.
  EXPECT_EQ(value, 10);
  EXPECT_TRUE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  int new_pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  EXPECT_NE(new_pid, pid);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 11);

  // Its one restart is used up: dying again is final.
  ASSERT_EQ(kill(new_pid, SIGKILL), 0);
  ASSERT_TRUE(WaitProcessGone(new_pid, 10000));
  ExpectActorDied(counter.Task(&Counter::Get).Remote(), "after the second death");
  ExpectActorDied(counter.Task(&Counter::Get).Remote(), "a later call");
}

TEST_F(ActorTest, KillNineWithoutMaxRestartsFailsLaterCalls) {
  StartCluster();
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(10);
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitProcessGone(pid, 10000));
  ExpectActorDied(counter.Task(&Counter::Add).Remote(1), "first call after death");
  // Once the GCS has declared it dead, every call fails the same way.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string what = ExpectActorDied(counter.Task(&Counter::Get).Remote(), "later call");
  EXPECT_FALSE(what.empty());
  ExpectActorDied(counter.Task(&Counter::Get).Remote(), "another later call");
}

// A call is running when the actor's process is killed; the actor may restart once.
// Returns the pid the call's result names (0 if it failed) and the pid it was killed in.
struct InFlightOutcome {
  int killed_pid = 0;
  std::optional<int> result_pid;  // nullopt: the call failed with ActorDiedError
  std::string error;
};

InFlightOutcome KillDuringCall(photon::ActorHandle<Counter>& counter, const std::string& tag) {
  InFlightOutcome out;
  std::string dir = MakeScratchDir(tag);
  EXPECT_FALSE(dir.empty());
  out.killed_pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  std::string marker = dir + "/started";
  photon::ObjectRef<int> in_flight = counter.Task(&Counter::Block).Remote(marker, 1500);
  EXPECT_TRUE(WaitForFile(marker, kGetTimeoutMs)) << "the call never started";
  EXPECT_EQ(kill(out.killed_pid, SIGKILL), 0);
  try {
    out.result_pid = *in_flight.Get(kGetTimeoutMs);
  } catch (const photon::ActorDiedError& e) {
    out.error = e.what();
  }
  return out;
}

TEST_F(ActorTest, InFlightCallRetriedWithMaxTaskRetriesForever) {
  StartCluster();
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).SetMaxTaskRetries(-1).Remote(10);
  InFlightOutcome out = KillDuringCall(counter, "retry-forever");
  ASSERT_TRUE(out.result_pid.has_value()) << "the in-flight call failed: " << out.error;
  // It ran again, to the end, on the new instance.
  EXPECT_NE(*out.result_pid, out.killed_pid);
  EXPECT_EQ(*counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs), *out.result_pid);
  EXPECT_TRUE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 11);
}

TEST_F(ActorTest, InFlightCallRetriedWithMaxTaskRetriesOne) {
  StartCluster();
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).SetMaxTaskRetries(1).Remote(10);
  InFlightOutcome out = KillDuringCall(counter, "retry-once");
  ASSERT_TRUE(out.result_pid.has_value()) << "the in-flight call failed: " << out.error;
  EXPECT_NE(*out.result_pid, out.killed_pid);
  EXPECT_TRUE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 11);
}

TEST_F(ActorTest, InFlightCallFailsWithoutTaskRetries) {
  StartCluster();
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).SetMaxTaskRetries(0).Remote(10);
  InFlightOutcome out = KillDuringCall(counter, "no-retry");
  EXPECT_FALSE(out.result_pid.has_value())
      << "the in-flight call was retried with max_task_retries=0 (ran in pid " << *out.result_pid
      << ")";
  EXPECT_FALSE(out.error.empty());
  // The actor itself restarts; later calls reach the new instance.
  int early_failures = 0;
  int value = CallUntilAlive<int>([&] { return counter.Task(&Counter::Get).Remote(); }, 10000,
                                  &early_failures);
  EXPECT_EQ(value, 10);
  EXPECT_TRUE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
}

// ---- 5. Kill -----------------------------------------------------------------------------

TEST_F(ActorTest, KillFailsPendingAndLaterCalls) {
  StartCluster();
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).SetMaxRestarts(1).Remote(0);
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  std::string dir = MakeScratchDir("kill");
  ASSERT_FALSE(dir.empty());
  // One call running, three queued behind it. The queued ones would also run for 5 s, so they
  // are still pending at Kill even if the actor ran them at once (kSpuriousThreadPoolBug).
  photon::ObjectRef<int> running = counter.Task(&Counter::Block).Remote(dir + "/started", 5000);
  std::vector<photon::ObjectRef<int>> queued;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(
        counter.Task(&Counter::Block).Remote(dir + "/queued" + std::to_string(i), 5000));
  }
  ASSERT_TRUE(WaitForFile(dir + "/started", kGetTimeoutMs));
  auto start = Clock::now();
  counter.Kill();  // no_restart: max_restarts does not matter
  std::string what = ExpectActorDied(running, "the running call");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 4.5)
      << "the running call only failed when it would have finished";
  for (size_t i = 0; i < queued.size(); ++i) {
    ExpectActorDied(queued[i], "queued call " + std::to_string(i));
  }
  ExpectActorDied(counter.Task(&Counter::Get).Remote(), "a call after Kill");
  EXPECT_TRUE(WaitProcessGone(pid, 10000)) << "the killed actor's process " << pid << " still runs";
  // No restart happened: still dead a little later.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectActorDied(counter.Task(&Counter::Get).Remote(), "a later call");
}

TEST_F(ActorTest, KillWithRestartRestartsTheActor) {
  StartCluster();
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).Remote(10);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(kGetTimeoutMs), 15);
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  counter.Kill(/*no_restart=*/false);
  EXPECT_TRUE(WaitProcessGone(pid, 10000));
  int early_failures = 0;
  int value = CallUntilAlive<int>([&] { return counter.Task(&Counter::Get).Remote(); }, 10000,
                                  &early_failures);
  std::printf("calls that failed before the restarted actor answered: %d\n", early_failures);
  EXPECT_EQ(value, 10);  // the factory ran again
  EXPECT_TRUE(*counter.Task(&Counter::WasRestarted).Remote().Get(kGetTimeoutMs));
  EXPECT_NE(*counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs), pid);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(2).Get(kGetTimeoutMs), 12);

  // Without restarts left, Kill(false) is final.
  photon::ActorHandle<Counter> once = photon::Actor(Counter::Create).Remote(0);
  EXPECT_EQ(*once.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 1);
  once.Kill(/*no_restart=*/false);
  ExpectActorDied(once.Task(&Counter::Get).Remote(), "Kill(false) with max_restarts=0");
}

// ---- 6. the constructor throws -------------------------------------------------------------

TEST_F(ActorTest, ThrowingConstructorFailsEveryCall) {
  StartCluster();
  const std::string message = "constructor refused: bad config 42";
  photon::ActorHandle<Faulty> faulty = photon::Actor(Faulty::CreateThrowing).Remote(message);
  for (int i = 0; i < 3; ++i) {
    std::string what =
        ExpectActorDied(faulty.Task(&Faulty::Get).Remote(), "call " + std::to_string(i));
    EXPECT_NE(what.find(message), std::string::npos) << what;
  }
  // A factory that returns nullptr makes a dead actor too.
  photon::ActorHandle<Faulty> null = photon::Actor(Faulty::CreateNull).Remote();
  ExpectActorDied(null.Task(&Faulty::Get).Remote(), "factory returned nullptr");
}

// ---- 7. names and namespaces ------------------------------------------------------------------

TEST_F(ActorTest, NamesAreUniquePerNamespace) {
  StartCluster(2, "job-ns");
  photon::ActorHandle<Counter> a =
      photon::Actor(Counter::Create).SetName("counter", "ns-a").Remote(1);
  EXPECT_EQ(*a.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 1);
  // The same name in the same namespace: an error at Remote.
  EXPECT_THROW(photon::Actor(Counter::Create).SetName("counter", "ns-a").Remote(2), photon::Error);
  // The same name in another namespace is another actor.
  photon::ActorHandle<Counter> b =
      photon::Actor(Counter::Create).SetName("counter", "ns-b").Remote(2);
  EXPECT_EQ(*b.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 2);
  // No namespace: the job's ("job-ns").
  photon::ActorHandle<Counter> c = photon::Actor(Counter::Create).SetName("counter").Remote(3);
  EXPECT_EQ(*c.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 3);

  // GetActor finds each by name and namespace.
  std::optional<photon::ActorHandle<Counter>> found_a =
      photon::GetActor<Counter>("counter", "ns-a");
  ASSERT_TRUE(found_a.has_value());
  EXPECT_EQ(*found_a, a);
  EXPECT_EQ(*found_a->Task(&Counter::Add).Remote(10).Get(kGetTimeoutMs), 11);
  EXPECT_EQ(*a.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 11);  // the same actor
  std::optional<photon::ActorHandle<Counter>> found_b =
      photon::GetActor<Counter>("counter", "ns-b");
  ASSERT_TRUE(found_b.has_value());
  EXPECT_EQ(*found_b, b);
  EXPECT_EQ(*found_b->Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 2);
  std::optional<photon::ActorHandle<Counter>> found_c = photon::GetActor<Counter>("counter");
  ASSERT_TRUE(found_c.has_value());
  EXPECT_EQ(*found_c, c);
  std::optional<photon::ActorHandle<Counter>> found_c2 =
      photon::GetActor<Counter>("counter", "job-ns");
  ASSERT_TRUE(found_c2.has_value());
  EXPECT_EQ(*found_c2, c);

  // A handle of the wrong class finds the actor, but its calls fail naming both classes.
  std::optional<photon::ActorHandle<Probe>> wrong = photon::GetActor<Probe>("counter", "ns-b");
  ASSERT_TRUE(wrong.has_value());
  try {
    wrong->Task(&Probe::MaxSeen).Remote().Get(kGetTimeoutMs);
    ADD_FAILURE() << "a call through a handle of the wrong class returned";
  } catch (const photon::TaskError& e) {
    EXPECT_NE(std::string(e.what()).find("Probe"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Counter"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*b.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 2);  // b lives on

  // Missing names and namespaces.
  EXPECT_FALSE(photon::GetActor<Counter>("no-such-actor", "ns-a").has_value());
  EXPECT_FALSE(photon::GetActor<Counter>("counter", "ns-missing").has_value());
  EXPECT_FALSE(photon::GetActor<Counter>("no-such-actor").has_value());

  // A killed actor's name is free again.
  a.Kill();
  ExpectActorDied(a.Task(&Counter::Get).Remote(), "killed named actor");
  EXPECT_FALSE(photon::GetActor<Counter>("counter", "ns-a").has_value());
  photon::ActorHandle<Counter> again =
      photon::Actor(Counter::Create).SetName("counter", "ns-a").Remote(7);
  EXPECT_EQ(*again.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 7);
  std::optional<photon::ActorHandle<Counter>> found_again =
      photon::GetActor<Counter>("counter", "ns-a");
  ASSERT_TRUE(found_again.has_value());
  EXPECT_EQ(*found_again, again);
}

TEST_F(MultiDriverTest, NamedActorFoundFromSecondDriver) {
  StartCluster();
  ASSERT_NO_FATAL_FAILURE(Connect("first-driver-ns"));
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetName("shared-counter", "team-a").Remote(100);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 101);
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);

  std::string output;
  int status = RunHelper("call", {"team-a", "shared-counter", "5"}, &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "helper failed (status " << status << "); output:\n"
      << output;
  EXPECT_EQ(IntAfter(output, "helper: add -> "), 106) << output;
  EXPECT_EQ(IntAfter(output, "helper: pid "), pid) << output;
  // This driver sees the second driver's call.
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 106);

  // In another namespace the second driver finds nothing.
  std::string missing;
  status = RunHelper("call", {"team-b", "shared-counter", "5"}, &missing);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << "status " << status << "; output:\n"
                                                             << missing;
  EXPECT_NE(missing.find("helper: not found"), std::string::npos) << missing;
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 106);
}

// ---- 8. detached actors -------------------------------------------------------------------

TEST_F(MultiDriverTest, DetachedActorOutlivesItsDriver) {
  StartCluster();
  std::string output;
  int status = RunHelper("create-detached", {"keep-ns", "keeper", "control", "40"}, &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "helper failed (status " << status << "); output:\n"
      << output;
  std::optional<int> detached_pid = IntAfter(output, "helper: detached pid ");
  std::optional<int> control_pid = IntAfter(output, "helper: control pid ");
  ASSERT_TRUE(detached_pid && control_pid) << output;
  EXPECT_EQ(IntAfter(output, "helper: detached add -> "), 41) << output;

  // The first driver has exited. This driver joins the same cluster.
  ASSERT_NO_FATAL_FAILURE(Connect("another-ns"));
  // The non-detached actor died with its driver's job (the control).
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (photon::GetActor<Counter>("control", "keep-ns").has_value() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(photon::GetActor<Counter>("control", "keep-ns").has_value())
      << "the non-detached actor outlived its driver";
  EXPECT_TRUE(WaitProcessGone(*control_pid, 10000));

  // The detached one lives on, with its state.
  std::optional<photon::ActorHandle<Counter>> keeper =
      photon::GetActor<Counter>("keeper", "keep-ns");
  ASSERT_TRUE(keeper.has_value()) << "the detached actor is gone after its driver exited";
  EXPECT_FALSE(ProcessGone(*detached_pid));
  EXPECT_EQ(*keeper->Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 42);
  EXPECT_EQ(*keeper->Task(&Counter::Pid).Remote().Get(kGetTimeoutMs), *detached_pid);

  // Killed, it is gone for good.
  keeper->Kill();
  ExpectActorDied(keeper->Task(&Counter::Get).Remote(), "killed detached actor");
  EXPECT_FALSE(photon::GetActor<Counter>("keeper", "keep-ns").has_value());
  EXPECT_TRUE(WaitProcessGone(*detached_pid, 10000));
}

// ---- 9. a handle passed to a task -----------------------------------------------------------

TEST_F(ActorTest, HandlePassedToTask) {
  StartCluster();
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 1);
  photon::ObjectRef<int> r = photon::Task(AddThroughHandle).Remote(counter, 5);
  EXPECT_EQ(*r.Get(kGetTimeoutMs), 6);
  // The driver sees what the task did.
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 6);
  // The task's copy of the handle is gone; the driver's still keeps the actor alive.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 7);
  // Two tasks at once through copies of the handle.
  photon::ObjectRef<int> r1 = photon::Task(AddThroughHandle).Remote(counter, 10);
  photon::ObjectRef<int> r2 = photon::Task(AddThroughHandle).Remote(counter, 10);
  r1.Get(kGetTimeoutMs);
  r2.Get(kGetTimeoutMs);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), 27);
}

// A handle nested in an argument's value counts as a reference of the pending task: the
// caller drops its own handle while the task still waits for another argument.
TEST_F(ActorTest, HandleNestedInAPendingTasksArgumentKeepsTheActorAlive) {
  StartCluster();
  photon::ObjectRef<int> r;
  int pid = 0;
  {
    photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(0);
    pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
    photon::ObjectRef<int> later = photon::Task(SleepThenReturn).Remote(1500);
    r = photon::Task(AddThroughHandles)
            .Remote(std::vector<photon::ActorHandle<Counter>>{counter}, later);
  }  // the driver's last handle goes while the task waits for `later`
  EXPECT_EQ(*r.Get(kGetTimeoutMs), 1);
  // Once the task finished, no handle is left anywhere: the actor goes.
  EXPECT_TRUE(WaitProcessGone(pid, 10000)) << "the actor outlived its last handle";
}

// A handle inside a put object lives as long as the object.
TEST_F(ActorTest, HandleInsideAPutObjectKeepsTheActorAlive) {
  StartCluster();
  photon::ObjectRef<std::vector<photon::ActorHandle<Counter>>> boxed;
  {
    photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(5);
    boxed = photon::Put(std::vector<photon::ActorHandle<Counter>>{counter});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto handles = boxed.Get(kGetTimeoutMs);
  ASSERT_EQ(handles->size(), 1u);
  EXPECT_EQ(*(*handles)[0].Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 6);
}

// A task that creates an actor and returns its only handle inside a value: the caller's
// copy keeps the actor alive after the task's own handle is gone.
TEST_F(ActorTest, HandleReturnedInsideAValueKeepsTheActorAlive) {
  StartCluster();
  auto made = photon::Task(MakeCounterInAValue).Remote(10);
  auto handles = made.Get(kGetTimeoutMs);
  ASSERT_EQ(handles->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(*(*handles)[0].Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 11);
}

// ---- 10. out of scope ---------------------------------------------------------------------------

TEST_F(ActorTest, ActorExitsWhenAllHandlesAreGone) {
  StartCluster();
  int pid = 0;
  {
    photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(0);
    photon::ActorHandle<Counter> copy = counter;
    pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
    ASSERT_GT(pid, 0);
    counter = photon::ActorHandle<Counter>();  // one handle left
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(ProcessGone(pid)) << "the actor exited while a handle to it was left";
    EXPECT_EQ(*copy.Task(&Counter::Add).Remote(1).Get(kGetTimeoutMs), 1);
  }
  EXPECT_TRUE(WaitProcessGone(pid, 10000))
      << "the actor's process " << pid << " still runs 10 s after its last handle was dropped";
}

// ---- 11. ExitActor ------------------------------------------------------------------------

// What the runtime does with the result of the call that ran ExitActor() is racy (see
// ExitActorCallAlwaysReturnsItsResult): it arrives, or the call fails with ActorDiedError.
// Either is accepted here; what follows the exit is not racy.
TEST_F(ActorTest, ExitActorEndsTheActor) {
  StartCluster();
  // max_restarts=1: an intentional exit is not a failure to recover from.
  photon::ActorHandle<Counter> counter =
      photon::Actor(Counter::Create).SetMaxRestarts(1).Remote(10);
  if (RunsCallsAtOnce(counter)) {  // the queued call below could run before the exit
    SKIP_KNOWN_BUG(
        "this run's actor executes calls on several threads: " << kSpuriousThreadPoolBug);
  }
  int pid = *counter.Task(&Counter::Pid).Remote().Get(kGetTimeoutMs);
  photon::ObjectRef<int> exiting = counter.Task(&Counter::ExitAfter).Remote(5);
  photon::ObjectRef<int> after = counter.Task(&Counter::Get).Remote();
  try {
    EXPECT_EQ(*exiting.Get(kGetTimeoutMs), 15);
    std::printf("the call that ran ExitActor() returned its result\n");
  } catch (const photon::ActorDiedError& e) {
    std::printf("the call that ran ExitActor() failed with ActorDiedError: %s\n", e.what());
  }
  ExpectActorDied(after, "a call queued behind the one that ran ExitActor");
  EXPECT_TRUE(WaitProcessGone(pid, 10000))
      << "the actor's process " << pid << " still runs after ExitActor";
  // Not restarted (max_restarts=1 notwithstanding): later calls fail, naming the cause.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string what = ExpectActorDied(counter.Task(&Counter::Get).Remote(), "a later call");
  EXPECT_NE(what.find("ExitActor"), std::string::npos) << what;
  ExpectActorDied(counter.Task(&Counter::Add).Remote(1), "another later call");
}

TEST_F(ActorTest, ExitActorCallAlwaysReturnsItsResult) {
  SKIP_KNOWN_BUG(
      "the result of the call that runs photon::ExitActor() is sometimes lost (the "
      "call fails with ActorDiedError 'the actor called ExitActor()' or 'the actor died while "
      "running ... (Socket closed)'), although the call returned: TaskReceiver::Execute "
      "(src/photon/core_worker/task_receiver.cc) calls reactor->Finish(OK), which only "
      "queues the reply, then at once CoreWorker::OnActorExitRequested, a synchronous GCS "
      "KillActor(no_restart) that publishes DEAD and has the raylet stop the worker, then "
      "Exit(0) ends the process. So the DEAD message can reach the caller before the reply "
      "(ActorSubmitter::OnActorUpdate fails every call still in a.calls, including the one "
      "whose reply is on its way, and drops the reply later), or the process dies before "
      "gRPC has written the reply. Fix: exit only once the reply is sent (the reactor's "
      "OnDone), and let OnActorUpdate(DEAD) spare calls that were sent and may still be "
      "answered");
  StartCluster();
  // One actor at a time. The loss is rare here (1 call in 120 in one measurement; 3 runs in
  // 20 of an earlier ExitActorEndsTheActor that queued a call behind the exiting one), and
  // also strikes actors without extra threads (kSpuriousThreadPoolBug is another bug).
  constexpr int kRounds = 60;
  int lost = 0;
  for (int i = 0; i < kRounds; ++i) {
    photon::ActorHandle<Counter> counter =
        photon::Actor(Counter::Create).SetMaxRestarts(1).Remote(i);
    ASSERT_EQ(*counter.Task(&Counter::Get).Remote().Get(kGetTimeoutMs), i);
    bool pooled = RunsCallsAtOnce(counter);  // kSpuriousThreadPoolBug
    try {
      EXPECT_EQ(*counter.Task(&Counter::ExitAfter).Remote(100).Get(kGetTimeoutMs), 100 + i);
    } catch (const photon::ActorDiedError& e) {
      ++lost;
      std::printf("round %d%s: %s\n", i, pooled ? " (actor with extra threads)" : "", e.what());
    }
  }
  EXPECT_EQ(lost, 0) << "of " << kRounds
                     << " calls that ran ExitActor() and returned, this many results were lost";
}

TEST_F(ActorTest, ExitActorOutsideAnActorThrows) {
  StartCluster();
  EXPECT_THROW(photon::ExitActor(), photon::Error);  // in the driver
  EXPECT_EQ(*photon::Task(ExitActorInTask).Remote().Get(kGetTimeoutMs), "threw photon::Error");
}

TEST_F(ActorTest, WasCurrentActorRestartedOutsideAnActorThrows) {
  SKIP_KNOWN_BUG(
      "photon::WasCurrentActorRestarted() returns false instead of throwing photon::Error "
      "outside an actor (in a driver and in a normal task), against its contract in "
      "photon/actor.h: CoreWorkerRuntime::WasCurrentActorRestarted "
      "(src/photon/api/runtime_impl.cc) returns worker_->actor_restarted() without the "
      "current_actor_id().IsNil() check that CoreWorker::ExitActor makes");
  StartCluster();
  EXPECT_THROW(photon::WasCurrentActorRestarted(), photon::Error);  // in the driver
  EXPECT_EQ(*photon::Task(WasRestartedInTask).Remote().Get(kGetTimeoutMs), "threw photon::Error");
}

// ---- known bug: an actor that became ALIVE before the driver's first actor call ------------

TEST_F(ActorTest, FirstCallAfterTheActorIsAliveIsDelivered) {
  SKIP_KNOWN_BUG(
      "calls to an actor hang forever when the actor became ALIVE before its creator's first "
      "actor call: ActorSubmitter::EnsureKnown (src/photon/core_worker/actor_submitter.cc) "
      "subscribes to the GCS actor channel lazily, at the process's first Submit, and "
      "GcsClient::Subscribe only delivers messages published after it subscribed; an owned "
      "actor is tracked by AddOwnedActor with known=true and its registration-time state, so "
      "EnsureKnown does not fetch GetActorInfo either. The driver never learns the actor is "
      "ALIVE (nor its address), SendReady keeps the calls queued, and Get times out. Hits any "
      "driver that creates an actor and calls it >~50 ms later (the other tests subscribe "
      "first with SubscribeToActorUpdates, and otherwise flake under load). Fix: subscribe "
      "before the first RegisterActor, or fetch GetActorInfo for the tracked actors after "
      "subscribing");
  StartCluster(2, "", /*subscribe_first=*/false);
  photon::ActorHandle<Counter> counter = photon::Actor(Counter::Create).Remote(10);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the actor is up by now
  try {
    EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(5000), 11);
  } catch (const photon::GetTimeoutError& e) {
    ADD_FAILURE() << "the first call to an actor that is already alive never ran: " << e.what();
  }
}

TEST_F(ActorTest, CallToAnActorThatDoesNotExistFails) {
  StartCluster(2, "", /*subscribe_first=*/false);
  std::string what = actors_test::SubscribeToActorUpdates();
  EXPECT_NE(what.find("no actor"), std::string::npos) << what;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("PHOTON_RAYLET_ADDRESS") != nullptr) {
    photon::Init();  // a worker started by a raylet: serves tasks, never returns
  }
  // Sessions of this process go under a folder of its own (only PHOTON_* variables listed
  // in docs/config.md may be set: the runtime rejects unknown ones).
  std::string root;
  if (std::getenv("PHOTON_SESSION_DIR_ROOT") == nullptr) {
    root = "/tmp/photon-actors-tests/" + std::to_string(getpid());
    setenv("PHOTON_SESSION_DIR_ROOT", root.c_str(), 1);
  }
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  if (!root.empty()) {
    std::error_code ec;
    if (rc == 0) {
      fs::remove_all(root, ec);
    } else if (fs::exists(root, ec)) {
      std::fprintf(stderr, "actors test: sessions and logs kept in %s\n", root.c_str());
    }
  }
  return rc;
}
