#include "photon/raylet/scheduling/policy/bundle_policy.h"

#include <algorithm>
#include <numeric>

#include "photon/raylet/scheduling/policy/node_label_policy.h"

namespace photon::raylet {
namespace bundle_policy_internal {

double Size(const ResourceSet& r) {
  double s = 0;
  for (const auto& [name, amount] : r.ToMap()) s += amount;
  return s;
}

std::vector<Candidate> LiveCandidates(const ClusterView& view) {
  std::vector<Candidate> out;
  for (const NodeView* n : view.Nodes()) {
    if (!n->alive) continue;
    out.push_back(Candidate{n->id, n->available, Size(n->total), &n->labels});
  }
  return out;
}

std::vector<size_t> LargestFirst(const std::vector<ResourceSet>& bundles) {
  std::vector<size_t> order(bundles.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Size(bundles[a]) > Size(bundles[b]); });
  return order;
}

std::string DescribeBundles(const std::vector<ResourceSet>& bundles) {
  std::string s = "[";
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (i > 0) s += ", ";
    s += bundles[i].ToString();
  }
  return s + "]";
}

bool Admits(const BundleSelectors& selectors, size_t bundle, const Candidate& node) {
  if (bundle >= selectors.size() || selectors[bundle].empty()) return true;
  static const std::map<std::string, std::string> kNone;
  return LabelsMatch(node.labels != nullptr ? *node.labels : kNone, selectors[bundle]);
}

}  // namespace bundle_policy_internal

BundlePlacement PlaceBundles(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                             rpc::PlacementStrategy strategy, const BundleSelectors& selectors) {
  switch (strategy) {
    case rpc::PACK:
      return PlacePack(view, bundles, selectors);
    case rpc::SPREAD:
      return PlaceSpread(view, bundles, selectors);
    case rpc::STRICT_PACK:
      return PlaceStrictPack(view, bundles, selectors);
    case rpc::STRICT_SPREAD:
      return PlaceStrictSpread(view, bundles, selectors);
    default:
      return BundlePlacement{false, {}, "unknown placement strategy"};
  }
}

}  // namespace photon::raylet
