// Submission of actor calls: each call goes straight to the actor's worker,
// numbered per (caller, actor) so that the receiver runs one caller's calls in
// submission order. Tracks each actor's state from the GCS (ALIVE with an
// address, RESTARTING, DEAD with a cause), resends calls after a restart when
// max_task_retries allows, fails them with ActorDiedError otherwise, and
// counts this process's handles to the actors it owns.
//
// Threading: one mutex guards the actor table; RPC replies and GCS updates
// arrive on other threads; no RPC starts and no callback runs under the lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::core {

class CoreWorker;

class ActorSubmitter {
 public:
  explicit ActorSubmitter(CoreWorker* worker);

  // Subscribes to actor state changes (once per process). Call before
  // registering an actor so that no change is missed.
  void EnsureSubscribed();
  // Starts tracking an actor this process created (it owns it).
  void AddOwnedActor(const ActorID& id, const rpc::ActorTableData& data);
  // Queues a call (spec with task id, actor id, returns registered). The call
  // is sent once its ObjectRef arguments exist and the actor is alive.
  void Submit(const ActorID& actor, rpc::TaskSpec spec, std::vector<ObjectID> ref_args);
  // A state change of an actor from the GCS.
  void OnActorUpdate(const rpc::ActorTableData& data);

  void AddHandle(const ActorID& id);
  void RemoveHandle(const ActorID& id);
  // The owner's side of borrowing: another process holds handles (or not).
  void UpdateBorrower(const ActorID& id, const std::string& borrower, const std::string& node,
                      bool borrowing);
  // Calls to `actor` from this process that have not finished.
  size_t NumPendingCalls(const ActorID& actor);
  // Cancels the call `task`: one not sent yet fails with TASK_CANCELLED here;
  // a sent one is dropped by the actor if it has not started (a running call
  // of an async actor is cancelled there). NotFound if it has finished.
  absl::Status Cancel(const TaskID& task);
  // A borrower process (or every borrower on a node) died: its handles go.
  void DropBorrower(const std::string& worker);
  void DropBorrowersOnNode(const std::string& node);
  size_t NumActors() const;

 private:
  struct Call {
    rpc::TaskSpec spec;
    std::vector<ObjectID> ref_args;
    int deps_left = 0;
    int retries_left = 0;
    bool sent = false;
  };
  struct Actor {
    rpc::ActorTableData data;
    bool known = false;  // data came from the GCS or creation
    bool owned = false;
    int handles = 0;
    bool out_of_scope = false;
    bool announced_borrow = false;  // a borrower: told the owner
    // The owner: processes holding handles (WorkerID → NodeID, binary).
    absl::flat_hash_map<std::string, std::string> borrowers;
    uint64_t next_seq = 0;
    std::map<uint64_t, Call> calls;  // by sequence number: queued, in flight, or waiting to resend
    std::shared_ptr<rpc::CoreWorkerService::Stub> stub;
    std::string stub_address;
    std::string stub_worker;  // the WorkerID the stub was made for
  };
  using Action = std::function<void()>;

  void EnsureKnown(const ActorID& id);
  void OnDepReady(const ActorID& actor, uint64_t seq);
  // Sends every call that is ready, in sequence order, if the actor is alive.
  void SendReady(const ActorID& id, Actor& a, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnReply(const ActorID& id, uint64_t seq, const std::string& address, const absl::Status& s,
               rpc::PushTaskReply&& reply);
  // Stores `error` in every return of `call`, releases its arguments.
  void FailCall(const Call& call, const rpc::ErrorInfo& error);
  void MaybeDestroy(const ActorID& id, Actor& a, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A borrower tells the actor's owner it holds (or no longer holds) handles.
  void NotifyOwner(const ActorID& id, const rpc::Address& owner, bool borrowing);
  void DropBorrowers(
      const std::function<bool(const std::string& worker, const std::string& node)>& dead);

  CoreWorker* const worker_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ActorID, Actor> actors_ ABSL_GUARDED_BY(mu_);
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::core
