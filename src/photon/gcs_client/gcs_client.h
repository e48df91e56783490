// The client every process uses to talk to the GCS: an interface, so that
// components that depend on the GCS are unit-tested against a fake
// (tests/fakes/fake_gcs_client.h), and its gRPC implementation (Connect).
//
// Blocking calls are for setup paths and lookups; they are retried after
// transient failures (the GCS busy or briefly unreachable) until
// gcs_rpc_retry_deadline_ms, each attempt with gcs_rpc_timeout_ms. Calls made
// while a process stops use shutdown_rpc_timeout_ms and are not retried.
// Async callbacks run on gRPC or timer threads and must not block.
// Subscriptions run on a thread of their own per Subscribe call and invoke
// the callback there; they resume where they were after a GCS restart
// (from the start of the new GCS's publications). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/protocol/gcs.grpc.pb.h"

namespace photon {

class GcsClient {
 public:
  // Connects to the GCS at `address` ("host:port"), retrying until it answers
  // or gcs_connect_timeout_ms passes; then fails with Unavailable naming the
  // address. Without `wait_until_reachable` (a worker, started by a raylet
  // with the right address) it does not wait: the GCS may be restarting, and
  // each call is retried until it is back.
  static absl::StatusOr<std::unique_ptr<GcsClient>> Connect(const std::string& address,
                                                            const SystemConfig& config,
                                                            bool wait_until_reachable = true);
  virtual ~GcsClient() = default;

  virtual const std::string& address() const = 0;

  // --- nodes ---
  virtual absl::Status RegisterNode(const rpc::NodeInfo& node) = 0;
  virtual absl::Status UnregisterNode(const NodeID& node, const std::string& reason) = 0;
  virtual absl::StatusOr<std::vector<rpc::NodeInfo>> GetAllNodes() = 0;
  virtual void GetAllNodesAsync(
      std::function<void(absl::StatusOr<std::vector<rpc::NodeInfo>>)> done) = 0;
  // One attempt, no retry: the next periodic report supersedes a lost one.
  virtual void ReportResourcesAsync(const rpc::ReportResourcesRequest& request) = 0;

  // --- jobs ---
  virtual absl::StatusOr<JobID> AddJob(const rpc::JobInfo& job) = 0;
  virtual absl::Status MarkJobFinished(const JobID& job) = 0;
  virtual absl::StatusOr<std::vector<rpc::JobInfo>> GetAllJobs() = 0;

  // --- internal key-value store, partitioned by namespace `ns` ---
  virtual absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key,
                                     const std::string& value, bool overwrite) = 0;
  virtual absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns,
                                                           const std::string& key) = 0;
  virtual absl::StatusOr<int64_t> KvDel(const std::string& ns, const std::string& key,
                                        bool by_prefix) = 0;
  virtual absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns,
                                                          const std::string& prefix) = 0;

  // --- actors ---
  // AlreadyExists (naming the actor) if its name is taken in its namespace.
  virtual absl::Status RegisterActor(const rpc::ActorTableData& actor) = 0;
  virtual void CreateActorAsync(const rpc::CreateActorRequest& request,
                                std::function<void(const absl::Status&)> done) = 0;
  virtual absl::StatusOr<std::optional<rpc::ActorTableData>> GetActorInfo(const ActorID& id) = 0;
  virtual void GetActorInfoAsync(
      const ActorID& id,
      std::function<void(absl::StatusOr<std::optional<rpc::ActorTableData>>)> done) = 0;
  virtual absl::StatusOr<std::optional<rpc::ActorTableData>> GetNamedActor(
      const std::string& name, const std::string& ns) = 0;
  // Returns the actor's entry after the kill (DEAD, or RESTARTING without
  // no_restart).
  virtual absl::StatusOr<rpc::ActorTableData> KillActor(const ActorID& id, bool no_restart,
                                                        const std::string& reason) = 0;
  virtual void KillActorAsync(const ActorID& id, bool no_restart, const std::string& reason,
                              std::function<void(const absl::Status&)> done) = 0;
  virtual absl::StatusOr<std::vector<rpc::ActorTableData>> ListActors() = 0;

  // --- placement groups ---
  // Fails with InvalidArgument (a bad spec) or AlreadyExists (a name in use).
  virtual absl::Status CreatePlacementGroup(const rpc::PlacementGroupSpec& spec) = 0;
  // NotFound if there is no such group.
  virtual absl::Status RemovePlacementGroup(const PlacementGroupID& id) = 0;
  virtual absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetPlacementGroup(
      const PlacementGroupID& id) = 0;
  virtual absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetNamedPlacementGroup(
      const std::string& name, const std::string& ray_namespace) = 0;
  virtual absl::StatusOr<std::vector<rpc::PlacementGroupTableData>> GetAllPlacementGroups() = 0;
  // True once the group is created, false if `timeout_ms` (< 0: no limit)
  // passes first; NotFound if it is (or gets) removed.
  virtual absl::StatusOr<bool> WaitPlacementGroupReady(const PlacementGroupID& id,
                                                       int64_t timeout_ms) = 0;
  // Retried until it lands (or the client is destroyed): actor restarts and
  // borrow cleanup depend on it.
  virtual void ReportWorkerFailureAsync(const std::string& worker_id, const std::string& node_id,
                                        const std::string& reason) = 0;

  // Publication of worker output on the log channel (one attempt).
  virtual void PublishLogAsync(const rpc::LogBatch& batch) = 0;

  // --- task events (the state API's task table) ---
  // One attempt; `done` (optional) says whether the batch landed.
  virtual void AddTaskEventDataAsync(const rpc::AddTaskEventDataRequest& request,
                                     std::function<void(const absl::Status&)> done) = 0;
  virtual absl::StatusOr<rpc::GetTaskEventsReply> GetTaskEvents(
      const rpc::GetTaskEventsRequest& request) = 0;

  // Calls `handler` once (on a poller or reply thread) if the GCS turns out
  // to have restarted without the cluster's state (a new cluster_id: its
  // tables were in memory). From then on every call fails with
  // FailedPrecondition saying so. A GCS restarted with Redis keeps the id:
  // calls made while it was down were retried and carry on.
  virtual void OnClusterLost(std::function<void(const std::string& why)> handler) = 0;

  // Calls `callback` for every message published on `channels` (and, if
  // `key_filter` is set, with that key) from now until the client is
  // destroyed. The callback runs on a dedicated thread, one message at a time.
  virtual void Subscribe(std::vector<rpc::Channel> channels, std::string key_filter,
                         std::function<void(const rpc::PubMessage&)> callback) = 0;
};

}  // namespace photon
