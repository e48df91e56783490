// The C++ API's placement groups, on the runtime (internal/runtime.h).
#include "photon/placement_group.h"

#include <cmath>
#include <stdexcept>

#include "photon/internal/runtime.h"
#include "photon/task_caller.h"

namespace photon {
namespace {

std::string ToHex(const std::string& binary) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : binary) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string FromHex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("a placement group id is hex: " + hex);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

PlacementGroup FromData(const internal::PlacementGroupData& d) {
  PlacementGroupCreationOptions o;
  o.name = d.name;
  o.bundles = d.bundles;
  o.strategy = static_cast<PlacementStrategy>(d.strategy);
  return PlacementGroup(d.id, std::move(o));
}

}  // namespace

std::string PlacementGroup::GetID() const { return ToHex(id_); }

PlacementGroupState PlacementGroup::GetState() const {
  auto d = internal::GetRuntime().GetPlacementGroup(id_, "");
  if (!d) throw Error("placement group " + GetID() + " does not exist");
  return static_cast<PlacementGroupState>(d->state);
}

bool PlacementGroup::Wait(int timeout_seconds) const {
  return internal::GetRuntime().WaitPlacementGroupReady(
      id_, timeout_seconds < 0 ? -1 : static_cast<int64_t>(timeout_seconds) * 1000);
}

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  if (options.bundles.empty()) {
    throw std::invalid_argument("CreatePlacementGroup: bundles must not be empty");
  }
  for (size_t i = 0; i < options.bundles.size(); ++i) {
    bool any = false;
    for (const auto& [name, amount] : options.bundles[i]) {
      internal::ValidateResource("CreatePlacementGroup", name, amount);
      any = any || amount > 0;
    }
    if (!any) {
      throw std::invalid_argument("CreatePlacementGroup: bundle " + std::to_string(i) +
                                  " reserves nothing (every bundle needs a resource > 0)");
    }
  }
  std::string id = internal::GetRuntime().CreatePlacementGroup(
      options.name, options.bundles, static_cast<int>(options.strategy),
      options.lifetime == ActorLifetime::DETACHED);
  return PlacementGroup(std::move(id), options);
}

void RemovePlacementGroup(const std::string& id) {
  internal::GetRuntime().RemovePlacementGroup(FromHex(id));
}

std::optional<PlacementGroup> GetPlacementGroup(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("GetPlacementGroup: the name is empty");
  auto d = internal::GetRuntime().GetPlacementGroup("", name);
  if (!d || d->state == static_cast<int>(PlacementGroupState::REMOVED)) return std::nullopt;
  return FromData(*d);
}

std::optional<PlacementGroup> GetPlacementGroupById(const std::string& id) {
  auto d = internal::GetRuntime().GetPlacementGroup(FromHex(id), "");
  if (!d) return std::nullopt;
  return FromData(*d);
}

std::vector<PlacementGroup> GetAllPlacementGroups() {
  std::vector<PlacementGroup> out;
  for (const auto& d : internal::GetRuntime().GetAllPlacementGroups()) out.push_back(FromData(d));
  return out;
}

namespace internal {

PlacementOptions ToPlacementOptions(const PlacementGroup& pg, int bundle_index) {
  if (pg.Empty()) throw std::invalid_argument("SetPlacementGroup: the placement group is empty");
  int n = static_cast<int>(pg.GetBundles().size());
  if (bundle_index < -1 || bundle_index >= n) {
    throw std::invalid_argument("SetPlacementGroup: bundle index " + std::to_string(bundle_index) +
                                " is out of range (-1 or 0.." + std::to_string(n - 1) + ")");
  }
  return PlacementOptions{pg.BinaryId(), bundle_index, pg.GetBundles()};
}

void CheckFitsPlacement(const PlacementOptions& p,
                        const std::unordered_map<std::string, double>& resources,
                        const std::string& what) {
  if (p.placement_group_id.empty() || p.bundles.empty()) return;
  auto fits = [&](const std::unordered_map<std::string, double>& bundle) {
    for (const auto& [name, amount] : resources) {
      if (amount <= 0) continue;
      auto it = bundle.find(name);
      if (it == bundle.end() || it->second < amount) return false;
    }
    return true;
  };
  if (p.bundle_index >= 0) {
    if (fits(p.bundles[p.bundle_index])) return;
  } else {
    for (const auto& b : p.bundles) {
      if (fits(b)) return;
    }
  }
  throw std::invalid_argument("Cannot schedule " + what +
                              " with the placement group because its resource request cannot "
                              "fit into any bundles for the placement group");
}

}  // namespace internal
}  // namespace photon
