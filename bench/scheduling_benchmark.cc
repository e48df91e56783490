// Scheduling decisions per second of the real policy code (raylet/scheduling)
// on simulated clusters of 10 to 10,000 nodes: the default (hybrid) policy,
// SPREAD, node labels, and placing a placement group's bundles.
// Usage: scheduling_benchmark [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "photon/raylet/scheduling/policy/bundle_policy.h"
#include "photon/raylet/scheduling/scheduler.h"

namespace {

using photon::NodeID;
using namespace photon::raylet;

using Clock = std::chrono::steady_clock;

ResourceSet R(std::map<std::string, double> m) { return *ResourceSet::FromMap(m); }

// N nodes of 16 CPUs, each with a random share in use and a zone label.
ClusterView MakeCluster(int n, std::mt19937_64* rng) {
  ClusterView view;
  std::uniform_int_distribution<int> used(0, 16);
  for (int i = 0; i < n; ++i) {
    NodeView v;
    v.id = NodeID::FromRandom();
    v.total = R({{"CPU", 16}, {"memory", 64e9}});
    v.available = R({{"CPU", static_cast<double>(16 - used(*rng))}, {"memory", 32e9}});
    v.labels = {{"zone", i % 2 == 0 ? "a" : "b"}};
    v.address.set_port(10000 + i);
    if (i == 0) {
      // The deciding node is busy (past scheduler_spread_threshold), so the
      // default policy looks at every node instead of keeping the work local.
      v.available = R({{"CPU", 2}, {"memory", 32e9}});
      view.set_local(v.id);
    }
    view.Upsert(std::move(v));
  }
  return view;
}

// Decisions per second of `decide`, run for about `seconds`.
double Rate(double seconds, const std::function<void()>& decide) {
  int64_t n = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int i = 0; i < 16; ++i) decide();
    n += 16;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(n) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  double seconds = quick ? 0.2 : 1.0;
  std::mt19937_64 rng(42);
  SchedulingOptions options;
  std::printf("%-8s %16s %16s %16s %18s\n", "nodes", "hybrid/s", "spread/s", "labels/s",
              "pg_strict_spread/s");
  for (int n : {10, 100, 1000, 10000}) {
    ClusterView view = MakeCluster(n, &rng);
    SchedulingState state;
    SchedulingRequest task{R({{"CPU", 1}}), {}, false, "task"};
    SchedulingRequest spread = task;
    spread.strategy.set_spread(true);
    SchedulingRequest labels = task;
    labels.strategy.set_by_labels(true);
    auto* e = labels.strategy.add_label_hard();
    e->set_key("zone");
    e->set_op(photon::rpc::LabelExpression::IN);
    e->add_values("b");
    std::vector<ResourceSet> bundles(4, R({{"CPU", 2}}));
    double hybrid = Rate(seconds, [&] { Schedule(view, task, options, &state); });
    double spr = Rate(seconds, [&] { Schedule(view, spread, options, &state); });
    double lab = Rate(seconds, [&] { Schedule(view, labels, options, &state); });
    double pg = Rate(seconds, [&] { PlaceBundles(view, bundles, photon::rpc::STRICT_SPREAD); });
    std::printf("%-8d %16.0f %16.0f %16.0f %18.0f\n", n, hybrid, spr, lab, pg);
    std::fflush(stdout);
  }
  return 0;
}
