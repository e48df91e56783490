#include "photon/raylet/scheduling/resource_set.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace photon::raylet {

namespace {

// One quantity in fixed point, or why it cannot be one.
absl::StatusOr<int64_t> ToUnits(std::string_view name, double qty) {
  if (name.empty()) return absl::InvalidArgumentError("a resource name is empty");
  if (!std::isfinite(qty) || qty < 0) {
    return absl::InvalidArgumentError(
        fmt::format("resource '{}' must be a finite quantity >= 0, got {}", name, qty));
  }
  double scaled = qty * ResourceSet::kUnit;
  int64_t units = static_cast<int64_t>(std::llround(scaled));
  if (std::fabs(scaled - static_cast<double>(units)) > 1e-6 * std::max(1.0, scaled)) {
    return absl::InvalidArgumentError(
        fmt::format("resource '{}' = {} is finer than the precision of 0.0001", name, qty));
  }
  return units;
}

}  // namespace

absl::StatusOr<ResourceSet> ResourceSet::FromMap(const std::map<std::string, double>& amounts) {
  ResourceSet r;
  for (const auto& [name, qty] : amounts) {
    auto units = ToUnits(name, qty);
    if (!units.ok()) return units.status();
    if (*units > 0) r.units_.emplace_hint(r.units_.end(), name, *units);
  }
  return r;
}

absl::StatusOr<ResourceSet> ResourceSet::FromProto(
    const google::protobuf::Map<std::string, double>& m) {
  // Sorted first, so the set is built by appending rather than by lookups
  // (a node with many placement-group bundles has thousands of names).
  std::vector<std::pair<std::string_view, double>> sorted(m.begin(), m.end());
  std::sort(sorted.begin(), sorted.end());
  ResourceSet r;
  for (const auto& [name, qty] : sorted) {
    auto units = ToUnits(name, qty);
    if (!units.ok()) return units.status();
    if (*units > 0) r.units_.emplace_hint(r.units_.end(), std::string(name), *units);
  }
  return r;
}

bool ResourceSet::Contains(const ResourceSet& request) const {
  for (const auto& [name, units] : request.units_) {
    auto it = units_.find(name);
    if (it == units_.end() || it->second < units) return false;
  }
  return true;
}

void ResourceSet::Add(const ResourceSet& other) {
  for (const auto& [name, units] : other.units_) units_[name] += units;
}

void ResourceSet::Subtract(const ResourceSet& other) {
  for (const auto& [name, units] : other.units_) units_[name] -= units;
}

double ResourceSet::Get(const std::string& name) const {
  auto it = units_.find(name);
  return it == units_.end() ? 0.0 : static_cast<double>(it->second) / kUnit;
}

void ResourceSet::KeepOnlyNamesOf(const ResourceSet& names, const ResourceSet& among) {
  for (const auto& [name, unused] : among.units_) {
    auto it = units_.find(name);
    if (it == units_.end()) continue;
    auto n = names.units_.find(name);
    if (n == names.units_.end() || n->second <= 0) units_.erase(it);
  }
}

void ResourceSet::DropNonPositive(const ResourceSet& among) {
  for (const auto& [name, unused] : among.units_) {
    auto it = units_.find(name);
    if (it != units_.end() && it->second <= 0) units_.erase(it);
  }
}

std::map<std::string, double> ResourceSet::ToMap() const {
  std::map<std::string, double> out;
  for (const auto& [name, units] : units_) out[name] = static_cast<double>(units) / kUnit;
  return out;
}

void ResourceSet::ToProto(google::protobuf::Map<std::string, double>* out) const {
  out->clear();
  for (const auto& [name, units] : units_) (*out)[name] = static_cast<double>(units) / kUnit;
}

void ResourceSet::ApplyToProto(google::protobuf::Map<std::string, double>* m, bool subtract) const {
  for (const auto& [name, units] : units_) {
    auto it = m->find(name);
    int64_t now = it == m->end() ? 0 : static_cast<int64_t>(std::llround(it->second * kUnit));
    now += subtract ? -units : units;
    if (now > 0) {
      (*m)[name] = static_cast<double>(now) / kUnit;
    } else if (it != m->end()) {
      m->erase(it);
    }
  }
}

std::string ResourceSet::ToString() const {
  std::string s = "{";
  for (const auto& [name, units] : units_) {
    if (s.size() > 1) s += ", ";
    s += fmt::format("{}: {}", name, static_cast<double>(units) / kUnit);
  }
  return s + "}";
}

double ResourceSet::Utilization(const ResourceSet& total, const ResourceSet& request) const {
  double worst = 0;
  for (const auto& [name, units] : request.units_) {
    double t = total.Get(name);
    if (t <= 0) continue;
    worst = std::max(worst, 1.0 - Get(name) / t);
  }
  return worst;
}

}  // namespace photon::raylet
