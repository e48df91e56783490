// The Global Control Service: node table and health checks, job table,
// internal key-value store, and pub/sub of node, job and log changes.
//
// Its tables live in a GcsStorage. With a durable one (Redis), Start first
// recovers them: the cluster keeps its id, nodes are health-checked again
// (a node that died meanwhile is marked dead), actors and placement groups
// carry on where they were, and jobs keep their ids. Without, every start
// is a new cluster with a new cluster_id, which tells clients that knew the
// old one that its state is gone (gcs_client.h).
//
// Threading: RPC handlers run on gRPC callback threads and take mu_ for the
// tables (the KV store and the publisher have their own locks). The GCS's
// timer runs the health checks, the expiry of parked polls and the actor
// manager's delayed work.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/gcs/actor_manager.h"
#include "photon/gcs/gcs_storage.h"
#include "photon/gcs/placement_group_manager.h"
#include "photon/gcs/pubsub.h"
#include "photon/gcs/task_event_store.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/raylet_client.h"
#include "photon/rpc/server.h"
#include "photon/stats/metrics.h"
#include "photon/stats/metrics_service.h"

namespace photon::gcs {

class GcsServer : public rpc::NodeInfoGcsService::CallbackService,
                  public rpc::JobInfoGcsService::CallbackService,
                  public rpc::InternalKvGcsService::CallbackService,
                  public rpc::PubsubGcsService::CallbackService {
 public:
  GcsServer(SystemConfig config, std::unique_ptr<GcsStorage> storage, std::string host, int port);
  ~GcsServer() override;

  // Recovers the tables (durable storage), then starts serving and the
  // periodic health checks. Fails if the port cannot be bound or the
  // storage cannot be read.
  absl::Status Start();
  int port() const { return server_.port(); }
  // Stops serving; safe to call twice.
  void Stop();
  // Where to keep a Prometheus file_sd target list of every live node's
  // /metrics endpoint (written at every node change). Before Start.
  void set_service_discovery_file(std::string path) { service_discovery_file_ = std::move(path); }

  // --- NodeInfoGcsService ---
  grpc::ServerUnaryReactor* RegisterNode(grpc::CallbackServerContext* ctx,
                                         const rpc::RegisterNodeRequest* req,
                                         rpc::RegisterNodeReply* reply) override;
  grpc::ServerUnaryReactor* UnregisterNode(grpc::CallbackServerContext* ctx,
                                           const rpc::UnregisterNodeRequest* req,
                                           rpc::UnregisterNodeReply* reply) override;
  grpc::ServerUnaryReactor* GetAllNodes(grpc::CallbackServerContext* ctx,
                                        const rpc::GetAllNodesRequest* req,
                                        rpc::GetAllNodesReply* reply) override;
  grpc::ServerUnaryReactor* ReportResources(grpc::CallbackServerContext* ctx,
                                            const rpc::ReportResourcesRequest* req,
                                            rpc::ReportResourcesReply* reply) override;
  // --- JobInfoGcsService ---
  grpc::ServerUnaryReactor* AddJob(grpc::CallbackServerContext* ctx, const rpc::AddJobRequest* req,
                                   rpc::AddJobReply* reply) override;
  grpc::ServerUnaryReactor* MarkJobFinished(grpc::CallbackServerContext* ctx,
                                            const rpc::MarkJobFinishedRequest* req,
                                            rpc::MarkJobFinishedReply* reply) override;
  grpc::ServerUnaryReactor* GetAllJobs(grpc::CallbackServerContext* ctx,
                                       const rpc::GetAllJobsRequest* req,
                                       rpc::GetAllJobsReply* reply) override;
  // --- InternalKvGcsService ---
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const rpc::KvPutRequest* req,
                                rpc::KvPutReply* reply) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const rpc::KvGetRequest* req,
                                rpc::KvGetReply* reply) override;
  grpc::ServerUnaryReactor* Del(grpc::CallbackServerContext* ctx, const rpc::KvDelRequest* req,
                                rpc::KvDelReply* reply) override;
  grpc::ServerUnaryReactor* Keys(grpc::CallbackServerContext* ctx, const rpc::KvKeysRequest* req,
                                 rpc::KvKeysReply* reply) override;
  // --- PubsubGcsService ---
  grpc::ServerUnaryReactor* Poll(grpc::CallbackServerContext* ctx, const rpc::PollRequest* req,
                                 rpc::PollReply* reply) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* ctx,
                                    const rpc::PublishRequest* req,
                                    rpc::PublishReply* reply) override;

 private:
  struct NodeEntry {
    rpc::NodeInfo info;
    int failed_checks = 0;
    bool check_in_flight = false;
    // info's resources without the bundles' names, for placement; rebuilt
    // when `base_stale` (a report or a change to names that are not a
    // bundle's), so that placing each of many groups does not filter
    // thousands of names.
    google::protobuf::Map<std::string, double> base_total, base_available;
    bool base_stale = true;
  };
  // Loads the cluster's identity, nodes and jobs from storage (or records a
  // new identity), then the actors and placement groups.
  absl::Status Recover();
  void RunHealthChecks();
  void MarkNodeDead(const std::string& node_id, const std::string& reason);
  void PublishNode(const rpc::NodeInfo& info);
  // What a copy of a node's entry keeps of its resources: all of them; all
  // but the names committed placement-group bundles add (placing bundles
  // never asks for them; a node with many bundles has thousands); none.
  enum class NodeResources { kAll, kWithoutBundles, kNone };
  std::vector<rpc::NodeInfo> AliveNodes(NodeResources resources = NodeResources::kAll);
  // Rewrites the file_sd target list (set_service_discovery_file).
  void WriteServiceDiscovery();
  // photon_tasks, photon_actors, photon_placement_groups, jobs, nodes.
  void CollectMetrics(std::vector<rpc::MetricFamily>* out);
  // Applies `change` to a node's (total, available) resources in the table,
  // ahead of the raylet's next report (placement-group bundles).
  // `only_bundle_names`: the change touches bundles' names alone.
  using ResourceMap = google::protobuf::Map<std::string, double>;
  void UpdateNodeResources(
      const std::string& node_id, bool only_bundle_names,
      const std::function<void(ResourceMap* total, ResourceMap* available)>& change);

  const SystemConfig config_;
  std::unique_ptr<GcsStorage> storage_;
  const std::shared_ptr<ThreadTimer> timer_;
  // Closed at Stop: replies that come later leave this object alone.
  const std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  rpc::GrpcServer server_;
  Publisher publisher_;
  std::unique_ptr<rpc::RayletClientPool> raylets_;
  std::unique_ptr<rpc::CoreWorkerClientPool> workers_;
  std::unique_ptr<ActorManager> actors_;
  std::unique_ptr<PlacementGroupManager> placement_groups_;
  TaskEventStore task_events_{config_.task_events_max_num_task_in_gcs()};
  TaskInfoService task_info_{&task_events_};
  stats::MetricsServiceImpl metrics_service_;
  stats::ScopedCollector metrics_collector_;
  std::string service_discovery_file_;
  absl::Mutex service_discovery_mu_;  // one writer of the file at a time
  // Set by Recover before serving; read-only after.
  std::string cluster_id_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, NodeEntry> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, rpc::JobInfo> jobs_ ABSL_GUARDED_BY(mu_);
  uint32_t cluster_version_ ABSL_GUARDED_BY(mu_) = 0;  // the high part of job ids
  uint32_t next_job_ ABSL_GUARDED_BY(mu_) = 1;

  std::atomic<bool> stopped_{false};
};

}  // namespace photon::gcs
