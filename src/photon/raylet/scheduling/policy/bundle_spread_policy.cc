// SPREAD: each bundle on a node of its own where possible, else on the node
// that holds the fewest of them and fits it.
#include <map>

#include "photon/raylet/scheduling/policy/bundle_policy.h"

namespace photon::raylet {

using namespace bundle_policy_internal;

BundlePlacement PlaceSpread(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                            const BundleSelectors& selectors) {
  std::vector<Candidate> nodes = LiveCandidates(view);
  std::vector<NodeID> out(bundles.size());
  std::map<size_t, int> count;  // bundles per node so far
  for (size_t b : LargestFirst(bundles)) {
    int i = -1;
    for (int fewest = 0; i < 0 && fewest <= static_cast<int>(bundles.size()); ++fewest) {
      i = BestFit(nodes, bundles[b],
                  [&](size_t n) { return count[n] == fewest && Admits(selectors, b, nodes[n]); });
    }
    if (i < 0) {
      return BundlePlacement{false,
                             {},
                             "the cluster has no room for the bundles " + DescribeBundles(bundles) +
                                 " (SPREAD)" +
                                 (selectors.empty() ? "" : " on the nodes their labels admit")};
    }
    nodes[i].available.Subtract(bundles[b]);
    ++count[static_cast<size_t>(i)];
    out[b] = nodes[i].id;
  }
  return BundlePlacement{true, std::move(out), ""};
}

}  // namespace photon::raylet
