#include "photon/raylet/scheduling/policy/hybrid_policy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fmt/format.h"

namespace photon::raylet {
namespace {

bool Feasible(const NodeView& n, const ResourceSet& r) { return n.alive && n.total.Contains(r); }
bool HasRoom(const NodeView& n, const ResourceSet& r) {
  return Feasible(n, r) && n.available.Contains(r);
}
double Load(const NodeView& n, const ResourceSet& r) { return n.available.Utilization(n.total, r); }
bool HasGpus(const NodeView& n) { return n.total.Get("GPU") > 0; }

// Drops GPU nodes from `nodes` if the request needs no GPU and others remain.
void AvoidGpuNodes(const SchedulingRequest& req, const SchedulingOptions& opts,
                   std::vector<const NodeView*>* nodes) {
  if (!opts.avoid_gpu_nodes || req.resources.Get("GPU") > 0) return;
  bool any_without =
      std::any_of(nodes->begin(), nodes->end(), [](const NodeView* n) { return !HasGpus(*n); });
  if (!any_without) return;
  nodes->erase(
      std::remove_if(nodes->begin(), nodes->end(), [](const NodeView* n) { return HasGpus(*n); }),
      nodes->end());
}

SchedulingDecision To(const ClusterView& view, const NodeView* n) {
  return n->id == view.local() ? SchedulingDecision::Local() : SchedulingDecision::Remote(n->id);
}

}  // namespace

SchedulingDecision HybridPolicy(const ClusterView& view, const SchedulingRequest& req,
                                const SchedulingOptions& opts, SchedulingState* state) {
  const NodeView* local = view.Local();
  const ResourceSet& r = req.resources;
  if (req.spilled) {
    // Another node chose this one: take it if it could ever fit.
    if (local != nullptr && Feasible(*local, r)) return SchedulingDecision::Local();
    return SchedulingDecision{
        SchedulingDecision::Kind::kInfeasible, NodeID::Nil(),
        fmt::format("node {} can never run '{}': it needs {}, the node has {}", view.local().Hex(),
                    req.name, r.ToString(), local ? local->total.ToString() : "nothing")};
  }
  // 1. The local node while it is lightly used.
  if (local != nullptr && HasRoom(*local, r) && Load(*local, r) < opts.spread_threshold &&
      !(opts.avoid_gpu_nodes && r.Get("GPU") <= 0 && HasGpus(*local))) {
    return SchedulingDecision::Local();
  }
  // 2. Among the nodes with room now: the least loaded, at random within the
  // top fraction; nodes under the threshold count as idle, local first.
  std::vector<const NodeView*> feasible;
  std::vector<const NodeView*> room;
  for (const NodeView* n : view.Nodes()) {
    if (!Feasible(*n, r)) continue;
    feasible.push_back(n);
    if (n->available.Contains(r)) room.push_back(n);
  }
  AvoidGpuNodes(req, opts, &room);
  if (!room.empty()) {
    // One pass (no sort: this runs per lease, over every node): the best
    // score, and the nodes that have it, the local node first, then in id
    // order; the pick is among the first k of them.
    auto score = [&](const NodeView* n) {
      double load = Load(*n, r);
      return load < opts.spread_threshold ? 0.0 : load;
    };
    double best = 2;
    std::vector<const NodeView*> tied;
    for (const NodeView* n : room) {
      double sc = score(n);
      if (sc < best) {
        best = sc;
        tied.clear();
      }
      if (sc == best) tied.push_back(n);
    }
    auto local_it = std::find_if(tied.begin(), tied.end(),
                                 [&](const NodeView* n) { return n->id == view.local(); });
    if (local_it != tied.end()) std::rotate(tied.begin(), local_it, local_it + 1);
    size_t k = std::max<size_t>(
        static_cast<size_t>(std::max<int64_t>(1, opts.top_k_absolute)),
        static_cast<size_t>(std::ceil(opts.top_k_fraction * static_cast<double>(feasible.size()))));
    size_t equal = std::min(k, tied.size());
    size_t pick = equal <= 1 ? 0 : std::uniform_int_distribution<size_t>(0, equal - 1)(state->rng);
    return To(view, tied[pick]);
  }
  // 3. No room anywhere: wait where it fits, the local node first.
  if (local != nullptr && Feasible(*local, r)) return SchedulingDecision::Local();
  AvoidGpuNodes(req, opts, &feasible);
  if (!feasible.empty()) {
    const NodeView* least = *std::min_element(
        feasible.begin(), feasible.end(),
        [&](const NodeView* a, const NodeView* b) { return Load(*a, r) < Load(*b, r); });
    return To(view, least);
  }
  std::string largest = local != nullptr ? local->total.ToString() : "nothing";
  return SchedulingDecision{
      SchedulingDecision::Kind::kInfeasible, NodeID::Nil(),
      fmt::format("no node in the cluster can ever run '{}': it needs {}, and the largest node "
                  "here has {}",
                  req.name, r.ToString(), largest)};
}

std::optional<NodeID> LeastLoadedRemoteWithRoom(const ClusterView& view,
                                                const ResourceSet& request) {
  const NodeView* best = nullptr;
  double best_load = 2;
  for (const NodeView* n : view.Nodes()) {
    if (n->id == view.local() || !HasRoom(*n, request)) continue;
    double load = Load(*n, request);
    if (load < best_load) {
      best = n;
      best_load = load;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

}  // namespace photon::raylet
