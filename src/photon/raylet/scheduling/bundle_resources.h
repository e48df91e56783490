// Placement-group bundles on one node: the resource names a committed bundle
// adds (Ray's: CPU_group_<i>_<pgid>, CPU_group_<pgid>, bundle_group_...), the
// renaming of a task's request into a bundle, and the ledger of the bundles
// prepared and committed here.
//
// Prepare takes a bundle's raw resources out of the node's available set
// (leases can no longer use them); Commit adds the bundle's named resources
// to the node's total and available sets; Cancel removes the named resources
// and gives the raw ones back. Not thread-safe: the raylet's mutex guards it
// with the sets it changes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "photon/common/id.h"
#include "photon/raylet/scheduling/resource_set.h"

namespace photon::raylet {

// Each bundle also gets this much of its marker resource (bundle_group_...);
// work placed in a bundle asks for kBundleMarkerRequest of it, so work that
// needs no other resource is still pinned to the bundle's node.
inline constexpr double kBundleMarkerCapacity = 1000;
inline constexpr double kBundleMarkerRequest = 0.001;

// "CPU_group_<index>_<pg hex>" (index >= 0) or "CPU_group_<pg hex>" (index < 0).
std::string BundleResourceName(const std::string& resource, int index, const PlacementGroupID& pg);
// The placement group a bundle resource name belongs to, if it is one.
bool IsBundleResourceOf(const std::string& name, const PlacementGroupID& pg);
// True if `name` is a committed bundle's resource (of any group): it ends in
// "_group_[<index>_]<pg hex>".
bool IsBundleResource(std::string_view name);

// A task's or actor's request renamed into bundle `index` (-1: any bundle) of
// `pg`, with the bundle marker added.
std::map<std::string, double> RenameIntoBundle(const std::map<std::string, double>& request,
                                               int index, const PlacementGroupID& pg);

// What committed bundle `index` of `pg` adds to its node: the indexed names,
// the wildcard names and the markers.
ResourceSet CommittedBundleResources(const PlacementGroupID& pg, int index, const ResourceSet& raw);

class BundleLedger {
 public:
  struct Bundle {
    int index = 0;
    ResourceSet resources;  // raw, as the user asked
  };
  // Reserves `bundles` of `pg` from `available` (all or none). Bundles
  // already prepared or committed here are skipped. Fails with
  // ResourceExhausted naming what does not fit.
  absl::Status Prepare(const PlacementGroupID& pg, const std::vector<Bundle>& bundles,
                       ResourceSet* available);
  // Makes the prepared bundles `indexes` of `pg` usable under their names.
  // Fails with NotFound for a bundle that was not prepared here.
  absl::Status Commit(const PlacementGroupID& pg, const std::vector<int>& indexes,
                      ResourceSet* total, ResourceSet* available);
  // Undoes the bundles `indexes` of `pg` here (empty: every one); returns
  // true if there was any.
  bool Cancel(const PlacementGroupID& pg, const std::vector<int>& indexes, ResourceSet* total,
              ResourceSet* available);

  // Remembers `pg` as removed for good.
  void MarkRemoved(const PlacementGroupID& pg) { removed_.insert(pg); }
  bool IsRemoved(const PlacementGroupID& pg) const { return removed_.contains(pg); }
  size_t NumBundles() const;

 private:
  struct Entry {
    ResourceSet resources;
    bool committed = false;
  };
  absl::flat_hash_map<PlacementGroupID, std::map<int, Entry>> groups_;
  absl::flat_hash_set<PlacementGroupID> removed_;
};

}  // namespace photon::raylet
