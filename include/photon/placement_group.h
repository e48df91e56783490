// Placement groups: bundles of resources reserved together across the
// cluster's nodes, for tasks and actors to run in (Ray's C++ API shape).
//
//   photon::PlacementGroupCreationOptions options{
//       "workers", {{{"CPU", 1}}, {{"CPU", 1}}}, photon::PlacementStrategy::STRICT_SPREAD};
//   photon::PlacementGroup pg = photon::CreatePlacementGroup(options);
//   pg.Wait(30);
//   photon::Task(F).SetPlacementGroup(pg, 0).Remote();
//   photon::RemovePlacementGroup(pg.GetID());
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "photon/actor.h"

namespace photon {

enum class PlacementStrategy {
  PACK = 0,           // as few nodes as possible
  SPREAD = 1,         // as many nodes as possible
  STRICT_PACK = 2,    // one node
  STRICT_SPREAD = 3,  // a node per bundle
};

enum class PlacementGroupState {
  PENDING = 0,  // not placed yet; placed when it fits
  CREATED = 1,
  REMOVED = 2,
  RESCHEDULING = 3,
};

struct PlacementGroupCreationOptions {
  std::string name;  // empty: anonymous; else unique in the job's namespace
  std::vector<std::unordered_map<std::string, double>> bundles;
  PlacementStrategy strategy = PlacementStrategy::PACK;
  ActorLifetime lifetime = ActorLifetime::NON_DETACHED;  // DETACHED: outlives its job
};

// A handle to a placement group (a value: copies refer to the same group).
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, PlacementGroupCreationOptions options)
      : id_(std::move(id)), options_(std::move(options)) {}

  // The group's id, in hex.
  std::string GetID() const;
  const std::string& GetName() const { return options_.name; }
  const std::vector<std::unordered_map<std::string, double>>& GetBundles() const {
    return options_.bundles;
  }
  PlacementStrategy GetStrategy() const { return options_.strategy; }
  // Asks the cluster. Throws photon::Error if the group is unknown.
  PlacementGroupState GetState() const;
  // Blocks until every bundle is reserved (true) or `timeout_seconds` pass (false).
  // Throws photon::Error if the group was removed.
  bool Wait(int timeout_seconds) const;
  bool Empty() const { return id_.empty(); }

  // The binary id (for the runtime).
  const std::string& BinaryId() const { return id_; }

 private:
  std::string id_;
  PlacementGroupCreationOptions options_;
};

// Creates the group and returns at once; it is placed in the background. Throws
// std::invalid_argument for bad options (no bundles, a bundle of zeros, a negative amount)
// and photon::Error if the cluster refuses (a name in use).
PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options);
// Frees its bundles, kills its actors. `id` is GetID()'s hex.
void RemovePlacementGroup(const std::string& id);
// The live group named `name` in the job's namespace, if any.
std::optional<PlacementGroup> GetPlacementGroup(const std::string& name);
std::optional<PlacementGroup> GetPlacementGroupById(const std::string& id);
std::vector<PlacementGroup> GetAllPlacementGroups();

}  // namespace photon
