// Named resource quantities (CPU, GPU, memory, custom names) in fixed point,
// so that adding and subtracting fractional amounts never drifts. Precision
// is 1e-4, as in Ray.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"

namespace photon::raylet {

class ResourceSet {
 public:
  static constexpr int64_t kUnit = 10000;

  ResourceSet() = default;
  // Fails with InvalidArgument naming the resource if a quantity is negative,
  // not finite, or finer than 1e-4.
  static absl::StatusOr<ResourceSet> FromMap(const std::map<std::string, double>& amounts);
  static absl::StatusOr<ResourceSet> FromProto(const google::protobuf::Map<std::string, double>& m);

  // True if every quantity in `request` is available here.
  bool Contains(const ResourceSet& request) const;
  void Add(const ResourceSet& other);
  // May go negative (a blocked worker's CPU returned, then taken back).
  void Subtract(const ResourceSet& other);
  double Get(const std::string& name) const;
  // Drops each resource named in `among` (what a change touched) that
  // `names` does not have a positive quantity of: O(|among| log n).
  void KeepOnlyNamesOf(const ResourceSet& names, const ResourceSet& among);
  // Drops each resource named in `among` whose quantity is zero or less.
  void DropNonPositive(const ResourceSet& among);
  bool empty() const { return units_.empty(); }

  std::map<std::string, double> ToMap() const;
  void ToProto(google::protobuf::Map<std::string, double>* out) const;
  // Adds (or, with `subtract`, takes away) this set's quantities to the
  // entries of `m` they name, in fixed point, touching no other entry; an
  // entry left at zero or less is erased. O(size of this set), not of `m`.
  void ApplyToProto(google::protobuf::Map<std::string, double>* m, bool subtract) const;
  std::string ToString() const;
  // Utilization in [0,1] of the most used resource of `request` (0 if none).
  double Utilization(const ResourceSet& total, const ResourceSet& request) const;

 private:
  std::map<std::string, int64_t> units_;
};

}  // namespace photon::raylet
