#include "photon/raylet/scheduling/bundle_resources.h"

#include <algorithm>
#include <cctype>

#include "fmt/format.h"

namespace photon::raylet {
namespace {

constexpr const char* kMarker = "bundle";

}  // namespace

std::string BundleResourceName(const std::string& resource, int index, const PlacementGroupID& pg) {
  if (index < 0) return fmt::format("{}_group_{}", resource, pg.Hex());
  return fmt::format("{}_group_{}_{}", resource, index, pg.Hex());
}

bool IsBundleResource(std::string_view name) {
  constexpr size_t kHex = 2 * PlacementGroupID::kSize;
  constexpr std::string_view kGroup = "_group_";
  if (name.size() < kHex + kGroup.size() + 1 || name[name.size() - kHex - 1] != '_') return false;
  std::string_view hex = name.substr(name.size() - kHex);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(c); })) return false;
  std::string_view rest = name.substr(0, name.size() - kHex);  // "<res>_group_[<index>_]"
  if (rest.ends_with(kGroup)) return true;
  if (rest.back() != '_') return false;
  rest.remove_suffix(1);  // the '_' between the index and the hex
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(rest[rest.size() - 1 - digits])) ++digits;
  if (digits == 0) return false;
  rest.remove_suffix(digits);
  return rest.ends_with(kGroup);
}

bool IsBundleResourceOf(const std::string& name, const PlacementGroupID& pg) {
  return IsBundleResource(name) && name.ends_with(pg.Hex());
}

std::map<std::string, double> RenameIntoBundle(const std::map<std::string, double>& request,
                                               int index, const PlacementGroupID& pg) {
  std::map<std::string, double> out;
  for (const auto& [name, amount] : request) {
    if (amount > 0) out[BundleResourceName(name, index, pg)] = amount;
  }
  out[BundleResourceName(kMarker, index, pg)] = kBundleMarkerRequest;
  return out;
}

ResourceSet CommittedBundleResources(const PlacementGroupID& pg, int index,
                                     const ResourceSet& raw) {
  std::map<std::string, double> named;
  for (const auto& [name, amount] : raw.ToMap()) {
    named[BundleResourceName(name, index, pg)] = amount;
    named[BundleResourceName(name, -1, pg)] = amount;
  }
  named[BundleResourceName(kMarker, index, pg)] = kBundleMarkerCapacity;
  named[BundleResourceName(kMarker, -1, pg)] = kBundleMarkerCapacity;
  return ResourceSet::FromMap(named).value_or(ResourceSet());
}

absl::Status BundleLedger::Prepare(const PlacementGroupID& pg, const std::vector<Bundle>& bundles,
                                   ResourceSet* available) {
  if (removed_.contains(pg)) {
    return absl::FailedPreconditionError(fmt::format("placement group {} was removed", pg.Hex()));
  }
  auto& group = groups_[pg];
  ResourceSet needed;
  for (const Bundle& b : bundles) {
    if (!group.contains(b.index)) needed.Add(b.resources);
  }
  if (!available->Contains(needed)) {
    if (group.empty()) groups_.erase(pg);
    return absl::ResourceExhaustedError(
        fmt::format("the node has {} available, the bundles need {}", available->ToString(),
                    needed.ToString()));
  }
  available->Subtract(needed);
  for (const Bundle& b : bundles) group.try_emplace(b.index, Entry{b.resources, false});
  return absl::OkStatus();
}

absl::Status BundleLedger::Commit(const PlacementGroupID& pg, const std::vector<int>& indexes,
                                  ResourceSet* total, ResourceSet* available) {
  auto g = groups_.find(pg);
  for (int index : indexes) {
    if (g == groups_.end() || !g->second.contains(index)) {
      return absl::NotFoundError(fmt::format(
          "bundle {} of placement group {} was not prepared on this node", index, pg.Hex()));
    }
  }
  for (int index : indexes) {
    Entry& e = g->second[index];
    if (e.committed) continue;
    e.committed = true;
    ResourceSet named = CommittedBundleResources(pg, index, e.resources);
    total->Add(named);
    available->Add(named);
  }
  return absl::OkStatus();
}

bool BundleLedger::Cancel(const PlacementGroupID& pg, const std::vector<int>& indexes,
                          ResourceSet* total, ResourceSet* available) {
  auto g = groups_.find(pg);
  if (g == groups_.end()) return false;
  bool any = false;
  ResourceSet touched;  // the names this cancel changes
  for (auto it = g->second.begin(); it != g->second.end();) {
    const auto& [index, e] = *it;
    if (!indexes.empty() && std::find(indexes.begin(), indexes.end(), index) == indexes.end()) {
      ++it;
      continue;
    }
    if (e.committed) {
      ResourceSet named = CommittedBundleResources(pg, index, e.resources);
      total->Subtract(named);
      available->Subtract(named);
      touched.Add(named);
    }
    available->Add(e.resources);
    touched.Add(e.resources);
    any = true;
    it = g->second.erase(it);
  }
  if (g->second.empty()) groups_.erase(g);
  if (!any) return false;
  total->DropNonPositive(touched);
  available->KeepOnlyNamesOf(*total, touched);
  return true;
}

size_t BundleLedger::NumBundles() const {
  size_t n = 0;
  for (const auto& [pg, group] : groups_) n += group.size();
  return n;
}

}  // namespace photon::raylet
