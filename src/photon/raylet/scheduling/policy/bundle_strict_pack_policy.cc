// STRICT_PACK: every bundle on one node.
#include "photon/raylet/scheduling/policy/bundle_policy.h"

namespace photon::raylet {

using namespace bundle_policy_internal;

BundlePlacement PlaceStrictPack(const ClusterView& view, const std::vector<ResourceSet>& bundles) {
  std::vector<Candidate> nodes = LiveCandidates(view);
  ResourceSet sum;
  for (const auto& b : bundles) sum.Add(b);
  int i = BestFit(nodes, sum, [](size_t) { return true; });
  if (i < 0) {
    return BundlePlacement{false,
                           {},
                           "no node has " + sum.ToString() + " available for all the bundles " +
                               "together (STRICT_PACK)"};
  }
  return BundlePlacement{true, std::vector<NodeID>(bundles.size(), nodes[i].id), ""};
}

}  // namespace photon::raylet
