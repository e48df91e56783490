// Runtime integration tests: clusters of several raylets on this machine
// (photon::LocalCluster), a driver that joins them with Config.address, objects
// that cross nodes and tasks that spill back to the node that can run them.
#include <gtest/gtest.h>
#include <photon/api.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "photon/cluster/local_cluster.h"
#include "runtime_test_util.h"

namespace {

using photon_test::Clock;
using photon_test::SecondsSince;

// ---- remote functions --------------------------------------------------------

// Bytes and the raylet of the task that made them.
struct Blob {
  std::string node;
  std::vector<uint8_t> bytes;
  MSGPACK_DEFINE(node, bytes);
};

// What a consumer saw: where it ran, where its input came from, size and checksum.
struct Digest {
  std::string node;
  std::string producer;
  int64_t size = 0;
  uint64_t fnv = 0;
  MSGPACK_DEFINE(node, producer, size, fnv);
};

std::string RayletOfTask() { return photon_test::ThisRaylet(); }

std::string SlowRaylet(int sleep_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return photon_test::ThisRaylet();
}

Blob Produce(int64_t n, uint64_t seed) {
  return Blob{photon_test::ThisRaylet(), photon_test::MakeBytes(n, seed)};
}

Digest Consume(Blob blob) {
  return Digest{photon_test::ThisRaylet(), blob.node, static_cast<int64_t>(blob.bytes.size()),
                photon_test::Fnv1a(blob.bytes.data(), blob.bytes.size())};
}

Digest ConsumeBytes(std::vector<uint8_t> bytes) {
  return Digest{photon_test::ThisRaylet(), "", static_cast<int64_t>(bytes.size()),
                photon_test::Fnv1a(bytes.data(), bytes.size())};
}

void TransformInPlace(std::vector<uint8_t>* bytes, int key) {
  for (size_t i = 0; i < bytes->size(); ++i) {
    (*bytes)[i] = static_cast<uint8_t>((*bytes)[i] * 3 + key + i);
  }
}

Blob Transform(Blob blob, int key) {
  TransformInPlace(&blob.bytes, key);
  blob.node = photon_test::ThisRaylet();
  return blob;
}

// An actor that reports where it lives.
class Locator {
 public:
  static Locator* Create() { return new Locator(); }
  std::string Where() { return photon_test::ThisRaylet(); }
};

PHOTON_REMOTE(RayletOfTask, SlowRaylet, Produce, Consume, ConsumeBytes, Transform, Locator::Create,
              &Locator::Where);

// ---- fixture -----------------------------------------------------------------

photon::NodeArgs Node(double num_cpus, std::map<std::string, double> resources) {
  photon::NodeArgs args;
  args.num_cpus = num_cpus;
  args.resources = std::move(resources);
  return args;
}

// A cluster of raylets started by the test; the driver joins it by address.
// TearDown stops the driver, then every daemon, also when the test fails.
class MultiNodeTest : public ::testing::Test {
 protected:
  // Starts the GCS and the head raylet.
  void StartHead(const photon::NodeArgs& head) {
    auto bin = photon::FindBinDir("");
    ASSERT_TRUE(bin.ok()) << bin.status().ToString();
    auto cluster = photon::LocalCluster::Start(*bin, photon_test::SessionRoot(), &head);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }
  // Adds a raylet; returns its address ("" on failure, with a test failure recorded).
  std::string AddNode(const photon::NodeArgs& args) {
    auto node = cluster_->AddNode(args);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? node->address : "";
  }
  void Connect() {
    photon::Config config;
    config.address = cluster_->gcs_address();
    photon::Init(config);
  }
  void TearDown() override {
    photon::Shutdown();
    if (cluster_) cluster_->Shutdown();
  }

