// The client library every process uses to talk to the GCS.
//
// Blocking calls are for setup paths (registration, lookups); subscriptions
// run on a thread of their own per Subscribe call and invoke the callback
// there. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/id.h"
#include "photon/protocol/gcs.grpc.pb.h"

namespace photon {

class GcsClient {
 public:
  // Connects to the GCS at `address` ("host:port"), retrying until it answers
  // or `timeout_ms` passes; then fails with Unavailable naming the address.
  static absl::StatusOr<std::unique_ptr<GcsClient>> Connect(const std::string& address,
                                                            int64_t timeout_ms);
  ~GcsClient();

  const std::string& address() const { return address_; }

  absl::Status RegisterNode(const rpc::NodeInfo& node);
  absl::Status UnregisterNode(const NodeID& node, const std::string& reason);
  absl::StatusOr<std::vector<rpc::NodeInfo>> GetAllNodes();
  // Fire-and-forget report of a node's available resources.
  void ReportResourcesAsync(const rpc::ReportResourcesRequest& request);

  absl::StatusOr<JobID> AddJob(const rpc::JobInfo& job);
  absl::Status MarkJobFinished(const JobID& job);
  absl::StatusOr<std::vector<rpc::JobInfo>> GetAllJobs();

  // Internal key-value store, partitioned by namespace `ns`.
  absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key,
                             const std::string& value, bool overwrite);
  absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns, const std::string& key);
  absl::StatusOr<int64_t> KvDel(const std::string& ns, const std::string& key, bool by_prefix);
  absl::StatusOr<std::vector<std::string>> KvKeys(const std::string& ns, const std::string& prefix);

  // --- actors ---
  // AlreadyExists (naming the actor) if its name is taken in its namespace.
  absl::Status RegisterActor(const rpc::ActorTableData& actor);
  void CreateActorAsync(const rpc::CreateActorRequest& request,
                        std::function<void(const absl::Status&)> done);
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetActorInfo(const ActorID& id);
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetNamedActor(const std::string& name,
                                                                   const std::string& ns);
  // Returns the actor's entry after the kill (DEAD, or RESTARTING without no_restart).
  absl::StatusOr<rpc::ActorTableData> KillActor(const ActorID& id, bool no_restart,
                                                const std::string& reason);
  absl::StatusOr<std::vector<rpc::ActorTableData>> ListActors();
  void ReportWorkerFailureAsync(const std::string& worker_id, const std::string& node_id,
                                const std::string& reason);

  // Fire-and-forget publication of worker output on the log channel.
  void PublishLogAsync(const rpc::LogBatch& batch);

  // Calls `callback` for every message published on `channels` (and, if
  // `key_filter` is set, with that key) from now until the client is
  // destroyed. The callback runs on a dedicated thread, one message at a time.
  void Subscribe(std::vector<rpc::Channel> channels, std::string key_filter,
                 std::function<void(const rpc::PubMessage&)> callback);

 private:
  explicit GcsClient(std::string address);
  void PollLoop(std::vector<rpc::Channel> channels, std::string key_filter,
                std::function<void(const rpc::PubMessage&)> callback);

  std::string address_;
  std::unique_ptr<rpc::NodeInfoGcsService::Stub> nodes_;
  std::unique_ptr<rpc::JobInfoGcsService::Stub> jobs_;
  std::unique_ptr<rpc::InternalKvGcsService::Stub> kv_;
  std::unique_ptr<rpc::PubsubGcsService::Stub> pubsub_;
  std::unique_ptr<rpc::ActorInfoGcsService::Stub> actors_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> pollers_;
  std::vector<std::shared_ptr<grpc::ClientContext>> poll_contexts_;
  std::mutex poll_mu_;
};

}  // namespace photon
