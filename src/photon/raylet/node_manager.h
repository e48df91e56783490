// The raylet's node manager: registers the node with the GCS, keeps a view of
// the cluster's resources, grants worker leases (or sends them to a node that
// fits better, by the policies in scheduling/), tracks the node's workers and
// drivers, frees and pulls objects for the node's store.
//
// Leases are idempotent by lease id: a request repeated after a lost reply
// gets the same grant. A worker or driver registration repeated after a lost
// reply gets the same answer. Workers start at most
// worker_maximum_startup_concurrency at a time (a node asked for hundreds of
// actors at once starts them in turn rather than all at once), and one that
// does not register within worker_register_timeout_ms is stopped. Every
// worker exit is reported to the GCS (retried until it lands): actor restarts
// and borrow cleanup depend on it; GetWorkerState answers from the same
// records.
//
// Threading: RPC handlers run on gRPC callback threads; all lease and worker
// state is guarded by mu_. Periodic work (resource reports, the cluster view,
// moving queued leases, reaping idle workers, watching drivers and log files)
// runs on the raylet's timer. WorkerPool callbacks arrive on the pool's thread
// and take mu_.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "photon/common/callback_guard.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/protocol/object_manager.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/raylet/log_monitor.h"
#include "photon/raylet/metrics_exporter.h"
#include "photon/raylet/object_manager.h"
#include "photon/raylet/scheduling/bundle_resources.h"
#include "photon/raylet/scheduling/cluster_view.h"
#include "photon/raylet/scheduling/resource_set.h"
#include "photon/raylet/scheduling/scheduler.h"
#include "photon/raylet/worker_pool.h"
#include "photon/rpc/server.h"

namespace photon::raylet {

struct NodeManagerOptions {
  std::string host = "127.0.0.1";  // interface to listen on and to advertise
  int port = 0;
  std::string gcs_address;
  std::map<std::string, double> resources;  // must include CPU
  std::string session_dir;
  int64_t object_store_memory = 0;
  std::map<std::string, std::string> labels;
  // The /metrics endpoint's port (0: any free one), when
  // enable_metrics_collection is on.
  int metrics_export_port = 0;
  // Called once (on a GCS reply thread) when the GCS's node table says this
  // node is dead: it was partitioned away long enough to be declared so, and
  // its work was failed over; it must not come back (photon-raylet exits).
  std::function<void(const std::string& reason)> on_declared_dead;
  // Called once when the GCS restarted without the cluster's state
  // (GcsClient::OnClusterLost): photon-raylet exits.
  std::function<void(const std::string& why)> on_cluster_lost;
};

class NodeManager : public rpc::NodeManagerService::CallbackService {
 public:
  NodeManager(SystemConfig config, NodeManagerOptions options);
  ~NodeManager() override;

  // Opens the store, starts serving, registers with the GCS. Fails with a
  // message naming what went wrong (bad resources, port, unreachable GCS).
  absl::Status Start();
  // Unregisters, kills every worker, removes the store. Safe to call twice.
  void Stop();
  int port() const { return server_.port(); }
  // The /metrics endpoint's port (0 if metrics are off).
  int metrics_export_port() const { return metrics_ ? metrics_->port() : 0; }
  // Whether the GCS declared this node dead (see on_declared_dead).
  bool declared_dead() const { return declared_dead_.load(); }
  const NodeID& node_id() const { return node_id_; }

