// Ray's core microbenchmarks, through Photon's C++ API, with the transport
// baseline measured in the same run (../shared/design/PERF.md):
//   bare_grpc_roundtrip         a unary gRPC call to the raylet (HealthCheck)
//   local_cluster_start_stop    photon::Init() + photon::Shutdown() of an empty local cluster
//   single_client_tasks_sync    submit one no-op task and get it, repeatedly
//   single_client_tasks_async   submit many no-op tasks, then get them all
//   single_client_put_calls     small puts
//   single_client_get_calls     small gets
//   single_client_tasks_and_get_batch  1000 no-op tasks, then one get of all (batches/s)
// Usage: runtime_benchmark [--quick]
#include <grpcpp/grpcpp.h>
#include <photon/api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "photon/cluster/local_cluster.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace {

int Noop() { return 0; }

// The actor of Ray's actor microbenchmarks.
class Bench {
 public:
  static Bench* Create() { return new Bench(); }
  int SmallValue() { return 0; }
  int SmallValueArg(int x) { return x; }
};

// A client that sends `n` calls to each of `servers` and waits for them all.
int CallActors(std::vector<photon::ActorHandle<Bench>> servers, int n) {
  std::vector<photon::ObjectRef<int>> refs;
  refs.reserve(servers.size() * n);
  for (int i = 0; i < n; ++i) {
    for (auto& s : servers) refs.push_back(s.Task(&Bench::SmallValue).Remote());
  }
  photon::Get(refs);
  return static_cast<int>(refs.size());
}

PHOTON_REMOTE(Noop, Bench::Create, &Bench::SmallValue, &Bench::SmallValueArg, CallActors);

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `body(n)` for `n` operations, best of `reps` repetitions; returns ops/s.
double Rate(int n, int reps, const std::function<void(int)>& body) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t = Clock::now();
    body(n);
    best = std::max(best, n / Seconds(t));
  }
  return best;
}

void Report(const char* metric, double value, const char* unit, double baseline = 0) {
  if (baseline > 0) {
    std::printf("%-36s %12.1f %-8s baseline %10.1f  ratio %.2f\n", metric, value, unit, baseline,
                value / baseline);
  } else {
    std::printf("%-36s %12.1f %s\n", metric, value, unit);
  }
  std::fflush(stdout);
}