  std::unique_ptr<photon::LocalCluster> cluster_;
};

// ---- placement groups ----------------------------------------------------------------

TEST_F(MultiNodeTest, PlacementGroupStrictSpreadPutsABundleOnEachNode) {
  StartHead(Node(1, {}));
  std::string n1 = AddNode(Node(1, {}));
  std::string n2 = AddNode(Node(1, {}));
  Connect();
  photon::PlacementGroupCreationOptions options{"spread",
                                                {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}},
                                                photon::PlacementStrategy::STRICT_SPREAD};
  photon::PlacementGroup pg = photon::CreatePlacementGroup(options);
  ASSERT_TRUE(pg.Wait(60));
  EXPECT_EQ(pg.GetState(), photon::PlacementGroupState::CREATED);
  EXPECT_EQ(pg.GetID().size(), 40u);
  std::set<std::string> where;
  for (int i = 0; i < 3; ++i) {
    where.insert(*photon::Get(photon::Task(RayletOfTask).SetPlacementGroup(pg, i).Remote()));
  }
  EXPECT_EQ(where.size(), 3u);  // one bundle, so one task, per node
  auto actor = photon::Actor(Locator::Create).SetPlacementGroup(pg, 1).Remote();
  EXPECT_EQ(*photon::Get(actor.Task(&Locator::Where).Remote()),
            *photon::Get(photon::Task(RayletOfTask).SetPlacementGroup(pg, 1).Remote()));

  auto found = photon::GetPlacementGroup("spread");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->GetID(), pg.GetID());
  EXPECT_EQ(found->GetBundles().size(), 3u);
  EXPECT_EQ(photon::GetAllPlacementGroups().size(), 1u);
  // Out-of-range bundles and requests no bundle can hold are refused at once.
  EXPECT_THROW(photon::Task(RayletOfTask).SetPlacementGroup(pg, 3), std::invalid_argument);
  EXPECT_THROW(photon::Task(RayletOfTask).SetResource("CPU", 2).SetPlacementGroup(pg).Remote(),
               std::invalid_argument);
  EXPECT_THROW(photon::CreatePlacementGroup({"", {}, photon::PlacementStrategy::PACK}),
               std::invalid_argument);
  EXPECT_THROW(photon::CreatePlacementGroup({"spread", {{{"CPU", 1}}}}), photon::Error);

  photon::RemovePlacementGroup(pg.GetID());
  EXPECT_EQ(pg.GetState(), photon::PlacementGroupState::REMOVED);
  EXPECT_FALSE(photon::GetPlacementGroup("spread").has_value());
  EXPECT_THROW(photon::Get(actor.Task(&Locator::Where).Remote()), photon::ActorDiedError);
}

TEST_F(MultiNodeTest, PlacementGroupThatFitsNowhereWaitsAndTimesOut) {
  StartHead(Node(1, {}));
  Connect();
  auto pg = photon::CreatePlacementGroup(
      {"", {{{"CPU", 1}}, {{"CPU", 1}}}, photon::PlacementStrategy::STRICT_SPREAD});
  EXPECT_FALSE(pg.Wait(1));
  EXPECT_EQ(pg.GetState(), photon::PlacementGroupState::PENDING);
  AddNode(Node(1, {}));
  EXPECT_TRUE(pg.Wait(60));
  photon::RemovePlacementGroup(pg.GetID());
}

// ---- 6. refs and large objects across nodes ----------------------------------------

