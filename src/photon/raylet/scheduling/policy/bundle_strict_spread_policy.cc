// STRICT_SPREAD: every bundle on a different node.
#include <set>

#include "fmt/format.h"
#include "photon/raylet/scheduling/policy/bundle_policy.h"

namespace photon::raylet {

using namespace bundle_policy_internal;

BundlePlacement PlaceStrictSpread(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                                  const BundleSelectors& selectors) {
  std::vector<Candidate> nodes = LiveCandidates(view);
  if (nodes.size() < bundles.size()) {
    return BundlePlacement{false,
                           {},
                           fmt::format("STRICT_SPREAD needs {} nodes, one per bundle; the "
                                       "cluster has {} alive",
                                       bundles.size(), nodes.size())};
  }
  std::vector<NodeID> out(bundles.size());
  std::set<size_t> used;
  for (size_t b : LargestFirst(bundles)) {
    int i = BestFit(nodes, bundles[b],
                    [&](size_t n) { return !used.contains(n) && Admits(selectors, b, nodes[n]); });
    if (i < 0) {
      return BundlePlacement{false,
                             {},
                             "no distinct node per bundle has room for " +
                                 DescribeBundles(bundles) + " (STRICT_SPREAD)" +
                                 (selectors.empty() ? "" : " among the nodes its labels admit")};
    }
    used.insert(static_cast<size_t>(i));
    out[b] = nodes[i].id;
  }
  return BundlePlacement{true, std::move(out), ""};
}

}  // namespace photon::raylet
