// PACK: on as few nodes as possible; all on one node when one fits them.
#include <set>

#include "photon/raylet/scheduling/policy/bundle_policy.h"

namespace photon::raylet {

using namespace bundle_policy_internal;

BundlePlacement PlacePack(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                          const BundleSelectors& selectors) {
  BundlePlacement all = PlaceStrictPack(view, bundles, selectors);
  if (all.placed) return all;
  std::vector<Candidate> nodes = LiveCandidates(view);
  std::vector<NodeID> out(bundles.size());
  std::set<size_t> used;
  for (size_t b : LargestFirst(bundles)) {
    // A node already used first, then any.
    int i = BestFit(nodes, bundles[b],
                    [&](size_t n) { return used.contains(n) && Admits(selectors, b, nodes[n]); });
    if (i < 0)
      i = BestFit(nodes, bundles[b], [&](size_t n) { return Admits(selectors, b, nodes[n]); });
    if (i < 0) {
      return BundlePlacement{false,
                             {},
                             "the cluster has no room for the bundles " + DescribeBundles(bundles) +
                                 " (PACK)" +
                                 (selectors.empty() ? "" : " on the nodes their labels admit")};
    }
    nodes[i].available.Subtract(bundles[b]);
    used.insert(static_cast<size_t>(i));
    out[b] = nodes[i].id;
  }
  return BundlePlacement{true, std::move(out), ""};
}

}  // namespace photon::raylet