TEST_F(MultiNodeTest, RefsAndLargeObjectsCrossNodes) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {{"n0", 1}})));
  std::string n0 = cluster_->nodes().front().address;
  std::string n1 = AddNode(Node(1, {{"n1", 1}}));
  std::string n2 = AddNode(Node(1, {{"n2", 1}}));
  ASSERT_FALSE(n1.empty());
  ASSERT_FALSE(n2.empty());
  Connect();

  // Made on n1, consumed on n2: inline-sized, store-sized, and several transfer chunks.
  uint64_t seed = 1;
  for (int64_t size : {int64_t{1000}, int64_t{300000}, int64_t{12} << 20}) {
    SCOPED_TRACE("size " + std::to_string(size));
    ++seed;
    std::vector<uint8_t> want = photon_test::MakeBytes(size, seed);
    uint64_t want_fnv = photon_test::Fnv1a(want.data(), want.size());
    auto blob = photon::Task(Produce).SetResource("n1", 1).Remote(size, seed);
    auto digest = photon::Task(Consume).SetResource("n2", 1).Remote(blob);
    auto d = digest.Get(60000);
    EXPECT_EQ(d->node, n2);
    EXPECT_EQ(d->producer, n1);
    EXPECT_EQ(d->size, size);
    EXPECT_EQ(d->fnv, want_fnv) << "bytes changed on their way from n1 to n2";
    // The driver reads the object made on n1 as well.
    auto b = blob.Get(60000);
    EXPECT_EQ(b->node, n1);
    EXPECT_TRUE(b->bytes == want) << "bytes changed on their way from n1 to the driver";
  }

  // A large object the driver put, read on two other nodes at once.
  std::vector<uint8_t> put_bytes = photon_test::MakeBytes(int64_t{2} << 20, 77);
  uint64_t put_fnv = photon_test::Fnv1a(put_bytes.data(), put_bytes.size());
  auto put = photon::Put(put_bytes);
  auto d1 = photon::Task(ConsumeBytes).SetResource("n1", 1).Remote(put);
  auto d2 = photon::Task(ConsumeBytes).SetResource("n2", 1).Remote(put);
  EXPECT_EQ(d1.Get(60000)->fnv, put_fnv);
  EXPECT_EQ(d1.Get()->node, n1);
  EXPECT_EQ(d2.Get(60000)->fnv, put_fnv);
  EXPECT_EQ(d2.Get()->node, n2);

  // A chain through all three nodes: n0 -> n1 -> n2.
  auto c0 = photon::Task(Produce).SetResource("n0", 1).Remote(int64_t{1} << 20, uint64_t{9});
  auto c1 = photon::Task(Transform).SetResource("n1", 1).Remote(c0, 1);
  auto c2 = photon::Task(Transform).SetResource("n2", 1).Remote(c1, 2);
  std::vector<uint8_t> want = photon_test::MakeBytes(int64_t{1} << 20, 9);
  TransformInPlace(&want, 1);
  TransformInPlace(&want, 2);
  auto got = c2.Get(60000);
  EXPECT_EQ(got->node, n2);
  EXPECT_TRUE(got->bytes == want) << "the chain n0 -> n1 -> n2 changed the bytes";
  EXPECT_EQ(c0.Get()->node, n0);
}

// ---- 7. spillback --------------------------------------------------------------------

TEST_F(MultiNodeTest, TaskSpillsBackToTheNodeWithItsResource) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {})));
  std::string head = cluster_->nodes().front().address;
  // The driver joins while the head is the only node, so it is attached to the head.
  Connect();
  EXPECT_EQ(*photon::Task(RayletOfTask).Remote().Get(30000), head);
  std::string second = AddNode(Node(2, {{"special", 1}}));
  ASSERT_FALSE(second.empty());
  auto start = Clock::now();
  EXPECT_EQ(*photon::Task(RayletOfTask).SetResource("special", 1).Remote().Get(30000), second);
  std::printf("spilled task done in %.2f s\n", SecondsSince(start));
  // More CPUs than the head has.
  EXPECT_EQ(*photon::Task(RayletOfTask).SetResource("CPU", 2).Remote().Get(30000), second);
  // Fractions of the resource, no CPU.
  EXPECT_EQ(*photon::Task(RayletOfTask)
                 .SetResource("CPU", 0)
                 .SetResource("special", 0.5)
                 .Remote()
                 .Get(30000),
            second);
}

// Runs a task on each of the nodes with custom resources `a` and `b`, so that each node has
// an idle worker: later tasks do not depend on how fast workers start (nor hit the bug of
// FaultsTest.FreshWorkersAcceptTheirFirstTask). Waits until the driver has given the
// leases back (worker_lease_timeout_ms, 500 ms) and the nodes have reported it.
void WarmUpNodes(const std::string& node_a, const std::string& node_b) {
  EXPECT_EQ(*photon::Task(RayletOfTask).SetResource("a", 1).Remote().Get(30000), node_a);
  EXPECT_EQ(*photon::Task(RayletOfTask).SetResource("b", 1).Remote().Get(30000), node_b);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
}

