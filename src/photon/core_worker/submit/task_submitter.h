// Submission of normal tasks: once a task's arguments are resolved, leases a
// worker for its resource shape from a raylet (following spillback), pushes
// the task straight to the leased worker, reuses a lease for further tasks of
// the same shape and returns it after it idles (worker_lease_timeout_ms), or
// at once when tasks of another shape wait for a worker (so that a burst of
// shapes, e.g. one task per placement group, reuses a few workers instead of
// starting one per shape).
//
// Failures are judged on evidence. A push that fails because the worker did
// not answer is sent again to the same worker while its raylet says it lives
// (the worker answers a resend of a task it already has with that task's
// reply); only when the worker is dead does the task count a retry
// (max_retries), and then run on a new lease, or fail with WorkerCrashedError.
// A lease request the raylet refuses as invalid fails the queued tasks with
// the reason; one that cannot reach the raylet is asked again after
// lease_retry_delay_ms, with the same lease id (the raylet answers a repeated
// request with the same grant).
//
// Threading: one mutex guards the queues and leases; RPC replies arrive on
// gRPC threads and delayed work on the timer. No RPC is started and no
// callback runs while the mutex is held.
#pragma once

#include <deque>
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
#include "photon/core_worker/submit/dependency_resolver.h"
#include "photon/core_worker/submit/task_manager.h"
#include "photon/core_worker/worker_liveness.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/raylet_client.h"

namespace photon::core {

class TaskSubmitter {
 public:
  struct Deps {
    const SystemConfig* config;
    TaskManager* tasks;
    DependencyResolver* resolver;
    rpc::RayletClientPool* raylets;
    rpc::CoreWorkerClientPool* workers;
    WorkerLiveness* liveness;
    Timer* timer;
    std::shared_ptr<CallbackGuard> guard;
    std::string local_raylet;  // "host:port"
    // What every lease request of this process says.
    rpc::Language language;
    JobID job;
    std::vector<std::string> worker_command;
    std::map<std::string, std::string> worker_env;
    // A pushed task found arguments lost (PushTaskReply.lost_args): true if
    // this process rebuilds every one of them (lineage), and then the task
    // is submitted again, waiting for them; false leaves its error. Optional.
    std::function<bool(const std::vector<ObjectID>& lost)> rebuild_args;
  };
  explicit TaskSubmitter(Deps deps);

  // Returns every lease to its raylet. Later submissions are dropped.
  void Stop();

  // Takes a task recorded with the TaskManager (its returns and arguments
  // already counted).
  void Submit(rpc::TaskSpec spec);
  // Cancels `task` if this submitter still has it (NotFound otherwise): its
  // returns become TASK_CANCELLED; if it was pushed, its worker is asked to
  // stop it (`force`: the worker is killed), and with `recursive` to cancel
  // what it submitted.
  absl::Status Cancel(const TaskID& task, bool force = false, bool recursive = true);
  // Cancels every task this process submitted from within `parent`.
  void CancelChildrenOf(const TaskID& parent);
  size_t NumPendingTasks() const;
  size_t NumLeases() const;

 private:
  struct Lease {
    rpc::Address worker;
    std::string raylet;  // where it was granted
    std::string lease_id;
    std::vector<int> gpu_ids;  // the GPU instances the raylet assigned to the lease
    std::shared_ptr<rpc::CoreWorkerClient> client;  // to the leased worker
    bool busy = false;
    bool dead = false;
    absl::Time idle_since;
    bool idle_check_pending = false;  // one idle check at a time, not one per task
  };
  struct Task {
    rpc::TaskSpec spec;  // set once resolved
    std::string name;
    std::string parent;  // TaskID binary
    int retries_left = 0;
    bool resolved = false;
    bool cancelled = false;
    bool pushed = false;
    bool completed = false;  // its returns are being stored
    std::string key;
    std::shared_ptr<Lease> lease;  // while pushed
  };
  struct Queue {
    std::deque<TaskID> tasks;
    std::vector<std::shared_ptr<Lease>> leases;
    absl::flat_hash_map<std::string, std::string> pending_requests;  // lease id -> raylet
    rpc::RequestWorkerLeaseRequest lease_template;
    bool warned_infeasible = false;
    std::shared_ptr<const std::string> wait_reason;        // of its tasks, for the state API
    std::shared_ptr<const std::string> infeasible_reason;  // since the raylet said so
    bool retry_scheduled = false;                          // requests wait for a retry delay
  };
  // An RPC to start once the mutex is released.
  using Action = std::function<void()>;

  void OnResolved(const TaskID& id, rpc::TaskSpec spec, std::optional<rpc::ErrorInfo> error);
  // Hands queued tasks of `key` to idle leases and asks for more leases.
  void Pump(const std::string& key, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RetryLeasesAfter(const std::string& key, absl::Duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequestLease(const std::string& key, const std::string& raylet, const std::string& lease_id,
                    bool grant_or_reject);
  void OnLeaseReply(const std::string& key, const std::string& raylet, const std::string& lease_id,
                    const absl::Status& status, rpc::RequestWorkerLeaseReply&& reply);
  void PushTask(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                rpc::TaskSpec spec, std::shared_ptr<Backoff> backoff);
  void OnPushReply(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                   const absl::Status& status, rpc::PushTaskReply&& reply);
  // The push of `id` failed without an answer: resend while the worker lives.
  void OnPushUnanswered(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                        std::shared_ptr<Backoff> backoff, const absl::Status& status);
  // What is pushed to `lease` for task `t`: its spec and the lease's GPUs.
  static rpc::TaskSpec SpecForLease(const Task& t, const Lease& lease);
  // Why a resolved task waits: a lease of its shape (in its group's bundle).
  static std::string WaitReason(const rpc::TaskSpec& spec);
  void OnWorkerDied(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                    const std::string& why);
  void FailTask(const TaskID& id, const rpc::ErrorInfo& error);
  void FinishTask(const TaskID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReturnLease(const std::shared_ptr<Lease>& lease, bool disconnect);
  // Returns `lease` if it has idled for worker_lease_timeout_ms.
  void MaybeReturnIdle(const std::string& key, std::shared_ptr<Lease> lease);
  // Checks `lease` for idleness `delay` from now, unless a check is pending.
  void ScheduleIdleCheck(const std::string& key, const std::shared_ptr<Lease>& lease,
                         absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True if a queue other than `key`'s has lease requests out (its tasks
  // wait for a worker).
  bool OtherShapeWaitsLocked(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `key`'s tasks are about to ask for workers: the idle leases of queues
  // with nothing to run are returned, so their raylet can hand the workers on
  // instead of starting new ones.
  void ReturnIdleLeasesOfOthers(const std::string& key, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cancels the lease requests of a queue that has nothing left to run.
  void CancelUnneededRequests(Queue& q, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Deps d_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TaskID, Task> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Queue> queues_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::core
