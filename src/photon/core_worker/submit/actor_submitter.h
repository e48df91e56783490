// Submission of actor calls: each call goes straight to the actor's worker,
// numbered per (caller, actor) so that the receiver runs one caller's calls in
// submission order. Tracks each actor's state from the GCS (ALIVE with an
// address, RESTARTING, DEAD with a cause) and, for the actors this process
// owns, when their handles are all gone.
//
// Failures are judged on evidence. A call that the actor's worker does not
// answer is sent again to the same incarnation (the receiver answers a resend
// with the call's reply, so nothing runs twice) until the call is answered or
// the GCS reports that incarnation gone (RESTARTING or DEAD, from its raylet's
// report of the process exit). Calls in flight when an incarnation dies are
// resent to the next one while max_task_retries allows, else they fail with
// ActorDiedError (and the cause of death).
//
// Lifetimes: an actor this process owns is destroyed (through the GCS) once
// its handle object (ObjectID::ForActorHandle) is freed by the reference
// counter — no handle here, in pending tasks or in any borrower — and the
// calls this process made have finished; detached actors are never destroyed
// this way.
//
// Threading: one mutex guards the actor table; RPC replies, GCS updates and
// timer callbacks arrive on other threads; no RPC starts and no callback runs
// under the lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/callback_guard.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/core_worker/submit/dependency_resolver.h"
#include "photon/core_worker/submit/task_manager.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/protocol/gcs.pb.h"
#include "photon/rpc/core_worker_client.h"

namespace photon::core {

class ActorSubmitter {
 public:
  struct Deps {
    const SystemConfig* config;
    TaskManager* tasks;
    DependencyResolver* resolver;
    rpc::CoreWorkerClientPool* workers;
    GcsClient* gcs;
    Timer* timer;
    std::shared_ptr<CallbackGuard> guard;
    std::string self_worker_id;  // binary
  };
  explicit ActorSubmitter(Deps deps);

  // Subscribes to actor state changes (once per process). Call before
  // registering an actor so that no change is missed.
  void EnsureSubscribed();
  // Starts tracking an actor this process created (it owns it). The creation
  // task `creation_task`'s arguments (recorded with the TaskManager) are
  // released once the actor is alive (or, if it may restart, dead).
  void AddOwnedActor(const ActorID& id, const rpc::ActorTableData& data,
                     const TaskID& creation_task);
  // The actor's state as this process knows it, looking it up at the GCS if
  // it does not (blocking): a handle that came from elsewhere.
  rpc::ActorTableData EnsureKnown(const ActorID& id);
  // Queues a call (spec with task id and actor id; recorded with the
  // TaskManager). It is sent once its ObjectRef arguments exist and the actor
  // is alive.
  void Submit(const ActorID& actor, rpc::TaskSpec spec);
  // A state change of an actor from the GCS (or from a KillActor reply).
  void OnActorUpdate(const rpc::ActorTableData& data);
  // The owner's side: every handle to `id` is gone (its handle object was
  // freed): destroy it once the calls made from here have finished.
  void OnHandlesGone(const ActorID& id);

  // Calls to `actor` from this process that have not finished.
  size_t NumPendingCalls(const ActorID& actor);
  // Cancels the call `task`: one not sent yet fails with TASK_CANCELLED here;
  // a sent one is dropped by the actor if it has not started (a running call
  // of an async actor is cancelled there). NotFound if it has finished.
  absl::Status Cancel(const TaskID& task);
  size_t NumActors() const;

 private:
  struct Call {
    TaskID task;
    rpc::TaskSpec spec;  // set once resolved
    std::string name;
    int retries_left = 0;
    bool resolved = false;
    bool sent = false;
    std::string sent_to;  // the WorkerID (binary) of the incarnation it was sent to
    int unanswered = 0;   // sends to that incarnation that got no answer
    std::shared_ptr<Backoff> backoff;
  };
  struct Actor {
    rpc::ActorTableData data;
    bool known = false;  // data came from the GCS or creation
    bool owned = false;
    bool handles_gone = false;
    bool destroy_requested = false;
    std::optional<TaskID> creation_task;  // owned: its arguments are still held
    uint64_t next_seq = 0;
    std::map<uint64_t, Call> calls;  // by sequence number: queued, in flight, or waiting to resend
    std::shared_ptr<rpc::CoreWorkerClient> client;  // to the incarnation calls were last sent to
  };
  using Action = std::function<void()>;

  void OnResolved(const ActorID& actor, uint64_t seq, rpc::TaskSpec spec,
                  std::optional<rpc::ErrorInfo> error);
  // Sends every call that is ready and not sent, in sequence order, if the
  // actor is alive.
  void SendReady(const ActorID& id, Actor& a, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client to the actor's current incarnation (kept while it lasts).
  // Has the GCS end an out-of-scope actor (no restart).
  void Kill(const ActorID& id) ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<rpc::CoreWorkerClient> ClientFor(Actor& a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(const ActorID& id, uint64_t seq, std::shared_ptr<rpc::CoreWorkerClient> to,
            rpc::PushTaskRequest req);
  void OnReply(const ActorID& id, uint64_t seq, const std::string& worker, const absl::Status& s,
               rpc::PushTaskReply&& reply);
  // The incarnation `call` was sent to is gone: resend or fail.
  void OnIncarnationGone(const ActorID& id, Actor& a, uint64_t seq, const std::string& why,
                         std::vector<std::pair<TaskID, rpc::ErrorInfo>>* failed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeDestroy(const ActorID& id, Actor& a, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseCreationArgs(Actor& a, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static rpc::ErrorInfo DeathCause(const rpc::ActorTableData& data);

  const Deps d_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ActorID, Actor> actors_ ABSL_GUARDED_BY(mu_);
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::core
