// Template definitions for bundle_policy.h.
#pragma once

namespace photon::raylet::bundle_policy_internal {

template <typename Allowed>
int BestFit(const std::vector<Candidate>& nodes, const ResourceSet& bundle, Allowed allowed) {
  int best = -1;
  double best_left = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!allowed(i) || !nodes[i].available.Contains(bundle)) continue;
    double left = Size(nodes[i].available) - Size(bundle);
    if (best < 0 || left < best_left) {
      best = static_cast<int>(i);
      best_left = left;
    }
  }
  return best;
}

}  // namespace photon::raylet::bundle_policy_internal
