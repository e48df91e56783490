// The GCS's actor manager: the actor table, actor scheduling (lease a worker
// from a raylet, following spillback, and push the creation task), restarts,
// kills, names within namespaces, and publication of every state change.
//
// Threading: RPC handlers and RPC replies run on gRPC threads; one mutex
// guards the table. No RPC is started while it is held.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/gcs/pubsub.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace photon::gcs {

class ActorManager : public rpc::ActorInfoGcsService::CallbackService {
 public:
  // `alive_nodes` returns the live nodes (for placement).
  ActorManager(Publisher* publisher, std::function<std::vector<rpc::NodeInfo>()> alive_nodes);

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
  // Schedules again after `ms`, unless a newer attempt superseded `attempt`.
  void RescheduleAfter(const ActorID& id, uint64_t attempt, int ms);
  void RequestLease(const ActorID& id, uint64_t attempt, std::string raylet, bool grant_or_reject);
  void OnLeaseReply(const ActorID& id, uint64_t attempt, const std::string& raylet,
                    const absl::Status& s, rpc::RequestWorkerLeaseReply&& reply);
  // Pushes the creation task to the leased worker, with the lease's GPU ids.
  void PushCreation(const ActorID& id, uint64_t attempt, const rpc::Address& worker,
                    const std::vector<int>& gpu_ids);
  void OnCreationReply(const ActorID& id, uint64_t attempt, const absl::Status& s,
                       rpc::PushTaskReply&& reply);
  // The actor's worker is gone (or must go): restart or die.
  void OnActorFailure(const ActorID& id, const std::string& why, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkDead(Actor& a, rpc::ErrorInfo cause, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseWorker(Actor& a, std::vector<Action>* actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish(const Actor& a, std::vector<Action>* actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string PickRaylet(const Actor& a);
  rpc::NodeManagerService::Stub* Raylet(const std::string& address);

  Publisher* publisher_;
  std::function<std::vector<rpc::NodeInfo>()> alive_nodes_;
  absl::Mutex mu_;
  absl::flat_hash_map<ActorID, Actor> actors_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ActorID> names_ ABSL_GUARDED_BY(mu_);  // ns + '\0' + name
  absl::flat_hash_map<std::string, ActorID> by_worker_ ABSL_GUARDED_BY(mu_);
  absl::Mutex stubs_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<rpc::NodeManagerService::Stub>> raylets_
      ABSL_GUARDED_BY(stubs_mu_);
};

}  // namespace photon::gcs
