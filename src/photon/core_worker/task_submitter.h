// Submission of normal tasks: waits for each task's ObjectRef arguments,
// leases workers from raylets (following spillback), pushes tasks straight
// to the leased workers, reuses a lease for further tasks of the same shape
// and returns it after it idles, retries tasks whose worker died.
//
// Threading: one mutex guards the queues and leases; RPC replies arrive on
// gRPC threads; a timer thread returns idle leases and retries lease requests.
// No RPC is started and no callback runs while the mutex is held.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "photon/common/id.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace photon::core {

class CoreWorker;

class TaskSubmitter {
 public:
  explicit TaskSubmitter(CoreWorker* worker);
  ~TaskSubmitter();
  void Start();
  void Stop();

  // Takes a task whose returns are already registered with the memory store's
  // owner tables. `ref_args` are the ids of its ObjectRef arguments (their
  // submitted-task references are already counted).
  void Submit(rpc::TaskSpec spec, std::vector<ObjectID> ref_args);
  // Cancels `task` if this submitter still has it (NotFound otherwise): its
  // returns become TASK_CANCELLED; if it was pushed, its worker is asked to
  // stop it (`force`: the worker is killed), and with `recursive` to cancel
  // what it submitted.
  absl::Status Cancel(const TaskID& task, bool force = false, bool recursive = true);
  // Cancels every task this process submitted from within `parent`.
  void CancelChildrenOf(const TaskID& parent);
  size_t NumPendingTasks() const;

 private:
  struct Lease;
  struct Task {
    rpc::TaskSpec spec;
    std::vector<ObjectID> ref_args;
    int retries_left = 0;
    int deps_left = 0;
    bool cancelled = false;
    bool pushed = false;
    bool completed = false;  // its returns are being stored
    std::string key;
    std::shared_ptr<Lease> lease;  // while pushed
  };
  struct Lease {
    rpc::Address worker;
    std::string raylet_address;
    std::string lease_id;
    std::vector<int> gpu_ids;  // the GPU instances the raylet assigned to the lease
    std::unique_ptr<rpc::CoreWorkerService::Stub> stub;
    bool busy = false;
    bool dead = false;
    absl::Time idle_since;
  };
  struct Queue {
    std::deque<TaskID> tasks;
    std::vector<std::shared_ptr<Lease>> leases;
    absl::flat_hash_map<std::string, std::string> pending_requests;  // lease id -> raylet
    rpc::RequestWorkerLeaseRequest lease_template;
    bool warned_infeasible = false;
    absl::Time retry_after = absl::InfinitePast();
  };
  // An RPC to start once the mutex is released.
  using Action = std::function<void()>;

  void OnDependencyReady(const TaskID& id);
  void Enqueue(const TaskID& id);
  void Pump(const std::string& key, std::vector<Action>* actions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequestLease(const std::string& key, const std::string& raylet_address,
                    const std::string& lease_id, bool grant_or_reject);
  void OnLeaseReply(const std::string& key, const std::string& raylet_address,
                    const std::string& lease_id, const absl::Status& status,
                    rpc::RequestWorkerLeaseReply&& reply);
  void PushTask(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                rpc::TaskSpec spec);
  void OnPushReply(const std::string& key, std::shared_ptr<Lease> lease, const TaskID& id,
                   const absl::Status& status, rpc::PushTaskReply&& reply);
  // Stores `error` as the value of every return of `task` and forgets it.
  void FailTask(const TaskID& id, const rpc::ErrorInfo& error);
  void FinishTask(const TaskID& id);
  void ReturnLease(const std::shared_ptr<Lease>& lease, bool disconnect);
  rpc::NodeManagerService::Stub* RayletStub(const std::string& address);
  void TimerLoop();

  CoreWorker* const worker_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<TaskID, Task> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Queue> queues_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<rpc::NodeManagerService::Stub>> raylets_
      ABSL_GUARDED_BY(mu_);
  absl::Notification stopping_;
  std::thread timer_;
};

}  // namespace photon::core
