// The GCS's placement group manager: the table of groups, and their
// scheduling. One group is placed at a time, in creation order: the bundle
// policies (raylet/scheduling/policy/bundle_policy.h) choose nodes from the
// live nodes' available resources, then every chosen raylet prepares its
// bundles (reserves them) and, once all have, commits them (they become
// usable under their names, CPU_group_<i>_<pgid>). A failed prepare or commit
// undoes every reservation and the group waits for the next try
// (placement_group_retry_delay_ms); a group that fits nowhere now stays
// PENDING and is tried again when a node joins or on that delay.
//
// When a node dies, the bundles it held are placed again the same way (only
// those: the others stay where they are), ahead of groups never placed.
//
// Removing a group releases its bundles on every node (which stops the
// workers leasing from them) and kills its actors. A group dies with its job
// unless it is detached.
//
// With durable storage every change of a group's entry is written through,
// and Recover picks the table up after a GCS restart: created groups stay
// where they are; the bundles of a group not fully placed are released on
// every node (a restart may have cut an attempt short after its prepare or
// commit) and placed again.
//
// Threading: RPC handlers, raylet replies and timer callbacks run on other
// threads; one mutex guards the table; no RPC is started while it is held.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/callback_guard.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/gcs/gcs_storage.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/raylet/scheduling/resource_set.h"
#include "photon/rpc/raylet_client.h"

namespace photon::gcs {

class PlacementGroupManager : public rpc::PlacementGroupInfoGcsService::CallbackService {
 public:
  struct Deps {
    const SystemConfig* config;
    rpc::RayletClientPool* raylets;
    Timer* timer;
    // The live nodes: with `resources`, for placement (their resources need
    // not list committed bundles' names); without, to reach every raylet.
    std::function<std::vector<rpc::NodeInfo>(bool resources)> alive_nodes;
    // A group was removed: its actors must die.
    std::function<void(const std::string& placement_group_id)> on_removed;
    // Bundles were committed on `node_id`: the node table gains `named`
    // before the raylet's next report says so.
    std::function<void(const std::string& node_id, const raylet::ResourceSet& named)> on_committed;
    // A created group was removed: the node table loses `named` and gets
    // `raw` back before the raylet's next report says so.
    std::function<void(const std::string& node_id, const raylet::ResourceSet& named,
                       const raylet::ResourceSet& raw)>
        on_released;
    // Where entries are written through; null or not durable: nowhere.
    GcsStorage* storage = nullptr;
  };
  explicit PlacementGroupManager(Deps deps);
  ~PlacementGroupManager() override;
  // Later replies and timer callbacks leave the manager alone; parked waits
  // are answered. For shutdown.
  void Stop();
  // Loads the table from durable storage and carries on placing the groups
  // that were not (fully) placed. Call once the node table is loaded.
  absl::Status Recover();

  // How many groups are in each state (photon_placement_groups).
  std::map<rpc::PlacementGroupTableData::State, int64_t> CountByState();

  grpc::ServerUnaryReactor* CreatePlacementGroup(grpc::CallbackServerContext* ctx,
                                                 const rpc::CreatePlacementGroupRequest* req,
                                                 rpc::CreatePlacementGroupReply* reply) override;
  grpc::ServerUnaryReactor* RemovePlacementGroup(grpc::CallbackServerContext* ctx,
                                                 const rpc::RemovePlacementGroupRequest* req,
                                                 rpc::RemovePlacementGroupReply* reply) override;
  grpc::ServerUnaryReactor* GetPlacementGroup(grpc::CallbackServerContext* ctx,
                                              const rpc::GetPlacementGroupRequest* req,
                                              rpc::GetPlacementGroupReply* reply) override;
  grpc::ServerUnaryReactor* GetAllPlacementGroups(grpc::CallbackServerContext* ctx,
                                                  const rpc::GetAllPlacementGroupsRequest* req,
                                                  rpc::GetAllPlacementGroupsReply* reply) override;
  grpc::ServerUnaryReactor* WaitPlacementGroupReady(
      grpc::CallbackServerContext* ctx, const rpc::WaitPlacementGroupReadyRequest* req,
      rpc::WaitPlacementGroupReadyReply* reply) override;

  // Events from the rest of the GCS.
  void OnJobFinished(const std::string& job_id);
  void OnNodeAdded();
  // The bundles a dead node held are placed again (on other nodes, keeping
  // the group's strategy with its surviving bundles); the group is
  // RESCHEDULING until they are, then CREATED again.
  void OnNodeDead(const std::string& node_id);

  // Checks a spec as CreatePlacementGroup does; the error names the problem.
  static absl::Status Validate(const rpc::PlacementGroupSpec& spec);

 private:
  struct Waiter {
    uint64_t id;
    grpc::ServerUnaryReactor* reactor;
    rpc::WaitPlacementGroupReadyReply* reply;
  };
  struct Group {
    rpc::PlacementGroupTableData data;
    std::vector<Waiter> waiters;
  };
  // One placement attempt: the bundles per raylet, and how it is going.
  struct Attempt;
  using Action = std::function<void()>;

  // Starts placing the first pending group that fits, if none is in flight.
  void ScheduleNext();
  void RetryLater() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnPrepared(std::shared_ptr<Attempt> attempt);
  void OnCommitted(std::shared_ptr<Attempt> attempt);
  // Ends an attempt that did not complete: undoes its reservations.
  void Abandon(std::shared_ptr<Attempt> attempt, bool removed, const std::string& why);
  void Remove(const PlacementGroupID& id, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells every live raylet to release the group's bundles.
  void CancelEverywhere(const PlacementGroupID& id, bool removed);
  void AnswerWaiters(Group& g, bool ready, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the group's entry through to storage.
  void Persist(const Group& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Deps d_;
  const std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  absl::Mutex mu_;
  absl::flat_hash_map<PlacementGroupID, Group> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, PlacementGroupID> names_ ABSL_GUARDED_BY(mu_);  // ns\0name
  std::deque<PlacementGroupID> pending_ ABSL_GUARDED_BY(mu_);                      // creation order
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool retry_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_waiter_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace photon::gcs
