// STRICT_PACK: every bundle on one node.
#include "photon/raylet/scheduling/policy/bundle_policy.h"

namespace photon::raylet {

using namespace bundle_policy_internal;

BundlePlacement PlaceStrictPack(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                                const BundleSelectors& selectors) {
  std::vector<Candidate> nodes = LiveCandidates(view);
  ResourceSet sum;
  for (const auto& b : bundles) sum.Add(b);
  // One node, so it must admit every bundle's selector.
  int i = BestFit(nodes, sum, [&](size_t n) {
    for (size_t b = 0; b < bundles.size(); ++b) {
      if (!Admits(selectors, b, nodes[n])) return false;
    }
    return true;
  });
  if (i < 0) {
    return BundlePlacement{false,
                           {},
                           "no node has " + sum.ToString() + " available for all the bundles " +
                               "together (STRICT_PACK)" +
                               (selectors.empty() ? "" : " that the bundles' labels admit")};
  }
  return BundlePlacement{true, std::vector<NodeID>(bundles.size(), nodes[i].id), ""};
}

}  // namespace photon::raylet