TEST_F(MultiNodeTest, BusyNodeSpillsCpuTasksToAnotherNode) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {{"a", 1}})));
  std::string head = cluster_->nodes().front().address;
  std::string second = AddNode(Node(1, {{"b", 1}}));
  ASSERT_FALSE(second.empty());
  Connect();
  WarmUpNodes(head, second);
  // Two 1-CPU tasks at once on two idle 1-CPU nodes: one runs on each.
  auto start = Clock::now();
  auto a = photon::Task(SlowRaylet).Remote(1500);
  auto b = photon::Task(SlowRaylet).Remote(1500);
  std::set<std::string> nodes = {*a.Get(30000), *b.Get(30000)};
  EXPECT_EQ(nodes, (std::set<std::string>{head, second}));
  EXPECT_LT(SecondsSince(start), 2.9) << "the two tasks did not run at the same time";
}

TEST_F(MultiNodeTest, QueuedTaskMovesToANodeThatFreesUp) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {{"a", 1}})));
  std::string head = cluster_->nodes().front().address;
  std::string second = AddNode(Node(1, {{"b", 1}}));
  ASSERT_FALSE(second.empty());
  Connect();
  WarmUpNodes(head, second);
  // The driver's own node D (where a CPU task goes when every node is idle) and the other, O.
  std::string d = *photon::Task(RayletOfTask).Remote().Get(30000);
  std::string d_resource = d == head ? "a" : "b", o_resource = d == head ? "b" : "a";
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // the lease goes back
  // D busy for 3 s, O for 0.8 s; then a CPU task that fits anywhere.
  auto start = Clock::now();
  auto long_on_d = photon::Task(SlowRaylet).SetResource(d_resource, 1).Remote(3000);
  auto short_on_o = photon::Task(SlowRaylet).SetResource(o_resource, 1).Remote(800);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto queued = photon::Task(SlowRaylet).Remote(100);
  // It should run on O once O is free (~0.8 s), not wait for D (~3 s).
  auto where = queued.Get(30000);
  double waited = SecondsSince(start);
  std::printf("queued task ran on %s after %.2f s (D is %s)\n", where->c_str(), waited, d.c_str());
  EXPECT_LT(waited, 2.5) << "the queued task waited for the driver's node";
  EXPECT_NE(*where, d);
}

// ---- 13. no leftovers -----------------------------------------------------------------

TEST_F(MultiNodeTest, ShutdownLeavesNoProcessesOrStoreFolders) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {{"n0", 1}})));
  ASSERT_FALSE(AddNode(Node(1, {{"n1", 1}})).empty());
  ASSERT_FALSE(AddNode(Node(1, {{"n2", 1}})).empty());
  Connect();
  std::string session = cluster_->session_dir();
  // Objects in every store, workers on every node.
  auto blob = photon::Task(Produce).SetResource("n1", 1).Remote(int64_t{400000}, uint64_t{1});
  auto d = photon::Task(Consume).SetResource("n2", 1).Remote(blob);
  EXPECT_EQ(d.Get(60000)->size, 400000);
  EXPECT_EQ(blob.Get(60000)->bytes.size(), 400000u);
  auto p = photon::Put(photon_test::MakeBytes(400000, 3));
  EXPECT_EQ(photon::Task(ConsumeBytes).SetResource("n0", 1).Remote(p).Get(60000)->size, 400000);
  // (No task is in flight at Shutdown here: see ShutdownWithTasksInFlightDoesNotCrash.)
  EXPECT_GE(photon_test::ProcessesMentioning(session).size(), 6u)
      << "expected the GCS, three raylets and workers to mention " << session;

  photon::Shutdown();
  cluster_->Shutdown();

  auto processes = photon_test::ProcessesMentioning(session);
  EXPECT_TRUE(processes.empty()) << "processes left after Shutdown:"
                                 << photon_test::Join(processes);
  auto shm = photon_test::ShmEntriesMentioning(photon_test::fs::path(session).filename().string());
  EXPECT_TRUE(shm.empty()) << "store folders left after Shutdown:" << photon_test::Join(shm);
  auto children = photon_test::ChildProcesses();
  EXPECT_TRUE(children.empty()) << "child processes left after Shutdown:"
                                << photon_test::Join(children);
}

