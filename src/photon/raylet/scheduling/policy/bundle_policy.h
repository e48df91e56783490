// Where the bundles of a placement group go: one policy per strategy
// (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD, as Ray defines them), each a
// function of the cluster's available resources. The GCS calls them before
// it reserves the bundles (prepare, then commit) on the chosen raylets.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"
#include "photon/raylet/scheduling/cluster_view.h"
#include "photon/raylet/scheduling/resource_set.h"

namespace photon::raylet {

struct BundlePlacement {
  bool placed = false;
  std::vector<NodeID> nodes;  // per bundle, when placed
  std::string message;        // why not, when not placed
};

// Per bundle, the label expressions its node's labels must match (Ray's
// bundle_label_selector); empty (or an empty entry): any node.
using BundleSelectors = std::vector<google::protobuf::RepeatedPtrField<rpc::LabelExpression>>;

// Places every bundle on the live nodes of `view` whose labels its selector
// admits, counting only what is available now. Deterministic: ties go to the
// node with the smaller id.
BundlePlacement PlaceBundles(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                             rpc::PlacementStrategy strategy,
                             const BundleSelectors& selectors = {});

// The four policies (bundle_*_policy.cc).
BundlePlacement PlacePack(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                          const BundleSelectors& selectors);
BundlePlacement PlaceSpread(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                            const BundleSelectors& selectors);
BundlePlacement PlaceStrictPack(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                                const BundleSelectors& selectors);
BundlePlacement PlaceStrictSpread(const ClusterView& view, const std::vector<ResourceSet>& bundles,
                                  const BundleSelectors& selectors);

namespace bundle_policy_internal {
// A node's available resources as the policies consume them.
struct Candidate {
  NodeID id;
  ResourceSet available;
  double total_units = 0;  // for scoring: the node's size
  const std::map<std::string, std::string>* labels = nullptr;
};
// Whether bundle `bundle`'s selector admits the candidate's node.
bool Admits(const BundleSelectors& selectors, size_t bundle, const Candidate& node);
std::vector<Candidate> LiveCandidates(const ClusterView& view);
// The candidate where `bundle` fits leaving the least room (best fit), among
// those `allowed` says yes to; -1 if none.
template <typename Allowed>
int BestFit(const std::vector<Candidate>& nodes, const ResourceSet& bundle, Allowed allowed);
// Largest bundles first, so the hard ones are placed while there is room.
std::vector<size_t> LargestFirst(const std::vector<ResourceSet>& bundles);
double Size(const ResourceSet& r);
std::string DescribeBundles(const std::vector<ResourceSet>& bundles);
}  // namespace bundle_policy_internal

}  // namespace photon::raylet

#include "photon/raylet/scheduling/policy/bundle_policy_inl.h"