  // --- NodeManagerService (callback API) ---
  grpc::ServerUnaryReactor* RequestWorkerLease(grpc::CallbackServerContext* ctx,
                                               const rpc::RequestWorkerLeaseRequest* req,
                                               rpc::RequestWorkerLeaseReply* reply) override;
  grpc::ServerUnaryReactor* ReturnWorker(grpc::CallbackServerContext* ctx,
                                         const rpc::ReturnWorkerRequest* req,
                                         rpc::ReturnWorkerReply* reply) override;
  grpc::ServerUnaryReactor* RegisterWorker(grpc::CallbackServerContext* ctx,
                                           const rpc::RegisterWorkerRequest* req,
                                           rpc::RegisterWorkerReply* reply) override;
  grpc::ServerUnaryReactor* NotifyBlocked(grpc::CallbackServerContext* ctx,
                                          const rpc::NotifyBlockedRequest* req,
                                          rpc::NotifyBlockedReply* reply) override;
  grpc::ServerUnaryReactor* GetNodeStats(grpc::CallbackServerContext* ctx,
                                         const rpc::GetNodeStatsRequest* req,
                                         rpc::GetNodeStatsReply* reply) override;
  grpc::ServerUnaryReactor* HealthCheck(grpc::CallbackServerContext* ctx,
                                        const rpc::HealthCheckRequest* req,
                                        rpc::HealthCheckReply* reply) override;
  grpc::ServerUnaryReactor* JobFinished(grpc::CallbackServerContext* ctx,
                                        const rpc::JobFinishedRequest* req,
                                        rpc::JobFinishedReply* reply) override;
  grpc::ServerUnaryReactor* FreeObjects(grpc::CallbackServerContext* ctx,
                                        const rpc::FreeObjectsRequest* req,
                                        rpc::FreeObjectsReply* reply) override;
  grpc::ServerUnaryReactor* PullObject(grpc::CallbackServerContext* ctx,
                                       const rpc::PullObjectRequest* req,
                                       rpc::PullObjectReply* reply) override;
  grpc::ServerUnaryReactor* CancelLease(grpc::CallbackServerContext* ctx,
                                        const rpc::CancelLeaseRequest* req,
                                        rpc::CancelLeaseReply* reply) override;
  grpc::ServerUnaryReactor* GetWorkerState(grpc::CallbackServerContext* ctx,
                                           const rpc::GetWorkerStateRequest* req,
                                           rpc::GetWorkerStateReply* reply) override;
  grpc::ServerUnaryReactor* PrepareBundleResources(
      grpc::CallbackServerContext* ctx, const rpc::PrepareBundleResourcesRequest* req,
      rpc::PrepareBundleResourcesReply* reply) override;
  grpc::ServerUnaryReactor* CommitBundleResources(grpc::CallbackServerContext* ctx,
                                                  const rpc::CommitBundleResourcesRequest* req,
                                                  rpc::CommitBundleResourcesReply* reply) override;
  grpc::ServerUnaryReactor* CancelResourceReserve(grpc::CallbackServerContext* ctx,
                                                  const rpc::CancelResourceReserveRequest* req,
                                                  rpc::CancelResourceReserveReply* reply) override;
  // The node's log folder: its files (ListLogs) and a byte range of one, found
  // by name, by a worker's pid or by its id (GetLog).
  grpc::ServerUnaryReactor* ListLogs(grpc::CallbackServerContext* ctx,
                                     const rpc::ListLogsRequest* req,
                                     rpc::ListLogsReply* reply) override;
  grpc::ServerUnaryReactor* GetLog(grpc::CallbackServerContext* ctx, const rpc::GetLogRequest* req,
                                   rpc::GetLogReply* reply) override;

 private:
  enum class WorkerState { kStarting, kIdle, kLeased, kDead };
  struct Worker {
    WorkerID id;
    pid_t pid = 0;
    WorkerState state = WorkerState::kStarting;
    std::string pool_key;  // job + command: a worker serves only its own job's tasks
    JobID job;
    rpc::Address address;
    std::string lease_id;
    ResourceSet held;                          // resources of its current lease
    std::vector<std::pair<int, double>> gpus;  // GPU instances (and shares) of the lease
    bool blocked = false;
    uint64_t blocked_seq = 0;     // the last NotifyBlocked applied
    bool detached_actor = false;  // survives its job's end
    absl::Time started;
    absl::Time idle_since;
    // Of the current lease, for out-of-memory prevention.
    absl::Time leased_at;
    bool retriable = false;
    std::string owner;
    std::string task;
  };
  struct Driver {
    JobID job;
    pid_t pid = 0;
    WorkerID worker_id;
    rpc::Address address;
    absl::Time started;
  };
  struct PendingLease {
    grpc::ServerUnaryReactor* reactor;
    const rpc::RequestWorkerLeaseRequest* request;
    rpc::RequestWorkerLeaseReply* reply;
    ResourceSet resources;
    std::string pool_key;
    bool resources_acquired = false;
  };