// Round trips per second of an empty unary call to `address`, one in flight,
// presenting the cluster token as every Photon call does.
double BareGrpcRate(const std::string& address, const std::string& token, int n) {
  auto stub = photon::rpc::NodeManagerService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  return Rate(n, 3, [&](int count) {
    for (int i = 0; i < count; ++i) {
      grpc::ClientContext ctx;
      if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
      photon::rpc::HealthCheckReply reply;
      grpc::Status s = stub->HealthCheck(&ctx, photon::rpc::HealthCheckRequest(), &reply);
      if (!s.ok()) {
        std::fprintf(stderr, "HealthCheck failed: %s\n", s.error_message().c_str());
        std::exit(1);
      }
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("PHOTON_RAYLET_ADDRESS") != nullptr) photon::Init();  // worker mode
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int scale = quick ? 1 : 5;

  // Empty local cluster start + stop.
  {
    double best = 1e9;
    for (int i = 0; i < (quick ? 2 : 5); ++i) {
      auto t = Clock::now();
      photon::Config c;
      c.num_cpus = 2;
      photon::Init(c);
      photon::Shutdown();
      best = std::min(best, Seconds(t));
    }
    Report("local_cluster_start_stop", best * 1000, "ms");
  }

  // The rest runs on a cluster whose raylet address we know, for the baseline.
  auto bin = photon::FindBinDir("");
  if (!bin.ok()) {
    std::fprintf(stderr, "%s\n", std::string(bin.status().message()).c_str());
    return 1;
  }
  photon::NodeArgs head;
  head.num_cpus = 2;
  auto cluster = photon::LocalCluster::Start(*bin, "/tmp/photon", &head);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cluster.status().message()).c_str());
    return 1;
  }
  photon::Config c;
  c.address = (*cluster)->gcs_address();
  photon::Init(c);
  // Warm up: start the workers.
  for (int i = 0; i < 4; ++i) photon::Get(photon::Task(Noop).Remote());

  // Transport baseline: bare unary round trips to the raylet, one in flight.
  double grpc_rate =
      BareGrpcRate((*cluster)->nodes().front().address, (*cluster)->token(), 2000 * scale);
  Report("bare_grpc_roundtrip", grpc_rate, "calls/s");

  double sync_rate = Rate(1000 * scale, 3, [](int n) {
    for (int i = 0; i < n; ++i) photon::Get(photon::Task(Noop).Remote());
  });
  Report("single_client_tasks_sync", sync_rate, "tasks/s", grpc_rate);

  double async_rate = Rate(5000 * scale, 3, [](int n) {
    std::vector<photon::ObjectRef<int>> refs;
    refs.reserve(n);
    for (int i = 0; i < n; ++i) refs.push_back(photon::Task(Noop).Remote());
    photon::Get(refs);
  });
  Report("single_client_tasks_async", async_rate, "tasks/s");

  double batch_rate = Rate(2 * scale, 3, [](int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<photon::ObjectRef<int>> refs;
      for (int j = 0; j < 1000; ++j) refs.push_back(photon::Task(Noop).Remote());
      photon::Get(refs);
    }
  });
  Report("single_client_tasks_and_get_batch", batch_rate, "batches/s");

  double put_rate = Rate(10000 * scale, 3, [](int n) {
    for (int i = 0; i < n; ++i) photon::Put(i);
  });
  Report("single_client_put_calls", put_rate, "puts/s");

  auto ref = photon::Put(42);
  double get_rate = Rate(10000 * scale, 3, [&](int n) {
    for (int i = 0; i < n; ++i) photon::Get(ref);
  });
  Report("single_client_get_calls", get_rate, "gets/s");

  // Actor calls (actors hold no CPU, as in Ray's suite).
  auto actor = photon::Actor(Bench::Create).Remote();
  photon::Get(actor.Task(&Bench::SmallValue).Remote());
  double actor_sync = Rate(1000 * scale, 3, [&](int n) {
    for (int i = 0; i < n; ++i) photon::Get(actor.Task(&Bench::SmallValue).Remote());
  });
  Report("1_1_actor_calls_sync", actor_sync, "calls/s", grpc_rate);
  double actor_async = Rate(5000 * scale, 3, [&](int n) {
    std::vector<photon::ObjectRef<int>> refs;
    refs.reserve(n);
    for (int i = 0; i < n; ++i) refs.push_back(actor.Task(&Bench::SmallValue).Remote());
    photon::Get(refs);
  });
  Report("1_1_actor_calls_async", actor_async, "calls/s");
  auto concurrent = photon::Actor(Bench::Create).SetMaxConcurrency(16).Remote();
  photon::Get(concurrent.Task(&Bench::SmallValue).Remote());
  double actor_conc = Rate(5000 * scale, 3, [&](int n) {
    std::vector<photon::ObjectRef<int>> refs;
    refs.reserve(n);
    for (int i = 0; i < n; ++i) refs.push_back(concurrent.Task(&Bench::SmallValue).Remote());
    photon::Get(refs);
  });
  Report("1_1_actor_calls_concurrent", actor_conc, "calls/s");

  constexpr int kActors = 2;  // n_cpu on this machine
  std::vector<photon::ActorHandle<Bench>> servers;
  for (int i = 0; i < kActors; ++i) servers.push_back(photon::Actor(Bench::Create).Remote());
  for (auto& a : servers) photon::Get(a.Task(&Bench::SmallValue).Remote());
  double one_n =
      Rate(1, 3, [&](int) { photon::Get(photon::Task(CallActors).Remote(servers, 2000 * scale)); });
  Report("1_n_actor_calls_async", one_n * kActors * 2000 * scale, "calls/s");
  double n_n = Rate(1, 3, [&](int) {
    std::vector<photon::ObjectRef<int>> clients;
    for (int c = 0; c < 4; ++c)
      clients.push_back(photon::Task(CallActors).Remote(servers, 500 * scale));
    photon::Get(clients);
  });
  Report("n_n_actor_calls_async", n_n * 4 * kActors * 500 * scale, "calls/s");
  auto arg = photon::Put(1);
  double with_arg = Rate(1000 * scale, 3, [&](int n) {
    std::vector<photon::ObjectRef<int>> refs;
    for (int i = 0; i < n; ++i) {
      refs.push_back(servers[i % kActors].Task(&Bench::SmallValueArg).Remote(arg));
    }
    photon::Get(refs);
  });
  Report("n_n_actor_calls_with_arg_async", with_arg, "calls/s");

  photon::Shutdown();
  (*cluster)->Shutdown();
  return 0;
}
