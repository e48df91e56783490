// The GCS's actor manager: the actor table, actor scheduling (a node chosen
// by the same policies the raylets use, then a worker leased there,
// following spillback, and the creation task pushed to it), restarts, kills,
// names within namespaces, and publication of every state change.
//
// Deaths are judged on evidence: an actor's worker is dead when its raylet
// reports the exit (ReportWorkerFailure), says so when asked
// (GetWorkerState), or its node dies. A creation push that is not answered
// is sent again while the worker lives (the worker answers a resend with the
// creation's reply), so a busy machine delays an actor, never kills it.
//
// With durable storage every change of an actor's entry is written through
// (StoredActor), and Recover picks the table up after a GCS restart: live
// actors stay as they are (their workers never stopped), those being
// created or restarted are scheduled again (a worker leased for them before
// the restart is returned first), dead ones stay dead. The latest workers'
// deaths are kept too, and published again after a restart.
//
// Threading: RPC handlers, RPC replies and timer callbacks run on other
// threads; one mutex guards the table. No RPC is started while it is held.
#pragma once

#include <deque>
#include <functional>
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
#include "photon/gcs/pubsub.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/raylet/scheduling/scheduler.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/raylet_client.h"

namespace photon::gcs {

class ActorManager : public rpc::ActorInfoGcsService::CallbackService {
 public:
  struct Deps {
    const SystemConfig* config;
    Publisher* publisher;
    rpc::RayletClientPool* raylets;
    rpc::CoreWorkerClientPool* workers;
    Timer* timer;
    // The live nodes, for placement.
    std::function<std::vector<rpc::NodeInfo>()> alive_nodes;
    // Where entries are written through; null or not durable: nowhere.
    GcsStorage* storage = nullptr;
    // What the worker reported of running a constructor (its task events:
    // the GCS, not a core worker, pushed the creation task).
    std::function<void(rpc::TaskExecutionReport)> on_execution;
  };
  explicit ActorManager(Deps deps);
  ~ActorManager() override;
  // Later replies and timer callbacks leave the manager alone. For shutdown.
  void Stop();
  // Loads the table from durable storage (before serving) and carries on
  // with the actors that were being scheduled.
  absl::Status Recover();

  grpc::ServerUnaryReactor* RegisterActor(grpc::CallbackServerContext* ctx,
                                          const rpc::RegisterActorRequest* req,
                                          rpc::RegisterActorReply* reply) override;
  grpc::ServerUnaryReactor* CreateActor(grpc::CallbackServerContext* ctx,
                                        const rpc::CreateActorRequest* req,
                                        rpc::CreateActorReply* reply) override;
  grpc::ServerUnaryReactor* GetActorInfo(grpc::CallbackServerContext* ctx,
                                         const rpc::GetActorInfoRequest* req,
                                         rpc::GetActorInfoReply* reply) override;
  grpc::ServerUnaryReactor* GetNamedActor(grpc::CallbackServerContext* ctx,
                                          const rpc::GetNamedActorRequest* req,
                                          rpc::GetNamedActorReply* reply) override;
  grpc::ServerUnaryReactor* KillActor(grpc::CallbackServerContext* ctx,
                                      const rpc::KillActorRequest* req,
                                      rpc::KillActorReply* reply) override;
  grpc::ServerUnaryReactor* ReportWorkerFailure(grpc::CallbackServerContext* ctx,
                                                const rpc::ReportWorkerFailureRequest* req,
                                                rpc::ReportWorkerFailureReply* reply) override;
  grpc::ServerUnaryReactor* ListActors(grpc::CallbackServerContext* ctx,
                                       const rpc::ListActorsRequest* req,
                                       rpc::ListActorsReply* reply) override;

  // Events from the rest of the GCS.
  void OnNodeDead(const std::string& node_id);
  void OnJobFinished(const std::string& job_id);
  // Kills (for good) the actors created in the placement group.
  void OnPlacementGroupRemoved(const std::string& placement_group_id);

  // The actor's entry (for tests), if any.
  std::optional<rpc::ActorTableData> Find(const ActorID& id);
  // How many actors are in each state, by class and job (photon_actors).
  struct StateCount {
    rpc::ActorTableData::State state;
    std::string class_name;
    std::string job_id;  // binary
    int64_t count;
  };
  std::vector<StateCount> CountByState();

 private:
  struct Actor {
    rpc::ActorTableData data;
    rpc::CreateActorRequest create;  // creation task + how to start its worker
    bool created_requested = false;
    bool kill_requested = false;  // no restart after the current worker goes
    std::string kill_reason;
    std::string raylet_address;  // where its worker was leased
    std::string worker_id;       // its worker, when leased
    std::string lease_id;
    uint64_t attempt = 0;  // fences replies from older scheduling attempts
  };
  using Action = std::function<void()>;

  void Schedule(const ActorID& id, std::vector<Action>* actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Chooses the raylet to ask for a lease (the scheduling policies over the
  // live nodes); empty if none can take it now (`retry_ms` says when to try
  // again) or ever (`dead_cause` is set).
  std::string PickRaylet(const rpc::TaskSpec& spec, const std::string& owner_node,
                         int64_t* retry_ms, std::optional<std::string>* dead_cause);
  // Schedules again after `delay`, unless a newer attempt superseded `attempt`.
  void RescheduleAfter(const ActorID& id, uint64_t attempt, absl::Duration delay);
  void RequestLease(const ActorID& id, uint64_t attempt, std::string raylet, bool grant_or_reject);
  void OnLeaseReply(const ActorID& id, uint64_t attempt, const std::string& raylet,
                    const absl::Status& s, rpc::RequestWorkerLeaseReply&& reply);
  // Pushes the creation task to the leased worker, with the lease's GPU ids.
  void PushCreation(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                    const std::vector<int>& gpu_ids, std::shared_ptr<Backoff> backoff);
  // The push was not answered: resend while the worker lives.
  void OnCreationUnanswered(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                            const std::vector<int>& gpu_ids, std::shared_ptr<Backoff> backoff,
                            const absl::Status& s);
  void OnCreationReply(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                       const absl::Status& s, rpc::PushTaskReply&& reply);
  // The actor's worker is gone (or must go): restart or die.
  void OnActorFailure(const ActorID& id, const std::string& why, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkDead(Actor& a, rpc::ErrorInfo cause, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseWorker(Actor& a, std::vector<Action>* actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes the entry's change and writes it through to storage.
  void Publish(const Actor& a, std::vector<Action>* actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Persist(const Actor& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps a worker's death in durable storage (the latest
  // kMaxStoredWorkerFailures), to publish again after a restart.
  void RecordWorkerFailure(const rpc::WorkerFailure& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr size_t kMaxStoredWorkerFailures = 10000;

  const Deps d_;
  const raylet::SchedulingOptions scheduling_options_;
  const std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  absl::Mutex mu_;
  absl::flat_hash_map<ActorID, Actor> actors_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ActorID> names_ ABSL_GUARDED_BY(mu_);  // ns + '\0' + name
  absl::flat_hash_map<std::string, ActorID> by_worker_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> failed_workers_ ABSL_GUARDED_BY(mu_);  // stored, oldest first
  absl::Mutex scheduling_mu_;
  raylet::SchedulingState scheduling_state_ ABSL_GUARDED_BY(scheduling_mu_);
};

}  // namespace photon::gcs