  // Tries to serve queued leases: acquire resources, hand out idle workers,
  // start workers where needed. Replies are sent after mu_ is released.
  void DispatchLocked(std::vector<PendingLease>* granted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartWorkersLocked(const absl::flat_hash_map<std::string, int>& waiting)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Grant(PendingLease& lease, Worker& worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartWorkerLocked(const PendingLease& lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseWorkerLocked(Worker& worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // GPU instances for a lease asking for `amount` GPUs: whole GPUs for
  // amounts >= 1, else a share of the fullest GPU that has room.
  std::vector<std::pair<int, double>> AssignGpusLocked(double amount)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies the scheduling policies to a request: true if `reply` is set
  // (spilled, infeasible or refused), false to queue it here.
  bool DecideLocked(const rpc::RequestWorkerLeaseRequest& req, const ResourceSet& resources,
                    rpc::RequestWorkerLeaseReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The view's entry for this node (made if missing). Its resource sets are
  // empty except while a decision borrows total_ and available_ (swapped in
  // and back, O(1): a copy per lease cost O(names), thousands on a node with
  // many placement-group bundles).
  NodeView* LocalViewLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails the queued leases of `pool_key` with `why` (their workers cannot start).
  void FailLeasesLocked(const std::string& pool_key, const std::string& why,
                        std::vector<PendingLease>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishDispatch(std::vector<PendingLease>& granted);
  // Remembers how a worker ended, for GetWorkerState.
  void RememberDeadLocked(const WorkerID& id, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void OnWorkerStarted(const WorkerID& id, pid_t pid);
  void OnWorkerStartFailed(const WorkerID& id, const std::string& message);
  void OnProcessExit(pid_t pid, int status);
  void KillJobWorkers(const JobID& job);
  void Tick();
  void RefreshClusterView();
  void ReportResources();
  void ReapIdleWorkers();
  void StopUnregisteredWorkers();
  void SpillbackQueuedLeases();
  void CheckDrivers();
  // The node's metrics: resources, store, spilling, scheduler queue, workers.
  void CollectMetrics(std::vector<rpc::MetricFamily>* out);
  // The processes whose metrics /metrics gathers: workers, drivers, the GCS (head).
  std::vector<MetricsExporter::Target> MetricsTargets();
  std::vector<rpc::Address> PeerAddresses();
  absl::StatusOr<uint64_t> StoreCapacity() const;
  int MaxStartingWorkers() const;

  const SystemConfig config_;
  const NodeManagerOptions options_;
  const NodeID node_id_;
  const SchedulingOptions scheduling_options_;
  const std::shared_ptr<ThreadTimer> timer_;
  // Closed at Stop: answers that come later leave this object alone.
  const std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  rpc::GrpcServer server_;
  std::unique_ptr<GcsClient> gcs_;
  ObjectManager objects_;
  std::string store_socket_;  // set in Start
  WorkerPool pool_;
  LogMonitor log_monitor_;
  NodeSystemMetrics system_metrics_;
  stats::ScopedCollector metrics_collector_;
  std::unique_ptr<MetricsExporter> metrics_;

  absl::Mutex mu_;
  ResourceSet total_ ABSL_GUARDED_BY(mu_);
  std::vector<double> gpu_free_ ABSL_GUARDED_BY(mu_);  // per GPU instance: the unheld share
  ResourceSet available_ ABSL_GUARDED_BY(mu_);
  BundleLedger bundles_ ABSL_GUARDED_BY(mu_);  // placement-group bundles reserved here
  absl::flat_hash_map<WorkerID, Worker> workers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<pid_t, WorkerID> worker_by_pid_ ABSL_GUARDED_BY(mu_);
  // Every worker pid seen lately, live or not, for logs by pid (bounded).
  absl::flat_hash_map<pid_t, WorkerID> pid_history_ ABSL_GUARDED_BY(mu_);
  std::deque<pid_t> pid_history_order_ ABSL_GUARDED_BY(mu_);
  // Lease id -> the worker granted under it (while it holds the lease).
  absl::flat_hash_map<std::string, WorkerID> granted_ ABSL_GUARDED_BY(mu_);
  std::list<PendingLease> pending_ ABSL_GUARDED_BY(mu_);
  ClusterView cluster_ ABSL_GUARDED_BY(mu_);
  SchedulingState scheduling_state_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerID, Driver> drivers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<JobID> finished_jobs_ ABSL_GUARDED_BY(mu_);
  // Workers (and drivers) that ended, with how, oldest first (bounded).
  absl::flat_hash_map<WorkerID, std::string> dead_ ABSL_GUARDED_BY(mu_);
  std::deque<WorkerID> dead_order_ ABSL_GUARDED_BY(mu_);
  // The workers and drivers that ended lately, newest last, for list_workers.
  std::deque<rpc::WorkerStats> ended_ ABSL_GUARDED_BY(mu_);
  void NoteEndedLocked(const WorkerID& id, pid_t pid, const JobID& job, bool is_driver,
                       absl::Time started, std::string exit_type, std::string detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Shapes no node can serve, by ResourceSet::ToString(): for photon status.
  struct Infeasible {
    ResourceSet shape;
    int requests = 0;
    std::vector<std::string> functions;  // at most a few
    absl::Time last_seen;
  };
  absl::flat_hash_map<std::string, Infeasible> infeasible_ ABSL_GUARDED_BY(mu_);
  // Notes a request for `shape` that no node can serve; drops shapes not asked
  // for lately.
  void NoteInfeasibleLocked(const ResourceSet& shape, const std::string& function)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Out-of-memory prevention (memory_monitor.h): over memory_usage_threshold,
  // kills one leased worker, then waits for it to exit before another.
  void CheckMemory();
  pid_t oom_victim_ ABSL_GUARDED_BY(mu_) = 0;
  bool resources_dirty_ ABSL_GUARDED_BY(mu_) = true;
  // When a lease was last asked for here and the cluster view last asked
  // for (Tick: every tick while leases come, else once a report period).
  absl::Time last_lease_request_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_view_refresh_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::atomic<bool> declared_dead_{false};
  // Workers of a pool key that died before registering, in a row.
  absl::flat_hash_map<std::string, int> startup_failures_ ABSL_GUARDED_BY(mu_);
  bool stopped_ = false;
};

}  // namespace photon::raylet