// A driver that joins the cluster at $RUNTIME_TEST_GCS_ADDRESS, starts long tasks on n1
// and n2, says "ready <pid>" and waits to be killed. Run in a child process.
int DriverToBeKilledScenario() {
  const char* address = std::getenv("RUNTIME_TEST_GCS_ADDRESS");
  if (address == nullptr) return 10;
  photon::Config config;
  config.address = address;
  photon::Init(config);
  auto a = photon::Task(SlowRaylet).SetResource("n1", 1).Remote(60000);
  auto b = photon::Task(SlowRaylet).SetResource("n2", 1).Remote(60000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(120));
  return 0;
}
photon_test::ScenarioRegistrar driver_to_be_killed("driver_to_be_killed", DriverToBeKilledScenario);

// Workers of the driver of DriverToBeKilledScenario (their command line is its own).
std::vector<std::string> ScenarioWorkers(const std::string& session) {
  std::vector<std::string> out;
  for (const auto& p : photon_test::ProcessesMentioning(session)) {
    if (p.find("--scenario driver_to_be_killed") != std::string::npos) out.push_back(p);
  }
  return out;
}

TEST_F(MultiNodeTest, WorkersOfAKilledDriverAreStopped) {
  ASSERT_NO_FATAL_FAILURE(StartHead(Node(1, {{"n0", 1}})));
  std::string n1 = AddNode(Node(1, {{"n1", 1}}));
  ASSERT_FALSE(n1.empty());
  ASSERT_FALSE(AddNode(Node(1, {{"n2", 1}})).empty());
  std::string session = cluster_->session_dir();
  setenv("RUNTIME_TEST_GCS_ADDRESS", cluster_->gcs_address().c_str(), 1);
  std::string self = photon_test::fs::read_symlink("/proc/self/exe").string();
  FILE* pipe = popen((self + " --scenario driver_to_be_killed 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  int driver_pid = 0;
  char line[4096];
  while (driver_pid == 0 && std::fgets(line, sizeof(line), pipe) != nullptr) {
    output += line;
    if (std::strncmp(line, "ready ", 6) == 0) driver_pid = std::atoi(line + 6);
  }
  if (driver_pid == 0) {
    pclose(pipe);
    FAIL() << "the child driver did not get ready; output:\n" << output;
  }
  auto workers = ScenarioWorkers(session);
  EXPECT_GE(workers.size(), 2u) << "the child driver's workers:" << photon_test::Join(workers);
  kill(driver_pid, SIGKILL);
  pclose(pipe);
  // The raylets notice the dead driver (every second), finish its job and stop its workers.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!ScenarioWorkers(session).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  workers = ScenarioWorkers(session);
  EXPECT_TRUE(workers.empty()) << "workers of a killed driver still run:"
                               << photon_test::Join(workers);
  // Their resources are free again: a new driver can use n1 and n2.
  Connect();
  EXPECT_EQ(*photon::Task(RayletOfTask).SetResource("n1", 1).Remote().Get(30000), n1);
  EXPECT_NE(*photon::Task(RayletOfTask).SetResource("n2", 1).Remote().Get(30000), "");
}

// A driver that leaves tasks running on a three-node cluster, shuts down, then stops the
// cluster, like a driver leaving a long-lived cluster. Run in a child process.
int ShutdownWithTasksInFlightScenario() {
  auto bin = photon::FindBinDir("");
  if (!bin.ok()) return 10;
  photon::NodeArgs head = Node(1, {{"n0", 1}});
  auto cluster = photon::LocalCluster::Start(*bin, photon_test::SessionRoot(), &head);
  if (!cluster.ok()) return 11;
  for (const char* r : {"n1", "n2"}) {
    if (!(*cluster)->AddNode(Node(1, {{r, 1}})).ok()) return 12;
  }
  photon::Config config;
  config.address = (*cluster)->gcs_address();
  photon::Init(config);
  std::vector<photon::ObjectRef<std::string>> refs;
  for (int i = 0; i < 2; ++i) {
    for (const char* r : {"n0", "n1", "n2"}) {
      refs.push_back(photon::Task(SlowRaylet).SetResource(r, 1).Remote(60000));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  photon::Shutdown();
  (*cluster)->Shutdown();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // late callbacks
  std::printf("scenario finished\n");
  return 0;
}
photon_test::ScenarioRegistrar shutdown_in_flight("shutdown_with_tasks_in_flight",
                                                  ShutdownWithTasksInFlightScenario);

TEST(MultiNodeShutdown, ShutdownWithTasksInFlightDoesNotCrash) {
  constexpr int kRuns = 4;
  for (int i = 0; i < kRuns; ++i) {
    std::string output;
    int status = photon_test::RunScenarioInChild("shutdown_with_tasks_in_flight", &output);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "run " << i << ": the driver died (wait status " << status << "); output:\n"
        << output;
    EXPECT_NE(output.find("scenario finished"), std::string::npos) << output;
  }
}

}  // namespace

PHOTON_RUNTIME_TEST_MAIN();

// ---- GCS fault tolerance -------------------------------------------------------------

// A private redis-server on a free port, killed by the destructor.
class RedisServer {
 public:
  RedisServer() {
    for (int attempt = 0; attempt < 5 && pid_ == 0; ++attempt) {
      port_ = 20000 + static_cast<int>((getpid() * 7919 + attempt * 104729) % 30000);
      std::string port = std::to_string(port_);
      pid_t pid = fork();
      if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind",
              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "/tmp",
              static_cast<char*>(nullptr));
        _exit(127);
      }
      // Up, or gone (the port was taken: try another).
      for (int i = 0; i < 200; ++i) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        if (std::system(("redis-cli -p " + port + " ping >/dev/null 2>&1").c_str()) == 0) {
          pid_ = pid;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return pid_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  pid_t pid_ = 0;
};

TEST_F(MultiNodeTest, GcsRestartWithRedisKeepsActorsGroupsAndWork) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok()) << "cannot start redis-server";
  auto bin = photon::FindBinDir("");
  ASSERT_TRUE(bin.ok());
  photon::ClusterOptions options;
  options.redis_address = redis.address();
  photon::NodeArgs head = Node(2, {});
  auto cluster = photon::LocalCluster::Start(*bin, photon_test::SessionRoot(), &head, options);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(*cluster);
  std::string other = AddNode(Node(2, {{"other", 1}}));
  Connect();

  auto actor = photon::Actor(Locator::Create).SetName("locator").Remote();
  std::string where = *photon::Get(actor.Task(&Locator::Where).Remote());
  auto pg = photon::CreatePlacementGroup(photon::PlacementGroupCreationOptions{
      "ft-group", {{{"CPU", 1}}, {{"CPU", 1}}}, photon::PlacementStrategy::SPREAD});
  ASSERT_TRUE(pg.Wait(10));

  cluster_->KillGcs();
  // No GCS: the live actor and tasks of a known function go on.
  EXPECT_EQ(*photon::Get(actor.Task(&Locator::Where).Remote()), where);
  EXPECT_FALSE(photon::Get(photon::Task(RayletOfTask).Remote())->empty());
  ASSERT_TRUE(cluster_->StartGcs().ok());

  auto found = photon::GetActor<Locator>("locator");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*photon::Get(found->Task(&Locator::Where).Remote()), where);
  auto group = photon::GetPlacementGroup("ft-group");
  ASSERT_TRUE(group.has_value());
  EXPECT_EQ(group->GetState(), photon::PlacementGroupState::CREATED);
  auto fresh = photon::Actor(Locator::Create).Remote();
  EXPECT_FALSE(photon::Get(fresh.Task(&Locator::Where).Remote())->empty());
  EXPECT_EQ(*photon::Get(photon::Task(RayletOfTask).SetResource("other", 1).Remote()), other);
}
